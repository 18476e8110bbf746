"""A judge from a local Hugging Face language model, read by answer probabilities.

Which model (``path``, the suite's one backbone convention): "" or "default" = SmolLM2-135M-Instruct
(``resolve_backbone``), "trained-here" = the small test-fixture model trained here, anything else
a local model folder (causal or seq2seq).

Prompt: when the tokenizer has a chat template (an instruction model), each (explanation,
criterion) is one chat (``chat_prompt``) and the rating is read from the assistant's first
tokens; the answer form ("1".."5" or " 1".." 5") is the one the tokenizer writes after the
template's generation prompt. Without a template, the plain prompt ending in "Rating (1-5):" and
the answers " 1".." 5". The log-probabilities of the five answers (several tokens each are fine:
``continuation_logprobs``), normalised, give a distribution; the rating is its expectation
(argmax kept too). No sampling: the same weights and prompt give the same rating, and the
distribution is cached by (weights sha256, prompt, answer ids).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmark.errors import BenchError
from benchmark.judge.base import CRITERIA, JudgeRequest, Rating
from benchmark.judge.prompt import ANSWER_CONTEXT, JUDGE_PROMPT_VERSION, chat_prompt, local_prompt
from benchmark.progress import enabled
from benchmark.threads import torch_threads

#: the continuations read after ANSWER_CONTEXT in the plain prompt (a space, as a writer would)
ANSWERS = (" 1", " 2", " 3", " 4", " 5")
#: the answer forms tried after a chat template's generation prompt, in order of preference
CHAT_FORMS = (("1", "2", "3", "4", "5"), (" 1", " 2", " 3", " 4", " 5"))
DEFAULT_NOTE = "small instruction model, not a validated judge"
FIXTURE_NOTE = "test fixture trained here, not a language model judge"


def has_chat_template(tokenizer) -> bool:
    """Whether the tokenizer carries a chat template (an instruction-tuned model's)."""
    return bool(getattr(tokenizer, "chat_template", None))


def chat_answers(tokenizer) -> tuple[tuple[str, ...], list[tuple[int, ...]]]:
    """The answer form a reply starts with after the generation prompt, and its token ids.

    After a generation prompt that ends in whitespace (a newline, as most templates end) the
    reply's first token is the bare digit "1".."5"; otherwise " 1".." 5" (the other form only
    when the preferred one's five answers do not encode to distinct ids)."""
    from benchmark.llm.scoring import answer_ids

    context = tokenizer.apply_chat_template([{"role": "user", "content": "Rate it."}],
                                            tokenize=False, add_generation_prompt=True)
    forms = CHAT_FORMS if context[-1:].isspace() else CHAT_FORMS[::-1]
    for form in forms:
        ids = [tuple(answer_ids(tokenizer, a, context)) for a in form]
        if len(set(ids)) == len(ids):
            return form, ids
    raise BenchError("the judge's chat tokenizer writes two of the answers 1-5 as the same "
                     "tokens", "use a judge model whose tokenizer has digits")


class LocalLMJudge:
    """``path``: "" / "default" (SmolLM2), "trained-here" (test fixture) or a model folder."""

    def __init__(self, path: str | Path = "", device: str = "auto", batch_size: int = 16,
                 cache=None, threads: int = 0, progress: bool = False) -> None:
        from benchmark.llm import load_backbone
        from benchmark.llm.resolve import DEFAULT, TRAINED_HERE, resolve_backbone
        from benchmark.llm.scoring import answer_ids

        spec = str(path).strip()
        self.source = {"": DEFAULT, DEFAULT: DEFAULT, TRAINED_HERE: TRAINED_HERE}.get(spec, "folder")
        if self.source != "folder":
            path = resolve_backbone(spec, "causal", user="the explanation judge",
                                    progress=progress)
        self.bb = load_backbone(path, device=device)
        self.batch_size, self.cache = batch_size, cache
        self.threads, self.progress = threads, progress
        tok = self.bb.tokenizer
        self.chat = self.bb.kind == "causal" and has_chat_template(tok)
        if self.chat:
            self.answers, self.ids = chat_answers(tok)
        else:
            self.answers = ANSWERS
            self.ids = [tuple(answer_ids(tok, a, ANSWER_CONTEXT)) for a in ANSWERS]
            if len(set(self.ids)) != len(self.ids):
                raise BenchError(f"the judge's tokenizer ({path}) writes two of the answers "
                                 "1-5 as the same tokens",
                                 "use a judge model whose tokenizer has digits")
        form = "chat" if self.chat else "plain"
        self.kind = f"judge:{JUDGE_PROMPT_VERSION}:{form}:{[list(i) for i in self.ids]}"

    def label(self) -> dict:
        from benchmark.llm import describe_backbone

        d = describe_backbone(self.bb)
        out = {"kind": "local", "path": self.bb.path, "name": d["name"], "origin": d["origin"],
               "backbone_kind": self.bb.kind, "weights_sha256": self.bb.weights_sha256,
               "n_params": self.bb.n_params, "prompt_version": JUDGE_PROMPT_VERSION,
               "prompt_form": "chat template" if self.chat else "plain text",
               "answers": list(self.answers),
               "rating": "expected value of the judge's probabilities of the answers 1-5"}
        if self.source == "default":
            out["note"] = DEFAULT_NOTE
        elif self.source == "trained-here":
            out["note"] = FIXTURE_NOTE
        return out

    def prompt(self, req: JudgeRequest, criterion: str) -> str:
        """The text the judge reads for one criterion (chat template when it has one)."""
        if self.chat:
            return chat_prompt(self.bb.tokenizer, req, criterion)
        return local_prompt(req, criterion)

    def distributions(self, prompts: list[str]) -> np.ndarray:
        """P(answer = 1..5 | prompt), shape (len(prompts), 5); cached by weights + prompt."""
        from tqdm.auto import tqdm

        out = np.full((len(prompts), len(self.ids)), np.nan)
        if self.cache is not None:
            for r, v in enumerate(self.cache.get_many(self.bb.weights_sha256, "", self.kind,
                                                      prompts)):
                if v is not None:
                    out[r] = v
        todo = [r for r in range(len(prompts)) if np.isnan(out[r, 0])]
        bar = tqdm(total=len(todo), desc="judge", unit="prompt", disable=not enabled(self.progress),
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

            # a chat template writes its own special tokens: the tokenizer must not add more
            enc = [list(x) for x in self.bb.tokenizer(
                prompts, add_special_tokens=not self.chat)["input_ids"]]
            with torch.inference_mode():  # one forward pass: the next-token distribution
                logits = causal_forward(self.bb, enc, 1)[:, -1, :]
                lp = torch.log_softmax(logits, -1)[:, [i[0] for i in self.ids]]
            return lp.cpu().numpy().astype(np.float64)
        if self.chat and self.bb.tokenizer.bos_token:  # continuation_logprobs adds specials
            tok, bos = self.bb.tokenizer, self.bb.tokenizer.bos_token
            if tok("x")["input_ids"][:1] == [tok.bos_token_id]:
                prompts = [p[len(bos):] if p.startswith(bos) else p for p in prompts]
        return continuation_logprobs(self.bb, prompts, self.ids, batch_size=len(prompts))

    def rate(self, requests: list[JudgeRequest]) -> list[Rating]:
        prompts = [self.prompt(r, c) for r in requests for c in CRITERIA]
        dist = self.distributions(prompts).reshape(len(requests), len(CRITERIA), len(self.ids))
        scale = np.arange(1, len(self.ids) + 1, dtype=np.float64)
        out = []
        for d in dist:
            out.append(Rating(values={c: float(np.clip(d[j] @ scale, 1.0, 5.0))
                                      for j, c in enumerate(CRITERIA)},
                              argmax={c: int(np.argmax(d[j])) + 1
                                      for j, c in enumerate(CRITERIA)}))
        return out
