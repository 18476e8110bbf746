"""What a suite file may send over the network: the rule every HTTP client of the suite obeys.

A suite file comes from anyone, so it alone must never make the suite send data or a secret off
the machine. Three rules, checked before any connection is opened:

1. **Destination.** A request (prompts carry users' histories) goes to a host other than this
   machine (loopback: 127.0.0.0/8, ::1, ``localhost``) only when the user allowed that endpoint
   outside the suite file: ``recbench run ... --allow-endpoint URL``, ``recbench judge
   --endpoint URL``, or the environment variable ``RECBENCH_ALLOW_ENDPOINTS`` (URLs separated by
   commas or spaces). An allowed URL allows its origin (scheme, host and port).
2. **Transport of a key.** The value of ``api_key_env`` is sent only over ``https://`` or to a
   loopback address, whatever is allowed.
3. **Consent for a key.** It is sent only when the user named the endpoint (rule 1) or the
   variable outside the suite file: ``--allow-key-env VAR``, ``recbench judge --api-key-env
   VAR``, ``RECBENCH_ALLOW_KEY_ENVS``, or a variable whose name starts with ``RECBENCH_`` (a
   name the user chose for this suite).

The key's value is read only when the request is built; it is never put into labels, configs,
logs or errors (``redact`` scrubs it from server messages). Allowances given on the command line
are added to the two ``RECBENCH_ALLOW_*`` variables of this process so job processes inherit
them; on a cluster, set them in the workers' environment.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any
from urllib.parse import urlsplit

from benchmark.errors import ConfigError

ALLOW_ENDPOINTS_ENV = "RECBENCH_ALLOW_ENDPOINTS"
ALLOW_KEY_ENVS_ENV = "RECBENCH_ALLOW_KEY_ENVS"
#: variables with this prefix were named by the user for this suite, not by a suite file
KEY_PREFIX = "RECBENCH_"
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEFAULT_PORT = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def _split_list(text: str) -> list[str]:
    return [t for t in re.split(r"[,\s]+", text or "") if t]


def origin(url: str, setting: str = "endpoint") -> Origin:
    """(scheme, lower-case host, port) of an http(s) URL; anything else is a ConfigError."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as err:
        raise ConfigError(f"{setting} {url!r} is not a valid URL ({err})",
                          "write it like https://host/v1 or http://127.0.0.1:8000/v1") from None
    if parts.scheme not in _DEFAULT_PORT or not parts.hostname:
        raise ConfigError(f"{setting} {url!r} is not an http(s) URL",
                          "write it like https://host/v1 or http://127.0.0.1:8000/v1")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{setting} {url.split('@')[-1]!r} carries credentials before '@'",
                          "remove them from the URL; pass a key through api_key_env")
    return parts.scheme, parts.hostname.lower().rstrip("."), port or _DEFAULT_PORT[parts.scheme]


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1): traffic stays here."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_endpoints() -> set[Origin]:
    """Origins the user allowed outside any suite file (ignores malformed entries)."""
    out = set()
    for url in _split_list(os.environ.get(ALLOW_ENDPOINTS_ENV, "")):
        try:
            out.add(origin(url))
        except ConfigError:
            continue
    return out


def allowed_key_envs() -> set[str]:
    return set(_split_list(os.environ.get(ALLOW_KEY_ENVS_ENV, "")))


def _append(var: str, value: str) -> None:
    items = _split_list(os.environ.get(var, ""))
    if value not in items:
        os.environ[var] = ",".join([*items, value])


def allow_endpoint(url: str, option: str = "--allow-endpoint") -> None:
    """Record that the user named ``url`` (command line); child processes inherit it."""
    origin(url, option)  # a malformed URL is an error now, not a silent no-op
    _append(ALLOW_ENDPOINTS_ENV, url.strip())


def allow_key_env(name: str, option: str = "--allow-key-env") -> None:
    """Record that the user named the key variable ``name`` (command line)."""
    if not _VAR_NAME.fullmatch(name or ""):  # not echoed: it may be the key itself
        raise ConfigError(f"{option}: the value given is not an environment variable name",
                          "pass the variable's NAME (letters, digits, _), never the key itself")
    _append(ALLOW_KEY_ENVS_ENV, name)


