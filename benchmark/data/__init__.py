"""data part of the harness."""
