"""The endpoint judge, without a network: the strict reply parser on hand-made replies, and the
request it sends through a fake transport (model, temperature 0, criteria, key from env)."""

from __future__ import annotations

import json

import pytest

from benchmark.errors import BenchError, ConfigError
from benchmark.judge import CRITERIA, EndpointJudge, JudgeRequest, JudgeSettings, parse_reply
from benchmark.judge.endpoint import EndpointHTTPError
from benchmark.llm.cache import ResponseCache
from tests.net_guard import refuse_network

REQ = JudgeRequest("Heat (1995)", "A tense crime film, like Casino that you liked.",
                   ("Casino (1995)",))


@pytest.fixture(autouse=True)
def _hosts_named_by_the_user(monkeypatch):
    """These tests build judges in code with fake transports (no network); the user allowing the
    made-up hosts is what benchmark.net_policy asks of a remote endpoint (tests/robustness/
    test_secrets.py checks the rule itself)."""
    monkeypatch.setenv("RECBENCH_ALLOW_ENDPOINTS", "https://judge.example https://x")


def test_parser_reads_plain_and_fenced_json():
    assert parse_reply('{"usefulness": 4, "accuracy": 5, "clarity": 3}') == (
        {"usefulness": 4, "accuracy": 5, "clarity": 3}, {})
    fenced = '```json\n{"usefulness": 2, "accuracy": 1, "clarity": 5, "reason": "ok"}\n```'
    assert parse_reply(fenced) == ({"usefulness": 2, "accuracy": 1, "clarity": 5}, {})
    assert parse_reply('  ```\n{"usefulness":1,"accuracy":1,"clarity":1}```  ')[0] == {
        c: 1 for c in CRITERIA}


@pytest.mark.parametrize("text, bad, why", [
    ('{"usefulness": 7, "accuracy": 5, "clarity": 3}', ["usefulness"], "outside 1-5"),
    ('{"usefulness": 0, "accuracy": 5, "clarity": 3}', ["usefulness"], "outside 1-5"),
    ('{"usefulness": 4, "clarity": 3}', ["accuracy"], "no 'accuracy'"),
    ('{"usefulness": 4, "accuracy": 4.5, "clarity": 3}', ["accuracy"], "not an integer"),
    ('{"usefulness": "4", "accuracy": 4, "clarity": true}', ["usefulness", "clarity"],
     "not an integer"),
    ("I would rate it 4 out of 5.", list(CRITERIA), "not a JSON object"),
    ('Sure! {"usefulness": 4, "accuracy": 4, "clarity": 4}', list(CRITERIA), "not a JSON"),
    ("[4, 4, 4]", list(CRITERIA), "not a JSON object"),
])
def test_parser_leaves_unreadable_ratings_none_with_a_reason(text, bad, why):
    values, reasons = parse_reply(text)
    assert sorted(c for c, v in values.items() if v is None) == sorted(bad)
    assert sorted(reasons) == sorted(bad)
    assert all(why in reasons[c] for c in bad)
    assert all(isinstance(values[c], int) for c in CRITERIA if c not in bad)


def _reply(content):
    return {"choices": [{"message": {"role": "assistant", "content": content}}]}


def test_request_body_headers_and_label(monkeypatch):
    monkeypatch.setenv("JUDGE_TEST_KEY", "sk-secret-123")
    sent = []

    def transport(request):
        sent.append(request)
        return _reply('{"usefulness": 5, "accuracy": 3, "clarity": 4}')

    judge = EndpointJudge("https://judge.example/v1/", "judge-model", "JUDGE_TEST_KEY",
                          transport=transport)
    with refuse_network():
        (rating,) = judge.rate([REQ])
    assert rating.values == {"usefulness": 5.0, "accuracy": 3.0, "clarity": 4.0}
    (req,) = sent
    assert req["url"] == "https://judge.example/v1/chat/completions"
    assert req["body"]["model"] == "judge-model" and req["body"]["temperature"] == 0
    assert req["headers"]["Authorization"] == "Bearer sk-secret-123"
    prompt = req["body"]["messages"][-1]["content"]
    assert all(c in prompt for c in CRITERIA)
    assert "Heat (1995)" in prompt and "Casino (1995)" in prompt and REQ.explanation in prompt
    label = judge.label()
    assert label["kind"] == "endpoint" and label["model"] == "judge-model"
    assert label["base_url"] == "https://judge.example/v1" and label["prompt_version"]
    assert "sk-secret-123" not in json.dumps(label)


