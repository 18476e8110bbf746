"""Static result pages.

``history`` keeps the single-page `recbench leaderboard --out` output (and ``page``, which the
plain `report --format html` uses); ``build`` writes the multi-page site of
`recbench report|leaderboard --site DIR` (overview, full tables, figures, run pages, compare,
history, paper), rendered with Jinja2 and shipping its own CSS/JS so it opens from file://.
"""

from benchmark.report.site.history import History, build_site, gather, history_frame, page

__all__ = ["History", "build_site", "gather", "history_frame", "page", "build_report_site",
           "build_history_site"]


def build_report_site(*args, **kwargs):
    """Lazy wrapper: importing this package must not import Jinja2 or matplotlib."""
    from benchmark.report.site.build import build_report_site as impl

    return impl(*args, **kwargs)


def build_history_site(*args, **kwargs):
    """Lazy wrapper of ``build.build_history_site``."""
    from benchmark.report.site.build import build_history_site as impl

    return impl(*args, **kwargs)
