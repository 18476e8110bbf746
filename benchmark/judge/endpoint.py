"""A judge behind an OpenAI-compatible chat endpoint, used only when a user configures one.

``POST {base_url}/chat/completions`` with temperature 0 (standard library ``urllib``, no SDK),
asking for ``{"usefulness": n, "accuracy": n, "clarity": n}``. The reply is parsed strictly:
a JSON object (alone, or alone in one code fence) with integers 1-5; anything else leaves the
affected ratings None with the reason. The API key is read from the environment variable the
user names and goes only into the request header: never into labels, logs or errors. Whether the
endpoint may be contacted at all (and with the key) is ``benchmark.net_policy``'s rule, checked
when the judge is built, before any request; redirects are not followed (they would carry the
key elsewhere).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable

from benchmark.errors import BenchError, ConfigError
from benchmark.judge.base import CRITERIA, JudgeRequest, Rating
from benchmark.judge.prompt import JUDGE_PROMPT_VERSION, endpoint_messages
from benchmark.net_policy import check_endpoint, no_redirect_opener, redact
from benchmark.progress import enabled

Transport = Callable[[dict], dict]
_FENCE = re.compile(r"^```[A-Za-z]*\s*\n?(.*?)\n?\s*```$", re.S)
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class EndpointHTTPError(Exception):
    """A failed HTTP exchange; ``status`` is None when no response came (timeout, refused)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def parse_reply(text: str) -> tuple[dict[str, int | None], dict[str, str]]:
    """(criterion -> int 1-5 or None, criterion -> reason for each None)."""
    body = text.strip()
    fence = _FENCE.match(body)
    if fence:
        body = fence.group(1).strip()
    try:
        obj = json.loads(body)
    except json.JSONDecodeError:
        obj = None
    if not isinstance(obj, dict):
        why = f"reply is not a JSON object: {text.strip()[:80]!r}"
        return {c: None for c in CRITERIA}, {c: why for c in CRITERIA}
    values: dict[str, int | None] = {}
    reasons: dict[str, str] = {}
    for c in CRITERIA:
        v = obj.get(c)
        if c not in obj:
            values[c], reasons[c] = None, f"reply has no {c!r}"
        elif isinstance(v, bool) or not isinstance(v, int):
            values[c], reasons[c] = None, f"{c!r} is {v!r}, not an integer"
        elif not 1 <= v <= 5:
            values[c], reasons[c] = None, f"{c!r} = {v} is outside 1-5"
        else:
            values[c] = v
    return values, reasons


def urllib_transport(request: dict) -> dict:
    """POST request["body"] as JSON to request["url"]; the decoded JSON reply."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(request["url"], data=json.dumps(request["body"]).encode(),
                                 headers=request["headers"], method="POST")
    try:
        with no_redirect_opener(request["url"]).open(req, timeout=request["timeout"]) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        raise EndpointHTTPError(f"HTTP {err.code} {err.reason}", err.code) from None
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise EndpointHTTPError(f"no response ({getattr(err, 'reason', err)})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise EndpointHTTPError(f"reply is not JSON ({err})") from None


class EndpointJudge:
    """An OpenAI-compatible chat-completions judge; ``transport`` replaces HTTP in tests."""

    def __init__(self, base_url: str, model: str, api_key_env: str = "", timeout: float = 60.0,
                 max_retries: int = 2, transport: Transport | None = None, cache=None,
                 backoff_s: float = 1.0, progress: bool = False) -> None:
        if not base_url or not model:
            raise ConfigError("an endpoint judge needs base_url and model",
                              "set [explanation.judge] base_url = \"https://.../v1\" and model")
        # the network rule first: nothing is read from the environment or sent before it holds
        check_endpoint(base_url, api_key_env, "judge base_url")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.base_url, self.model, self.api_key_env = base_url.rstrip("/"), model, api_key_env
        self.timeout, self.max_retries, self.backoff_s = timeout, max_retries, backoff_s
        self.transport = transport or urllib_transport
        self.cache, self.progress = cache, progress
        if api_key_env and not os.environ.get(api_key_env):
            raise ConfigError(f"the judge's API key variable {api_key_env} is not set",
                              f"export {api_key_env}=<key> (keys are never read from config "
                              "files), or leave api_key_env empty for a server without keys")

    def label(self) -> dict:
        return {"kind": "endpoint", "base_url": self.base_url, "model": self.model,
                "prompt_version": JUDGE_PROMPT_VERSION, "temperature": 0,
                "api_key_env": self.api_key_env or None,
                "rating": "integer 1-5 parsed from the endpoint's JSON reply"}

    def _request(self, req: JudgeRequest) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.api_key_env:
            headers["Authorization"] = f"Bearer {os.environ[self.api_key_env]}"
        body = {"model": self.model, "messages": endpoint_messages(req), "temperature": 0}
        return {"url": self.url, "headers": headers, "body": body, "timeout": self.timeout}

    def _post(self, request: dict) -> dict:
        last: EndpointHTTPError | None = None
        for attempt in range(self.max_retries + 1):
            try:
                return self.transport(request)
            except EndpointHTTPError as err:
                last = err
                if err.status is not None and err.status not in RETRY_STATUS:
                    break
                if attempt < self.max_retries:
                    time.sleep(self.backoff_s * 2 ** attempt)
        why = redact(str(last), self.api_key_env)
        raise BenchError(f"judge endpoint {self.url} failed: {why}",
                         "check base_url (it should end before /chat/completions), the model "
                         f"name {self.model!r}, that the server is reachable and that "
                         f"{self.api_key_env or 'your API key variable'} holds a valid key")

    def _reply_text(self, request: dict) -> tuple[str | None, str]:
        resp = self._post(request)
        try:
            text = resp["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            return None, "response has no choices[0].message.content"
        if not isinstance(text, str):
            return None, "response content is not text"
        return redact(text, self.api_key_env), ""  # a reply that echoes the key stays unwritten

    def rate(self, requests: list[JudgeRequest]) -> list[Rating]:
        from tqdm.auto import tqdm

        out = []
        weights = f"endpoint:{self.base_url}|{self.model}"
        kind = f"judge:{JUDGE_PROMPT_VERSION}"
        for req in tqdm(requests, desc="judge", unit="text", disable=not enabled(self.progress),
                        leave=False, mininterval=1.0):
            request = self._request(req)
            key = json.dumps(request["body"], sort_keys=True)
            cached = self.cache.get_many(weights, "", kind, [key])[0] if self.cache else None
            text, problem = (cached, "") if cached is not None else self._reply_text(request)
            if text is None:
                out.append(Rating({c: None for c in CRITERIA}, {c: problem for c in CRITERIA}))
                continue
            if self.cache is not None and cached is None:
                self.cache.put_many(weights, "", kind, [key], [text])
            values, reasons = parse_reply(text)
            out.append(Rating({c: None if v is None else float(v) for c, v in values.items()},
                              reasons))
        return out
