"""An explanation judge: usefulness, accuracy and clarity ratings (1-5), as in ExplainRec.

Light to import: torch and transformers load only when a local judge is built.

Public API::

    CRITERIA = ("usefulness", "accuracy", "clarity");  JUDGE_PROMPT_VERSION
    JudgeRequest(item_title, explanation, liked_titles=(), item_genres=())
    Rating(values={criterion: float in [1, 5] | None}, reasons={criterion: why None}, argmax)
    Judge (protocol): rate(list[JudgeRequest]) -> list[Rating];  label() -> dict
    LocalLMJudge(path="", device="auto", batch_size=16, cache=None)    # "" = SmolLM2 (default),
                                               # "trained-here" = test fixture, else a folder
    EndpointJudge(base_url, model, api_key_env="", timeout=60, max_retries=2, transport=None)
    parse_reply(text) -> (ratings, reasons)        # the endpoint's strict JSON parser
    JudgeSettings, make_judge(settings, cache_dir)  # [explanation.judge] in a suite
    judge_run(folder, judge) -> dict                # rate a finished run's samples post hoc
"""

from __future__ import annotations

import importlib
from typing import Any

from benchmark.judge.base import CRITERIA, Judge, JudgeRequest, Rating
from benchmark.judge.prompt import JUDGE_PROMPT_VERSION

_LAZY = {
    "LocalLMJudge": "local",
    "EndpointJudge": "endpoint",
    "parse_reply": "endpoint",
    "JudgeSettings": "settings",
    "make_judge": "settings",
    "judge_run": "posthoc",
}

__all__ = ["CRITERIA", "JUDGE_PROMPT_VERSION", "Judge", "JudgeRequest", "Rating",
           "EndpointJudge", "JudgeSettings", "LocalLMJudge", "judge_run", "make_judge",
           "parse_reply"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'benchmark.judge' has no attribute {name!r}")
    return getattr(importlib.import_module(f"benchmark.judge.{_LAZY[name]}"), name)
