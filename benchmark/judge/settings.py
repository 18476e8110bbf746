"""``[explanation.judge]`` settings and building a judge from them (or from CLI flags)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from benchmark.config.base import Strict
from benchmark.judge.base import Judge


class JudgeSettings(Strict):
    """Which judge rates the explanation track's texts, and how many of them."""

    kind: Literal["local", "endpoint"] = "local"
    #: local: "" / "default" = SmolLM2-135M-Instruct (not a validated judge), "trained-here" =
    #: the test-fixture model trained here, else a local Hugging Face model folder
    path: str = ""
    #: endpoint only: OpenAI-compatible base URL (…/v1) and model name; no default URL exists
    base_url: str = ""
    model: str = ""
    #: endpoint only: the NAME of the environment variable holding the API key (never the key)
    api_key_env: str = ""
    #: rate at most this many of the track's pairs (the first ones of its seeded draw)
    max_pairs: int = Field(100, gt=0)
    #: also rate the reference texts: does the judge prefer them to the model's text?
    rate_references: bool = False
    batch_size: int = Field(16, gt=0)
    device: str = "auto"
    timeout: float = Field(60.0, gt=0)
    max_retries: int = Field(2, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> JudgeSettings:
        if self.kind == "endpoint" and (not self.base_url or not self.model):
            raise ValueError("kind = \"endpoint\" needs base_url and model")
        if self.kind == "endpoint" and self.path:
            raise ValueError("path is for kind = \"local\"; an endpoint judge takes base_url")
        if self.kind == "local" and (self.base_url or self.model or self.api_key_env):
            raise ValueError("base_url, model and api_key_env are for kind = \"endpoint\"; "
                             "a local judge takes path")
        return self


def make_judge(s: JudgeSettings, cache_dir: Path | None = None,
               progress: bool = False) -> Judge:
    """The judge the settings describe; its answers cached under ``cache_dir`` when given."""
    cache = None
    if cache_dir is not None:
        from benchmark.llm.cache import ResponseCache

        cache = ResponseCache(Path(cache_dir) / "judge_cache.sqlite")
    if s.kind == "endpoint":
        from benchmark.judge.endpoint import EndpointJudge

        return EndpointJudge(s.base_url, s.model, s.api_key_env, timeout=s.timeout,
                             max_retries=s.max_retries, cache=cache, progress=progress)
    from benchmark.judge.local import LocalLMJudge

    return LocalLMJudge(s.path, device=s.device, batch_size=s.batch_size, cache=cache,
                        progress=progress)
