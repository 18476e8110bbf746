"""The offline default backbones: small models trained from scratch here on the dataset's text.

A fresh machine has no language model and may not download one, so the suite builds its own:
a byte-level BPE tokenizer and a small Llama (causal) or T5 (seq2seq) model, pretrained on the
dataset's catalogue text. No ratings enter the corpus, so one backbone serves every protocol
without leaking a test label. The result is saved once under the cache with the sha256 of its
weights and reused; every result that uses it says "small model trained from scratch here".
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.errors import ConfigError
from benchmark.progress import enabled

CACHE_DIR = Path(__file__).resolve().parents[2] / "datasets" / "cache" / "llm"
ORIGIN = "small model trained from scratch here: a test fixture, not a pretrained language model"
#: bump when the corpus or the training recipe changes (invalidates cached backbones)
RECIPE_VERSION = 1
PRETRAIN: dict[str, dict[str, Any]] = {"causal": {"epochs": 1, "lr": 3e-3, "batch_size": 32},
            "seq2seq": {"epochs": 1, "lr": 3e-3, "batch_size": 32}}


#: instruction text the suite's LLM prompts use, so the tokenizer and the model know its words
PROMPT_TEXTS = (
    "Below is an instruction that describes a task, paired with an input that provides further "
    "context. Write a response that appropriately completes the request.",
    "### Instruction:\nGiven the user's preference and unpreference, identify whether the user "
    "will like the target movie by answering \"Yes.\" or \"No.\".",
    "### Input:\n### Response:\nYes.\n### Response:\nNo.",
)


def title_with_year(title: str, year: Any) -> str:
    """'Toy Story' + 1995 -> 'Toy Story (1995)', the form of MovieLens' u.item."""
    try:
        missing = year is None or bool(np.isnan(year))
    except TypeError:
        missing = year is None or str(year) in ("", "<NA>")
    return str(title) if missing else f"{title} ({int(year)})"


def corpus_texts(dataset: str = "ml-100k", n_lists: int = 300, seed: int = 0) -> list[str]:
    """Catalogue text of ``dataset``: one line per item and per user profile, random title lists
    in the prompts' list format, and the instruction text of the suite's prompts.

    The random lists carry no preference: items are drawn uniformly and split into "liked" and
    "disliked" at random. No rating enters the corpus.
    """
    from benchmark.config.dataset_spec import load_dataset_spec
    from benchmark.data.loaders import load_raw

    spec, base = load_dataset_spec(dataset)
    spec.check_files(base)
    raw = load_raw(spec.loader, **spec.loader_args(base))
    lines: list[str] = []
    titles: list[str] = []
    if raw.items is not None:
        for _, row in raw.items.iterrows():
            name = title_with_year(row.get("title", ""), row.get("year"))
            titles.append(name)
            genres = row.get("genres")
            genre_text = ", ".join(genres) if isinstance(genres, list | tuple) and genres else ""
            lines.append(f'"{name}" is a movie' + (f": {genre_text}." if genre_text else "."))
    if raw.users is not None and "age" in raw.users:
        for uid, row in raw.users.iterrows():
            lines.append(f"User {uid}: {row['age']} years old, gender {row['gender']}, "
                         f"{row['occupation']}.")
    rng = np.random.default_rng(seed)
    for _ in range(n_lists if titles else 0):
        pick = rng.choice(len(titles), size=min(11, len(titles)), replace=False)
        cut = int(rng.integers(0, len(pick)))  # a random split: no preference information
        lines.append("User Preference: " + ", ".join(f'"{titles[i]}"' for i in pick[:cut])
                     + "\nUser Unpreference: "
                     + ", ".join(f'"{titles[i]}"' for i in pick[cut:-1])
                     + f'\nWhether the user will like the target movie "{titles[pick[-1]]}"?')
    lines += [t for t in PROMPT_TEXTS for _ in range(20)]
    return lines


