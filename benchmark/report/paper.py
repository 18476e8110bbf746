"""Published tables (reports/paper/*.toml), validated: the values exactly as published, which of
our runs each row maps to (registry model + params) and which of our metrics each column is."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import model_validator

from benchmark.config.base import Strict, parse_model, read_toml
from benchmark.errors import ConfigError

#: what the comparison of one published number with ours concluded (``recbench reproduce``)
ReproVerdict = Literal["reproduced", "not reproduced", "not comparable",
                       "not comparable: unknown scale", "not comparable: different instrument"]

PAPER_DIR = Path(__file__).resolve().parents[2] / "reports" / "paper"

#: metrics that libraries report on different scales (BLEU: sacrebleu 0-100, NLTK 0-1; ROUGE
#: likewise). Ours are 0-100 (sacrebleu; rouge-score F1 x 100), so a published column of these
#: must say its scale: a number of unknown unit is shown, never judged.
SCALE_VARIES = ("bleu", "rouge")
OUR_SCALE = "0-100"
#: published x factor = the published number on our 0-100 scale, per reading of its scale
READING_FACTOR = {"0-100": 1.0, "0-1": 100.0}


class Column(Strict):
    id: str
    header: str
    #: our dataset names on which the published number was measured
    datasets: list[str]
    track: str
    #: "*" = any protocol of the track (e.g. efficiency on cpu or cuda)
    protocol: str
    metric: str
    k: int | None = None
    #: our value x scale is in the paper's unit (e.g. 100 for AUC x 100, 1/3600 for hours)
    scale: float = 1.0
    #: the published numbers' scale, required for BLEU / ROUGE (``SCALE_VARIES``): "0-100"
    #: (ours), "0-1" (then scale = 0.01), or "unknown" when the paper does not state it: then
    #: every reading is shown and the cell is "not comparable: unknown scale"
    published_scale: Literal["0-1", "0-100", "unknown"] | None = None

    @model_validator(mode="after")
    def _scale_stated(self) -> Column:
        varies = self.metric.startswith(SCALE_VARIES)
        if varies and self.published_scale is None:
            raise ValueError(f"column {self.id!r} ({self.metric}): set published_scale to "
                             f'"0-1", "0-100" or "unknown"; ours is {OUR_SCALE}, and a '
                             "number of unknown scale is never compared")
        if not varies and self.published_scale is not None:
            raise ValueError(f"column {self.id!r}: published_scale is for "
                             f"{' / '.join(SCALE_VARIES)} columns only; use scale")
        want = {"0-1": 0.01, "0-100": 1.0, "unknown": 1.0}.get(self.published_scale or "")
        if want is not None and self.scale != want:
            raise ValueError(f"column {self.id!r}: published_scale {self.published_scale} "
                             f"needs scale = {want} (ours is {OUR_SCALE}), not {self.scale}")
        return self

    def readings(self, published: float) -> dict[str, float]:
        """A published value of unknown scale on our scale, per reading; empty when known."""
        if self.published_scale != "unknown":
            return {}
        return {scale: published * factor for scale, factor in READING_FACTOR.items()}


class Row(Strict):
    name: str
    #: registry model name
    model: str
    #: params the run must have (compared with the run's full model config)
    params: dict[str, Any] = {}
    values: list[float]


class PaperTable(Strict):
    paper: str
    table: str
    title: str
    source: str
    notes: list[str] = []
    backbone: str | None = None
    comparable: bool = True
    not_comparable_reason: str = ""
    columns: list[Column]
    rows: list[Row]

    @model_validator(mode="after")
    def _widths(self) -> PaperTable:
        for r in self.rows:
            if len(r.values) != len(self.columns):
                raise ValueError(f"row {r.name!r} has {len(r.values)} values for "
                                 f"{len(self.columns)} columns")
        return self


#: tables shown with a paper's reproduction (its baselines' own published numbers)
RELATED = {"explainrec": ("explainrec", "tallrec")}


def load_tables(paper: str, directory: Path = PAPER_DIR) -> dict[str, PaperTable]:
    """table id -> table for ``paper`` (and the related tables it is compared with)."""
    papers = RELATED.get(paper, (paper,))
    tables = {}
    for path in sorted(Path(directory).glob("*.toml")):
        t = parse_model(PaperTable, read_toml(path), str(path))
        if t.paper in papers:
            tables[t.table] = t
    if not tables:
        raise ConfigError(f"no published tables for paper {paper!r} in {directory}",
                          f"known papers: {', '.join(sorted(RELATED))}")
    return tables
