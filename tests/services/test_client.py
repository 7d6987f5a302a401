"""EventApiClient against a real loopback server that fails on cue (tests/support/fault_server)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from console import __version__
from console.core.ids import IdSeed
from console.core.serialize import array_body, event_bytes
from console.services.client import (
    EventApiClient,
    RetryPolicy,
    SendResult,
    Target,
    Timeouts,
    network_words,
)
from tests.support.fault_server import FaultServer, Reply
from tests.support.loopback import Listener

KEY = "evtkey-5f3a9c1e7b2d4a6f8e0c1b3d5a7f9e2c"
ONE = event_bytes({"name": "app/user.created", "data": {"id": 1}})
THREE = array_body([event_bytes({"name": f"app/e{i}", "data": {"n": i}}) for i in range(3)])


class SleepRecorder:
    """Stands in for asyncio.sleep: records the backoff delays without waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def target_for(server: FaultServer, branch: str | None = None, key: str = KEY) -> Target:
    return Target(server.origin, key, branch)


def assert_no_key(result: SendResult, key: str = KEY) -> None:
    assert key not in repr(result)
    assert key not in str(result.error)


def send(
    target: Target, body: bytes = ONE, events: int = 1, *, seed: IdSeed | None = None,
    retry: RetryPolicy | None = None, timeouts: Timeouts | None = None,
) -> tuple[SendResult, list[float]]:
    sleep = SleepRecorder()

    async def go() -> SendResult:
        client = EventApiClient(retry=retry or RetryPolicy(), timeouts=timeouts or Timeouts(),
                                sleep=sleep)
        try:
            return await client.send(target, body, events, seed=seed)
        finally:
            await client.aclose()

    result = asyncio.run(go())
    assert_no_key(result, target.event_key)
    return result, sleep.delays


# -- success and the exact request -------------------------------------------------------

def test_request_carries_exact_headers_and_body(server: FaultServer) -> None:
    seed = IdSeed.fresh()
    result, delays = send(target_for(server, branch="feature-x"), THREE, 3, seed=seed)

    [req] = server.requests
    sdk = f"event-console:v{__version__}"
    assert (req.method, req.path, req.body) == ("POST", f"/e/{KEY}", THREE)
    assert req.header("content-type") == "application/json"
    assert req.header("x-inngest-sdk") == sdk
    assert req.header("user-agent") == sdk
    assert req.header("x-inngest-env") == "feature-x"
    assert req.header("x-inngest-event-id-seed") == seed.header
    assert req.header("content-length") == str(len(THREE))
    # the fault server answers like the Dev Server: JSON labelled text/plain
    assert result.ok
    assert result.status == 200
    assert result.ids == [seed.event_id(i) for i in range(3)]
    assert (result.events, result.accepted, result.attempts) == (3, 3, 1)
    assert result.error is None
    assert result.request_bytes == len(THREE)
    assert result.seed == seed.header
    assert result.latency_ms > 0
    assert delays == []


def test_no_branch_means_no_env_header_and_a_fresh_seed_per_call(server: FaultServer) -> None:
    first, _ = send(target_for(server))
    second, _ = send(target_for(server))
    reqs = server.requests
    assert [r.header("x-inngest-env") for r in reqs] == [None, None]
    assert reqs[0].header("x-inngest-event-id-seed") == first.seed
    assert reqs[1].header("x-inngest-event-id-seed") == second.seed
    assert first.seed != second.seed
    assert IdSeed.parse(first.seed) is not None


# -- retries -----------------------------------------------------------------------------

def test_5xx_then_200_resends_same_seed_and_bytes(server: FaultServer) -> None:
    server.script(Reply.json(503, {"error": "busy"}), Reply.text(500, "oops"))
    result, delays = send(target_for(server), THREE, 3)

    reqs = server.requests
    assert len(reqs) == 3
    assert {r.header("x-inngest-event-id-seed") for r in reqs} == {result.seed}
    assert {r.body for r in reqs} == {THREE}
    seed = IdSeed.parse(result.seed)
    assert seed is not None
    assert result.ok
    assert result.ids == [seed.event_id(i) for i in range(3)]
    assert result.attempts == 3
    # exponential backoff from 100 ms with jitter in [ceiling/2, ceiling)
    assert len(delays) == 2
    assert 0.05 <= delays[0] < 0.1
    assert 0.1 <= delays[1] < 0.2


