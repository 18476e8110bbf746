"""TALLRec (Bao et al., RecSys 2023): an LLM tuned to answer "Yes."/"No." to a like question.

Two ways to run it, always labelled:
- the TALLRec protocol (track "tallrec"): ``fit_samples`` on the protocol's own train samples
  (``shots`` of them, 0 = all = "full"), ``score_samples`` on its test samples;
- the harness split (accuracy track): ``fit`` builds the same kind of samples from the train
  part (each rating with 10 earlier ones), ``score`` asks the question for any (user, item)
  with the user's 10 most recent train+valid ratings as the history.
Score = P(Yes) / (P(Yes) + P(No)) at the first response position; the ids come from the
tokenizer. LoRA (r=8 on q/v) by default; ``finetune = "full"`` trains every weight instead.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import numpy as np

from benchmark.data.types import Interactions
from benchmark.errors import ConfigError
from benchmark.models.abilities import SampleScorer
from benchmark.models.base import Capability, Recommender
from benchmark.protocols import tallrec as proto
from benchmark.threads import torch_threads


@dataclasses.dataclass
class TallrecConfig:
    shots: int = 0  # training samples drawn (seeded); 0 = all of them ("full")
    zero_shot: bool = False  # no training at all: the backbone answers as loaded (shots unused)
    #: "default" (or "") = SmolLM2-135M-Instruct; "trained-here" = the test fixture; else a
    #: local causal-LM checkpoint folder (benchmark.llm.resolve_backbone)
    backbone: str = "default"
    backbone_dataset: str = "ml-100k"  # corpus of the "trained-here" fixture only
    finetune: Literal["lora", "full"] = "lora"  # LoRA (TALLRec) or every weight
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_targets: list = dataclasses.field(default_factory=list)  # [] = query/value projections
    epochs: int = 1
    min_steps: int = 40  # few-shot runs still take this many optimiser steps
    #: LoRA learning rate for a pretrained backbone (TALLRec used 1e-4 on LLaMA-7B with batch 128;
    #: a 135M model at batch 8 learns at 5e-4 without losing its language)
    lr: float = 5e-4
    batch_size: int = 8
    #: checkpoint choice on the protocol's VALID questions only: before training and after at
    #: most ``valid_evals`` evenly spaced epochs (the last always), the weights with the best AUC
    #: on ``valid_subset`` seeded valid questions are kept (ties: the earlier); 0 = the last
    valid_subset: int = 64
    valid_evals: int = 4
    max_train_samples: int = 8000  # harness split: cap on training samples (seeded draw)
    eval_batch_size: int = 64
    device: str = "auto"
    dtype: str = "auto"
    cache: bool = True  # reuse scores from <cache_dir>/responses.sqlite
    cache_dir: str = ""  # "" = datasets/cache/llm (where the default backbone lives too)
    #: torch CPU threads while training/scoring; 0 = chosen by a short timed probe (recorded)
    num_threads: int = 0

    def __post_init__(self) -> None:
        if self.shots < 0:
            raise ConfigError(f"shots = {self.shots}", "use 0 (all samples) or a positive count")


class TALLRec(Recommender, SampleScorer):
    Config = TallrecConfig
    capabilities = frozenset({Capability.RANK, Capability.SCORE})
    modalities = frozenset({"interactions", "text"})

    def __init__(self, config: dict[str, Any] | None = None, *, workdir: Path | None = None,
                 name: str | None = None) -> None:
        super().__init__(config, workdir=workdir, name=name)
        self.bb: Any = None  # the Backbone, loaded by fit
        self._merged = False
        self._info: dict[str, Any] = {}

    # --- backbone -------------------------------------------------------------------------
    def _prepare(self, dataset: str, seed: int) -> None:
        import torch

        from benchmark.llm import (
            add_lora,
            describe_backbone,
            load_backbone,
            resolve_backbone,
            thread_choice,
        )
        from benchmark.llm.scoring import LabelTokens, find_label_tokens

        c = self.config
        torch.manual_seed(seed)
        path = resolve_backbone(c.backbone, "causal", user="TALLRec", dataset=dataset)
        bb = load_backbone(path, kind="causal", device=c.device, dtype=c.dtype)
        self._info["backbone"] = describe_backbone(bb)
        self._info["threads"] = thread_choice(bb, c.num_threads)
        self._threads = int(self._info["threads"]["num_threads"])
        if c.zero_shot:  # answered by the backbone as loaded: nothing becomes trainable
            pass
        elif c.finetune == "lora":
            bb = add_lora(bb, r=c.lora_r, alpha=c.lora_alpha, dropout=c.lora_dropout,
                          targets=c.lora_targets or None)
        else:
            bb.model.requires_grad_(True)
        full = find_label_tokens(bb.tokenizer, *proto.ANSWERS, context=proto.RESPONSE_CONTEXT)
        if full.yes_ids[0] != full.no_ids[0]:  # TALLRec: the first response token decides
            self.labels = LabelTokens(full.yes_ids[:1], full.no_ids[:1])
        else:  # answers share a first token: compare the whole answers
            self.labels = full
        self._info["label_token_ids"] = {"yes": list(self.labels.yes_ids),
                                         "no": list(self.labels.no_ids)}
        self.bb = bb

    def _train(self, samples: list[proto.TallrecSample], titles: dict[str, str],
               seed: int, valid: list[proto.TallrecSample] | None = None) -> None:
        from benchmark.llm import adapter_sha256, finetune_causal

        c = self.config
        if c.zero_shot:
            self._adapter = ""
            self._info.update({"n_train_samples": 0, "shots": "zero-shot",
                               "params_trainable": 0, "adapter_sha256": ""})
            return
        if c.shots and c.shots < len(samples):
            pick = np.random.default_rng(seed).permutation(len(samples))[:c.shots]
            samples = [samples[i] for i in sorted(pick)]
        per_epoch = (len(samples) + c.batch_size - 1) // c.batch_size
        epochs = max(c.epochs, -(-c.min_steps // per_epoch))
        chooser = CheckpointChooser(self, valid, titles, epochs, seed) if valid else None
        if chooser is not None:
            with torch_threads(self._threads):
                chooser.after_epoch(0)  # the loaded weights compete too (LoRA B starts at 0)
        with torch_threads(self._threads):
            stats = finetune_causal(self.bb, [proto.prompt(s, titles) for s in samples],
                                    [proto.answer(s) for s in samples], epochs=epochs,
                                    lr=c.lr, batch_size=c.batch_size, seed=seed, progress=True,
                                    context=proto.RESPONSE_CONTEXT,
                                    after_epoch=chooser.after_epoch if chooser else None)
            if chooser is not None:
                stats["checkpoint"] = chooser.restore_best()
        n_train = sum(p.numel() for p in self.bb.model.parameters() if p.requires_grad)
        self._adapter = adapter_sha256(self.bb)
        self._info.update({"n_train_samples": len(samples), "epochs": epochs,
                           "shots": c.shots or "full", "params_trainable": int(n_train),
                           "adapter_sha256": self._adapter, "train": stats})

    def _score_prompts(self, prompts: list[str]) -> np.ndarray:
        from benchmark.llm import ResponseCache, yes_probability
        from benchmark.llm.pretrain import CACHE_DIR

        lora = self.config.finetune == "lora" and not self.config.zero_shot
        if lora and not self._merged:
            # training is over: fold LoRA into the weights, one matmul per layer instead of three
            # (scores equal to 1e-6; the cache key keeps the adapter's hash)
            self.bb.model.merge_adapter()
            self._merged = True

        folder = Path(self.config.cache_dir) if self.config.cache_dir else CACHE_DIR
        cache = ResponseCache(folder / "responses.sqlite") if self.config.cache else None
        with torch_threads(self._threads):
            return yes_probability(self.bb, prompts, self.labels, self.config.eval_batch_size,
                                   cache=cache, progress=len(prompts) > 200,
                                   adapter=self._adapter)

    # --- the TALLRec protocol -------------------------------------------------------------
    def fit_samples(self, train: list[proto.TallrecSample], valid: list[proto.TallrecSample],
                    titles: dict[str, str], *, seed: int) -> None:
        self._titles = titles
        self._prepare(self.config.backbone_dataset, seed)
        self._info["trained_on"] = "tallrec protocol samples"
        self._train(train, titles, seed, valid if self.config.valid_subset > 0 else None)

    def score_samples(self, samples: list[proto.TallrecSample]) -> np.ndarray:
        return self._score_prompts([proto.prompt(s, self._titles) for s in samples])

    # --- the harness split ----------------------------------------------------------------
    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        self._titles = harness_titles(train)
        samples = harness_samples(train)
        if len(samples) > self.config.max_train_samples:
            pick = np.random.default_rng(seed).permutation(len(samples))
            samples = [samples[i] for i in sorted(pick[:self.config.max_train_samples])]
        self._prepare(self.config.backbone_dataset, seed)
        self._info["trained_on"] = "harness split train part"
        self._train(samples, self._titles, seed)
        assert self.history is not None  # remembered by fit before _fit
        self._recent = recent_histories(self.history)

    def score(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        prompts = []
        for u, i in zip(users, items):
            h_items, h_liked = self._recent.get(int(u), ((), ()))
            s = proto.TallrecSample(str(u), h_items, h_liked, str(int(i)), False, 0)
            prompts.append(proto.prompt(s, self._titles))
        return self._score_prompts(prompts)

    def score_all(self, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        items = np.tile(np.arange(self.n_items), len(users))
        return self.score(np.repeat(users, self.n_items), items).reshape(len(users), -1)

    # --- bookkeeping ----------------------------------------------------------------------
    def num_parameters(self) -> int:
        return int(self._info.get("params_trainable", 0))

    def fit_info(self) -> dict[str, Any]:
        return {**self._info, "modalities_used": sorted(self.modalities)}


def harness_titles(part: Interactions) -> dict[str, str]:
    """str(harness item id) -> "Title (Year)" from the split's catalogue."""
    from benchmark.llm.pretrain import title_with_year

    cat = part.catalog
    if cat is None or cat.items is None or "title" not in cat.items:
        raise ConfigError("TALLRec needs item titles in the split's catalogue",
                          "use a dataset with item titles (MovieLens)")
    years = cat.items["year"] if "year" in cat.items else [None] * cat.n_items
    return {str(i): title_with_year(t, y)
            for i, (t, y) in enumerate(zip(cat.items["title"], years))}


