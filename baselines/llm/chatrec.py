"""Chat-REC (Gao et al., 2023): a conventional recommender retrieves, a language model re-ranks.

Pipeline per user u:
1. The retriever (any registry model, LightGCN by default), fitted on the same train/valid,
   scores every item; its top ``n_candidates`` items outside u's train+valid history are R(u).
2. The language model reads u's profile (age, gender, occupation) and recent history (titles
   with ratings) and gives each candidate in R(u) a preference value in (0, 1]
   (:mod:`baselines.llm.chatrec_prompts`; or, if ``endpoint_url`` is set, the chat model's own
   ranking, :mod:`baselines.llm.chatrec_client`).
3. Final order: R(u) sorted by the language model (ties keep the retriever's order), then every
   other item in the retriever's order.

``score(u, i)`` is that order as a number, independent of which pairs are asked about:
1 + LLM value for i in R(u), else (n_items - position of i in the retriever's ranking) /
(n_items + 1) < 1. So the accuracy track's sampled and pointwise protocols measure the whole
two-stage system, and ``rank`` agrees with ``score``.

Zero-shot by default, as in the paper: the language model is not trained on the task. With the
default backbone (a small model trained from scratch here on catalogue text that carries no
preference), zero-shot re-ranking has no preference knowledge to add, so Chat-REC's numbers then
show what re-ranking by such a model costs or gains over its retriever; a real checkpoint
(``backbone`` = a local folder) or an endpoint is where the method's premise holds.
``tune_steps > 0`` is a labelled departure ("light tuning"): LoRA on next-liked-title prompts
built from the train part.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from baselines.llm import chatrec_prompts as C
from baselines.llm.p5_prompts import user_histories
from benchmark.data.types import Catalog, Interactions
from benchmark.models.base import Capability, Recommender
from benchmark.threads import with_torch_threads


@dataclasses.dataclass
class ChatRecConfig:
    retriever: str = "lightgcn"  # registry name of the candidate generator
    retriever_params: dict = dataclasses.field(default_factory=dict)
    #: "default" (or "") = SmolLM2-135M-Instruct; "trained-here" = the test fixture; else a local
    #: causal-LM checkpoint folder (benchmark.llm.resolve_backbone)
    backbone: str = "default"
    backbone_dataset: str = "ml-100k"
    device: str = "auto"
    n_candidates: int = 20
    history_len: int = 10
    mode: str = "title_likelihood"  # or "yes_no" (see chatrec_prompts)
    tune_steps: int = 0  # 0 = zero-shot (the paper); > 0 = light LoRA tuning, labelled
    tune_lr: float = 3e-4
    endpoint_url: str = ""  # OpenAI-compatible server; empty = local backbone
    endpoint_model: str = ""
    api_key_env: str = ""  # name of the environment variable holding the key
    cache: bool = True  # sqlite response cache in the run folder (keyed by weights + prompt)
    explain_max_tokens: int = 32
    #: torch intra-op threads while this model runs (0 = torch's default; see torch_threads)
    num_threads: int = 0
    show_progress: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.retriever_params, dict):
            raise ValueError("retriever_params must be a table of the retriever's parameters")
        if self.retriever == "chatrec":
            raise ValueError("retriever cannot be 'chatrec' itself")
        if self.mode not in C.MODES:
            raise ValueError(f"mode must be one of {C.MODES}, not {self.mode!r}")
        if self.n_candidates < 1 or self.history_len < 1 or self.tune_steps < 0:
            raise ValueError("need n_candidates >= 1, history_len >= 1, tune_steps >= 0")


class ChatRec(Recommender):
    Config = ChatRecConfig
    capabilities = frozenset({Capability.RANK, Capability.SCORE, Capability.EXPLAIN})
    modalities = frozenset({"interactions", "text"})

    def __init__(self, config: dict[str, Any] | None = None, *, workdir: Path | None = None,
                 name: str | None = None) -> None:
        super().__init__(config, workdir=workdir, name=name)
        self.retriever: Recommender | None = None
        self.bb: Any = None  # the Backbone, loaded by fit (local LM)
        self._scorer = None
        self._memo: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._info: dict[str, Any] = {}

    # ------------------------------------------------------------------ training
    @with_torch_threads
    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        from benchmark.registry import build_model

        c = self.config
        sub = self.workdir / "retriever" if self.workdir is not None else None
        self.retriever = build_model(c.retriever, dict(c.retriever_params), workdir=sub,
                                     label=f"{self.name}-retriever")
        self.retriever.fit(train, valid, seed=seed)
        assert self.history is not None  # remembered by fit before _fit
        self._hist = user_histories(self.history)
        self._info["retriever"] = {"name": c.retriever, "params": dict(c.retriever_params),
                                   "fit": self.retriever.fit_info(),
                                   "params_count": self.retriever.num_parameters()}
        if c.endpoint_url:
            from baselines.llm.chatrec_client import EndpointScorer

            self.scorer = EndpointScorer(c.endpoint_url, c.endpoint_model, c.api_key_env)
        else:
            self.scorer = C.LocalLMScorer(self._load_backbone(train, seed), c.mode,
                                          self._cache())
        self._info["reranker"] = self.scorer.describe()
        self._info["setting"] = ("zero-shot" if c.tune_steps == 0 or c.endpoint_url
                                 else f"light LoRA tuning, {c.tune_steps} steps (not the paper)")

    def _load_backbone(self, train: Interactions, seed: int):
        from benchmark.llm import describe_backbone, load_backbone, resolve_backbone

        c = self.config
        path = resolve_backbone(c.backbone, "causal", user="Chat-REC",
                                dataset=c.backbone_dataset, progress=c.show_progress)
        self.bb = load_backbone(path, kind="causal", device=c.device)
        self._info["backbone"] = describe_backbone(self.bb)
        if c.tune_steps > 0:
            self._tune(train, seed)
        return self.bb

    def _tune(self, train: Interactions, seed: int) -> None:
        """Light tuning: LoRA to name each liked train item after the history before it."""
        from benchmark.llm import add_lora, finetune_causal

        c = self.config
        prompts, answers = [], []
        for u, h in user_histories(train).items():
            for p in range(1, len(h.items)):
                if h.ratings[p] >= train.like_threshold:
                    lo = max(0, p - c.history_len)
                    prompts.append(C.user_prompt(train.catalog, u, h.items[lo:p], h.ratings[lo:p]))
                    answers.append(" " + C.quoted_title(train.catalog, h.items[p]))
        self.bb = add_lora(self.bb)
        self._info["tuning"] = finetune_causal(
            self.bb, prompts, answers, lr=c.tune_lr, seed=seed, max_steps=c.tune_steps,
            progress=c.show_progress, context="Recommended movie:")

    def _cache(self):
        if not self.config.cache or self.workdir is None:
            return None
        from benchmark.llm import ResponseCache

        return ResponseCache(self.workdir / "llm_cache.sqlite")

    @property
    def scorer(self):
        """What re-ranks the candidates: anything with ``scores(prompt, texts) -> array``."""
        return self._scorer

    @scorer.setter
    def scorer(self, value) -> None:
        self._scorer = value
        self._memo.clear()  # values of another scorer

    # ------------------------------------------------------------------ the two stages
    def _catalog(self) -> Catalog | None:
        assert self.history is not None, "fit first"
        return self.history.catalog

    def prompt_for(self, user: int) -> str:
        h = self._hist.get(int(user))
        k = self.config.history_len
        items: Sequence[int] | np.ndarray
        ratings: Sequence[float] | np.ndarray
        items, ratings = (h.items[-k:], h.ratings[-k:]) if h is not None else ([], [])
        return C.user_prompt(self._catalog(), int(user), items, ratings)

    @with_torch_threads
    def _stages(self, user: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(final order of all items, candidates R(u) in retriever order, their LLM values)."""
        if user in self._memo:
            return self._memo[user]
        if self.retriever is None:
            raise RuntimeError(f"{self.name}: call fit() before scoring")
        s = np.asarray(self.retriever.score_all(np.array([user])), dtype=np.float64)[0]
        by_retriever = np.argsort(-s, kind="stable")
        h = self._hist.get(int(user))
        fresh = by_retriever[~np.isin(by_retriever, h.items if h is not None else [])]
        cands = fresh[: self.config.n_candidates]
        texts = [C.quoted_title(self._catalog(), i) for i in cands]
        values = np.asarray(self.scorer.scores(self.prompt_for(user), texts), dtype=np.float64)
        head = cands[np.argsort(-values, kind="stable")]
        order = np.concatenate([head, by_retriever[~np.isin(by_retriever, cands)]])
        self._memo[user] = (order, cands, values)
        return self._memo[user]

    def score(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        out = np.empty(len(users), dtype=np.float64)
        for u in np.unique(users):
            order, cands, values = self._stages(int(u))
            value = np.empty(self.n_items)
            value[order] = (self.n_items - np.arange(self.n_items)) / (self.n_items + 1)
            value[cands] = 1.0 + values
            sel = users == u
            out[sel] = value[items[sel]]
        return out

    def rank(self, users: np.ndarray, k: int, candidates: np.ndarray | None = None,
             exclude: list[np.ndarray] | None = None) -> np.ndarray:
        """Top-k of the two-stage order; over given candidates, by ``score``."""
        if candidates is not None:
            return super().rank(users, k, candidates=candidates, exclude=exclude)
        users = np.asarray(users, dtype=np.int64)
        out = np.full((len(users), k), -1, dtype=np.int64)
        for row, u in enumerate(users):
            order = self._stages(int(u))[0]
            if exclude is not None and len(exclude[row]):
                order = order[~np.isin(order, exclude[row])]
            out[row, : min(k, len(order))] = order[:k]
        return out

    @with_torch_threads
    def explain(self, users: np.ndarray, items: np.ndarray) -> list[str]:
        if self.config.endpoint_url:
            return [self.scorer.complete(C.explanation_prompt(
                self.prompt_for(u), C.quoted_title(self._catalog(), i)))
                for u, i in zip(users, items)]
        from benchmark.llm import generate
        from benchmark.llm.chat import chat_frame

        frame = chat_frame(self.bb.tokenizer)
        if frame is None:  # a base model continues the text
            prompts = [C.explanation_prompt(self.prompt_for(u), C.quoted_title(
                self._catalog(), i)) for u, i in zip(users, items)]
        else:  # an instruction model is asked, in its own chat format
            prompts = [frame.wrap(C.explanation_request(self.prompt_for(u), C.quoted_title(
                self._catalog(), i))) for u, i in zip(users, items)]

        return generate(self.bb, prompts, max_new_tokens=self.config.explain_max_tokens,
                        cache=self._cache(), progress=self.config.show_progress)

    # ------------------------------------------------------------------ bookkeeping
    def num_parameters(self) -> int:
        llm = self.bb.n_params if self.bb is not None else 0
        return (self.retriever.num_parameters() if self.retriever is not None else 0) + llm

    def fit_info(self) -> dict[str, Any]:
        return {**self._info, "n_candidates": self.config.n_candidates,
                "modalities_used": sorted(self.modalities),
                "history_len": self.config.history_len,
                "score": "1 + LLM value for the retriever's top n_candidates unseen items, "
                         "retriever rank below"}
