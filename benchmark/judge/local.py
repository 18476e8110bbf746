"""A judge from any local Hugging Face language model folder, read by answer probabilities.

For each (explanation, criterion) the prompt ends with "Rating (1-5):" and the judge's
log-probabilities of the continuations " 1".." 5" are read (several tokens per digit are fine:
``continuation_logprobs``). Normalised over the five answers they give a distribution; the
rating is its expectation (argmax kept too). No sampling: the same weights and prompt give the
same rating, and the distribution is cached by (weights sha256, prompt).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmark.errors import BenchError
from benchmark.judge.base import CRITERIA, JudgeRequest, Rating
from benchmark.judge.prompt import ANSWER_CONTEXT, JUDGE_PROMPT_VERSION, local_prompt

#: the continuations read after ANSWER_CONTEXT (a space, as a writer would put it)
ANSWERS = (" 1", " 2", " 3", " 4", " 5")
DEFAULT_NOTE = "small model trained here, not a validated judge"


class LocalLMJudge:
    """``path`` = a local causal or seq2seq LM folder; "" = the default small backbone."""

    def __init__(self, path: str | Path = "", device: str = "auto", batch_size: int = 16,
                 cache=None, threads: int = 0, progress: bool = False) -> None:
        from benchmark.llm import default_backbone, load_backbone
        from benchmark.llm.scoring import answer_ids

        self.default = str(path) == ""
        if self.default:
            path = default_backbone("causal", progress=progress)
        self.bb = load_backbone(path, device=device)
        self.batch_size, self.cache = batch_size, cache
        self.threads, self.progress = threads, progress
        self.ids = [tuple(answer_ids(self.bb.tokenizer, a, ANSWER_CONTEXT)) for a in ANSWERS]
        if len(set(self.ids)) != len(self.ids):
            raise BenchError(f"the judge's tokenizer ({path}) writes two of the answers 1-5 as "
                             "the same tokens", "use a judge model whose tokenizer has digits")
        self.kind = f"judge:{JUDGE_PROMPT_VERSION}:{[list(i) for i in self.ids]}"

    def label(self) -> dict:
        out = {"kind": "local", "path": self.bb.path, "backbone_kind": self.bb.kind,
               "weights_sha256": self.bb.weights_sha256, "n_params": self.bb.n_params,
               "prompt_version": JUDGE_PROMPT_VERSION,
               "rating": "expected value of the judge's probabilities of the answers 1-5"}
        if self.default:
            out["note"] = DEFAULT_NOTE
        return out

    def distributions(self, prompts: list[str]) -> np.ndarray:
        """P(answer = 1..5 | prompt), shape (len(prompts), 5); cached by weights + prompt."""
        from tqdm.auto import tqdm

        from benchmark.llm import torch_threads

        out = np.full((len(prompts), len(ANSWERS)), np.nan)
        if self.cache is not None:
            for r, v in enumerate(self.cache.get_many(self.bb.weights_sha256, "", self.kind,
                                                      prompts)):
                if v is not None:
                    out[r] = v
        todo = [r for r in range(len(prompts)) if np.isnan(out[r, 0])]
        bar = tqdm(total=len(todo), desc="judge", unit="prompt", disable=not self.progress,
                   leave=False, mininterval=1.0)
        with torch_threads(self.threads):
            for start in range(0, len(todo), self.batch_size):
                idx = todo[start:start + self.batch_size]
                lp = self._logprobs([prompts[r] for r in idx])
                p = np.exp(lp - lp.max(axis=1, keepdims=True))
                out[idx] = p / p.sum(axis=1, keepdims=True)
                if self.cache is not None:
                    self.cache.put_many(self.bb.weights_sha256, "", self.kind,
                                        [prompts[r] for r in idx], out[idx].tolist())
                bar.update(len(idx))
        bar.close()
        return out

    def _logprobs(self, prompts: list[str]) -> np.ndarray:
        from benchmark.llm import continuation_logprobs

        if self.bb.kind == "causal" and all(len(i) == 1 for i in self.ids):
            import torch

            from benchmark.llm.scoring import causal_forward

            enc = [list(x) for x in self.bb.tokenizer(prompts)["input_ids"]]
            with torch.inference_mode():  # one forward pass: the next-token distribution
                logits = causal_forward(self.bb, enc, 1)[:, -1, :]
                lp = torch.log_softmax(logits, -1)[:, [i[0] for i in self.ids]]
            return lp.cpu().numpy().astype(np.float64)
        return continuation_logprobs(self.bb, prompts, self.ids, batch_size=len(prompts))

    def rate(self, requests: list[JudgeRequest]) -> list[Rating]:
        prompts = [local_prompt(r, c) for r in requests for c in CRITERIA]
        dist = self.distributions(prompts).reshape(len(requests), len(CRITERIA), len(ANSWERS))
        scale = np.arange(1, len(ANSWERS) + 1, dtype=np.float64)
        out = []
        for d in dist:
            out.append(Rating(values={c: float(np.clip(d[j] @ scale, 1.0, 5.0))
                                      for j, c in enumerate(CRITERIA)},
                              argmax={c: int(np.argmax(d[j])) + 1
                                      for j, c in enumerate(CRITERIA)}))
        return out
