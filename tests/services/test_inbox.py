"""The built-in inbox against the contract doc's responses table, over real loopback HTTP.

Each test runs a real InboxServer (its own loop, in a thread) and talks to it with httpx,
so status codes, bodies and headers are checked byte for byte as a client sees them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from typing import Any

import h11
import httpx
import pytest

from console.core.errors import InputError, UserError
from console.core.ids import IdSeed, ulid_millis
from console.services.inbox import CapturedEvent, InboxServer
from tests.support.inbox_thread import InboxThread, running_inbox

SEED = "x-inngest-event-id-seed"
BODY_MSG = "Request body must contain an event object or an array of event objects"
DATA_MSG = "json: cannot unmarshal {} into Go struct field .data of type map[string]interface {{}}"


HTTP = httpx.Client(timeout=30)  # one client: building its TLS context costs ~0.1 s


@pytest.fixture(scope="module", autouse=True)
def _close_http():
    yield
    HTTP.close()


@pytest.fixture
def inbox():
    with running_inbox() as running:
        yield running


def post(inbox: InboxThread, body: bytes | str, key: str = "test-key", **headers: str):
    content = body.encode() if isinstance(body, str) else body
    return HTTP.post(f"{inbox.url}/e/{key}", content=content, headers=headers)


def get(inbox: InboxThread, path: str) -> httpx.Response:
    return HTTP.get(inbox.url + path)


def test_one_event_is_accepted_with_the_dev_servers_exact_body(inbox):
    seed = IdSeed.fresh()
    response = post(inbox, '{"name":"app/signed.up","data":{"plan":"pro"}}', **{SEED: seed.header})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == f'{{"ids":["{seed.event_id(0)}"],"status":200}}\n'.encode()
    (event,) = inbox.events()
    assert (event.internal_id, event.name, event.size) == (seed.event_id(0), "app/signed.up", 46)
    assert event.raw == b'{"name":"app/signed.up","data":{"plan":"pro"}}'
    assert event.event["data"] == {"plan": "pro"}
    assert abs(event.event["ts"] - event.received_at_ms) == 0  # ts 0/missing -> receipt time


def test_an_array_gets_seed_derived_ids_in_order_and_a_repeated_seed_the_same_ids():
    """A retry (the same seed) is the same events: they were captured again and their
    runs started again ("ran: 3 runs" for one event of a send retried twice)."""
    with running_inbox(triggers=["e/*"]) as inbox:
        seed = IdSeed.fresh()
        body = json.dumps([{"name": f"e/{i}", "data": {}} for i in range(3)])
        first = post(inbox, body, **{SEED: seed.header}).json()
        again = post(inbox, body, **{SEED: seed.header}).json()
        expected = [seed.event_id(i) for i in range(3)]
        assert first == again == {"ids": expected, "status": 200}
        assert [e.name for e in inbox.events()] == ["e/0", "e/1", "e/2"]
        runs = get(inbox, f"/v1/events/{expected[0]}/runs").json()["data"]
        assert len(runs) == 1
        assert len(get(inbox, "/v1/events").json()["data"]) == 3


def test_the_derivation_matches_the_contract_byte_for_byte(inbox):
    # 10 zero bytes of entropy: the n-th event's counter (last 4 bytes) is n, 1-based
    ids = post(inbox, '[{"name":"a"},{"name":"b"}]', **{SEED: "1700000000000,AAAAAAAAAAAAAA=="})
    assert ids.json()["ids"] == ["01HF7YAT000000000000000001", "01HF7YAT000000000000000002"]
    wrap = post(inbox, '[{"name":"a"}]', **{SEED: "1700000000000,AAAAAAAA/////w=="})
    assert wrap.json()["ids"] == ["01HF7YAT000000000000000000"]  # 0xFFFFFFFF + 1 wraps
    # the millis as Go's strconv.ParseInt reads them: one leading "+" is allowed
    signed = post(inbox, '[{"name":"a"}]', **{SEED: "+1700000000000,AAAAAAAAAAAAAA=="})
    assert signed.json()["ids"] == ["01HF7YAT000000000000000001"]


@pytest.mark.parametrize("header", [
    "", "garbage", "1700000000000", "0,AAAAAAAAAAAAAA==", "-5,AAAAAAAAAAAAAA==",
    "1700000000000,not-base64", "1700000000000,AAAAAAAAAAAA", "1700000000000,AAAAAAAAAAAAAA==,x",
    "++1700000000000,AAAAAAAAAAAAAA==", "+,AAAAAAAAAAAAAA==", "+-5,AAAAAAAAAAAAAA==",
])
def test_a_missing_or_malformed_seed_gives_random_ids(inbox, header):
    headers = {SEED: header} if header else {}
    first = post(inbox, '[{"name":"a"},{"name":"b"}]', **headers).json()["ids"]
    second = post(inbox, '[{"name":"a"},{"name":"b"}]', **headers).json()["ids"]
    assert len(set(first + second)) == 4
    assert all(ulid_millis(i) is not None for i in first + second)


@pytest.mark.parametrize(("body", "error"), [
    ('"just a string"', BODY_MSG),
    ("null", BODY_MSG),
    ("42", BODY_MSG),
    ('{"name":""}', "event name is empty"),
    ('{"data":{"a":1}}', "event name is empty"),
    ('{"name":"inngest/function.finished"}',
     "event name is reserved for internal use: inngest/function.finished"),
    ('{"name":"INNGEST/x"}', "event name is reserved for internal use: INNGEST/x"),
    ('{"name":"a","data":[1,2]}', DATA_MSG.format("array")),
    ('{"name":"a","data":"text"}', DATA_MSG.format("string")),
    ('{"name":"a","data":7}', DATA_MSG.format("number")),
    ('{"name":"a","data":true}', DATA_MSG.format("bool")),
    ('{"name":"a","id":123}',
     "json: cannot unmarshal number into Go struct field .id of type string"),
    ('{"name":["a"]}',
     "json: cannot unmarshal array into Go struct field .name of type string"),
    ('{"name":"a","ts":"1700000000000"}',
     "json: cannot unmarshal string into Go struct field .ts of type int64"),
    ('{"name":"a","ts":1.7e12}',
     "json: cannot unmarshal number 1.7e12 into Go struct field .ts of type int64"),
    ('{"name":"a","ts":315532799999}', "timestamp is before Jan 1, 1980"),
    ('{"name":"a","ts":-1}', "timestamp is before Jan 1, 1980"),
    ('{"name":"a","ts":4102444800001}', "timestamp is after Jan 1, 2100"),
    ('{"name":"a"', "unexpected end of JSON input"),
    ('{"name":"a"} trailing', "invalid character 't' after top-level value"),
    ('{"name":"a",}', "invalid character '}' looking for beginning of object key string"),
    ('{"name":nope}', "invalid character 'o' in literal null (expecting 'u')"),
    ('[7]', "json: cannot unmarshal number into Go value of type event.Event"),
])
def test_a_bad_event_gets_400_with_the_dev_servers_message(inbox, body, error):
    response = post(inbox, body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.json() == {"ids": [], "status": 400, "error": error}
    assert inbox.events() == []


@pytest.mark.parametrize(("ts", "accepted"), [(315532800000, True), (4102444800000, True)])
def test_the_timestamp_window_includes_its_edges(inbox, ts, accepted):
    assert post(inbox, json.dumps({"name": "a", "ts": ts})).status_code == 200
    assert inbox.events()[0].event["ts"] == ts


def test_events_before_a_bad_one_are_accepted_and_their_ids_returned(inbox):
    seed = IdSeed.fresh()
    body = '[{"name":"ok/1"},{"name":"ok/2"},{"name":"","data":{}},{"name":"never"}]'
    response = post(inbox, body, **{SEED: seed.header})
    assert response.status_code == 400
    assert response.content == json.dumps(
        {"ids": [seed.event_id(0), seed.event_id(1)], "status": 400,
         "error": "event name is empty"}, separators=(",", ":")).encode() + b"\n"
    assert [e.name for e in inbox.events()] == ["ok/1", "ok/2"]


@pytest.mark.parametrize(("body", "error", "accepted"), [
    ('[{"name":"a"} {"name":"b"}]', "expected comma after array element", 1),
    ('[{"name":"a"},]', "invalid character ']' looking for beginning of value", 1),
    ('[{"name":"a"},{"name":', "unexpected EOF", 1),
    ('[{"name":"a"},', "EOF", 1),
])
def test_a_syntax_error_inside_an_array_keeps_the_events_before_it(inbox, body, error, accepted):
    response = post(inbox, body)
    assert (response.status_code, response.json()["error"]) == (400, error)
    assert len(response.json()["ids"]) == len(inbox.events()) == accepted


def test_an_event_over_the_size_limit_is_refused_with_its_size():
    with running_inbox(event_limit=100) as inbox:
        big = json.dumps({"name": "big", "data": {"pad": "x" * 100}})
        response = post(inbox, f'[{{"name":"small"}},{big}]')
        assert response.status_code == 400
        assert response.json()["error"] == (
            f"Event is over the max size: Max 100 bytes / Size {len(big)} bytes")
        assert len(response.json()["ids"]) == 1
        single = post(inbox, big)
        assert single.json() == {"ids": [], "status": 400, "error": (
            f"Event is over the max size: Max 100 bytes / Size {len(big)} bytes")}


def test_the_default_event_limit_is_3_mib(inbox):
    pad = 3 * 1024 * 1024 - len('{"name":"big","data":{"p":""}}')
    exact = '{"name":"big","data":{"p":"' + "x" * pad + '"}}'
    assert post(inbox, exact).status_code == 200  # also takes the off-loop decode path
    over = post(inbox, exact[:-3] + 'x"}}')
    assert over.json()["error"] == (
        f"Event is over the max size: Max 3145728 bytes / Size {3 * 1024 * 1024 + 1} bytes")


def test_more_than_5000_events_are_cut_off_after_the_5000th(inbox):
    seed = IdSeed.fresh()
    assert len(post(inbox, json.dumps([{"name": "n"}] * 5000)).json()["ids"]) == 5000
    response = post(inbox, json.dumps([{"name": "n"}] * 5001), **{SEED: seed.header})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Cannot have more than 5000 events in a batch"
    assert body["ids"] == [seed.event_id(i) for i in range(5000)]
    assert len(inbox.events()) == 10000


def test_the_inngest_key_in_data_is_stripped_and_other_fields_kept(inbox):
    body = {"name": "a", "data": {"inngest": {"x": 1}, "keep": {"inngest": 2}}, "id": "d-1",
            "ts": 1700000000000, "v": "2024-01-01.1", "user": {"u": 1}}
    assert post(inbox, json.dumps(body)).status_code == 200
    assert inbox.events()[0].event == {
        "name": "a", "data": {"keep": {"inngest": 2}}, "user": {"u": 1}, "id": "d-1",
        "ts": 1700000000000, "v": "2024-01-01.1"}


def test_an_empty_key_is_refused_and_any_key_accepted_without_one_configured(inbox):
    missing = post(inbox, '{"name":"a"}', key="")
    assert missing.status_code == 401
    assert missing.content == b'{"status":401,"message":"","error":"Event key is required"}\n'
    assert post(inbox, '{"name":"a"}', key="NO_EVENT_KEY_SET").status_code == 200


def test_a_configured_key_refuses_any_other_key():
    with running_inbox(event_key="the-right-key") as inbox:
        wrong = post(inbox, '{"name":"a"}', key="the-wrong-key")
        assert wrong.status_code == 401
        assert wrong.json() == {"status": 401, "message": "", "error": "Event key not found"}
        assert post(inbox, '{"name":"a"}', key="").json()["error"] == "Event key is required"
        assert post(inbox, '{"name":"a"}', key="the-right-key").status_code == 200
        assert len(inbox.events()) == 1


def test_a_key_that_needs_escaping_is_read_decoded_as_the_console_sends_it():
    """The console's client percent-encodes the key in /e/{key}; the inbox compared the
    encoded text, so a key with a space or a slash got 401 from the console's own inbox."""
    from console.services.client import EventApiClient, Target

    key = "ab cd/é"

    async def send(url: str) -> Any:
        client = EventApiClient()
        try:
            return await client.send(Target(url, key), b'[{"name":"k/x"}]', 1)
        finally:
            await client.aclose()

    with running_inbox(event_key=key) as inbox:
        result = asyncio.run(send(inbox.url))
        assert result.status == 200 and len(result.ids) == 1, result.error
        assert HTTP.post(inbox.url + "/e/ab%20cd%2F%C3%A9", content=b'{"name":"k/y"}'
                         ).status_code == 200
        assert post(inbox, '{"name":"a"}', key="ab%20cd").status_code == 401
        assert [e.name for e in inbox.events()] == ["k/x", "k/y"]


