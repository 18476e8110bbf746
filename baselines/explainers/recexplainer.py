"""RecExplainer (Lei et al., 2023): a language model aligned with a target recommender explains it.

The target is any registry model (``target``, default LightGCN), fitted on the same split. The LM
(the small causal backbone trained here, or a local checkpoint) is tuned with LoRA on alignment
tasks whose answers are the *target's* outputs (``recexplainer_prompts``), in one of three
variants: behaviour (text history), intention (the target's user/item embeddings as soft tokens
through a trained linear projection) or hybrid (both). Users are split: the LM trains on
``train_users_fraction`` of them (``alignment_train_users``) and the alignment track measures it
on the others.

Hooks the tracks use, as a ``benchmark.models.abilities.ModelExplainer``: ``explained_model``
(the fitted target), ``align_scores`` / ``align_yes`` (the alignment track), ``choose``
(explanation-track alignment: the mixin's, the argmax of ``align_scores("next_item")``), and
``explain``.
``score`` is the LM's answer to "will the recommender suggest this item?" (a surrogate of the
target, used for fidelity). Explanations (``explanation``):
- "attribution" (default; needs text history, so behaviour and hybrid): leave-one-out over the
  shown history titles: a title supports the recommendation when removing it lowers the LM's
  log-probability of the recommended title; the two strongest supports (and the genres they
  share with the item) are named. Faithful to the aligned LM at any size.
- "generate": the LM writes the explanation itself (greedy). Meant for real checkpoints; the
  intention variant always generates, since its prompts carry no titles to attribute to.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import numpy as np

from baselines.explainers.recexplainer_prompts import PromptBuilder, Variant
from baselines.explainers.recexplainer_target import TargetCache
from benchmark.data.types import Interactions
from benchmark.errors import BenchError, ConfigError
from benchmark.models.abilities import ModelExplainer
from benchmark.models.base import Capability, Recommender
from benchmark.threads import torch_threads


@dataclasses.dataclass
class RecExplainerConfig:
    variant: Variant = "hybrid"
    target: str = "lightgcn"  # registry name of the explained model
    target_params: dict = dataclasses.field(default_factory=dict)
    #: "default" (or "") = SmolLM2-135M-Instruct; "trained-here" = the test fixture; else a
    #: local causal-LM checkpoint folder (benchmark.llm.resolve_backbone)
    backbone: str = "default"
    backbone_dataset: str = "ml-100k"
    #: "lora" (RecExplainer's choice for a 7B model), "full" (every weight), or "auto": LoRA for
    #: a pretrained backbone (the default, or a checkpoint given by path), full for the
    #: "trained-here" fixture (on ml-100k, LoRA on that fixture reached next-item hit@5
    #: 0.27-0.28 vs 0.99-1.00 full)
    finetune: Literal["auto", "lora", "full"] = "auto"
    lora_targets: list = dataclasses.field(default_factory=list)  # [] = query/value projections
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lr: float = 5e-4  # LoRA on a pretrained LM (3e-3 suited only the fixture's full tuning)
    projection_lr: float = 1e-2  # the target-embedding projection (intention, hybrid)
    epochs: int = 1
    batch_size: int = 16
    max_train_samples: int = 3000  # seeded draw over all tasks' examples
    train_users_fraction: float = 0.75
    history_len: int = 10  # recent titles shown (behaviour / hybrid)
    rank_candidates: int = 10
    interest_top: int = 20
    interest_far: int = 100
    embedding_dim: int = 64  # rank of the target embeddings (SVD of its scores)
    explanation: Literal["attribution", "generate"] = "attribution"
    max_new_tokens: int = 40
    eval_batch_size: int = 64
    device: str = "auto"
    dtype: str = "auto"
    num_threads: int = 1  # torch CPU threads (0 = torch's default)

    def __post_init__(self) -> None:
        if not 0.0 < self.train_users_fraction < 1.0:
            raise ConfigError(f"train_users_fraction = {self.train_users_fraction}",
                              "use a share strictly between 0 and 1 (the rest is evaluated)")
        if self.target in ("recexplainer", "lrrecsys"):
            raise ConfigError(f"target = {self.target!r}", "explain a recommender, not itself")
        if not isinstance(self.target_params, dict):
            raise ConfigError("target_params must be a table", "e.g. { epochs = 10 }")
        if self.interest_far <= self.interest_top or self.rank_candidates < 2:
            raise ConfigError("need interest_far > interest_top and rank_candidates >= 2",
                              "e.g. interest_top = 20, interest_far = 100")


class RecExplainer(Recommender, ModelExplainer):
    Config = RecExplainerConfig
    capabilities = frozenset({Capability.RANK, Capability.SCORE, Capability.EXPLAIN})
    modalities = frozenset({"interactions", "text"})

    def __init__(self, config: dict[str, Any] | None = None, *, workdir: Path | None = None,
                 name: str | None = None, target_cache: TargetCache | None = None) -> None:
        super().__init__(config, workdir=workdir, name=name)
        #: fitted targets this model may reuse: its own unless a shared one is handed in
        self.target_cache = target_cache if target_cache is not None else TargetCache()
        self.explained_model: Recommender | None = None
        self.alignment_train_users = np.zeros(0, dtype=np.int64)
        self._info: dict[str, Any] = {"variant": self.config.variant}

    # --- training ---------------------------------------------------------------------------
    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        import time

        from baselines.llm.tallrec import harness_titles

        c = self.config
        t0 = time.perf_counter()
        sub = self.workdir / "target" if self.workdir is not None else None
        target, cached = self.target_cache.fitted(c.target, dict(c.target_params), train, valid,
                                                  seed, sub, f"{c.target} (target)")
        self.explained_model = target
        t_target = time.perf_counter() - t0
        with torch_threads(c.num_threads):
            self._fit_lm(harness_titles(train), seed)
        self._info["target"] = {"name": c.target, "params": dict(c.target_params),
                                "fit": target.fit_info(), "fit_seconds": t_target,
                                # True when the target came from self.target_cache
                                "fitted_earlier_in_this_process": cached,
                                "svd_energy_kept": self.view.svd_fit}

    def _fit_lm(self, titles: dict[str, str], seed: int) -> None:
        import torch

        from baselines.explainers import recexplainer_lm as lm
        from baselines.explainers.recexplainer_prompts import training_examples
        from baselines.explainers.recexplainer_target import target_view
        from benchmark.llm import add_lora, describe_backbone, load_backbone, resolve_backbone
        from benchmark.llm.soft_prompts import SegmentEncoder

        c = self.config
        self.titles = [titles[str(i)] for i in range(self.n_items)]
        all_users = np.arange(self.n_users, dtype=np.int64)
        self.view = target_view(self.explained_model, self.history, all_users, c.embedding_dim,
                                keep=max(200, c.interest_far + 50))
        assert self.history is not None  # remembered by fit before _fit
        self.recent, older = _recent_and_older(self.history, c.history_len)
        rng = np.random.default_rng(seed)
        eligible = np.array([u for u in all_users
                             if len(self.view.ranked[int(u)]) > c.interest_far])
        perm = rng.permutation(eligible)
        self.alignment_train_users = np.sort(perm[:int(len(perm) * c.train_users_fraction)])
        self.pb = PromptBuilder(c.variant, self.titles, self.recent)
        examples = training_examples(self.pb, self.alignment_train_users, self.view.ranked,
                                     older, self.n_items, rng, c.rank_candidates,
                                     c.interest_top, c.interest_far)
        if len(examples) > c.max_train_samples:
            keep = np.sort(rng.choice(len(examples), c.max_train_samples, replace=False))
            examples = [examples[i] for i in keep]
        torch.manual_seed(seed)
        path = resolve_backbone(c.backbone, "causal", user="RecExplainer",
                                dataset=c.backbone_dataset)
        bb = load_backbone(path, kind="causal", device=c.device, dtype=c.dtype)
        self._info["backbone"] = describe_backbone(bb)
        pretrained = self._info["backbone"]["pretrained"]
        finetune = c.finetune if c.finetune != "auto" else ("lora" if pretrained else "full")
        self._info["finetune"] = finetune
        if finetune == "lora":
            bb = add_lora(bb, r=c.lora_r, alpha=c.lora_alpha, dropout=c.lora_dropout,
                          targets=c.lora_targets or None)
        else:
            bb.model.requires_grad_(True)
        self.soft = None
        if self.pb.soft:
            spread = float(bb.model.get_input_embeddings().weight.detach().float().std())
            self.soft = lm.TargetProjection(self.view.user_emb, self.view.item_emb,
                                            bb.model.config.hidden_size,
                                            init_std=spread).to(bb.device)
        self.bb, self.enc = bb, SegmentEncoder(bb.tokenizer)
        stats = lm.tune(bb, self.soft, self.enc, [e.prompt for e in examples],
                        [e.answer for e in examples], epochs=c.epochs, lr=c.lr,
                        projection_lr=c.projection_lr,
                        batch_size=c.batch_size, seed=seed)
        if self.soft is not None:
            self.soft.eval()
        # the answers were trained as their own text segments: score those very tokens
        self.yes, self.no = self.enc.text("Yes.")[0], self.enc.text("No.")[0]
        if self.yes == self.no:
            raise BenchError("the tokenizer starts \"Yes.\" and \"No.\" with the same token",
                             "use a backbone whose tokenizer tells them apart")
        counts: dict[str, int] = {}
        for e in examples:
            counts[e.task] = counts.get(e.task, 0) + 1
        trainable = sum(p.numel() for p in bb.model.parameters() if p.requires_grad)
        trainable += sum(p.numel() for p in self.soft.parameters()) if self.soft else 0
        self._info.update({"train": stats, "examples_per_task": counts,
                           "alignment_train_users": int(len(self.alignment_train_users)),
                           "params_trainable": int(trainable),
                           "explanation_mode": self._explanation_mode()})

    def _explanation_mode(self) -> str:
        return "generate" if not self.pb.text else self.config.explanation

    # --- alignment hooks ----------------------------------------------------------------------
    def _run(self, fn, *args):
        with torch_threads(self.config.num_threads):
            return fn(*args)

    def align_scores(self, task: str, users: np.ndarray | None, items: np.ndarray | None,
                     candidates: np.ndarray) -> np.ndarray:
        """The LM's score (mean token log-probability) of each candidate's title as the answer
        to ``task`` ("item_title", "history", "next_item", "ranking"): (n, c)."""
        from baselines.explainers.recexplainer_lm import answer_scores

        cands = np.asarray(candidates, dtype=np.int64)
        prompts = []
        for n in range(len(cands)):
            u = int(users[n]) if users is not None else -1
            i = int(items[n]) if items is not None else -1
            prompts.append(self.pb.prompt(task, user=u, item=i,
                                          candidates=cands[n] if task == "ranking" else None))
        answers = [[self.titles[int(x)] for x in row] for row in cands]
        return self._run(answer_scores, self.bb, self.soft, self.enc, prompts, answers,
                         self.config.eval_batch_size)

    def align_yes(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """P("Yes.") that the target recommends each item to each user."""
        from baselines.explainers.recexplainer_lm import yes_probability

        prompts = [self.pb.prompt("interest", user=int(u), item=int(i))
                   for u, i in zip(users, items)]
        return self._run(yes_probability, self.bb, self.soft, self.enc, prompts, self.yes,
                         self.no, self.config.eval_batch_size)

    # --- Recommender interface ---------------------------------------------------------------
    def score(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.align_yes(np.asarray(users), np.asarray(items))

    def explain(self, users: np.ndarray, items: np.ndarray) -> list[str]:
        from baselines.explainers.recexplainer_explain import attribution_texts, generated_texts

        fn = attribution_texts if self._explanation_mode() == "attribution" else generated_texts
        return self._run(fn, self, np.asarray(users), np.asarray(items))

    def num_parameters(self) -> int:
        return int(self._info.get("params_trainable", 0))

    def fit_info(self) -> dict[str, Any]:
        return {**self._info, "modalities_used": sorted(self.modalities)}


def _recent_and_older(history: Interactions, n_recent: int
                      ) -> tuple[dict[int, list[int]], dict[int, np.ndarray]]:
    """Each user's last ``n_recent`` items (oldest first) and the other items before them."""
    from benchmark.data.sequences import items_in_time_order, last_items

    recent, older = {}, {}
    for user, items in items_in_time_order(history).items():
        shown = last_items(items, n_recent)
        recent[user] = [int(x) for x in shown]
        older[user] = np.setdiff1d(items[:len(items) - len(shown)], shown)
    return recent, older