def _by_user(part: Interactions):
    f = part.frame
    order = np.lexsort((np.arange(len(f)), f["timestamp"].to_numpy(), f["user"].to_numpy()))
    u = f["user"].to_numpy()[order]
    it = f["item"].to_numpy()[order]
    liked = part.liked()[order]
    ts = f["timestamp"].to_numpy()[order]
    bounds = np.flatnonzero(np.diff(u)) + 1
    return zip(np.split(u, bounds), np.split(it, bounds), np.split(liked, bounds),
               np.split(ts, bounds))


def harness_samples(part: Interactions, history: int = proto.HISTORY
                    ) -> list[proto.TallrecSample]:
    """TALLRec-style samples from one part of the harness split (ids as strings)."""
    out = []
    for u, it, liked, ts in _by_user(part):
        for k in range(history, len(it)):
            out.append(proto.TallrecSample(
                str(u[0]), tuple(str(x) for x in it[k - history:k]),
                tuple(bool(x) for x in liked[k - history:k]), str(it[k]), bool(liked[k]),
                int(ts[k])))
    return out


def recent_histories(part: Interactions, history: int = proto.HISTORY
                     ) -> dict[int, tuple[tuple[str, ...], tuple[bool, ...]]]:
    """Each user's last ``history`` rated items (oldest first) with their like labels."""
    return {int(u[0]): (tuple(str(x) for x in it[-history:]),
                        tuple(bool(x) for x in liked[-history:]))
            for u, it, liked, _ in _by_user(part) if len(u)}


