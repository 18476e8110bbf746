"""ExplainRec behind the Recommender interface (registry name "explainrec", config ``variant``).

Two ways to run it, always labelled, like the TALLRec model it extends:
- the TALLRec protocol (track "tallrec"): ``fit_samples`` on the protocol's train samples (capped
  at ``max_train_samples``, seeded), ``score_samples`` on its test samples;
- the harness split (accuracy and explanation tracks): ``fit`` builds TALLRec-style examples from
  the train part (each rating with the 10 before it); ``score``/``rank`` ask the question for any
  (user, item) with the user's 10 most recent train+valid ratings; ``explain`` generates O_reason.
Stage one of TALLRec's two-stage tuning (general instruction tuning) is the backbone's own
pretraining on the catalogue and the suite's instruction texts (``benchmark.llm``); stage two is
the tuning here. Score = sigmoid(logit(Yes) - logit(No) + g * KB prior logit).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmark.data.types import Interactions
from benchmark.errors import BenchError
from benchmark.models.abilities import (
    ContrastiveExplainer,
    DatasetReader,
    PromptedExplainer,
    SampleScorer,
)
from benchmark.models.base import Capability, Recommender
from benchmark.threads import torch_threads
from explainrec import attribution as attr
from explainrec.config import ExplainRecConfig
from explainrec.data import (
    Example,
    ItemTable,
    Pairs,
    ProtocolSide,
    UserTable,
    example_pairs,
    harness_examples,
    interactions_from_pairs,
    pairs_of,
    recent_history,
)
from explainrec.grounding import Grounder

if TYPE_CHECKING:
    from explainrec.knowledge import PreferenceKB

MAX_CALIBRATION_PAIRS = 4000


class ExplainRec(Recommender, ContrastiveExplainer, PromptedExplainer, SampleScorer,
                 DatasetReader):
    Config = ExplainRecConfig
    #: ``dataset`` names the default backbone's corpus; the protocol's side data comes from the
    #: dataset the harness runs (``DatasetReader``), and naming another one is an error
    dataset_field = "dataset"
    capabilities = frozenset({Capability.RANK, Capability.SCORE, Capability.EXPLAIN,
                              Capability.COLD_USER, Capability.COLD_ITEM})
    modalities = frozenset({"interactions", "text"})

    def __init__(self, config: dict[str, Any] | None = None, *, workdir: Path | None = None,
                 name: str | None = None) -> None:
        super().__init__(config, workdir=workdir, name=name)
        self.net: Any = None  # the ERNet (explainrec.core, torch), built by fit
        self.kb: PreferenceKB | None = None
        self._info: dict[str, Any] = {"variant": self.config.variant,
                                      "components": self.config.switches,
                                      "decoding": {"greedy": True,
                                                   "max_new_tokens": self.config.max_new_tokens,
                                                   "prime_title": self.config.prime_title,
                                                   "no_repeat_ngram": self.config.no_repeat_ngram,
                                                   "cut": "whole sentences"}}
        self._halves: dict[tuple[int, int], tuple[str, str]] = {}
        self.grounder: Grounder | None = None
        self._recent: dict[int, tuple] = {}
        self._chosen_threads = 0  # set once the backbone is loaded (config, or a timed probe)

    def _threads(self) -> contextlib.AbstractContextManager[None]:
        """The probed count once chosen, else the configured one; restored on exit."""
        return torch_threads(self._chosen_threads or self.config.num_threads)

    # --- shared setup ----------------------------------------------------------------------------
    def _features(self, catalog) -> dict[str, np.ndarray] | None:
        if not self.config.switches["multimodal"]:
            return None
        from benchmark.features import load_item_features

        c = self.config
        feats = load_item_features(catalog, modalities=("text", "visual"),
                                   text_encoder=c.text_encoder or None,
                                   feature_dir=c.feature_dir or None, progress=False)
        self._info["features"] = feats.info
        self._info["modalities_absent"] = feats.absent
        return feats.features

    def _build(self, items: ItemTable, users: UserTable, catalog, examples: list[Example],
               kb_pairs: Pairs, valid_pairs: Pairs, builder, timestamps: bool,
               seed: int) -> None:
        import torch

        from benchmark.llm import thread_choice
        from explainrec.core import ERNet
        from explainrec.knowledge import PreferenceKB
        from explainrec.train import train

        c, sw = self.config, self.config.switches
        self.items, self.users, self._use_ts = items, users, timestamps
        kb_train = None
        if sw["zero_shot"]:
            self.kb = PreferenceKB(items, users, *kb_pairs, smoothing=c.kb_smoothing)
            vu, vi, vl, vt = valid_pairs
            if len(vu) > MAX_CALIBRATION_PAIRS:
                pick = np.random.default_rng(seed).permutation(len(vu))[:MAX_CALIBRATION_PAIRS]
                vu, vi, vl, vt = vu[pick], vi[pick], vl[pick], vt[pick]
            coef = self.kb.calibrate(vu, vi, vl, vt if timestamps else None)
            kb_train = self.kb.prior_logit([e.user for e in examples], [e.item for e in examples],
                                           [e.timestamp for e in examples] if timestamps else None)
            self._info["knowledge_base"] = {"group_weights": self.kb.w.tolist(),
                                            "coef_const_demo_cross_temporal": coef.tolist(),
                                            "calibration_pairs": int(len(vu))}
        reasons = attr.reason_targets(builder, examples) if sw["attribution"] else None
        self.net = ERNet(c, items, self._features(catalog), seed)
        self._info["backbone"] = self.net.backbone_info
        self._info["threads"] = thread_choice(self.net.bb, c.num_threads)
        self._chosen_threads = int(self._info["threads"]["num_threads"])
        torch.set_num_threads(self._chosen_threads)  # inside _threads(): restored after fit
        self._info["prompt_format"] = ("tokenizer chat template" if self.net.frame is not None
                                       else "plain text (### Response:)")
        stats = train(self.net, examples, reasons, kb_train, seed)
        self._info["train"] = stats
        self._info["n_train_samples"] = len(examples)
        self._info["params_trainable"] = int(sum(p.numel() for p in self.net.trainable()))

    def _cap(self, examples: list, seed: int) -> list:
        if len(examples) > self.config.max_train_samples:
            pick = np.random.default_rng(seed).permutation(len(examples))
            examples = [examples[i] for i in sorted(pick[:self.config.max_train_samples])]
        return examples

    # --- the TALLRec protocol ------------------------------------------------------------------------
    def fit_samples(self, train, valid, titles: dict[str, str], *, seed: int) -> None:
        from benchmark.explain.silver import SilverBuilder

        with self._threads():
            side = ProtocolSide.from_data(self.require_dataset())
            self._side = side
            every = [side.example(s) for s in train]
            examples = self._cap(every, seed)
            n_users, n_items = len(side.users.groups), len(side.items.titles)
            pairs = example_pairs(every)
            catalog = side.items.catalog()
            builder = SilverBuilder(catalog, interactions_from_pairs(*pairs, n_users, n_items,
                                                                     catalog))
            vex = [side.example(s) for s in valid]
            vpairs = (np.array([e.user for e in vex]), np.array([e.item for e in vex]),
                      np.array([e.liked for e in vex]), np.array([e.timestamp for e in vex]))
            self._info["trained_on"] = "tallrec protocol samples"
            self._build(side.items, side.users, catalog, examples, pairs, vpairs, builder,
                        True, seed)

    def score_samples(self, samples) -> np.ndarray:
        with self._threads():
            return self._score_examples([self._side.example(s) for s in samples])

    def _score_examples(self, examples: list[Example]) -> np.ndarray:
        import torch

        from explainrec.core import sigmoid
        from explainrec.lm import answer_logits

        net, bs = self.net, self.config.eval_batch_size
        z = np.empty(len(examples))
        with torch.inference_mode():
            for s in range(0, len(examples), bs):
                rows = [net.full_row(e) for e in examples[s:s + bs]]
                z[s:s + bs] = answer_logits(net.bb, net.soft, rows, net.yes_id,
                                            net.no_id).cpu().numpy()
        return sigmoid(z + self._prior(examples))

    def _prior(self, examples: list[Example]) -> np.ndarray:
        if self.kb is None:
            return np.zeros(len(examples))
        ts = [e.timestamp for e in examples] if self._use_ts else None
        g = float(self.net.kb_gate.detach())
        return g * self.kb.prior_logit([e.user for e in examples], [e.item for e in examples],
                                       ts, loo=False)

    # --- the harness split -----------------------------------------------------------------------------
    def fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        from benchmark.explain.silver import SilverBuilder

        with self._threads():
            self._remember(train, valid)
            cat = train.catalog
            if cat is None:
                raise BenchError("ExplainRec needs the split's catalogue (titles, genres)",
                                 "use a dataset with item metadata")
            items = ItemTable.from_frame(cat.items, train.n_items)
            users = UserTable.from_frame(cat.users, train.n_users)
            examples = self._cap(harness_examples(train), seed)
            builder = SilverBuilder(cat, train)
            self._info["trained_on"] = "harness split train part"
            self._build(items, users, cat, examples, pairs_of(train), pairs_of(valid), builder,
                        False, seed)
            assert self.history is not None  # remembered by fit before _fit
            self._recent = recent_history(self.history)
            self.grounder = Grounder(SilverBuilder(cat, self.history, strict=False), items)

    def _evidence(self, user: int, history: tuple) -> str | None:
        return self.kb.evidence(user) if self.kb is not None and not history else None

    def score(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        from explainrec.core import sigmoid
        from explainrec.lm import prefix_answer_logits

        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        out = np.empty(len(users))
        net = self.net
        with self._threads():
            for u in np.unique(users):
                sel = np.flatnonzero(users == u)
                hist, liked = self._recent.get(int(u), ((), ()))
                exs = [Example(int(u), hist, liked, int(i), False, np.nan, 0) for i in items[sel]]
                ev = self._evidence(int(u), hist)
                prefix = net.prompt(exs[0], ev)[0]
                suffixes = [net.prompt(e, ev)[1] for e in exs]
                with self._meta_adapted(int(u)):
                    z = prefix_answer_logits(net.bb, net.soft, prefix, suffixes, net.yes_id,
                                             net.no_id, self.config.eval_batch_size)
                out[sel] = sigmoid(z + self._prior(exs))
        return out

    def score_all(self, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        items = np.tile(np.arange(self.n_items), len(users))
        return self.score(np.repeat(users, self.n_items), items).reshape(len(users), -1)

    @contextlib.contextmanager
    def _meta_adapted(self, user: int):
        """theta_new = theta - a grad L_support for users with 1..meta_max_history ratings."""
        hist, liked = self._recent.get(user, ((), ()))
        if self.kb is None or not 0 < len(hist) <= self.config.meta_max_history:
            yield
            return
        from explainrec.meta import adapted, adapter_parameters

        support = [Example(user, hist[:k], liked[:k], hist[k], liked[k], np.nan, 0)
                   for k in range(len(hist))]
        kb = self.kb.prior_logit([user] * len(support), [e.item for e in support], loo=False)
        import torch

        kb_t = torch.tensor(kb, dtype=torch.float32)
        with adapted(adapter_parameters(self.net.bb.model),
                     lambda: self.net.losses(support, kb_t, None)["pred"], self.config.meta_lr):
            yield

    # --- explanations --------------------------------------------------------------------------------
    def _generate_halves(self, users, items) -> None:
        """Both halves per pair: the reason after "Yes." and after "No.". With ``prime_title``
        decoding starts from the item's title, the subject every training target (O_reason)
        opens with; the text is cut to whole sentences and then grounded."""
        from benchmark.explain.trim import whole_sentences
        from explainrec.lm import greedy

        net, cfg = self.net, self.config
        todo = [(int(u), int(i)) for u, i in zip(users, items)
                if (int(u), int(i)) not in self._halves]
        rows, primed = [], []
        for u, i in todo:
            hist, liked = self._recent.get(u, ((), ()))
            ids, soft = net.full_row(Example(u, hist, liked, i, False, np.nan, 0),
                                     self._evidence(u, hist))
            head = net.enc.text(self.items.titles[i]) if cfg.prime_title else []
            for ans in (net.yes, net.no):
                tail = list(ans) + net.cue + head
                rows.append((ids + tail, soft + [-1] * len(tail)))
                primed.append(head)
        bs, tok = cfg.eval_batch_size, net.bb.tokenizer
        texts = []
        for s in range(0, len(rows), bs):
            out = greedy(net.bb, net.soft, rows[s:s + bs], cfg.max_new_tokens, [net.eos],
                         no_repeat_ngram=cfg.no_repeat_ngram, primed=primed[s:s + bs])
            for k, t in enumerate(out):
                head = primed[s + k]
                text = tok.decode(list(head) + t, skip_special_tokens=True).strip()
                skip = len(tok.decode(list(head), skip_special_tokens=True).strip())
                texts.append(whole_sentences(text, skip=skip))
        grounder = self.grounder
        for n, (u, i) in enumerate(todo):
            recent = self._recent.get(u, ((), ()))
            assert grounder is not None, "fit first"
            self._halves[(u, i)] = (grounder(u, i, texts[2 * n], recent),
                                    grounder(u, i, texts[2 * n + 1], recent))

    def explain_contrastive(self, users, items) -> list[tuple[str, str]]:
        with self._threads():
            self._generate_halves(users, items)
        return [self._halves[(int(u), int(i))] for u, i in zip(users, items)]

    def explain(self, users, items) -> list[str]:
        halves = self.explain_contrastive(users, items)
        likes = self.score(np.asarray(users), np.asarray(items)) >= 0.5
        return [h[0] if ok else h[1] for h, ok in zip(halves, likes)]

    def explain_prompts(self, users, items) -> list[str]:
        out = []
        for u, i in zip(users, items):
            hist, liked = self._recent.get(int(u), ((), ()))
            pre, suf = attr.prompt_segments(
                Example(int(u), hist, liked, int(i), False, np.nan, 0), self.items,
                attribution=self.config.switches["attribution"], soft=self.net.soft is not None,
                evidence=self._evidence(int(u), hist), frame=self.net.frame)
            out.append("".join(s if isinstance(s, str) else "<item>" for s in pre + suf))
        return out

    # --- bookkeeping ---------------------------------------------------------------------------------
    def num_parameters(self) -> int:
        return int(self._info.get("params_trainable", 0))

    def fit_info(self) -> dict[str, Any]:
        out = {**self._info, "modalities_used": ["interactions", "text"]}
        if self.grounder is not None:
            out["explanation_grounding"] = self.grounder.report()
        return out
