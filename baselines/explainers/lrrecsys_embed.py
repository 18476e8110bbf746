"""LR-Recsys explanation embeddings: an autoencoder over TF-IDF (default) or MiniLM.

The autoencoder is trained here, on the generated explanation halves of TRAIN pairs only: TF-IDF
vector (vocabulary from those texts) -> tanh bottleneck of ``ae_dim`` -> reconstruction, MSE.
The bottleneck is the embedding. ``"minilm"`` uses the verified all-MiniLM-L6-v2 sentence encoder
of ``benchmark.features`` instead (384 dimensions, slower, nothing trained).

A pair's feature vector is [embed(for half), embed(against half), malformed flag]; a malformed
generation embeds its raw text as the "for" half and an empty "against" half, flag 1.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmark.explain.contrastive import ContrastivePair


def halves_for_embedding(pairs: Sequence[ContrastivePair]) -> tuple[list[str], list[str],
                                                                     np.ndarray]:
    """(for texts, against texts, malformed flags); malformed = raw text + empty half."""
    fors = [p.raw if p.malformed else p.for_text for p in pairs]
    againsts = ["" if p.malformed else p.against_text for p in pairs]
    flags = np.array([p.malformed for p in pairs], dtype=np.float32)
    return fors, againsts, flags


class AutoencoderEmbedder:
    """TF-IDF -> tanh(``dim``) -> TF-IDF autoencoder, trained on the texts given to ``fit``."""

    def __init__(self, dim: int = 16, vocab: int = 2000, epochs: int = 30, lr: float = 3e-3,
                 batch_size: int = 128) -> None:
        self.dim, self.vocab, self.epochs, self.lr, self.batch_size = dim, vocab, epochs, lr, \
            batch_size
        # set by fit (sklearn and torch are imported lazily, so the types stay open)
        self.vectorizer: Any = None
        self.encoder: Any = None
        self.decoder: Any = None

    def _tfidf(self, texts: Sequence[str]):
        import torch

        x = self.vectorizer.transform(list(texts)).astype(np.float32).toarray()
        return torch.from_numpy(x)

    def fit(self, texts: Sequence[str], seed: int) -> dict[str, Any]:
        import torch
        from sklearn.feature_extraction.text import TfidfVectorizer

        t0 = time.perf_counter()
        texts = list(texts)
        self.vectorizer = TfidfVectorizer(max_features=self.vocab, lowercase=True,
                                          token_pattern=r"(?u)\b\w+\b")
        if not any(re.search(r"(?u)\w", t) for t in texts):
            texts = texts + ["empty"]  # a vocabulary even when no text has a word
        self.vectorizer.fit(texts)
        x = self._tfidf(texts)
        v = x.shape[1]
        torch.manual_seed(seed)
        self.encoder = torch.nn.Sequential(torch.nn.Linear(v, self.dim), torch.nn.Tanh())
        self.decoder = torch.nn.Linear(self.dim, v)
        params = list(self.encoder.parameters()) + list(self.decoder.parameters())
        opt = torch.optim.Adam(params, lr=self.lr)
        gen = torch.Generator().manual_seed(seed)
        losses = []
        for _ in range(self.epochs):
            total = 0.0
            for idx in torch.randperm(len(x), generator=gen).split(self.batch_size):
                # sum over the vocabulary, mean over texts: a scale that does not vanish with v
                loss = ((self.decoder(self.encoder(x[idx])) - x[idx]) ** 2).sum(1).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            losses.append(total / len(x))
        return {"text_encoder": "autoencoder", "ae_dim": self.dim, "vocabulary": int(v),
                "n_texts": len(x), "epochs": self.epochs, "loss_first_epoch": losses[0],
                "loss_final_epoch": losses[-1], "loss_per_epoch": losses,
                "seconds": time.perf_counter() - t0}

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with torch.no_grad():
            return self.encoder(self._tfidf(texts)).numpy().astype(np.float32)

    def reconstruction_loss(self, texts: Sequence[str]) -> float:
        import torch

        x = self._tfidf(texts)
        with torch.no_grad():
            return float(((self.decoder(self.encoder(x)) - x) ** 2).sum(1).mean())

    def num_parameters(self) -> int:
        if self.encoder is None:
            return 0
        return sum(p.numel() for m in (self.encoder, self.decoder) for p in m.parameters())


class MiniLMEmbedder:
    """The verified all-MiniLM-L6-v2 (benchmark.features); nothing is trained."""

    def __init__(self) -> None:
        from benchmark.features.text_encoder import TextEncoder

        self.encoder = TextEncoder.default()
        self.dim = 384

    def fit(self, texts: Sequence[str], seed: int) -> dict[str, Any]:
        return {"text_encoder": "minilm", **self.encoder.describe()}

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        out = self.encoder.encode(list(texts), progress=len(texts) > 512)
        self.dim = out.shape[1]
        return out

    def num_parameters(self) -> int:
        return 0


def make_embedder(kind: str, dim: int, epochs: int, seed: int):
    return MiniLMEmbedder() if kind == "minilm" else AutoencoderEmbedder(dim=dim, epochs=epochs)


def pair_features(embedder, pairs: Sequence[ContrastivePair]) -> np.ndarray:
    """float32 (len(pairs), 2 * dim + 1): both halves embedded separately, then the flag."""
    fors, againsts, flags = halves_for_embedding(pairs)
    both = embedder.transform(fors + againsts) if pairs else np.zeros((0, embedder.dim),
                                                                      np.float32)
    n = len(pairs)
    return np.concatenate([both[:n], both[n:], flags[:, None]], axis=1).astype(np.float32)
