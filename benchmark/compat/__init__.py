"""compat part of the harness."""