def test_5xx_every_time_gives_up_after_max_attempts(server: FaultServer) -> None:
    server.script(*[Reply.json(502, {"status": 502, "error": "upstream down"})] * 5)
    result, delays = send(target_for(server), retry=RetryPolicy(max_delay=0.3))

    assert len(server.requests) == 5
    assert result.status == 502
    assert result.error == "upstream down (gave up after 5 attempts)"
    assert result.attempts == 5
    assert not result.ok
    ceilings = [0.1, 0.2, 0.3, 0.3]  # doubled each time, capped by max_delay
    assert all(c / 2 <= d < c for d, c in zip(delays, ceilings, strict=True))


def test_429_retry_after_seconds_is_honoured_and_capped(server: FaultServer) -> None:
    server.script(
        Reply.json(429, {"error": "rate limited"}, headers=[("retry-after", "2")]),
        Reply.json(429, {"error": "rate limited"}, headers=[("retry-after", "120")]),
    )
    result, delays = send(target_for(server), retry=RetryPolicy(max_retry_after=3.0))
    assert result.ok
    assert result.attempts == 3
    assert delays == [2.0, 3.0]


def test_429_retry_after_http_date(server: FaultServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    server.script(Reply.json(429, {"error": "slow down"}, headers=[("retry-after", when)]))
    result, delays = send(target_for(server))
    assert result.ok
    [delay] = delays
    assert 8.0 <= delay <= 10.0


def test_429_without_retry_after_uses_backoff(server: FaultServer) -> None:
    server.script(Reply.json(429, {"error": "slow down"}))
    result, delays = send(target_for(server))
    assert result.ok
    [delay] = delays
    assert 0.05 <= delay < 0.1


@pytest.mark.parametrize("fault", [Reply.reset(), Reply.close()], ids=["reset", "close"])
def test_connection_dropped_then_success(server: FaultServer, fault: Reply) -> None:
    server.script(fault)
    result, delays = send(target_for(server))
    reqs = server.requests
    assert len(reqs) == 2
    assert reqs[0].header("x-inngest-event-id-seed") == reqs[1].header("x-inngest-event-id-seed")
    assert result.ok
    assert result.attempts == 2
    assert len(delays) == 1


def test_connection_reset_every_time(server: FaultServer) -> None:
    server.script(Reply.reset(), Reply.reset())
    target = target_for(server)
    result, _ = send(target, retry=RetryPolicy(max_attempts=2))
    assert result.status is None
    assert result.error is not None
    assert result.error.startswith(f"the connection to {target.display_url()} broke: ")
    assert result.error.endswith(" (gave up after 2 attempts)")
    assert result.uncertain  # the request went out: the server may have taken it


def test_timeout_gives_up_with_clear_error(server: FaultServer) -> None:
    server.script(Reply.hang(), Reply.hang(), Reply.hang())
    target = target_for(server)
    result, delays = send(target, retry=RetryPolicy(max_attempts=3),
                          timeouts=Timeouts(connect=1.0, attempt=0.5))
    assert len(server.requests) == 3
    assert len({r.header("x-inngest-event-id-seed") for r in server.requests}) == 1
    assert result.status is None
    assert result.ids == []
    assert result.attempts == 3
    assert result.uncertain  # no answer after the request went out
    assert result.error == (
        f"no answer from {target.display_url()} within 0.5 s (gave up after 3 attempts)"
    )
    assert target.display_url().endswith("/e/****9e2c")
    assert len(delays) == 2


def test_connection_refused() -> None:
    with socket.socket() as held:  # bound, never listening: connects are refused
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        target = Target(f"http://127.0.0.1:{port}", KEY)
        result, delays = send(target, retry=RetryPolicy(max_attempts=2))
    assert result.status is None
    assert result.error is not None
    assert result.error.startswith(f"could not connect to http://127.0.0.1:{port}/e/****9e2c: ")
    assert result.error.endswith("(gave up after 2 attempts)")
    assert len(delays) == 1
    assert not result.uncertain  # nothing ever reached a server: not accepted, for sure


# -- bodies that are not what they should be ----------------------------------------------

def test_non_json_body(server: FaultServer) -> None:
    server.script(Reply.text(200, "<html>\n  <b>hello</b>\n</html>"))
    result, delays = send(target_for(server))
    assert result.status == 200
    assert result.error == "server answered 200 with a body that is not JSON: " \
        "'<html> <b>hello</b> </html>'"
    assert (result.ids, result.accepted, result.attempts) == ([], 0, 1)
    assert not result.ok and result.uncertain  # a 200: the server acted on it
    assert delays == []


def test_long_non_json_body_is_cut_short(server: FaultServer) -> None:
    server.script(Reply.text(200, "x" * 5000))
    result, _ = send(target_for(server))
    assert result.error == f"server answered 200 with a body that is not JSON: '{'x' * 120}…'"


@pytest.mark.parametrize("status", [200, 400, 503])
def test_an_answer_without_end_is_read_only_so_far(server: FaultServer, status: int) -> None:
    """A body streamed without end was read until memory ran out (2 GB in 8 s)."""
    server.script(Reply.flood(status, declared_length=100_000_000_000))
    began = time.perf_counter()
    result, _ = send(target_for(server), retry=RetryPolicy(max_attempts=1))
    assert time.perf_counter() - began < 10  # not the 30 s attempt timeout
    assert result.error == (f"server answered {status} with a body over 1,024 KiB, not read "
                            "further")
    assert result.uncertain == (status == 200)  # a 200 was acted on; which ids, unknown


@pytest.mark.parametrize("body", [b'{"status": 200}', b'{"ids": "01ABC", "status": 200}'])
def test_a_200_without_a_list_of_ids_is_an_unknown_outcome(server: FaultServer,
                                                            body: bytes) -> None:
    """It was "not accepted", so a resend of the same id was predicted new and ran again."""
    server.script(Reply.text(200, body))
    result, _ = send(target_for(server), THREE, 3)
    assert result.error == "server answered 200 without a list of ids"
    assert result.uncertain and result.ids == [] and result.attempts == 1


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_named_with_where_it_points_and_not_followed(server: FaultServer,
                                                                    status: int) -> None:
    server.script(Reply.text(status, "", headers=(
        ("location", f"https://elsewhere.example/e/{KEY}"),)))
    result, _ = send(target_for(server))
    assert result.error == (
        f"server answered {status}, a redirect to 'https://elsewhere.example/e/****9e2c', "
        "which is not followed: set the environment's origin to where it points")
    assert len(server.requests) == 1 and not result.uncertain and result.attempts == 1


def test_a_key_written_another_way_in_a_redirect_is_masked(server: FaultServer) -> None:
    encoded = KEY.replace("-", "%2D")  # over-encoded: still the key
    server.script(Reply.text(307, "", headers=(("location", f"/x/{encoded.upper()}"),)))
    moved, _ = send(target_for(server))
    assert moved.error is not None and moved.error.startswith(
        "server answered 307, a redirect to '/x/****9e2c'")


@pytest.mark.parametrize("key", ["abc def QALEAKTAIL99", "ab/QASLASHTAIL-7777"])
def test_a_key_with_a_space_or_a_slash_in_a_redirect_is_masked_whole(server: FaultServer,
                                                                     key: str) -> None:
    """The /e/ mask stopped at the space or the slash, and what followed was shown."""
    raw = quote(key, safe="")
    server.script(Reply.text(302, "", headers=(
        ("location", f"http://other.example/e/{raw}?k={raw}"),)))
    moved, _ = send(target_for(server, key=key))
    tail = key[-4:]
    assert moved.error == (
        f"server answered 302, a redirect to 'http://other.example/e/****{tail}?k=****{tail}'"
        ", which is not followed: set the environment's origin to where it points")
    assert_no_key(moved, key.split()[-1].split("/")[-1])


def test_a_success_whose_body_cannot_be_decoded_is_unknown_and_a_5xx_retried(
        server: FaultServer) -> None:
    """A 200 with a broken gzip body read as never sent (status None, not accepted), so the
    next send of its ids was predicted new; a 503 like it was not retried."""
    gzip = (("content-encoding", "gzip"),)
    server.script(Reply.text(200, b"not gzip at all", headers=gzip))
    taken, delays = send(target_for(server))
    assert (taken.status, taken.uncertain, taken.attempts, delays) == (200, True, 1, [])
    assert taken.error == ("server answered 200 with a body that could not be decoded "
                           "(content-encoding 'gzip')")
    server.script(Reply.text(503, b"not gzip at all", headers=gzip))
    retried, _ = send(target_for(server))
    assert retried.ok and retried.attempts == 2


def test_a_retry_after_that_is_not_a_number_falls_back_to_backoff(server: FaultServer) -> None:
    server.script(Reply.json(429, {"error": "slow down"}, headers=[("retry-after", "nan")]))
    result, delays = send(target_for(server))
    assert result.ok
    [delay] = delays
    assert 0.05 <= delay < 0.1  # NaN had been the delay: asyncio fired it whenever


def test_a_branch_that_is_not_ascii_is_a_clear_error_and_nothing_is_sent(
        server: FaultServer) -> None:
    result, _ = send(target_for(server, branch="brünch"))
    assert result.error is not None and result.error.endswith(
        "the branch name (sent in the x-inngest-env header) may hold only ASCII characters")
    assert (result.status, result.uncertain, server.requests) == (None, False, [])


def test_a_server_error_is_one_line_that_can_be_stored(server: FaultServer) -> None:
    """Line breaks, an ESC and half a UTF-16 pair reached the status bar as they were, and
    the pair ended the send when the history stored the error."""
    server.script(Reply.json(400, {"error": "bad\n  thing\x1b[31m \ud800", "status": 400,
                                   "ids": ["01A\udfff"]}))
    result, _ = send(target_for(server), THREE, 3)
    assert result.error == "bad thing\\x1b[31m \\ud800"
    assert result.ids == ["01A\\udfff"]
    result.error.encode("utf-8")


def test_ids_with_a_gap_are_not_moved_onto_other_events(server: FaultServer) -> None:
    """`["01A", "", "01C"]` gave event #2 the id 01C, and called #3 not accepted."""
    server.script(Reply.json(200, {"ids": ["01A", "", "01C"], "status": 200}),
                  Reply.json(400, {"ids": [""], "status": 400, "error": "bad"}))
    gap, _ = send(target_for(server), THREE, 3)
    assert (gap.ids, gap.uncertain) == (["01A"], True)
    assert gap.error == "server answered 200 with ids that leave out event #2 and name later ones"
    none, _ = send(target_for(server), THREE, 3)  # the Dev Server's "nothing taken"
    assert (none.ids, none.uncertain, none.error) == ([], False, "bad")


def test_empty_body(server: FaultServer) -> None:
    server.script(Reply(200, b""))
    result, _ = send(target_for(server))
    assert result.status == 200
    assert result.error == "server answered 200 with an empty body"
    assert not result.ok


def test_json_that_is_not_an_object(server: FaultServer) -> None:
    server.script(Reply.json(200, ["01H"]))
    result, _ = send(target_for(server))
    assert result.error == "server answered 200 with JSON that is not an object: '[\"01H\"]'"


def test_truncated_body_is_not_retried(server: FaultServer) -> None:
    server.script(Reply.truncated(200, b'{"ids":["01', 50))
    result, delays = send(target_for(server))
    assert len(server.requests) == 1
    assert result.status == 200
    assert result.error == (
        "server answered 200 with a truncated body (the connection closed after 11 of 50 bytes)"
    )
    assert result.attempts == 1
    assert not result.ok and result.uncertain
    assert delays == []


def test_body_stalling_after_the_status_is_not_retried(server: FaultServer) -> None:
    server.script(Reply.stalled(200, b'{"ids":[', 60))
    result, delays = send(target_for(server), timeouts=Timeouts(connect=1.0, attempt=0.5))
    assert len(server.requests) == 1
    assert result.status == 200
    assert result.error == "server answered 200 but the rest of its answer did not arrive " \
        "within 0.5 s"
    assert (result.attempts, delays) == (1, [])
    assert result.uncertain


def test_truncated_5xx_is_retried(server: FaultServer) -> None:
    server.script(Reply.truncated(503, b'{"err', 40))
    result, _ = send(target_for(server))
    assert result.ok and not result.uncertain
    assert result.attempts == 2


def test_200_with_too_few_ids(server: FaultServer) -> None:
    server.script(Reply.json(200, {"ids": ["01HZZZZZZZZZZZZZZZZZZZZZZZ"], "status": 200}))
    result, _ = send(target_for(server), THREE, 3)
    assert result.accepted == 1
    assert result.error == "server answered 200 with 1 id for 3 events"
    # a 200 took the request: the events without an id may have been taken too, so a
    # resend of them is not called safe
    assert not result.ok and result.uncertain


# -- 4xx: never retried, the server's own words --------------------------------------------

def test_401_is_not_retried_and_shows_server_message(server: FaultServer) -> None:
    server.script(Reply.json(401, {"status": 401, "message": "", "error": "Event key not found"},
                             content_type="text/plain"))
    result, delays = send(target_for(server))
    assert len(server.requests) == 1
    assert (result.status, result.error, result.attempts) == (401, "Event key not found", 1)
    assert delays == []
    assert not result.ok


def test_400_partial_acceptance_keeps_accepted_ids(server: FaultServer) -> None:
    seed = IdSeed.fresh()
    accepted = [seed.event_id(0), seed.event_id(1)]
    server.script(Reply.json(400, {"ids": accepted, "status": 400, "error": "event name is empty"}))
    result, delays = send(target_for(server), THREE, 3, seed=seed)
    assert len(server.requests) == 1
    assert result.status == 400
    assert result.ids == accepted
    assert (result.accepted, result.events) == (2, 3)
    assert result.error == "event name is empty"
    assert not result.ok
    assert delays == []


def test_4xx_without_error_text(server: FaultServer) -> None:
    server.script(Reply.json(404, {"status": 404}))
    result, _ = send(target_for(server))
    assert result.error == "server answered 404"


# -- secrets ---------------------------------------------------------------------------------

def test_key_echoed_by_server_is_scrubbed(server: FaultServer) -> None:
    server.script(Reply.json(404, {"error": f"no route for POST /e/{KEY}"}))
    result, _ = send(target_for(server))  # send() asserts the key is absent
    assert result.error == "no route for POST /e/****9e2c"


def test_odd_key_is_percent_encoded_and_never_shown(server: FaultServer) -> None:
    key = "odd key/with?chars#9e2c"
    server.script(Reply.text(500, f"bad key {key}"), Reply.json(500, {"error": f"bad {key}"}))
    result, _ = send(target_for(server, key=key), retry=RetryPolicy(max_attempts=2))
    assert server.requests[0].path == "/e/odd%20key%2Fwith%3Fchars%239e2c"
    assert result.error == "bad ****9e2c (gave up after 2 attempts)"


@pytest.mark.parametrize("key, pad", [
    ("evtkey\\SECRET0000wxyz", 0),   # repr() doubles a backslash
    ("evtkey  SECRET0000wxyz", 0),    # folding whitespace makes two spaces one
    ("evtkey_SECRET0000wxyz", 83),    # the 120-character cut lands inside the key
])
def test_a_key_echoed_in_a_body_that_is_not_json_is_masked_before_it_is_cut(
        server: FaultServer, key: str, pad: int) -> None:
    server.script(Reply.text(404, f"{'x' * pad} Event key not found at /e/{key}"))
    result, _ = send(target_for(server, key=key))
    assert result.error is not None
    assert "SECRET" not in result.error and "evtkey" not in result.error
    if not pad:
        assert result.error.endswith("Event key not found at /e/****wxyz'")


def test_target_repr_and_display_url_hide_the_key() -> None:
    target = Target("https://inn.gs/", KEY, "preview")
    assert KEY not in repr(target)
    assert target.url() == f"https://inn.gs/e/{KEY}"
    assert target.display_url() == "https://inn.gs/e/****9e2c"


@pytest.mark.parametrize(("origin", "message"), [
    ("ftp://example.com", "the event API origin must be an http:// or https:// URL with a host"),
    ("example.com:8288", "the event API origin must be an http:// or https:// URL with a host"),
    ("http://", "the event API origin must be an http:// or https:// URL with a host"),
    ("http://[::1", "the event API origin is not a valid URL"),
])
def test_bad_origin_is_a_clear_error_not_retried(origin: str, message: str) -> None:
    result, delays = send(Target(origin, KEY))
    assert result.status is None
    assert result.error == f"cannot send to {origin.rstrip('/')}/e/****9e2c: {message}"
    assert result.attempts == 1
    assert delays == []


# -- cancellation ----------------------------------------------------------------------------

def test_cancel_mid_request_propagates_and_client_stays_usable(server: FaultServer) -> None:
    server.script(Reply.hang())

    async def go() -> SendResult:
        client = EventApiClient()
        try:
            task = asyncio.create_task(client.send(target_for(server), ONE, 1))
            await asyncio.to_thread(server.wait_for, 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return await client.send(target_for(server), ONE, 1)
        finally:
            await client.aclose()

    result = asyncio.run(go())
    assert result.ok
    assert result.attempts == 1
    assert len(server.requests) == 2


def test_cancel_during_backoff(server: FaultServer) -> None:
    server.script(Reply.json(503, {"error": "busy"}, headers=[("retry-after", "30")]))

    async def go() -> None:
        client = EventApiClient()  # the real asyncio.sleep: cancelled while waiting 30 s
        try:
            task = asyncio.create_task(client.send(target_for(server), ONE, 1))
            await asyncio.to_thread(server.wait_for, 1)
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            await client.aclose()

    asyncio.run(go())
    assert len(server.requests) == 1


# -- health and REST lookups -----------------------------------------------------------------

def test_health(server: FaultServer) -> None:
    server.script(Reply.json(200, {"status": 200, "message": "OK"}), Reply.json(503, {}))

    async def go() -> list[bool]:
        client = EventApiClient()
        try:
            with socket.socket() as held:
                held.bind(("127.0.0.1", 0))
                refused = f"http://127.0.0.1:{held.getsockname()[1]}"
                return [await client.health(server.origin + "/"),
                        await client.health(server.origin),
                        await client.health(refused),
                        await client.health("not a url")]
        finally:
            await client.aclose()

    assert asyncio.run(go()) == [True, False, False, False]
    assert [r.path for r in server.requests] == ["/health", "/health"]
    assert server.requests[0].method == "GET"


def test_get_json(server: FaultServer) -> None:
    runs = {"data": [{"run_id": "01R", "status": "Completed"}], "metadata": {}}
    server.script(Reply.json(200, runs, content_type="text/plain"), Reply.text(502, "<html>"))

    async def go() -> list[tuple[int, object]]:
        client = EventApiClient()
        try:
            with socket.socket() as held:
                held.bind(("127.0.0.1", 0))
                refused = f"http://127.0.0.1:{held.getsockname()[1]}/v1/events/x/runs"
                return [
                    await client.get_json(f"{server.origin}/v1/events/01E/runs",
                                          bearer="signkey-prod-abc", branch="preview"),
                    await client.get_json(f"{server.origin}/v1/events"),
                    await client.get_json(refused),
                ]
        finally:
            await client.aclose()

    assert asyncio.run(go()) == [(200, runs), (502, None), (0, None)]
    first, second = server.requests
    assert first.path == "/v1/events/01E/runs"
    assert first.header("authorization") == "Bearer signkey-prod-abc"
    assert first.header("x-inngest-env") == "preview"
    assert second.header("authorization") is None


def _self_signed(folder: Path) -> ssl.SSLContext:
    """A server's TLS context with a certificate for 127.0.0.1 that no CA signed."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def test_client_without_tls_never_sends_to_an_https_origin_unverified(tmp_path) -> None:
    """`tls=False` (a send to http:// origins only) must fail closed on https: the handshake
    is refused for want of a trusted certificate and the server never gets a request."""
    import threading

    context = _self_signed(tmp_path)
    received: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def serve() -> None:
        listener.settimeout(10)
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    received.append(tls.recv(65536))
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    async def go(tls: bool) -> SendResult:
        client = EventApiClient(retry=RetryPolicy(max_attempts=1), tls=tls)
        try:
            return await client.send(Target(f"https://127.0.0.1:{port}", KEY), ONE, 1)
        finally:
            await client.aclose()

    try:
        result = asyncio.run(go(tls=False))
        thread.join(10)
    finally:
        listener.close()
    assert result.status is None
    assert result.error is not None and "certificate" in result.error.lower()
    assert KEY not in result.error
    assert received == []  # not a byte of the request reached the server


class _Proxy:
    """A loopback proxy that answers every request with `answer` and records its lines."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.lines: list[bytes] = []
        self.listener = Listener(self._serve, "proxy")
        self.url = f"http://proxy-user:proxy-secret@127.0.0.1:{self.listener.port}"

    def _serve(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(65536)
            if not chunk:
                break
            head += chunk
        self.lines.append(head.split(b"\r\n", 1)[0])
        conn.sendall(self.answer)

    def close(self) -> None:
        self.listener.close()


async def _send_once(url: str, attempts: int = 1) -> tuple[SendResult, str | None]:
    client = EventApiClient(retry=RetryPolicy(max_attempts=attempts, base_delay=0.01))
    try:
        return await client.send(Target(url, KEY), ONE, 1), client.environment_problem
    finally:
        await client.aclose()


def test_a_proxy_from_the_environment_never_carries_loopback_requests(server, monkeypatch):
    """A corporate HTTP_PROXY had a local Dev Server or the inbox answered by the proxy
    (502), and the event key went to the proxy in clear text."""
    proxy = _Proxy(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
    try:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.url)
        port = server.origin.rsplit(":", 1)[1]
        for origin in (server.origin, f"http://localhost:{port}"):
            result, problem = asyncio.run(_send_once(origin))
            assert (result.status, result.error, problem) == (200, None, None), origin
        assert proxy.lines == []  # not one request went to the proxy
        assert len(server.requests) == 2
        client = EventApiClient()  # the whole of 127.0.0.0/8 and ::1, as Go's net/http
        try:
            for url in ("http://127.0.0.2:9/", "http://[::1]:9/", "http://LOCALHOST:9/",
                        "https://127.255.0.1/"):
                assert not client._proxied(httpx.URL(url)), url
            assert client._proxied(httpx.URL("http://events.example.test/"))
            assert client._proxied(httpx.URL("http://128.0.0.1/"))
        finally:
            asyncio.run(client.aclose())
    finally:
        proxy.close()


@pytest.mark.parametrize(("settings", "said"), [
    ({"ALL_PROXY": "socks4://127.0.0.1:1080"},
     "a proxy URL must start with http://, https://, socks5:// or socks5h://"),
    ({"NO_PROXY": "localhost,[::1]", "HTTP_PROXY": "http://proxy.corp:3128"},
     "Invalid port: ':1]'"),
    # a setting with a password is not quoted: httpx quotes a piece of it ("Invalid port:
    # 'hunter2'" for a password holding a "/")
    ({"ALL_PROXY": "ftp://someone:hunter2@proxy.corp"}, "a proxy setting cannot be read"),
    ({"HTTPS_PROXY": "http://someone:hunter2/x@proxy.corp:8080"},
     "a proxy setting cannot be read"),
    ({"SSL_CERT_FILE": "/nonexistent/ca.pem"},
     "a certificate setting cannot be read: SSL_CERT_FILE=/nonexistent/ca.pem: No such file"
     " or directory"),
])
def test_settings_of_the_environment_that_cannot_be_used_are_ignored_and_said(
        server, monkeypatch, settings, said):
    """They had stopped the window from opening, and every command, with a traceback."""
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    result, problem = asyncio.run(_send_once(server.origin))
    assert (result.status, result.error) == (200, None)
    assert problem is not None and said in problem
    assert problem.startswith("the proxy and certificate settings of the environment")
    assert "hunter2" not in problem


@pytest.mark.parametrize(("answer", "attempts"), [
    (b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n", 1),
    (b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n", 2),  # may pass: retried
])
def test_a_proxy_that_refuses_the_tunnel_is_not_taken_for_the_server(monkeypatch, answer,
                                                                      attempts):
    """Nothing reached the server: the events are not accepted (they were "outcome unknown"),
    and a 407 is not retried (it was, five times), and the message names the proxy."""
    proxy = _Proxy(answer)
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        result, problem = asyncio.run(_send_once("https://events.example.test", attempts=2))
    finally:
        proxy.close()
    assert problem is None
    assert proxy.lines == [b"CONNECT events.example.test:443 HTTP/1.1"] * attempts
    assert result.attempts == attempts and result.status is None
    assert not result.uncertain and result.accepted == 0
    assert result.error is not None and "the proxy" in result.error
    assert answer.split(b"\r\n")[0][9:].decode() in result.error
    assert "proxy-secret" not in result.error and KEY not in result.error


def test_a_certificate_that_fails_is_not_retried_and_says_how_to_trust_a_ca(tmp_path):
    """A certificate failure does not pass on a retry (it was tried five times)."""
    import threading

    context = _self_signed(tmp_path)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    handshakes: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            handshakes.append(1)
            with (conn, contextlib.suppress(ssl.SSLError, OSError),
                  context.wrap_socket(conn, server_side=True) as tls):
                tls.recv(65536)

    threading.Thread(target=serve, daemon=True).start()
    try:
        result, _ = asyncio.run(_send_once(f"https://127.0.0.1:{listener.getsockname()[1]}",
                                           attempts=3))
    finally:
        listener.close()
    assert result.attempts == 1 and len(handshakes) == 1
    assert result.error is not None and "certificate verify failed: " in result.error
    assert "_ssl.c" not in result.error and "[SSL" not in result.error  # OpenSSL's codes
    assert result.error.endswith("or set SSL_CERT_FILE to its PEM file)")


def test_a_413_says_to_lower_the_request_limit(server):
    """"server answered 413 with a body that is not JSON: 'request body too large'" said
    nothing of the request limit that splits batches smaller."""
    server.script(Reply.text(413, "request body too large"))
    result, _ = asyncio.run(_send_once(server.origin))
    assert result.status == 413
    assert result.error == (
        "server answered 413 with a body that is not JSON: 'request body too large'; the "
        "server takes smaller requests: lower the request limit (--request-limit, or the "
        "environment's) and batches are split smaller")


def test_network_failures_are_said_in_words(server):
    """They read "ConnectError", "ReadError" (httpx's class names: its messages are often
    empty), "[Errno -2] Name or service not known" or "(_ssl.c:1006)"."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    refused, _ = asyncio.run(_send_once(f"http://127.0.0.1:{port}"))
    masked = f"/e/****{KEY[-4:]}"  # the key's last 4 characters, as everywhere
    assert refused.error == (f"could not connect to http://127.0.0.1:{port}{masked}: "
                             "connection refused: nothing listens there")
    server.script(Reply.reset())
    reset, _ = asyncio.run(_send_once(server.origin))
    assert reset.error == (f"the connection to {server.origin}{masked} broke: the server "
                           "reset the connection")
    not_tls, _ = asyncio.run(_send_once(server.origin.replace("http://", "https://")))
    assert not_tls.error is not None and not_tls.error.startswith(
        "could not connect to https://127.0.0.1:")
    assert not_tls.error.endswith(": the TLS handshake failed: is it an http:// server, "
                                  "not https://?"), not_tls.error
    # no name server here to ask: the chain httpx raises for an unknown host
    unknown = httpx.ConnectError("[Errno -2] Name or service not known")
    unknown.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert network_words(unknown) == "the host name was not found (Name or service not known)"
    assert network_words(httpx.ReadError("")) == "the answer could not be read"


def test_a_failure_through_a_proxy_names_the_proxy(monkeypatch):
    """A proxy that was down was reported as the server refusing ("could not connect to
    http://events.example.test/e/…: All connection attempts failed")."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://someone:proxy-secret@127.0.0.1:{port}")
    result, _ = asyncio.run(_send_once("http://events.example.test"))
    assert result.status is None and result.error is not None
    assert result.error.startswith(
        "could not connect to http://events.example.test/e/****")
    assert "(through the proxy set in HTTP_PROXY, HTTPS_PROXY or ALL_PROXY)" in result.error
    assert "proxy-secret" not in result.error and KEY not in result.error
    # and the reachability check (env test, the health mark), which blamed the server too

    async def health() -> tuple[str | None, str | None]:
        client = EventApiClient()
        try:
            return (await client.health_problem("http://events.example.test"),
                    await client.health_problem(f"http://127.0.0.1:{port}"))
        finally:
            await client.aclose()

    proxied, local = asyncio.run(health())
    assert proxied is not None and proxied.endswith(
        "(through the proxy set in HTTP_PROXY, HTTPS_PROXY or ALL_PROXY)")
    assert local is not None and "through the proxy" not in local
    monkeypatch.delenv("HTTP_PROXY")
    direct, _ = asyncio.run(_send_once(f"http://127.0.0.1:{port}"))
    assert direct.error is not None and "through the proxy" not in direct.error


def test_an_id_that_is_not_text_is_named_not_counted_as_none(server: FaultServer) -> None:
    """`{"ids": [1]}` read as "server answered 200 with 0 ids for 1 events"."""
    server.script(Reply.json(200, {"ids": ["01A", {"id": KEY}], "status": 200}))
    result, _ = send(target_for(server), THREE, 3)
    assert result.ids == ["01A"] and result.uncertain and not result.ok
    assert result.error == ('server answered 200 with an id that is not text for event #2: '
                            '{"id": "****9e2c"}')
    assert_no_key(result)


@pytest.mark.parametrize("status", [201, 202])
def test_another_2xx_naming_every_id_took_them_all(server: FaultServer, status: int) -> None:
    """A proxy's 201 that named every id had read as an error ("server answered 201")
    while the send's summary said the events were accepted."""
    server.script(Reply.json(status, {"ids": ["01A", "01B", "01C"], "message": "created"}),
                  Reply.json(status, {"ids": ["01A"]}))
    result, _ = send(target_for(server), THREE, 3)
    assert (result.ok, result.error, result.ids) == (True, None, ["01A", "01B", "01C"])
    short, _ = send(target_for(server), THREE, 3)
    assert not short.ok and short.uncertain
    assert short.error == f"server answered {status} with 1 id for 3 events"