def test_health_answers_like_the_dev_server(inbox):
    response = get(inbox, "/health")
    assert response.status_code == 200
    assert response.content == b'{"status":200,"message":"OK"}\n'


def test_every_answer_carries_the_date_as_go_sends_it(inbox):
    import email.utils
    import time

    for response in (get(inbox, "/health"), get(inbox, "/nope"),
                     HTTP.post(inbox.url + "/e/key", content=b'{"name":"a"}')):
        sent = email.utils.parsedate_to_datetime(response.headers["date"])
        assert response.headers["date"].endswith(" GMT")
        assert abs(sent.timestamp() - time.time()) < 5


def test_unknown_routes_and_methods(inbox):
    assert get(inbox, "/nope").status_code == 404
    assert get(inbox, "/e/key").status_code == 405
    assert HTTP.post(inbox.url + "/e/key/extra", content=b"{}").status_code == 404


def test_html_characters_are_escaped_as_go_does(inbox):
    response = post(inbox, '{"name":"inngest/<&>"}')
    assert b"inngest/\\u003c\\u0026\\u003e" in response.content
    assert response.json()["error"] == "event name is reserved for internal use: inngest/<&>"


def test_events_are_listed_newest_first_and_shown_one_by_one(inbox):
    seed = IdSeed.fresh()
    body = json.dumps([{"name": "a", "id": "dup-1", "data": {"n": 1}}, {"name": "b"},
                       {"name": "a", "ts": 1700000000000}])
    post(inbox, body, **{SEED: seed.header})
    ids = [seed.event_id(i) for i in range(3)]
    listed = get(inbox, "/v1/events").json()
    assert [e["internal_id"] for e in listed["data"]] == ids[::-1]
    assert set(listed["metadata"]) == {"fetched_at", "cached_until"}
    assert [e["internal_id"] for e in get(inbox, "/v1/events?name=a&limit=1").json()["data"]] == [
        ids[2]]
    cursor = get(inbox, f"/v1/events?cursor={ids[1]}").json()["data"]
    assert [e["internal_id"] for e in cursor] == [ids[0]]
    shown = get(inbox, f"/v1/events/{ids[0]}").json()["data"]
    received = inbox.events()[0].received_at_ms
    assert shown == {"internal_id": ids[0], "name": "a", "data": {"n": 1}, "id": "dup-1",
                     "ts": received, "received_at": shown["received_at"]}
    assert shown["received_at"].endswith("Z")


