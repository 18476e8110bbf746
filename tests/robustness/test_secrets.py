"""Issue 15 item 6: a suite file alone cannot make the suite send an environment variable (or
users' data) anywhere; a key travels only over https or to this machine, only when the user
named the endpoint or the variable outside the suite file, and is never written down.

A real HTTP server on 127.0.0.1 (a thread of this test, stopped at the end of the test or after
two minutes at most) records what reaches it. Remote hosts are never contacted: those tests run
under ``tests.net_guard.refuse_network``, so the refusal must come before any connection.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmark.cli import main
from tests.net_guard import refuse_network

KEY = "sk-test-5ecret-value-0123456789"


def _chat_reply(text: str) -> tuple[int, str, dict, bytes]:
    return 200, "OK", {}, json.dumps({"choices": [{"message": {"content": text}}]}).encode()


@contextlib.contextmanager
def local_server(respond: Callable[[], tuple[int, str, dict, bytes]] = lambda: _chat_reply(
        '{"usefulness": 4, "accuracy": 4, "clarity": 4}')) -> Iterator[SimpleNamespace]:
    """An OpenAI-style server on 127.0.0.1 that records each request's path and Authorization."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append({"path": self.path, "auth": self.headers.get("Authorization"),
                         "body": body.decode("utf-8", "replace")})
            status, reason, headers, payload = respond()
            self.send_response(status, reason)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    stop = threading.Timer(120.0, server.shutdown)  # bounded: stops by itself
    stop.daemon = True
    thread.start()
    stop.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}/v1",
                              requests=seen)
    finally:
        stop.cancel()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def _clean_allowances(monkeypatch):
    """Nothing allowed unless a test allows it; whatever the CLI adds is undone afterwards."""
    monkeypatch.setenv("RECBENCH_ALLOW_ENDPOINTS", "")
    monkeypatch.setenv("RECBENCH_ALLOW_KEY_ENVS", "")


@pytest.fixture
def recbench(capsys, caplog):
    def run(*argv) -> tuple[int, str]:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="recbench"):
            try:
                rc = main([str(a) for a in argv])
            except SystemExit as exc:
                rc = exc.code
        captured = capsys.readouterr()
        text = captured.err + "\n" + captured.out + "\n" + caplog.text
        assert "Traceback" not in text and KEY not in text
        return rc, text
    return run


@pytest.fixture
def data_root(tmp_path, monkeypatch) -> Path:
    """A tiny MovieLens-1M-format dataset "tiny" (8 users x 6 of 8 titled movies)."""
    root = tmp_path / "datasets"
    raw = root / "raw" / "tiny"
    raw.mkdir(parents=True)
    rows = [f"{u}::{(u + j) % 8 + 1}::{1 + (u * j) % 5}::{978300000 + 10 * j + u}"
            for u in range(1, 9) for j in range(6)]
    (raw / "ratings.dat").write_text("\n".join(rows) + "\n")
    (raw / "movies.dat").write_text("".join(f"{i}::Movie {i} ({1990 + i})::Drama\n"
                                            for i in range(1, 9)))
    (raw / "users.dat").write_text("".join(f"{u}::F::25::4::0000{u}\n" for u in range(1, 9)))
    (root / "tiny.toml").write_text('name = "tiny"\nloader = "ml-1m"\n'
                                    'paths = { path = "raw/tiny" }\n')
    monkeypatch.setattr("benchmark.config.dataset_spec.DATASET_DIR", root)
    monkeypatch.setattr("benchmark.runner.prepare.CACHE_DIR", tmp_path / "cache")
    return root


