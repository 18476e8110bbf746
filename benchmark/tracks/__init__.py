"""tracks part of the harness."""
