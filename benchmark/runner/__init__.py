"""runner part of the harness."""
