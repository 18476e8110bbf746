"""Explainer systems compared with ExplainRec: RecExplainer and LR-Recsys."""