def _base(o: Origin) -> str:
    scheme, host, port = o
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if port == _DEFAULT_PORT[scheme] else f":{port}")


def check_endpoint(url: str, api_key_env: str = "", setting: str = "endpoint") -> Origin:
    """Raise ConfigError unless the rules above let this process contact ``url`` (with the key).

    Only the variable's NAME is looked at; its value is never read here.
    """
    if api_key_env and not _VAR_NAME.fullmatch(api_key_env):  # not echoed: it may be the key
        raise ConfigError(f"{setting}: api_key_env is not an environment variable name",
                          "write the NAME of the environment variable that holds the key "
                          "(letters, digits, _), never the key itself")
    o = origin(url, setting)
    scheme, host, _ = o
    local = is_loopback(host)
    endpoint_ok = o in allowed_endpoints()
    key_what = f" and the value of ${api_key_env}" if api_key_env else ""
    if not local and not endpoint_ok:
        raise ConfigError(
            f"{setting} {url!r}: the suite would send prompts (users' histories){key_what} to "
            f"{host}, which you have not allowed outside the suite file",
            f"if you trust it, name it yourself: recbench run ... --allow-endpoint {_base(o)} "
            f"(or export {ALLOW_ENDPOINTS_ENV}={_base(o)}; recbench judge --endpoint names it "
            "directly)")
    if not api_key_env:
        return o
    if scheme != "https" and not local:
        raise ConfigError(
            f"{setting} {url!r}: the API key in ${api_key_env} would travel unencrypted over "
            f"http:// to {host}",
            "use an https:// URL (or a server on this machine: 127.0.0.1, ::1, localhost)")
    var_ok = (api_key_env in allowed_key_envs() or api_key_env.startswith(KEY_PREFIX)) \
        and api_key_env not in (ALLOW_ENDPOINTS_ENV, ALLOW_KEY_ENVS_ENV)
    if not (endpoint_ok or var_ok):
        raise ConfigError(
            f"{setting} {url!r}: api_key_env = {api_key_env!r} would send that environment "
            "variable's value, but only the suite file names it",
            f"if you mean it, name it yourself: recbench run ... --allow-key-env {api_key_env} "
            f"or --allow-endpoint {_base(o)} (or export {ALLOW_KEY_ENVS_ENV}={api_key_env}, or "
            f"keep the key in a variable named {KEY_PREFIX}...)")
    return o


def no_redirect_opener(url: str):
    """A urllib opener that follows no redirect (urllib would resend the Authorization header to
    the new host) and, for a loopback URL, ignores proxy settings (the request stays here)."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
            return None  # urllib then raises HTTPError with the 3xx status

    handlers: list = [NoRedirect()]
    if is_loopback((urlsplit(url).hostname or "").lower()):
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def redact(text: str, api_key_env: str = "") -> str:
    """``text`` with the key's value (if any) replaced, for messages a server may have echoed."""
    key = os.environ.get(api_key_env, "") if api_key_env else ""
    return text.replace(key, "***") if len(key) >= 4 else text


def suite_endpoints(suite: Any, only: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(setting, url, api_key_env) of every endpoint the suite's models (those in ``only``, if
    given) and its explanation judge would contact."""
    found: list[tuple[str, str, str]] = []

    def walk(params: dict, where: str) -> None:
        for key in ("endpoint_url", "base_url"):
            url = params.get(key)
            if isinstance(url, str) and url:
                found.append((f"{where}.{key}", url, str(params.get("api_key_env") or "")))
        for key, value in params.items():
            if isinstance(value, dict):
                walk(value, f"{where}.{key}")

    models = [m for m in suite.models if not only or m.key in only]
    for m in models:
        walk(dict(m.params), f"suite model {m.key!r} params")
    if any("explanation" in suite.tracks_for(m) for m in models):
        judge = getattr(suite.settings_for("explanation"), "judge", None)
        if judge is not None and judge.kind == "endpoint":
            found.append(("[explanation.judge] base_url", judge.base_url, judge.api_key_env))
    return found


def check_suite(suite: Any, only: list[str] | None = None) -> None:
    """Apply ``check_endpoint`` to every endpoint of a suite, before any job starts."""
    for setting, url, key_env in suite_endpoints(suite, only):
        check_endpoint(url, key_env, setting)
