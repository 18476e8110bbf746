"""report part of the harness."""
