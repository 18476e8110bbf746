"""Optional: Chat-REC's re-ranking by a chat model behind an OpenAI-compatible HTTP endpoint.

Used only when a user sets ``endpoint_url`` in Chat-REC's params (e.g. a local vLLM or llama.cpp
server, ``http://localhost:8000/v1``); the suite's default never touches the network. Standard
library only (urllib). The API key, if the server needs one, is read from the environment
variable named by ``api_key_env`` and never written to any result file. Whether the endpoint may
be contacted (and with the key) is ``benchmark.net_policy``'s rule: checked when the scorer is
built, before any request (a suite file alone may not send a key, nor data off this machine);
redirects are not followed.

As in the paper, the model is shown the numbered candidate list and asked to answer with the
numbers in its preferred order; candidates it does not mention keep their retriever order below
the ones it ranked.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Sequence

import numpy as np

from benchmark.errors import BenchError, ConfigError
from benchmark.net_policy import check_endpoint, no_redirect_opener, redact


def rerank_request(prompt: str, candidates: Sequence[str]) -> str:
    """The user message: profile and history, then the numbered candidates."""
    listing = "\n".join(f"{n + 1}. {c}" for n, c in enumerate(candidates))
    return (f"{prompt.removesuffix('Recommended movie:').rstrip()}\n"
            f"Rank these candidate movies from the one the user will enjoy most to the least:\n"
            f"{listing}\nAnswer only with the candidate numbers, best first, separated by commas.")


def parse_ranking(text: str, n: int) -> list[int]:
    """0-based candidate indices in the order the answer names them (first mention wins)."""
    seen: list[int] = []
    for m in re.findall(r"\d+", text):
        k = int(m) - 1
        if 0 <= k < n and k not in seen:
            seen.append(k)
    return seen


class EndpointScorer:
    """Candidate scores from a chat endpoint's ranking: best = 1, then decreasing."""

    def __init__(self, url: str, model: str, api_key_env: str = "", timeout: float = 60.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"endpoint_url {url!r} is not an http(s) URL",
                              "set endpoint_url like http://localhost:8000/v1, or leave it empty "
                              "to re-rank with the local backbone")
        check_endpoint(url, api_key_env, "Chat-REC endpoint_url")
        if not model:
            raise ConfigError("endpoint_url is set but endpoint_model is empty",
                              "set endpoint_model to the model name the server expects")
        self.url = url.rstrip("/") + "/chat/completions"
        self.model, self.api_key_env, self.timeout = model, api_key_env, timeout

    def describe(self) -> dict:
        return {"kind": "endpoint", "url": self.url, "model": self.model}

    def complete(self, message: str) -> str:
        body = json.dumps({"model": self.model, "temperature": 0,
                           "messages": [{"role": "user", "content": message}]}).encode()
        # the rule again, before the key is read: the environment may have changed since __init__
        check_endpoint(self.url, self.api_key_env, "Chat-REC endpoint_url")
        headers = {"Content-Type": "application/json"}
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise ConfigError(f"environment variable {self.api_key_env} is not set",
                                  "export the endpoint's API key under that name")
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with no_redirect_opener(self.url).open(req, timeout=self.timeout) as resp:
                answer = json.loads(resp.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, OSError, json.JSONDecodeError,
                UnicodeDecodeError) as err:
            raise BenchError(f"chat endpoint {self.url} failed: "
                             f"{redact(str(err), self.api_key_env)}",
                             "check that the server is running and endpoint_url is right") from None
        try:
            return redact(str(answer["choices"][0]["message"]["content"]), self.api_key_env)
        except (KeyError, IndexError, TypeError) as err:
            raise BenchError(f"chat endpoint {self.url} returned no choices[0].message.content",
                             "use an OpenAI-compatible /chat/completions server") from err

    def scores(self, prompt: str, candidates: Sequence[str]) -> np.ndarray:
        order = parse_ranking(self.complete(rerank_request(prompt, candidates)), len(candidates))
        out = np.zeros(len(candidates))
        for pos, k in enumerate(order):
            out[k] = 1.0 - pos / (len(candidates) + 1)
        return out