def test_no_key_variable_no_header_and_a_missing_variable_is_an_error(monkeypatch):
    sent = []
    judge = EndpointJudge("http://localhost:8000/v1", "m",
                          transport=lambda r: sent.append(r) or _reply("not json"))
    (rating,) = judge.rate([REQ])
    assert "Authorization" not in sent[0]["headers"]
    assert rating.unrated == list(CRITERIA) and "not a JSON object" in rating.reasons["clarity"]
    monkeypatch.delenv("NO_SUCH_JUDGE_KEY", raising=False)
    with pytest.raises(ConfigError, match="NO_SUCH_JUDGE_KEY"):
        EndpointJudge("https://x/v1", "m", "NO_SUCH_JUDGE_KEY", transport=lambda r: {})
    with pytest.raises(ConfigError, match="http"):
        EndpointJudge("judge.example/v1", "m", transport=lambda r: {})


def test_http_errors_are_retried_then_name_the_url(monkeypatch):
    monkeypatch.setenv("JUDGE_TEST_KEY", "sk-secret-123")
    calls = []

    def flaky(request):
        calls.append(1)
        if len(calls) < 3:
            raise EndpointHTTPError("HTTP 503 Service Unavailable", 503)
        return _reply('{"usefulness": 1, "accuracy": 2, "clarity": 3}')

    judge = EndpointJudge("https://judge.example/v1", "m", "JUDGE_TEST_KEY", max_retries=2,
                          transport=flaky, backoff_s=0)
    assert judge.rate([REQ])[0].values["clarity"] == 3.0 and len(calls) == 3

    def denied(request):
        calls.append(1)
        raise EndpointHTTPError("HTTP 401 Unauthorized", 401)

    calls.clear()
    judge = EndpointJudge("https://judge.example/v1", "m", "JUDGE_TEST_KEY", max_retries=3,
                          transport=denied, backoff_s=0)
    with pytest.raises(BenchError) as err:
        judge.rate([REQ])
    assert len(calls) == 1  # 401 is not retried
    text = str(err.value)
    assert "https://judge.example/v1/chat/completions" in text and "401" in text
    assert "JUDGE_TEST_KEY" in text and "sk-secret-123" not in text


def test_malformed_response_is_unrated_and_replies_are_cached(tmp_path):
    judge = EndpointJudge("https://judge.example/v1", "m", transport=lambda r: {"error": "x"})
    (rating,) = judge.rate([REQ])
    assert rating.unrated == list(CRITERIA) and "choices" in rating.reasons["usefulness"]
    cache = ResponseCache(tmp_path / "c.sqlite")
    calls = []
    ok = EndpointJudge("https://judge.example/v1", "m", cache=cache, transport=lambda r: (
        calls.append(1) or _reply('{"usefulness": 2, "accuracy": 2, "clarity": 5}')))
    first = ok.rate([REQ])[0].values
    assert ok.rate([REQ])[0].values == first and len(calls) == 1


def test_settings_validate_the_judge_kind():
    assert JudgeSettings().kind == "local" and JudgeSettings().base_url == ""
    JudgeSettings(kind="endpoint", base_url="https://x/v1", model="m", api_key_env="K")
    with pytest.raises(ValueError, match="base_url and model"):
        JudgeSettings(kind="endpoint", model="m")
    with pytest.raises(ValueError, match="for kind"):
        JudgeSettings(kind="local", base_url="https://x/v1")
    with pytest.raises(ValueError, match="path is for"):
        JudgeSettings(kind="endpoint", base_url="https://x/v1", model="m", path="/models/j")
    with pytest.raises(ValueError):
        JudgeSettings(kind="remote")


def test_importing_the_judge_stays_light():
    import subprocess
    import sys

    code = ("import sys, benchmark.judge, benchmark.tracks.explanation; "
            "from benchmark.judge import JudgeSettings, EndpointJudge; "
            "print(any(m in sys.modules for m in ('torch', 'transformers')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