def test_unknown_or_malformed_event_ids_get_json_errors(inbox):
    unknown = get(inbox, "/v1/events/01HF7YAT000000000000000001")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "Event not found: 01HF7YAT000000000000000001",
                              "status": 404}
    assert get(inbox, "/v1/events/01HF7YAT000000000000000001/runs").status_code == 404
    bad = get(inbox, "/v1/events/not-an-id/runs")
    assert (bad.status_code, bad.json()["error"]) == (400, "Invalid event ID: not-an-id")
    assert get(inbox, "/v1/events?cursor=zzz").json()["error"] == "Invalid cursor query parameter"


def runs_of(inbox: InboxThread, internal_id: str) -> list[dict]:
    response = get(inbox, f"/v1/events/{internal_id}/runs")
    assert response.status_code == 200
    assert response.json()["metadata"] == {}
    return response.json()["data"]


def test_each_matching_trigger_starts_one_run_and_a_repeated_id_starts_none():
    with running_inbox(triggers=("order/*", "*.created")) as inbox:
        body = [{"name": "order/x.created", "id": "o-1"}, {"name": "user.created", "id": "o-1"},
                {"name": "other"}, {"name": "order/y"}, {"name": "order/y"}]
        ids = post(inbox, json.dumps(body)).json()["ids"]
        first = runs_of(inbox, ids[0])
        assert sorted(r["function_id"] for r in first) == ["inbox-*.created", "inbox-order/*"]
        assert {r["status"] for r in first} == {"Completed"}
        assert {r["event_id"] for r in first} == {ids[0]}
        assert all(ulid_millis(r["run_id"]) is not None for r in first)
        assert runs_of(inbox, ids[1]) == []  # same id, another name: deduplicated
        assert runs_of(inbox, ids[2]) == []  # no trigger matches
        assert len(runs_of(inbox, ids[3])) == len(runs_of(inbox, ids[4])) == 1  # no id: runs
        assert inbox.server.first_seen("o-1") == (ids[0], inbox.events()[0].received_at_ms)