class CheckpointChooser:
    """Keeps the trainable weights with the best AUC on a seeded subset of VALID questions.

    Test questions are never seen; scoring uses no response cache (the adapter changes)."""

    def __init__(self, model: TALLRec, valid: list[proto.TallrecSample],
                 titles: dict[str, str], epochs: int, seed: int) -> None:
        c = model.config
        pick = np.sort(np.random.default_rng(seed + 5).permutation(len(valid))[:c.valid_subset])
        self.model, self.epochs = model, epochs
        self.prompts = [proto.prompt(valid[i], titles) for i in pick]
        self.labels = np.array([valid[i].liked for i in pick])
        step = max(1, -(-epochs // max(1, c.valid_evals)))
        self.when = {0, epochs} | set(range(step, epochs + 1, step))
        self.best: tuple[float, int, dict] | None = None
        self.history: dict[int, float] = {}

    def after_epoch(self, epoch: int) -> None:
        from benchmark.llm import yes_probability
        from benchmark.metrics.pointwise import auc

        if epoch not in self.when or len(set(self.labels.tolist())) < 2:
            return
        m = self.model
        scores = yes_probability(m.bb, self.prompts, m.labels, m.config.eval_batch_size)
        value = float(auc(self.labels, scores))
        self.history[epoch] = value
        if self.best is None or value > self.best[0]:
            state = {n: p.detach().clone() for n, p in m.bb.model.named_parameters()
                     if p.requires_grad}
            self.best = (value, epoch, state)

    def restore_best(self) -> dict:
        import torch

        if self.best is None:
            return {"chosen": "last weights (no validation evaluation)"}
        value, epoch, state = self.best
        params = dict(self.model.bb.model.named_parameters())
        with torch.no_grad():
            for name, tensor in state.items():
                params[name].copy_(tensor)
        return {"chosen_epoch": epoch, "valid_auc": value, "epochs": self.epochs,
                "valid_auc_by_epoch": {str(k): v for k, v in sorted(self.history.items())},
                "valid_questions": len(self.prompts)}
