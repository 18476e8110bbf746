"""Accuracy metrics of the harness: top-k ranking (full and sampled protocols) and pointwise AUC.

Import-light on purpose (numpy only): ``benchmark`` must stay cheap to import.
"""

from benchmark.metrics.pointwise import auc, gauc, gauc_pairs, group_auc
from benchmark.metrics.ranking import METRIC_NAMES, hit_matrix, parse_metric, ranking_metrics
from benchmark.metrics.sampled import draw_negatives, load_negatives, save_negatives
from benchmark.metrics.topk import topk_from_scores

__all__ = [
    "METRIC_NAMES",
    "auc",
    "draw_negatives",
    "gauc",
    "gauc_pairs",
    "group_auc",
    "hit_matrix",
    "load_negatives",
    "parse_metric",
    "ranking_metrics",
    "save_negatives",
    "topk_from_scores",
]