def test_the_dedup_window_is_24_hours_from_the_first_event():
    now = [1_700_000_000_000]
    day = 24 * 60 * 60 * 1000
    with running_inbox(clock=lambda: now[0]) as inbox:
        first = post(inbox, '{"name":"a","id":"k"}').json()["ids"][0]
        now[0] += day - 1
        inside = post(inbox, '{"name":"a","id":"k"}').json()["ids"][0]
        now[0] += 1
        after = post(inbox, '{"name":"a","id":"k"}').json()["ids"][0]
        assert [len(runs_of(inbox, i)) for i in (first, inside, after)] == [1, 0, 1]


def test_past_its_keep_count_the_inbox_forgets_the_oldest_events_but_not_their_ids():
    """A long load test must not fill memory: only the newest `keep_events` stay."""
    with running_inbox(keep_events=10) as inbox:
        ids = post(inbox, json.dumps([{"name": "load", "id": f"k-{i}", "data": {"i": i}}
                                      for i in range(25)])).json()["ids"]
        kept = [e.internal_id for e in inbox.events()]
        assert 0 < len(kept) <= 10 and kept == ids[-len(kept):]  # the newest, in order
        assert get(inbox, f"/v1/events/{ids[0]}").status_code == 404  # forgotten
        assert get(inbox, f"/v1/events/{ids[-1]}").json()["data"]["data"] == {"i": 24}
        listed = [e["internal_id"] for e in get(inbox, "/v1/events?limit=50").json()["data"]]
        assert listed == kept[::-1]
        assert get(inbox, f"/v1/events?cursor={ids[0]}").json()["data"] == []
        # the 24 h window of a forgotten event's id still holds: a repeat starts no runs
        again = post(inbox, '{"name": "load", "id": "k-0"}').json()["ids"][0]
        assert runs_of(inbox, again) == []
        fresh = post(inbox, '{"name": "load", "id": "k-new"}').json()["ids"][0]
        assert len(runs_of(inbox, fresh)) == 1
        assert len(inbox.events()) <= 10


