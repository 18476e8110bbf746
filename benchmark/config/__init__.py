"""config part of the harness."""