def chatrec_suite(tmp_path: Path, url: str, key_env: str = "", extra: str = "") -> Path:
    key = f'api_key_env = "{key_env}", ' if key_env else ""
    path = tmp_path / "suite.toml"
    path.write_text(
        'name = "s"\nseeds = [0]\n[[datasets]]\nname = "tiny"\n'
        '[[models]]\nname = "chatrec"\n'
        f'params = {{ retriever = "random", endpoint_url = "{url}", endpoint_model = "m", '
        f'{key}n_candidates = 4, show_progress = false }}\n'
        '[accuracy]\nks = [2]\nprotocols = ["full"]\n' + extra)
    return path


def judge_suite(tmp_path: Path, url: str, key_env: str) -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(
        'name = "s"\nseeds = [0]\ntracks = ["accuracy", "explanation"]\n'
        '[[datasets]]\nname = "tiny"\n[[models]]\nname = "chatrec"\n'
        '[explanation.judge]\nkind = "endpoint"\n'
        f'base_url = "{url}"\nmodel = "judge-m"\napi_key_env = "{key_env}"\n')
    return path


def run(recbench, tmp_path: Path, suite: Path, *extra) -> tuple[int, str]:
    return recbench("run", suite, "--out", tmp_path / "runs", "--no-progress", *extra)


def _no_key_written(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]


# ------------------------------------------------------------------ a suite file alone
def test_suite_alone_cannot_send_a_key_even_to_this_machine(recbench, tmp_path, data_root,
                                                            monkeypatch):
    monkeypatch.setenv("SOME_CLOUD_TOKEN", KEY)
    with local_server() as srv:
        rc, text = run(recbench, tmp_path, chatrec_suite(tmp_path, srv.url, "SOME_CLOUD_TOKEN"))
        assert srv.requests == []  # nothing reached the server
    assert rc == 2
    assert "api_key_env = 'SOME_CLOUD_TOKEN'" in text and "only the suite file names it" in text
    assert "--allow-key-env SOME_CLOUD_TOKEN" in text and "RECBENCH_ALLOW_KEY_ENVS" in text
    assert not (tmp_path / "runs").exists()