def _settings_key(kind: str, dataset: str, size: dict, vocab_size: int) -> str:
    """Folder key: every setting plus the corpus text itself, so a changed corpus (new data
    file, new prompt wording) trains a new backbone instead of reusing a stale one."""
    corpus_sha = hashlib.sha256("\n".join(corpus_texts(dataset)).encode()).hexdigest()
    blob = json.dumps({"kind": kind, "dataset": dataset, "size": size, "vocab": vocab_size,
                       "recipe": RECIPE_VERSION, "pretrain": PRETRAIN[kind],
                       "corpus": corpus_sha}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def default_backbone(kind: str = "causal", dataset: str = "ml-100k",
                     cache_dir: Path | None = None, size: dict | None = None,
                     progress: bool = True, vocab_size: int = 4096) -> Path:
    """Folder of the default small backbone, trained here once and then read from the cache."""
    from benchmark.llm.arch import SMALL_CAUSAL, SMALL_SEQ2SEQ

    if kind not in ("causal", "seq2seq"):
        raise ConfigError(f"unknown backbone kind {kind!r}", "use \"causal\" or \"seq2seq\"")
    size = {**(SMALL_CAUSAL if kind == "causal" else SMALL_SEQ2SEQ), **(size or {})}
    root = Path(cache_dir) if cache_dir is not None else CACHE_DIR
    folder = root / f"{dataset}-{kind}-{_settings_key(kind, dataset, size, vocab_size)}"
    if (folder / "backbone.json").is_file():
        return folder
    tmp = root / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    _build(kind, dataset, size, vocab_size, tmp, progress)
    try:
        tmp.rename(folder)  # atomic: a concurrent builder's copy wins, ours is dropped
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _build(kind: str, dataset: str, size: dict, vocab_size: int, out: Path,
           progress: bool) -> None:
    import torch

    from benchmark.llm.arch import build_causal_lm, build_seq2seq_lm
    from benchmark.llm.loading import weights_sha256
    from benchmark.llm.tokenizer import load_tokenizer, train_bpe_tokenizer

    t0 = time.perf_counter()
    texts = corpus_texts(dataset)
    corpus_sha = hashlib.sha256("\n".join(texts).encode()).hexdigest()
    train_bpe_tokenizer(texts, out, vocab_size=vocab_size)
    tok = load_tokenizer(out, padding_side="right")
    ids = dict(pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    if kind == "causal":
        model = build_causal_lm(len(tok), bos_token_id=tok.bos_token_id, **ids, **size)
    else:
        model = build_seq2seq_lm(len(tok), **ids, **size)
    torch.manual_seed(0)
    stats = _pretrain(model, tok, texts, kind, progress, **PRETRAIN[kind])
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    (out / "backbone.json").unlink(missing_ok=True)
    digest = weights_sha256(out)
    info = {"origin": ORIGIN, "name": f"trained-here {kind} fixture", "pretrained": False,
            "kind": kind, "dataset": dataset, "size": size,
            "vocab_size": len(tok), "n_params": int(sum(p.numel() for p in model.parameters())),
            "corpus_sha256": corpus_sha, "corpus_lines": len(texts),
            "pretrain": {**PRETRAIN[kind], **stats}, "recipe_version": RECIPE_VERSION,
            "weights_sha256": digest, "seconds": time.perf_counter() - t0}
    (out / "backbone.json").write_text(json.dumps(info, indent=2))


def _pretrain(model, tok, texts: list[str], kind: str, progress: bool, *, epochs: int,
              lr: float, batch_size: int) -> dict:
    """Plain LM training: next-token prediction (causal) or prefix -> suffix (seq2seq)."""
    import torch
    from tqdm.auto import tqdm

    rng = np.random.default_rng(0)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(texts) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps,
                                                pct_start=0.1)
    model.train()
    losses = []
    bar = tqdm(total=steps, desc=f"pretraining the small {kind} backbone", disable=not enabled(progress),
               leave=False, mininterval=1.0)
    lengths = np.array([len(t) for t in texts])
    for _ in range(epochs):
        # batches of similar length (little padding), visited in random order
        order = np.argsort(lengths + rng.random(len(texts)) * 8, kind="stable")
        batches = [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
        for b in rng.permutation(len(batches)):
            batch = [texts[i] for i in batches[b]]
            loss = _lm_loss(model, tok, batch, kind, rng)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
            bar.update(1)
    bar.close()
    model.eval()
    return {"steps": len(losses), "first_loss": losses[0],
            "final_loss": float(np.mean(losses[-max(1, len(losses) // 10):]))}


def _lm_loss(model, tok, batch: list[str], kind: str, rng):
    import torch

    if kind == "causal":
        enc = tok([t + tok.eos_token for t in batch], return_tensors="pt", padding=True,
                  truncation=True, max_length=256)
        labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
        return model(**enc, labels=labels).loss
    heads, tails = [], []
    for t in batch:
        words = t.split(" ")
        cut = int(rng.integers(1, max(2, len(words))))
        heads.append(" ".join(words[:cut]))
        tails.append(" ".join(words[cut:]) or t)
    enc = tok(heads, return_tensors="pt", padding=True, truncation=True, max_length=256)
    lab = tok(tails, return_tensors="pt", padding=True, truncation=True, max_length=128)
    labels = lab["input_ids"].masked_fill(lab["attention_mask"] == 0, -100)
    with torch.enable_grad():
        return model(**enc, labels=labels).loss
