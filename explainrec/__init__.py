"""ExplainRec: placeholder until its own issue; see DESIGN.md."""
