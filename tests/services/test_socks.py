"""A SOCKS5 proxy from the environment (ALL_PROXY=socks5://..., an `ssh -D` tunnel) carries
sends to remote servers; it was refused ("not supported") and the send went out directly.

The remote server is `events.example.test`: the loopback SOCKS5 proxy routes that name to
a loopback FaultServer, so every request that arrives came through the proxy.
"""

from __future__ import annotations

import asyncio
import sys

import pytest

from console.services.client import EventApiClient, RetryPolicy, SendResult, Target
from tests.support.fault_server import FaultServer
from tests.support.socks_proxy import Socks5Proxy

KEY = "evtkey-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
REMOTE = "http://events.example.test"


async def _send(url: str, attempts: int = 1) -> tuple[SendResult, str | None]:
    client = EventApiClient(retry=RetryPolicy(max_attempts=attempts, base_delay=0.01))
    try:
        result = await client.send(Target(url, KEY), b'[{"name":"app/x","data":{}}]', 1)
        return result, client.environment_problem
    finally:
        await client.aclose()


@pytest.fixture
def server():
    with FaultServer() as running:
        yield running


def _to(server: FaultServer):
    return lambda host, port: ("127.0.0.1", server.port)


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_a_socks5_proxy_carries_sends_to_a_remote_server(server, monkeypatch, scheme):
    with Socks5Proxy(_to(server)) as proxy:
        monkeypatch.setenv("ALL_PROXY", proxy.url(scheme))
        result, problem = asyncio.run(_send(REMOTE))
    assert (result.status, result.error, problem) == (200, None, None)
    assert proxy.asked == [("events.example.test", 80)]  # the name: resolved by the proxy
    [request] = server.requests
    assert request.path == f"/e/{KEY}"


def test_a_socks5_proxy_with_a_password_is_used_and_never_quoted(server, monkeypatch):
    with Socks5Proxy(_to(server), user="alice", password="s0cks-Secret") as proxy:
        monkeypatch.setenv("ALL_PROXY", proxy.url())
        result, problem = asyncio.run(_send(REMOTE))
        assert (result.status, result.error, problem) == (200, None, None)
        monkeypatch.setenv("ALL_PROXY", proxy.url().replace("s0cks-Secret", "wrong-Secret"))
        refused, _ = asyncio.run(_send(REMOTE, attempts=3))
    assert len(server.requests) == 1
    assert refused.status is None and refused.accepted == 0 and not refused.uncertain
    assert refused.attempts == 1  # a refusal by the proxy does not pass on a retry
    assert refused.error is not None and "proxy" in refused.error
    assert "Secret" not in refused.error and KEY not in refused.error


def test_a_socks5_proxy_never_carries_loopback_sends(server, monkeypatch):
    with Socks5Proxy(_to(server)) as proxy:
        monkeypatch.setenv("ALL_PROXY", proxy.url())
        result, problem = asyncio.run(_send(server.origin))
    assert (result.status, result.error, problem) == (200, None, None)
    assert proxy.asked == []


def test_a_socks5_proxy_that_cannot_reach_the_server_is_named(monkeypatch):
    """Nothing reached the server: not accepted, and the message says it was the proxy."""
    with Socks5Proxy(refuse=4) as proxy:  # "Host unreachable"
        monkeypatch.setenv("ALL_PROXY", proxy.url())
        result, _ = asyncio.run(_send(REMOTE))
    assert proxy.asked == [("events.example.test", 80)]
    assert result.status is None and result.accepted == 0 and not result.uncertain
    assert result.error is not None and "proxy" in result.error


def test_a_socks5_proxy_that_is_down_is_named(monkeypatch):
    with Socks5Proxy() as proxy:
        url = proxy.url()
    monkeypatch.setenv("ALL_PROXY", url)
    result, _ = asyncio.run(_send(REMOTE))
    assert result.status is None and result.error is not None
    assert "through the proxy set in HTTP_PROXY, HTTPS_PROXY or ALL_PROXY" in result.error


def test_the_cli_sends_through_a_socks5_proxy(server, tmp_path, app_home):
    """`event-console send` as a user behind `ssh -D 1080` runs it."""
    import os
    import subprocess

    path = tmp_path / "e.json"
    path.write_text('{"name": "app/x", "data": {}}')
    with Socks5Proxy(_to(server)) as proxy:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
        env.update(EVENT_CONSOLE_HOME=str(app_home), ALL_PROXY=proxy.url(),
                   INNGEST_EVENT_KEY=KEY)
        done = subprocess.run([sys.executable, "-m", "console", "send", "--url", REMOTE,
                               "--no-verify", "--no-history", str(path)],
                              capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert proxy.asked == [("events.example.test", 80)]
    assert len(server.requests) == 1