def test_past_its_byte_budget_the_inbox_forgets_the_oldest_events():
    """A few big events must not fill memory either: the kept bytes are capped too."""
    with running_inbox(keep_bytes=10_000) as inbox:
        pad = "x" * 2_000
        for i in range(12):
            post(inbox, json.dumps({"name": "big", "data": {"i": i, "pad": pad}}))
        kept = [e.event["data"]["i"] for e in inbox.events()]
        assert kept == list(range(12 - len(kept), 12)) and 0 < len(kept) <= 5
        assert sum(e.size for e in inbox.events()) <= 10_000
        huge = json.dumps({"name": "huge", "data": {"pad": "y" * 20_000}})
        post(inbox, huge)  # over the whole budget alone: it is still kept, the rest goes
        assert [e.name for e in inbox.events()] == ["huge"]


@pytest.mark.parametrize(("body", "error"), [
    ('{"name":"a","data":{"x":1e400}}',
     "json: cannot unmarshal number 1e400 into Go value of type float64"),
    ('{"name":"a","user":{"deep":[1,{"x":-1E999}]}}',
     "json: cannot unmarshal number -1E999 into Go value of type float64"),
    ('{"name":"a","data":{"x":' + "9" * 400 + "}}",
     f"json: cannot unmarshal number {'9' * 400} into Go value of type float64"),
    ('{"name":"a","ts":1e400}',
     "json: cannot unmarshal number 1e400 into Go struct field .ts of type int64"),
])
def test_a_number_beyond_float64_is_refused_as_go_refuses_it(inbox, body, error):
    """Python would keep `inf`, and GET /v1/events would then serve `Infinity`: not JSON."""
    response = post(inbox, body)
    assert (response.status_code, response.json()["error"]) == (400, error)
    assert inbox.events() == []
    ok = post(inbox, '{"name":"a","data":{"x":1e300,"n":12345678901234567890123}}')
    assert ok.status_code == 200
    listed = json.loads(get(inbox, "/v1/events").text, parse_constant=pytest.fail)
    assert listed["data"][0]["data"] == {"x": 1e300, "n": 12345678901234567890123}


def test_json_nested_too_deep_is_a_400_that_keeps_the_events_before_it(inbox):
    deep = '{"name":"deep","data":{"x":' + "[" * 5000 + "]" * 5000 + "}}"
    response = post(inbox, '[{"name":"before"},' + deep + "]")
    assert response.status_code == 400
    assert response.json()["error"].startswith("JSON nested too deeply for the inbox")
    assert [e.name for e in inbox.events()] == ["before"]
    assert response.json()["ids"] == [inbox.events()[0].internal_id]
    assert post(inbox, deep).status_code == 400
    assert post(inbox, '{"name":"ok"}').status_code == 200  # and the inbox goes on


def test_bytes_that_are_not_utf8_are_measured_as_sent_and_read_as_u_fffd():
    body = b'{"name":"u/size","data":{"s":"\xc3\xa9' + b"\xff" * 600 + b'"}}'
    with running_inbox(event_limit=len(body)) as inbox:
        response = post(inbox, body)
        assert response.status_code == 200, response.text  # 1 byte each, not 3 (U+FFFD)
        (event,) = inbox.events()
        assert event.size == len(body) and event.raw == body
        assert event.event["data"]["s"] == "\u00e9" + "\ufffd" * 600
        bad = post(inbox, b'[{"name":"a"}, \xff]')
        assert bad.json()["error"] == "invalid character '\u00ff' looking for beginning of value"


