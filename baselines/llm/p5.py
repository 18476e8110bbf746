"""P5 (Geng et al., RecSys 2022): one language model trained jointly on five prompt families.

P5 is a T5 in its paper, but no pretrained seq2seq model is available offline, so by default the
prompt families run on the suite's decoder-only default LM, SmolLM2-135M-Instruct
(:mod:`baselines.llm.p5_causal`: LoRA r=8 on q_proj/v_proj plus the id tokens' embedding rows,
loss on the answer after the prompt), and every result's ``architecture`` label says so. A local
seq2seq checkpoint (or ``"trained-here"`` with ``backbone_kind = "seq2seq"``, the small test
fixture T5) runs the paper's encoder-decoder path, every weight fine-tuned
(:class:`baselines.llm.p5_scoring.Seq2seqP5`). Either way the model gets one atomic token per
user and per item (:mod:`baselines.llm.p5_prompts`) and trains on a shuffled mixture of rating,
sequential, yes/no, choose-among-candidates and explanation prompts from the train part only.

Inference:
- ``score(u, i)`` (pointwise AUC and the accuracy track's sampled protocol), by ``score_task``:
  ``joint`` (default): log P(next item = i | the user's last ``history_len`` train+valid items),
  from the sequential prompt, + log P(rating >= like threshold), from the rating prompt: the log
  of "the user picks i and likes it", which serves both protocols;
  ``yesno``: P(yes) / (P(yes) + P(no)) after the yes/no prompt;
  ``rating``: the expected star rating under the model's distribution over "1".."5".
  (Measured on the old default, a small T5 trained here, not on SmolLM2: ML-100K seed 0, 100
  users, sampled NDCG@10 / pointwise AUC = 0.215 / 0.557 joint, 0.100 / 0.539 yesno, 0.084 /
  0.497 rating.)
- ``rank(u, k, candidates)``: the ``choose`` prompt listing the candidates (in a seeded shuffled
  order), ranked by the log-probability of each candidate's item token at the answer position,
  as P5's direct recommendation. Without candidates, the default (``score`` over every item).
- ``explain(u, i)``: greedy generation from the ``explanation`` prompt, written in the
  tokenizer's chat template (a user turn) on a causal LM that has one.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np

from baselines.llm import p5_prompts as P
from benchmark.data.types import Interactions
from benchmark.errors import ConfigError
from benchmark.models.base import Capability, Recommender
from benchmark.progress import enabled
from benchmark.threads import with_torch_threads


@dataclasses.dataclass
class P5Config:
    #: "default" = SmolLM2-135M-Instruct (decoder-only); "trained-here" = the small test-fixture
    #: model trained here; else a local checkpoint folder (causal or seq2seq)
    backbone: str = "default"
    #: "auto" = the folder's own kind (causal for "default" / "trained-here"), or "causal" /
    #: "seq2seq" (checked; "seq2seq" with "default" is a ConfigError: no default T5 exists)
    backbone_kind: str = "auto"
    #: whose catalogue text pretrains the "trained-here" fixture (ignored otherwise)
    backbone_dataset: str = "ml-100k"
    device: str = "auto"
    dtype: str = "auto"  # bf16 on CUDA, fp32 on CPU
    # Sized for 2 CPU cores and the 135M default, measured at 1 thread: a training step of 8
    # prompts takes 2-3 s (explanation batches, ~95 tokens each, ~9 s), so per_family = 300
    # (~1,250 samples, ~160 steps) trains in ~10 min; joint scoring costs ~1.7 s per user for
    # 101 items (the user's rating prompts share their prefix), so the accuracy track's sampled
    # protocol with 100 negatives takes ~3 min per 100 users (yesno: ~2x that). On a GPU raise
    # per_family (P5: every interaction), epochs, batch_size (and eval_batch_size),
    # n_candidates (P5: 100) and history_len (P5: 20).
    #: training samples drawn per prompt family (choose / explanation keep liked anchors only)
    per_family: int = 300
    epochs: int = 1
    batch_size: int = 8
    #: LoRA weights on a causal LM; every weight on a seq2seq one (the paper: 1e-3 on T5)
    learning_rate: float = 3e-4
    #: the added user/item id tokens' embedding rows (causal LM only)
    id_learning_rate: float = 1e-3
    weight_decay: float = 0.01
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_targets: list = dataclasses.field(default_factory=list)  # [] = q_proj / v_proj
    history_len: int = 10  # items of history in sequential / yesno prompts
    n_candidates: int = 20  # candidates in the choose family (1 positive + unseen items)
    max_source_len: int = 160  # seq2seq only (causal prompts are bounded by the two above)
    max_target_len: int = 48
    score_task: Literal["joint", "yesno", "rating"] = "joint"  # see the module docstring
    eval_batch_size: int = 64
    explain_max_tokens: int = 48
    #: torch intra-op threads while this model runs (0 = torch's default; see torch_threads)
    num_threads: int = 0
    show_progress: bool = True

    def __post_init__(self) -> None:
        if self.backbone_kind not in ("auto", "causal", "seq2seq"):
            raise ValueError(f"backbone_kind must be 'auto', 'causal' or 'seq2seq', "
                             f"not {self.backbone_kind!r}")
        if min(self.per_family, self.epochs, self.batch_size, self.history_len,
               self.eval_batch_size, self.explain_max_tokens, self.lora_r) < 1 \
                or self.n_candidates < 2 or self.max_target_len < 2:
            raise ValueError("per_family, epochs, batch sizes, history_len, explain_max_tokens, "
                             "lora_r must be >= 1 and n_candidates, max_target_len >= 2")


class P5(Recommender):
    Config = P5Config
    capabilities = frozenset({Capability.RANK, Capability.SCORE, Capability.EXPLAIN})
    modalities = frozenset({"interactions", "text"})

    def __init__(self, config: dict[str, Any] | None = None, *, workdir: Path | None = None,
                 name: str | None = None) -> None:
        super().__init__(config, workdir=workdir, name=name)
        # set by _load: the Backbone and a CausalP5 or Seq2seqP5 (imported lazily, with torch)
        self.bb: Any = None
        self.engine: Any = None
        self._param_groups: list[dict] = []  # the optimiser's groups, set by _load
        self._info: dict[str, Any] = {}

    # ------------------------------------------------------------------ backbone
    def _resolve(self) -> tuple[Path, str]:
        """The backbone folder and the kind P5 runs it as (the one resolve_backbone convention)."""
        from benchmark.llm.resolve import DEFAULT, TRAINED_HERE, folder_kind, resolve_backbone

        c = self.config
        spec = (c.backbone or "").strip()
        kind = c.backbone_kind
        if kind == "auto":
            path = Path(spec).expanduser()
            local = spec not in ("", DEFAULT, TRAINED_HERE) and (path / "config.json").is_file()
            kind = folder_kind(path) if local else "causal"
        return resolve_backbone(spec, kind, user="P5", dataset=c.backbone_dataset,
                                progress=c.show_progress), kind

    def _load(self, n_users: int, n_items: int, catalog: Any = None) -> None:
        from baselines.llm.p5_causal import CausalP5
        from baselines.llm.p5_scoring import Seq2seqP5
        from benchmark.llm import describe_backbone, load_backbone

        c = self.config
        path, kind = self._resolve()
        bb = load_backbone(path, kind=kind, device=c.device, dtype=c.dtype)
        described = describe_backbone(bb)
        engine = (CausalP5 if kind == "causal" else Seq2seqP5)(bb, c)
        self._param_groups = engine.setup(n_users, n_items, catalog)
        self.engine, self.bb = engine, engine.bb
        self._info.update({
            "architecture": (f"P5 prompt families on a decoder-only LM ({described['name']}), "
                             "not the paper's T5") if kind == "causal"
            else f"P5 on a seq2seq checkpoint ({described['name']})",
            "backbone": described, **engine.describe(), "id_tokens_added": int(engine.added)})
        tok = self.bb.tokenizer
        self._item_ids = tok.convert_tokens_to_ids([P.item_token(i) for i in range(n_items)])
        self._yesno = [engine.answer_ids(a) for a in (P.YES, P.NO)]
        self._stars = [engine.answer_ids(str(s)) for s in range(1, 6)]
        for answers in (self._yesno, self._stars):
            if any(not a for a in answers) or len({tuple(a) for a in answers}) < len(answers):
                raise ConfigError(f"the tokenizer of {path} does not tell P5's answers apart "
                                  f"({answers})", "use a checkpoint with a standard tokenizer")

    # ------------------------------------------------------------------ training
    @with_torch_threads
    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        import torch

        c = self.config
        torch.manual_seed(seed)
        self._load(train.n_users, train.n_items, train.catalog)
        explain, self._info["explanation_targets"] = P.silver_targets(train)
        samples = P.build_samples(train, per_family=c.per_family, history_len=c.history_len,
                                  n_candidates=min(c.n_candidates, train.n_items), seed=seed,
                                  explain=explain)
        self._info["samples_per_family"] = {
            f: sum(s.family == f for s in samples) for f in P.FAMILIES}
        t0 = time.perf_counter()
        losses = self._train(samples, seed)
        tenth = int(np.clip(len(losses) // 10, 1, 50))
        self._info.update({
            "train_seconds": round(time.perf_counter() - t0, 2), "steps": len(losses),
            "seconds_per_step": round((time.perf_counter() - t0) / max(1, len(losses)), 3),
            # mean training loss over the first and the last tenth of the steps (1 to 50 steps)
            "loss_start": float(np.mean(losses[:tenth])), "loss_end": float(np.mean(losses[-tenth:])),
            "item_representation": "atomic id tokens <item_i>; titles only in explanation "
                                   "prompts",
        })
        self.bb.model.eval()
        assert self.history is not None  # remembered by fit before _fit
        self._hist = P.user_histories(self.history)

    def _train(self, samples: list[P.Sample], seed: int) -> list[float]:
        import torch
        from tqdm.auto import tqdm

        from benchmark.llm.train import warmup_linear_decay

        c, model = self.config, self.bb.model
        model.train()
        opt = torch.optim.AdamW(self._param_groups)
        params = [p for g in self._param_groups for p in g["params"]]
        rng = np.random.default_rng(seed)
        by_family = {f: [n for n, s in enumerate(samples) if s.family == f] for f in P.FAMILIES}
        n_batches = sum(-(-len(v) // c.batch_size) for v in by_family.values())
        total = n_batches * c.epochs
        sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_linear_decay(total))
        losses: list[float] = []
        bar = tqdm(total=total, desc=f"{self.name}: training", disable=not enabled(c.show_progress),
                   leave=False, mininterval=1.0)
        for _ in range(c.epochs):
            # one family per batch (a long choose prompt would pad a whole mixed batch to its
            # length), batches of all families interleaved in a random order: joint training
            batches = []
            for rows in by_family.values():
                idx = rng.permutation(rows)
                batches += [idx[i:i + c.batch_size] for i in range(0, len(idx), c.batch_size)]
            for b in rng.permutation(len(batches)):
                batch = [samples[i] for i in batches[b]]
                loss = self.engine.loss(batch)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                losses.append(float(loss.detach()))
                bar.update(1)
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}", refresh=False)
        bar.close()
        return losses

    # ------------------------------------------------------------------ inference
    def _check_fitted(self) -> None:
        if self.bb is None:
            raise RuntimeError(f"{self.name}: call fit() before scoring")

    def _recent(self, user: int) -> np.ndarray:
        h = self._hist.get(int(user))
        return h.items[-self.config.history_len:] if h is not None else np.empty(0, np.int64)

    def _logprobs(self, sources: list[str], answers, groups: np.ndarray | None = None
                  ) -> np.ndarray:
        """log P(answer | source); prompts with one ``groups`` key may share a prefix."""
        return self.engine.logprobs(sources, answers, groups)

    @with_torch_threads
    def score(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        self._check_fitted()
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        task = self.config.score_task
        if task == "yesno":
            recent = {int(u): self._recent(u) for u in np.unique(users)}
            sources = [P.yesno_prompt(u, i, recent[int(u)]) for u, i in zip(users, items)]
            logp = self._logprobs(sources, self._yesno, users)
            return 1.0 / (1.0 + np.exp(logp[:, 1] - logp[:, 0]))  # P(yes) / (P(yes) + P(no))
        logp = self._logprobs([P.rating_prompt(u, i) for u, i in zip(users, items)], self._stars,
                              users)
        logp = logp - np.logaddexp.reduce(logp, axis=1, keepdims=True)  # over "1".."5" only
        if task == "rating":
            return np.exp(logp) @ np.arange(1.0, 6.0)  # expected star rating
        # joint: log P(next item = i | recent history) + log P(rating >= like threshold)
        assert self.history is not None, "fit first"
        liked = np.arange(1, 6) >= self.history.like_threshold
        log_like = np.logaddexp.reduce(logp[:, liked], axis=1)
        uniq, inverse = np.unique(users, return_inverse=True)
        seq = self._logprobs([P.sequential_prompt(u, self._recent(u)) for u in uniq],
                             [[t] for t in self._item_ids])
        return seq[inverse, items] + log_like

    @with_torch_threads
    def rank(self, users: np.ndarray, k: int, candidates: np.ndarray | None = None,
             exclude: list[np.ndarray] | None = None) -> np.ndarray:
        if candidates is None:
            return super().rank(users, k, exclude=exclude)
        self._check_fitted()
        users = np.asarray(users, dtype=np.int64)
        candidates = np.asarray(candidates, dtype=np.int64)
        rng = np.random.default_rng(0)  # prompt order must not carry the caller's order
        sources, shown = [], []
        for u, row in zip(users, candidates):
            cands = row[rng.permutation(len(row))]
            shown.append(cands)
            sources.append(P.choose_prompt(u, cands))
        # (users, n_items): each item token's log-probability at the answer position
        logp = self._logprobs(sources, [[t] for t in self._item_ids])
        kk = min(k, candidates.shape[1])
        out = np.full((len(users), k), -1, dtype=np.int64)
        for row, cands in enumerate(shown):
            s = logp[row, cands].copy()
            if exclude is not None:
                s[np.isin(cands, exclude[row])] = -np.inf
            order = np.argsort(-s, kind="stable")[:kk]
            order = order[np.isfinite(s[order])]
            out[row, : len(order)] = cands[order]
        return out

    @with_torch_threads
    def explain(self, users: np.ndarray, items: np.ndarray) -> list[str]:
        self._check_fitted()
        assert self.history is not None  # fitted
        catalog = self.history.catalog
        sources = [P.explanation_prompt(u, i, catalog) for u, i in zip(users, items)]
        return [t.strip() for t in self.engine.explain(sources)]

    # ------------------------------------------------------------------ bookkeeping
    def num_parameters(self) -> int:
        return 0 if self.bb is None else sum(p.numel() for p in self.bb.model.parameters())

    def fit_info(self) -> dict[str, Any]:
        return {**self._info, "score_task": self.config.score_task,
                "modalities_used": sorted(self.modalities),
                "rank_protocol_note": "rank(candidates) uses the choose prompt; the accuracy "
                                      "track's sampled protocol scores pairs with score()"}
