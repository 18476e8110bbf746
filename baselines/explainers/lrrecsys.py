"""LR-Recsys (2025): contrastive LLM explanations as features of a deep preference network.

For a (user, item) pair a small causal LM, tuned here on leak-free silver targets
(``lrrecsys_text``), writes "Positive: <reason for>\\nNegative: <reason against>". Both halves
are embedded (an autoencoder trained on TRAIN explanations, or MiniLM; ``lrrecsys_embed``) and
concatenated with user and item features in an MLP (``lrrecsys_net``) trained with BCE on like
labels, early-stopped on VALID AUC. ``use_explanations = false`` trains the identical network on
the same pairs and seed without the explanation input: the ablation the paper reports.
Score = the predicted like probability. Every scored pair costs one generation (cached).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np

from baselines.explainers.lrrecsys_embed import halves_for_embedding, make_embedder, pair_features
from baselines.explainers.lrrecsys_net import FeatureTables, LRNet, PairData, train_net
from baselines.explainers.lrrecsys_text import (
    TEXT_VERSION,
    Timeline,
    build_prompt,
    contrastive_generate,
    item_titles,
    lm_training_texts,
    load_trainable,
    recipe_key,
    save_trainable,
)
from benchmark.data.types import Interactions
from benchmark.errors import ConfigError
from benchmark.explain.contrastive import ContrastivePair
from benchmark.models.abilities import ContrastiveExplainer, PromptedExplainer
from benchmark.models.base import Capability, Recommender
from benchmark.threads import torch_threads


@dataclasses.dataclass
class LRRecsysConfig:
    use_explanations: bool = True  # false = same network and training, no explanation input
    #: "default" (or "") = SmolLM2-135M-Instruct; "trained-here" = the test fixture; else a
    #: local causal-LM checkpoint folder (benchmark.llm.resolve_backbone)
    backbone: str = "default"
    backbone_dataset: str = "ml-100k"
    #: "lora" (r = lora_r on q/v; a pretrained LM keeps its language) or "full" (every weight:
    #: suits only the "trained-here" fixture; at 3e-3 it turned SmolLM2 into gibberish)
    finetune: Literal["lora", "full"] = "lora"
    lora_r: int = 8
    lora_alpha: int = 16
    # LM recipe: on ml-100k 600 x 3 epochs leaves ~10% malformed answers, 800 x 2 epochs at
    # 2e-3 with 10 history titles left 80% (most without a "Negative:" half)
    lm_train_samples: int = 600  # TRAIN pairs the LM is tuned on (seeded draw)
    lm_epochs: int = 3
    lm_lr: float = 5e-4
    lm_batch_size: int = 16
    history: int = 5  # history interactions shown in a prompt (and cited by its target)
    max_new_tokens: int = 128  # silver targets: median 98, max 121 tokens
    #: "primed": the harness writes "Positive:" / "Negative:" and the LM each half (up to
    #: max_new_tokens // 2 tokens, one line); "free": one answer that must hold both labels
    #: (16 of 16 free answers of the 128-sample recipe on SmolLM2 were malformed)
    decoding: Literal["primed", "free"] = "primed"
    #: no n-gram of this length repeats inside a generated text (0 = off); SmolLM2's greedy
    #: halves otherwise loop ("... a modern twist. The user may not ... a modern twist.")
    no_repeat_ngram: int = 3
    gen_batch_size: int = 128
    #: "autoencoder" (trained here on TRAIN explanations) or "minilm"
    text_encoder: Literal["autoencoder", "minilm"] = "autoencoder"
    ae_dim: int = 16
    ae_epochs: int = 30
    dnn_train_pairs: int = 1500  # seeded draw of TRAIN interactions, same for both variants
    dnn_valid_pairs: int = 500  # seeded draw of VALID interactions for early stopping
    id_dim: int = 0  # learned user/item id embeddings (0 = none)
    hidden: list = dataclasses.field(default_factory=lambda: [64, 32])
    dropout: float = 0.1
    epochs: int = 40
    patience: int = 4
    lr: float = 1e-3
    batch_size: int = 128
    weight_decay: float = 1e-5
    device: str = "auto"  # the LM's device; the network runs on CPU
    cache: bool = True  # generations in <cache_dir>/responses.sqlite, tuned LM weights beside
    cache_dir: str = ""  # "" = datasets/cache/llm
    num_threads: int = 1  # torch CPU threads while fitting and scoring (0 = torch's default)

    def __post_init__(self) -> None:
        def bad(field: str, fix: str) -> None:
            raise ConfigError(f"lrrecsys: {field} = {getattr(self, field)!r}", fix)

        for name in ("lm_train_samples", "lm_epochs", "lm_batch_size", "history",
                     "max_new_tokens", "gen_batch_size", "ae_dim", "ae_epochs",
                     "dnn_train_pairs", "dnn_valid_pairs", "epochs", "patience", "batch_size",
                     "lora_r"):
            if getattr(self, name) < 1:
                bad(name, "use a positive integer")
        for name in ("id_dim", "num_threads", "no_repeat_ngram"):
            if getattr(self, name) < 0:
                bad(name, "use 0 or a positive integer")
        if not (isinstance(self.hidden, list) and self.hidden
                and all(isinstance(h, int) and not isinstance(h, bool) and h > 0
                        for h in self.hidden)):
            bad("hidden", "use a non-empty list of positive layer widths, e.g. [64, 32]")
        if not 0.0 <= self.dropout < 1.0:
            bad("dropout", "use a value in [0, 1)")
        for name in ("lm_lr", "lr"):
            if not getattr(self, name) > 0:
                bad(name, "use a positive learning rate")
        if self.weight_decay < 0:
            bad("weight_decay", "use 0 or a positive value")


class LRRecsys(Recommender, ContrastiveExplainer, PromptedExplainer):
    Config = LRRecsysConfig
    capabilities = frozenset({Capability.RANK, Capability.SCORE, Capability.EXPLAIN})
    modalities = frozenset({"interactions", "text"})

    def __init__(self, config: dict[str, Any] | None = None, *, workdir: Path | None = None,
                 name: str | None = None) -> None:
        super().__init__(config, workdir=workdir, name=name)
        self.bb = None
        self.net: LRNet | None = None
        self.embedder: Any = None  # an AutoencoderEmbedder or a MiniLMEmbedder, set by fit
        self._info: dict[str, Any] = {"use_explanations": self.config.use_explanations,
                                      "seconds": {}}
        self._generated = {"pairs": 0, "malformed": 0}

    # --- the language model -----------------------------------------------------------------
    def _cache_dir(self) -> Path:
        from benchmark.llm.pretrain import CACHE_DIR

        return Path(self.config.cache_dir) if self.config.cache_dir else CACHE_DIR

    def _ensure_lm(self) -> None:
        """Load the backbone and tune it on silver targets (or reuse the cached tuned weights)."""
        if self.bb is not None:
            return
        import torch

        from benchmark.llm import (
            adapter_sha256,
            add_lora,
            describe_backbone,
            finetune_causal,
            load_backbone,
            resolve_backbone,
        )

        c, t0 = self.config, time.perf_counter()
        path = resolve_backbone(c.backbone, "causal", user="LR-Recsys",
                                dataset=c.backbone_dataset)
        bb = load_backbone(path, kind="causal", device=c.device)
        info: dict[str, Any] = {"backbone": describe_backbone(bb), "finetune": c.finetune}
        torch.manual_seed(self._seed)
        if c.finetune == "lora":
            bb = add_lora(bb, r=c.lora_r, alpha=c.lora_alpha)
        else:
            bb.model.requires_grad_(True)
        rows = np.sort(np.random.default_rng(self._seed + 2).permutation(len(self._train))[
            :c.lm_train_samples])
        prompts, targets = lm_training_texts(self._train, self._timeline, rows, self._titles,
                                             c.history)
        key = recipe_key({"weights": bb.weights_sha256, "finetune": c.finetune,
                          "lora": [c.lora_r, c.lora_alpha], "epochs": c.lm_epochs,
                          "lr": c.lm_lr, "batch": c.lm_batch_size, "seed": self._seed,
                          "text_version": TEXT_VERSION}, prompts, targets)
        file = self._cache_dir() / "lrrecsys" / f"tuned-{key}.safetensors"
        if c.cache and file.is_file() and load_trainable(bb.model, file):
            info["tuning"] = {"cached": str(file)}
        else:
            info["tuning"] = finetune_causal(bb, prompts, targets, epochs=c.lm_epochs,
                                             lr=c.lm_lr, batch_size=c.lm_batch_size,
                                             seed=self._seed, progress=True)
            if c.cache:
                save_trainable(bb.model, file)
        info.update({"n_train_samples": len(prompts), "targets": "silver-v1 over the "
                     "last `history` TRAIN interactions before the pair (PrefixSilver)", "recipe_key": key,
                     "params_trainable": int(sum(p.numel() for p in bb.model.parameters()
                                                 if p.requires_grad)),
                     "example_prompt": prompts[0], "example_target": targets[0]})
        bb.model.eval()
        self._adapter = adapter_sha256(bb)
        info["adapter_sha256"] = self._adapter
        self.bb = bb
        self._info["lm"] = info
        self._info["seconds"]["lm_tuning"] = time.perf_counter() - t0

    def _generate(self, prompts: list[str]) -> list[ContrastivePair]:
        from benchmark.llm import ResponseCache

        self._ensure_lm()
        cache = ResponseCache(self._cache_dir() / "responses.sqlite") if self.config.cache \
            else None
        pairs = contrastive_generate(self.bb, prompts, self.config.max_new_tokens,
                                     self.config.gen_batch_size, cache, self._adapter,
                                     primed=self.config.decoding == "primed",
                                     no_repeat_ngram=self.config.no_repeat_ngram)
        self._generated["pairs"] += len(pairs)
        self._generated["malformed"] += sum(p.malformed for p in pairs)
        return pairs

    # --- prompts ------------------------------------------------------------------------------
    def _fit_prompts(self, rows: np.ndarray, items: np.ndarray) -> list[str]:
        """Prompts of fit-time pairs (rows of train+valid): history strictly before the pair."""
        out = []
        for r, i in zip(rows, items):
            h_items, h_liked = self._timeline.before(int(r), self.config.history)
            out.append(build_prompt(self._titles, h_items, h_liked, int(i)))
        return out

    def explain_prompts(self, users: np.ndarray, items: np.ndarray) -> list[str]:
        """Prompts of pairs scored after fit: the user's last train+valid interactions."""
        out = []
        for u, i in zip(np.asarray(users), np.asarray(items)):
            h_items, h_liked = self._timeline.recent(int(u), int(i), self.config.history)
            out.append(build_prompt(self._titles, h_items, h_liked, int(i)))
        return out

    # --- training -----------------------------------------------------------------------------
    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        self._seed, self._train = seed, train
        self._titles = item_titles(train.catalog, train.n_items)
        assert self.history is not None  # remembered by fit before _fit
        self._timeline = Timeline(self.history)  # train rows first, then valid rows
        c = self.config
        with torch_threads(c.num_threads):
            self._train_stages(train, valid, seed)

    def _train_stages(self, train: Interactions, valid: Interactions, seed: int) -> None:
        c, secs = self.config, self._info["seconds"]
        tr_rows = np.sort(np.random.default_rng(seed).permutation(len(train))[
            :c.dnn_train_pairs])
        va_rows = np.sort(np.random.default_rng(seed + 1).permutation(len(valid))[
            :c.dnn_valid_pairs])
        tr_u, tr_i = (train.frame[k].to_numpy()[tr_rows].astype(np.int64)
                      for k in ("user", "item"))
        va_u, va_i = (valid.frame[k].to_numpy()[va_rows].astype(np.int64)
                      for k in ("user", "item"))
        tr_y, va_y = train.liked()[tr_rows], valid.liked()[va_rows]
        if len(np.unique(va_y)) < 2:
            raise ConfigError("lrrecsys: the valid draw holds only one label, so early stopping "
                              "on valid AUC is undefined", "raise dnn_valid_pairs")
        tr_e = va_e = None
        if c.use_explanations:
            self._ensure_lm()
            t0 = time.perf_counter()
            gen = self._generate(self._fit_prompts(tr_rows, tr_i)
                                 + self._fit_prompts(va_rows + len(train), va_i))
            secs["generation_fit"] = time.perf_counter() - t0
            tr_pairs, va_pairs = gen[:len(tr_rows)], gen[len(tr_rows):]
            n_bad = sum(p.malformed for p in gen)
            self._info["malformed_fit"] = {"pairs": len(gen), "malformed": n_bad,
                                           "rate": n_bad / len(gen),
                                           "examples": [p.raw for p in gen if p.malformed][:3]}
            t0 = time.perf_counter()
            self.embedder = make_embedder(c.text_encoder, c.ae_dim, c.ae_epochs, seed)
            fors, againsts, _ = halves_for_embedding(tr_pairs)  # TRAIN explanations only
            self._info["embedding"] = self.embedder.fit(fors + againsts, seed)
            tr_e, va_e = pair_features(self.embedder, tr_pairs), pair_features(self.embedder,
                                                                               va_pairs)
            secs["embedding"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        self.tables = FeatureTables(train)
        tr = PairData(tr_u, tr_i, self.tables.rows(tr_u, tr_i, own_liked=tr_y), tr_e,
                      tr_y.astype(np.float32))
        va = PairData(va_u, va_i, self.tables.rows(va_u, va_i), va_e, va_y.astype(np.float32))
        self.net = LRNet(tr.x.shape[1], 0 if tr_e is None else tr_e.shape[1], train.n_users,
                         train.n_items, c.id_dim, list(c.hidden), c.dropout)
        self._info["dnn"] = train_net(self.net, tr, va, epochs=c.epochs, lr=c.lr,
                                      batch_size=c.batch_size, weight_decay=c.weight_decay,
                                      patience=c.patience, seed=seed)
        self._info["dnn"]["input_dims"] = {"features": int(tr.x.shape[1]),
                                           "explanation": 0 if tr_e is None else
                                           int(tr_e.shape[1]), "id_dim": c.id_dim}
        secs["dnn"] = time.perf_counter() - t0

    # --- inference ----------------------------------------------------------------------------
    def score(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        expl = None
        with torch_threads(self.config.num_threads):
            if self.config.use_explanations:
                expl = pair_features(self.embedder,
                                     self._generate(self.explain_prompts(users, items)))
            data = PairData(users, items, self.tables.rows(users, items), expl)
            assert self.net is not None, "fit first"
            return self.net.predict(data)

    def score_all(self, users: np.ndarray) -> np.ndarray:
        """Every item for each user. With explanations this generates one explanation per
        (user, item) pair (n_items generations per user, cached): slow on large catalogues."""
        users = np.asarray(users, dtype=np.int64)
        items = np.tile(np.arange(self.n_items), len(users))
        return self.score(np.repeat(users, self.n_items), items).reshape(len(users), -1)

    def explain_contrastive(self, users: np.ndarray, items: np.ndarray) -> list[ContrastivePair]:
        """Both halves per pair; malformed generations are returned as such (never dropped)."""
        with torch_threads(self.config.num_threads):
            return self._generate(self.explain_prompts(users, items))

    def explain(self, users: np.ndarray, items: np.ndarray) -> list[str]:
        """The "for" half of each pair; the raw generated text when it is malformed."""
        return [p.raw if p.malformed else p.for_text
                for p in self.explain_contrastive(users, items)]

    # --- bookkeeping --------------------------------------------------------------------------
    def num_parameters(self) -> int:
        n = int(self._info.get("lm", {}).get("params_trainable", 0))
        if self.net is not None:
            n += sum(p.numel() for p in self.net.parameters())
        if self.embedder is not None:
            n += self.embedder.num_parameters()
        return n

    def fit_info(self) -> dict[str, Any]:
        return {**self._info, "generated_so_far": dict(self._generated),
                "decoding": {"labels": self.config.decoding,
                             "no_repeat_ngram": self.config.no_repeat_ngram},
                "modalities_used": sorted(self.modalities)}