def test_runs_can_appear_late():
    with running_inbox(run_delay=3600) as inbox:
        (event_id,) = post(inbox, '{"name":"a"}').json()["ids"]
        assert get(inbox, f"/v1/events/{event_id}").status_code == 200
        assert runs_of(inbox, event_id) == []
    with running_inbox(run_delay=0.2) as inbox:
        (event_id,) = post(inbox, '{"name":"a"}').json()["ids"]
        deadline = time.monotonic() + 10
        while not (runs := runs_of(inbox, event_id)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(runs) == 1


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_a_non_loopback_address_is_refused_unless_allowed(host):
    with pytest.raises(UserError) as caught:
        InboxServer(host)
    assert isinstance(caught.value, InputError)
    assert str(caught.value) == (
        f"the inbox listens on loopback only (127.0.0.1, ::1, localhost), not {host!r}: it "
        "accepts events from anyone who can reach it. Allow a remote address explicitly "
        "(--allow-remote) if you mean it.")
    assert InboxServer(host, allow_remote=True).host == host


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_addresses_are_fine(host):
    assert InboxServer(host).host == host


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_it_serves_on_loopback_names(host):
    with running_inbox(host=host) as inbox:
        assert inbox.url == f"http://{host}:{inbox.port}"
        assert get(inbox, "/health").status_code == 200


def test_a_taken_port_is_an_oserror_from_start(inbox):
    with pytest.raises(OSError):
        InboxThread(port=inbox.port).start()


def test_a_body_over_the_limit_gets_413_without_being_stored():
    with running_inbox(max_body=4096) as inbox:
        response = post(inbox, json.dumps([{"name": "a", "data": {"p": "x" * 5000}}]))
        assert response.status_code == 413
        assert response.json() == {"ids": [], "status": 413,
                                   "error": "Request body is over the max size: Max 4096 bytes"}
        with socket.create_connection(("127.0.0.1", inbox.port)) as sock:  # declared, not sent
            sock.sendall(b"POST /e/k HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999999\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 413 ")
        assert inbox.events() == []
    with running_inbox(max_body=4096, event_key="the-key") as inbox:  # the key comes first
        big = json.dumps([{"name": "a", "data": {"p": "x" * 5000}}])
        assert post(inbox, big, key="").json()["error"] == "Event key is required"
        wrong = post(inbox, big, key="other")
        assert (wrong.status_code, wrong.json()["error"]) == (401, "Event key not found")
        assert post(inbox, big, key="the-key").status_code == 413


def raw_exchange(port: int, data: bytes, until: int) -> bytes:
    """Send raw bytes and read until `until` responses (by count of status lines) arrived."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(10)
        sock.sendall(data)
        got = b""
        while got.count(b"HTTP/1.1 ") < until or not got.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


def in_one_byte_chunks(body: bytes) -> bytes:
    head = b"POST /e/k HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
    return head + b"".join(b"1\r\n%s\r\n" % body[i : i + 1] for i in range(len(body))) + (
        b"0\r\n\r\n")


def test_a_body_in_one_byte_chunks_lets_the_loop_run_and_too_many_are_refused(monkeypatch):
    """h11 parses a chunked body a chunk at a time, in Python: a body in 1-byte chunks held
    the loop (the window's, for its inbox) for 1.4 s at a time, and 3 MiB of it for 36 s.
    Now the loop runs between every 1,024 pieces, and over 65,536 pieces get a 400."""
    parsed = 0
    next_event = h11.Connection.next_event

    def counted(self: h11.Connection) -> Any:
        nonlocal parsed
        parsed += 1
        return next_event(self)

    monkeypatch.setattr(h11.Connection, "next_event", counted)

    def event(size: int) -> bytes:  # exactly `size` bytes: `size` one-byte chunks
        bare = len(json.dumps({"name": "app/chunky", "data": {"x": ""}}))
        return json.dumps({"name": "app/chunky", "data": {"x": "y" * (size - bare)}}).encode()

    async def exchange(port: int, body: bytes) -> tuple[bytes, int]:
        """The answer, and the most pieces parsed between two turns of the loop."""
        sent = asyncio.ensure_future(asyncio.to_thread(
            raw_exchange, port, in_one_byte_chunks(body), 1))
        time.sleep(0.3)  # the loop waits while the client fills the socket's buffers
        most, last = 0, parsed
        while not sent.done():
            await asyncio.sleep(0)
            most, last = max(most, parsed - last), parsed
        return sent.result(), most

    async def scenario() -> tuple[list[tuple[bytes, int]], list[CapturedEvent]]:
        server = InboxServer(port=0)
        await server.start()
        try:
            return [await exchange(server.port, event(size))
                    for size in (65_536, 65_537, 100)], server.events
        finally:
            await server.stop()

    results, captured = asyncio.run(scenario())
    (small, most), (big, _), (after, _) = results
    assert small.startswith(b"HTTP/1.1 200 ")
    assert most <= 1024 + 8  # pieces parsed without the loop running (it was over 20,000)
    assert big.startswith(b"HTTP/1.1 400 ")
    assert json.loads(big.partition(b"\r\n\r\n")[2]) == {
        "ids": [], "status": 400, "error": "the request body came in over 65,536 pieces "
                                           "(chunks); send it in fewer, larger ones"}
    assert after.startswith(b"HTTP/1.1 200 ")  # the server goes on
    # the cap is exact: 65,537 pieces had passed (checked every 1,024, up to 66,559)
    assert [(e.name, e.size) for e in captured] == [("app/chunky", 65_536),
                                                    ("app/chunky", len(event(100)))]


def test_keep_alive_pipelining_and_100_continue(inbox):
    one = b'{"name":"a"}'
    request = b"POST /e/k HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n%s" % (len(one), one)
    assert raw_exchange(inbox.port, request * 3, 3).count(b"HTTP/1.1 200 OK") == 3
    expect = (b"POST /e/k HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\n"
              b"content-length: %d\r\n\r\n" % len(one))
    with socket.create_connection(("127.0.0.1", inbox.port)) as sock:
        sock.settimeout(10)
        sock.sendall(expect)
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 ")
        sock.sendall(one)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
    chunked = (b"POST /e/k HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
               b"c\r\n%s\r\n0\r\n\r\n")
    assert b"HTTP/1.1 200 OK" in raw_exchange(inbox.port, chunked % one, 1)
    assert b"HTTP/1.1 400 " in raw_exchange(inbox.port, b"NOT HTTP AT ALL\r\n\r\n", 1)
    assert len(inbox.events()) == 5


def test_cors_lets_a_browser_app_send(inbox):
    preflight = HTTP.options(f"{inbox.url}/e/k", headers={
        "origin": "http://localhost:3000", "access-control-request-method": "POST",
        "access-control-request-headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert preflight.headers["access-control-allow-headers"] == "content-type"
    sent = HTTP.post(f"{inbox.url}/e/k", content=b'{"name":"a"}',
                      headers={"origin": "http://localhost:3000"})
    assert sent.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_on_event_hears_every_accepted_event_and_its_failures_do_not_break_the_server():
    heard: list[CapturedEvent] = []

    def listener(event: CapturedEvent) -> None:
        heard.append(event)
        if event.name == "boom":
            raise RuntimeError("listener bug")

    with running_inbox(on_event=listener) as inbox:
        response = post(inbox, '[{"name":"a"},{"name":"boom"},{"name":"c"},{"name":""}]')
        assert response.json()["error"] == "event name is empty"
        assert [e.name for e in heard] == ["a", "boom", "c"]
        assert [e.internal_id for e in heard] == response.json()["ids"]
        assert post(inbox, '{"name":"d"}').status_code == 200


def test_stop_closes_idle_keep_alive_connections_and_the_port(caplog):
    async def scenario() -> None:
        server = InboxServer()
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            await reader.readuntil(b"OK\"}\n")
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by stop()
        writer.close()
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", server.port)

    asyncio.run(scenario())
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_head_over_the_cap_is_refused_however_it_arrives(inbox):
    """h11 caps a head only while it is incomplete: 100 KB of headers in one write got a
    200, in ten writes no answer at all."""
    head = (b"POST /e/k HTTP/1.1\r\nhost: x\r\nx-pad: " + b"p" * 100_000
            + b"\r\ncontent-length: 12\r\n\r\n{\"name\":\"a\"}")
    answer = raw_exchange(inbox.port, head, 1)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    assert b"Request header is over the max size: Max 65536 bytes" in answer
    ok = b"POST /e/k HTTP/1.1\r\nhost: x\r\nx-pad: " + b"p" * 60_000 + (
        b"\r\ncontent-length: 12\r\nconnection: close\r\n\r\n{\"name\":\"b\"}")
    assert raw_exchange(inbox.port, ok, 1).startswith(b"HTTP/1.1 200 ")
    assert [e.name for e in inbox.events()] == ["b"]


def test_a_target_in_absolute_form_is_routed_as_its_path(inbox):
    request = (b"POST http://127.0.0.1/e/k?x=1 HTTP/1.1\r\nhost: x\r\ncontent-length: 16\r\n"
               b"connection: close\r\n\r\n{\"name\":\"raw/a\"}")
    assert raw_exchange(inbox.port, request, 1).startswith(b"HTTP/1.1 200 ")
    assert [e.name for e in inbox.events()] == ["raw/a"]


# -- clients that never finish: timeouts and a cap on connections -----------------------

def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (what it sent before is read and dropped),
    or None when it was still open after `seconds`."""
    start = time.perf_counter()
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return None
    return time.perf_counter() - start


def test_idle_and_stalled_connections_are_closed():
    """Connections left open, idle or mid-request, were held for ever: about a thousand
    of them ran the process out of descriptors and the inbox answered no one."""
    from console.services.inbox_http import ConnectionLimits

    limits = ConnectionLimits(idle_seconds=0.5, stall_seconds=0.5)
    with running_inbox(limits=limits) as box:
        def connect(data: bytes) -> socket.socket:
            sock = socket.create_connection(("127.0.0.1", box.port))
            sock.sendall(data)
            return sock

        kept = connect(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")  # answered, kept alive
        silent = connect(b"")
        half_head = connect(b"POST /e/k HTTP/1.1\r\nhost: x\r\n")
        half_body = connect(b"POST /e/k HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n"
                            b'{"name": ')
        socks = [kept, silent, half_head, half_body]
        try:
            took = [closed_within(s, 5) for s in socks]
        finally:
            for sock in socks:
                sock.close()
        assert all(t is not None and t < 3 for t in took), took
        assert box.events() == []
        assert HTTP.get(box.url + "/health").status_code == 200


def test_a_connection_over_the_cap_gets_503_and_the_next_one_after_a_close_is_served():
    from console.services.inbox_http import ConnectionLimits

    with running_inbox(limits=ConnectionLimits(max_connections=3)) as box:
        held = [socket.create_connection(("127.0.0.1", box.port)) for _ in range(3)]
        time.sleep(0.2)  # the server has taken them
        try:
            answer = raw_exchange(box.port, b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n", 1)
            assert answer.startswith(b"HTTP/1.1 503 "), answer[:80]
            said = json.loads(answer.partition(b"\r\n\r\n")[2])
            assert said["error"].startswith("the inbox has 3 connections open, its most")
            held.pop().close()
            time.sleep(0.2)
            ok = raw_exchange(box.port, b"GET /health HTTP/1.1\r\nhost: x\r\n"
                                        b"connection: close\r\n\r\n", 1)
            assert ok.startswith(b"HTTP/1.1 200 "), ok[:80]
        finally:
            for sock in held:
                sock.close()


def test_content_length_and_chunked_together_is_answered_and_closed(inbox):
    """Which of the two ends the body is a guess: the bytes Content-Length counted were
    run as a second request, a smuggled event captured (RFC 9112, 6.1: close)."""
    smuggled = b"POST /e/smuggled HTTP/1.1\r\nhost: x\r\ncontent-length: 16\r\n\r\n" \
               b'{"name":"sneak"}'
    body = b"0\r\n\r\n" + smuggled
    request = (b"POST /e/k HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n"
               b"content-length: %d\r\n\r\n" % len(body)) + body
    answer = raw_exchange(inbox.port, request, 2)
    assert answer.count(b"HTTP/1.1 ") == 1 and b"connection: close" in answer.lower()
    assert [e.name for e in inbox.events()] == []


def test_a_malformed_request_line_is_named_without_python_reprs(inbox):
    answer = raw_exchange(inbox.port, b"HELLO\r\n\r\n", 1)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {
        "status": 400, "error": "illegal request line"}


def test_bodies_held_at_once_are_capped_and_the_one_over_gets_503():
    """Ten clients each sending most of a 60 MiB body held 637 MB until they went away."""
    from console.services.inbox_http import ConnectionLimits

    with running_inbox(limits=ConnectionLimits(max_buffered=1 << 20)) as box:
        with socket.create_connection(("127.0.0.1", box.port)) as first:
            body = json.dumps({"name": "big", "data": {"s": "x" * 800_000}}).encode()
            first.sendall(b"POST /e/k HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n"
                          % len(body) + body[:-10])  # held, not finished
            time.sleep(0.3)
            over = json.dumps({"name": "more", "data": {"s": "y" * 400_000}}).encode()
            answer = raw_exchange(box.port, b"POST /e/k HTTP/1.1\r\nhost: x\r\n"
                                  b"content-length: %d\r\n\r\n" % len(over) + over, 1)
            assert answer.startswith(b"HTTP/1.1 503 "), answer[:80]
            assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"].startswith(
                "the inbox is reading 1 MiB of request bodies at once, its most")
            first.sendall(body[-10:])  # the first one finishes, and is taken
            first.settimeout(10)
            assert first.recv(65536).startswith(b"HTTP/1.1 200 ")
        small = b'{"name": "after", "data": {}}'
        assert raw_exchange(box.port, b"POST /e/k HTTP/1.1\r\nhost: x\r\nconnection: close\r\n"
                            b"content-length: %d\r\n\r\n" % len(small) + small, 1).startswith(
            b"HTTP/1.1 200 ")
        assert [e.name for e in box.events()] == ["big", "after"]


def test_a_client_that_never_reads_its_answers_is_closed_after_the_stall_limit():
    """Only reads had limits: a client that asked and took none of the answers held its
    connection (and its place among the connections) for ever."""
    from console.services.inbox_http import ConnectionLimits

    limits = ConnectionLimits(stall_seconds=0.5, max_connections=1)
    with running_inbox(limits=limits) as box:
        body = json.dumps([{"name": "big", "data": {"s": "x" * 20_000}}] * 100)
        assert httpx.post(f"{box.url}/e/k", content=body).status_code == 200  # and closed
        with socket.create_connection(("127.0.0.1", box.port)) as hog:
            hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            hog.sendall(b"GET /v1/events?limit=100 HTTP/1.1\r\nhost: x\r\n\r\n" * 20)
            time.sleep(0.3)
            assert raw_exchange(box.port, b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n",
                                1).startswith(b"HTTP/1.1 503 ")  # the hog holds the one place
            time.sleep(2)
            answer = raw_exchange(box.port, b"GET /health HTTP/1.1\r\nhost: x\r\n"
                                  b"connection: close\r\n\r\n", 1)
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:80]