def test_suite_alone_cannot_reach_a_remote_judge(recbench, tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("JUDGE_TOKEN", KEY)
    with refuse_network():
        rc, text = run(recbench, tmp_path,
                       judge_suite(tmp_path, "https://judge.example.org/v1", "JUDGE_TOKEN"))
    assert rc == 2
    assert "[explanation.judge] base_url 'https://judge.example.org/v1'" in text
    assert "the value of $JUDGE_TOKEN" in text and "judge.example.org" in text
    assert "--allow-endpoint https://judge.example.org" in text
    assert "RECBENCH_ALLOW_ENDPOINTS" in text


def test_suite_alone_cannot_send_data_to_a_remote_host_without_a_key(recbench, tmp_path,
                                                                     data_root):
    with refuse_network():
        rc, text = run(recbench, tmp_path, chatrec_suite(tmp_path, "https://llm.example.net/v1"))
    assert rc == 2 and "users' histories" in text
    assert "params.endpoint_url" in text and "--allow-endpoint https://llm.example.net" in text


def test_a_variable_allowed_by_name_does_not_open_a_remote_host(recbench, tmp_path, data_root,
                                                                monkeypatch):
    monkeypatch.setenv("RECBENCH_LLM_KEY", KEY)  # the user's own prefix: allowed as a variable
    with refuse_network():
        rc, text = run(recbench, tmp_path,
                       chatrec_suite(tmp_path, "https://evil.example.com/v1", "RECBENCH_LLM_KEY"))
    assert rc == 2 and "evil.example.com" in text and "--allow-endpoint" in text


# ------------------------------------------------------------------ transport rules
def test_plain_http_to_a_remote_host_is_refused_even_when_allowed(recbench, tmp_path, data_root,
                                                                  monkeypatch):
    monkeypatch.setenv("LLM_TOKEN", KEY)
    suite = chatrec_suite(tmp_path, "http://10.1.2.3:8000/v1", "LLM_TOKEN")
    with refuse_network():
        rc, text = run(recbench, tmp_path, suite, "--allow-endpoint", "http://10.1.2.3:8000",
                       "--allow-key-env", "LLM_TOKEN")
    assert rc == 2 and "would travel unencrypted over http:// to 10.1.2.3" in text
    assert "use an https:// URL" in text


def test_judge_command_line_http_remote_is_refused(recbench, tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_TOKEN", KEY)
    folder = _run_folder(tmp_path)
    with refuse_network():
        rc, text = recbench("judge", folder, "--endpoint", "http://judge.example.org/v1",
                            "--model", "m", "--api-key-env", "JUDGE_TOKEN")
    assert rc == 2 and "unencrypted" in text and "https://" in text


def test_credentials_inside_the_url_are_refused(recbench, tmp_path, data_root):
    with refuse_network():
        rc, text = run(recbench, tmp_path,
                       chatrec_suite(tmp_path, "https://me:hunter2pass@llm.example.net/v1"))
    assert rc == 2 and "carries credentials" in text and "hunter2pass" not in text


@pytest.mark.parametrize("argv, needle", [
    (["--allow-endpoint", "ftp://files.example.org"], "--allow-endpoint 'ftp://files.example.org'"
                                                      " is not an http(s) URL"),
    (["--allow-key-env", KEY], "--allow-key-env: the value given is not an environment variable"),
], ids=["endpoint-not-http", "key-instead-of-name"])
def test_bad_allowance_values(recbench, tmp_path, data_root, argv, needle):
    with local_server() as srv:
        rc, text = run(recbench, tmp_path, chatrec_suite(tmp_path, srv.url), *argv)
        assert srv.requests == []
    assert rc == 2 and needle in text


def test_api_key_env_that_is_a_key_is_not_echoed(recbench, tmp_path, data_root):
    with local_server() as srv:
        rc, text = run(recbench, tmp_path, chatrec_suite(tmp_path, srv.url, KEY))
        assert srv.requests == []
    assert rc == 2 and "api_key_env is not an environment variable name" in text


# ------------------------------------------------------------------ allowed: the key is sent
@pytest.mark.parametrize("allow", ["variable-listed", "prefix", "endpoint-listed"])
def test_allowed_outside_the_suite_sends_the_key(monkeypatch, allow):
    from benchmark.judge import EndpointJudge, JudgeRequest

    name = "RECBENCH_JUDGE_KEY" if allow == "prefix" else "JUDGE_TOKEN"
    monkeypatch.setenv(name, KEY)
    with local_server() as srv:
        if allow == "variable-listed":
            monkeypatch.setenv("RECBENCH_ALLOW_KEY_ENVS", "OTHER,JUDGE_TOKEN")
        elif allow == "endpoint-listed":
            monkeypatch.setenv("RECBENCH_ALLOW_ENDPOINTS", srv.url.rsplit("/", 1)[0])
        judge = EndpointJudge(srv.url, "m", name, max_retries=0)
        (rating,) = judge.rate([JudgeRequest("Heat (1995)", "A tense crime film.")])
        assert [r["auth"] for r in srv.requests] == [f"Bearer {KEY}"]
        assert srv.requests[0]["path"] == "/v1/chat/completions"
    assert rating.values["clarity"] == 4.0
    assert KEY not in json.dumps(judge.label()) and name in json.dumps(judge.label())


def test_code_built_client_without_allowance_sends_nothing(monkeypatch):
    from baselines.llm.chatrec_client import EndpointScorer
    from benchmark.errors import ConfigError

    monkeypatch.setenv("LLM_TOKEN", KEY)
    with local_server(lambda: _chat_reply("2, 1")) as srv:
        with pytest.raises(ConfigError, match="--allow-key-env LLM_TOKEN") as err:
            EndpointScorer(srv.url, "m", "LLM_TOKEN")
        assert srv.requests == [] and KEY not in str(err.value)
        monkeypatch.setenv("RECBENCH_ALLOW_KEY_ENVS", "LLM_TOKEN")
        values = EndpointScorer(srv.url, "m", "LLM_TOKEN").scores("P", ['"A"', '"B"'])
        assert [r["auth"] for r in srv.requests] == [f"Bearer {KEY}"]
    assert values[1] > values[0] > 0  # the server's order: candidate 2 first


def test_allowed_run_sends_the_key_and_writes_only_its_name(recbench, tmp_path, data_root,
                                                            monkeypatch):
    """End to end: Chat-REC re-ranks through the local server from the job's own process."""
    monkeypatch.setenv("MY_LLM_KEY", KEY)
    with local_server(lambda: _chat_reply("2, 1, 3")) as srv:
        rc, text = run(recbench, tmp_path, chatrec_suite(tmp_path, srv.url, "MY_LLM_KEY"),
                       "--allow-key-env", "MY_LLM_KEY")
        auth = {r["auth"] for r in srv.requests}
    assert rc == 0, text
    assert srv.requests and auth == {f"Bearer {KEY}"}
    assert _no_key_written(tmp_path / "runs") == []
    (config,) = (tmp_path / "runs").rglob("config.json")
    assert "MY_LLM_KEY" in config.read_text()


# ------------------------------------------------------------------ recbench judge (post hoc)
def _run_folder(tmp_path: Path) -> Path:
    from benchmark.runner import store

    folder = tmp_path / "runs" / "s" / "tiny" / "m" / "seed-0"
    samples = [{"track": "explanation", "protocol": "silver", "user": u, "item": 1,
                "title": "Heat (1995)", "explanation": "A tense crime film like Casino.",
                "reference": "You liked Casino."} for u in range(2)]
    store.write_run(folder, config={"model": {"name": "m"}}, metrics={"rows": []},
                    per_user={}, efficiency={}, samples=samples, env={})
    return folder


def test_judge_command_names_endpoint_and_key(recbench, tmp_path, monkeypatch):
    """Named on the command line: allowed. A reply that echoes the key is not written down."""
    monkeypatch.setenv("PLAIN_JUDGE_KEY", KEY)
    folder = _run_folder(tmp_path)
    with local_server(lambda: _chat_reply(f"I cannot rate; your key is {KEY}")) as srv:
        rc, text = recbench("judge", folder, "--endpoint", srv.url, "--model", "m",
                            "--api-key-env", "PLAIN_JUDGE_KEY")
        auth = [r["auth"] for r in srv.requests]
    assert rc == 0, text
    assert auth == [f"Bearer {KEY}"] * 2
    judged = (folder / "judge.json").read_text()
    assert "PLAIN_JUDGE_KEY" in judged and _no_key_written(folder) == []
    assert "***" in (folder / "judge.jsonl").read_text()


def test_server_error_echoing_the_key_is_redacted(recbench, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAIN_JUDGE_KEY", KEY)
    folder = _run_folder(tmp_path)
    with local_server(lambda: (401, f"bad key {KEY}", {}, b"{}")) as srv:
        rc, text = recbench("judge", folder, "--endpoint", srv.url, "--model", "m",
                            "--api-key-env", "PLAIN_JUDGE_KEY")
        assert len(srv.requests) == 1
    assert rc == 2 and "HTTP 401" in text and "***" in text  # recbench() asserts KEY not in text


def test_redirects_are_not_followed_with_the_key(recbench, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAIN_JUDGE_KEY", KEY)
    folder = _run_folder(tmp_path)
    with local_server() as elsewhere:
        target = elsewhere.url + "/chat/completions"
        with local_server(lambda: (302, "Found", {"Location": target}, b"")) as srv:
            rc, text = recbench("judge", folder, "--endpoint", srv.url, "--model", "m",
                                "--api-key-env", "PLAIN_JUDGE_KEY")
            assert len(srv.requests) == 1
        assert elsewhere.requests == []
    assert rc == 2 and "HTTP 302" in text
