"""The scenario runner against a real inbox on loopback: every request checked."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from console.core.errors import UserError
from console.core.scenario import EventTemplate, Scenario
from console.core.serialize import pretty
from console.services.client import EventApiClient, RetryPolicy, Target
from console.services.outcomes import PollPolicy, RestAccess
from console.services.run_results import load_rows, parse_rows
from console.services.runner import Limits, RunsVerifier, ScenarioRunner
from console.services.workspace import Workspace
from tests.support.inbox_thread import running_inbox

TEMPLATE = {
    "format": "event-console/template@1", "name": "order", "description": "", "tags": [],
    "event": {
        "name": "shop/order.created",
        "data": {"order": "{{ row.order }}", "amount": "{{ row.amount | int }}",
                 "seq": "{{ seq }}", "customer": "{{ fake.name() }}", "run": "{{ vars.run }}"},
        "id": "order-{{ row.order }}-{{ seq }}",
    },
}

SCENARIO = {
    "format": "event-console/scenario@1", "name": "checkout", "description": "",
    "vars": {"run": "r-{{ uuid() }}", "currency": "EUR"},
    "steps": [
        {"send": {"template": "order", "with": {"data": {"currency": "{{ vars.currency }}"}}},
         "as": "order", "repeat": 2, "expect": {"status": 200, "accepted": 1}},
        {"wait": "50ms"},
        {"send": [{"name": "shop/payment.captured",
                   "data": {"orderEvent": "{{ steps.order.ids[0] }}",
                            "order": "{{ steps.order.events[0].data.order }}"}},
                  {"name": "shop/receipt.sent", "data": {"n": "{{ seq }}"}}],
         "as": "payment"},
        {"send": {"template": "order", "with": {"id": "{{ steps.order.events[0].id }}"}},
         "expect": {"dedup": "deduplicated"}},
    ],
}


def workspace(tmp_path: Path, scenario=SCENARIO, template=TEMPLATE) -> Workspace:
    ws = Workspace.open(tmp_path / "ws")
    (ws.folder / "templates" / "order.json").write_text(pretty(template))
    (ws.folder / "scenarios" / "s.json").write_text(pretty(scenario))
    ws.reload_if_changed()
    assert ws.problems == [] and ws.check(ws.scenario(scenario["name"])) == []
    return ws

QUICK = PollPolicy(total=0.3, first_delay=0.05, max_delay=0.1)


def run(coro):
    return asyncio.run(coro)


async def execute(ws: Workspace, inbox_url: str | None, *, key: str = "test-key",
                  attempts: int = 5, **options):
    client = EventApiClient(retry=RetryPolicy(max_attempts=attempts))
    try:
        target = Target(inbox_url, key) if inbox_url else None
        if inbox_url and "verifier" not in options:
            options["verifier"] = RunsVerifier(client, RestAccess(inbox_url), policy=QUICK)
        runner = ScenarioRunner(ws.scenario("checkout"), ws.templates, client=client,
                                target=target, environment="inbox", seed=5, **options)
        assert runner.precheck() == []
        report = await runner.run()
    finally:
        await client.aclose()
    return runner, report


async def rerun_failed(ws: Workspace, url: str, report, *, key: str):
    """Re-run failed of `report`, as the window's button does, to `url` with `key`."""
    client = EventApiClient()
    try:
        runner = ScenarioRunner(ws.scenario("checkout"), ws.templates, client=client,
                                target=Target(url, key), seed=5)
        return await runner.rerun_failed(report)
    finally:
        await client.aclose()


def test_a_data_driven_scenario_with_references_waits_and_repeats(app_home, tmp_path):
    ws = workspace(tmp_path)
    data = tmp_path / "rows.csv"
    data.write_text("order,amount\nA-1,10\nB-2,20\n")
    rows = load_rows(data)
    sleeps: list[float] = []
    progress: list[tuple[int, int]] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(seconds)

    with running_inbox() as inbox:
        runner, report = run(execute(ws, inbox.url, rows=rows, sleep=sleep,
                                     on_progress=lambda d, t: progress.append((d, t))))
        captured = inbox.events()
        assert report.passed, [r.reason for r in report.results]
        assert [(r.row, r.name, r.iteration, r.state) for r in report.results] == [
            (row, name, it, "passed") for row in (1, 2)
            for name, it in (("order", 1), ("order", 2), ("wait 2", 1), ("payment", 1),
                             ("step 4", 1))]
        assert sleeps == [0.05, 0.05]
        assert progress[-1] == (10, 10) and runner.total == 10
        # every request the inbox saw, in order
        assert [e.name for e in captured] == [
            "shop/order.created", "shop/order.created", "shop/payment.captured",
            "shop/receipt.sent", "shop/order.created"] * 2
        sends = [r for r in report.results if r.kind == "send"]
        assert [e.internal_id for e in captured] == [i for r in sends for i in r.ids]
        first_row = [e.event for e in captured[:5]]
        run_id = first_row[0]["data"]["run"]
        assert run_id.startswith("r-") and all(
            e["data"]["run"] == run_id for e in first_row if "run" in e["data"])
        assert first_row[0]["data"] == {"order": "A-1", "amount": 10, "seq": 1, "customer":
                                        first_row[0]["data"]["customer"], "run": run_id,
                                        "currency": "EUR"}
        assert first_row[0]["id"] == "order-A-1-1" and first_row[1]["id"] == "order-A-1-2"
        # steps.order refers to the latest repeat of "order"
        assert first_row[2]["data"] == {"orderEvent": sends[1].ids[0], "order": "A-1"}
        assert first_row[3]["data"] == {"n": 4}
        assert first_row[4]["id"] == "order-A-1-2"
        assert captured[5].event["data"]["order"] == "B-2"
        assert captured[5].event["data"]["amount"] == 20
        assert captured[5].event["data"]["run"] != run_id  # vars render once per row
        dedup_steps = [r for r in sends if r.name == "step 4"]
        assert [r.dedup for r in dedup_steps] == [["deduplicated"], ["deduplicated"]]
        # every send step is confirmed, not only those that expect a dedup outcome
        assert [r.dedup for r in sends if r.name == "order"] == [["ran"]] * 4
        assert [r.runs for r in sends if r.name == "payment"] == [
            [{"outcome": "ran", "runs": 1, "detail": "ran: 1 run"}] * 2] * 2
        assert inbox.runs(captured[4].internal_id) == []
        assert len(inbox.runs(captured[1].internal_id)) == 1


def without_server_values(event):
    """The inbox's receipt time and the internal ids it assigned differ between runs."""
    data = {k: v for k, v in event["data"].items() if k != "orderEvent"}
    return dict(event, ts=None, data=data)


class CountingTransport(httpx.AsyncHTTPTransport):
    """A real transport that remembers the paths it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await super().handle_async_request(request)


def test_runs_are_confirmed_for_every_send_step_unless_verify_is_off(app_home, tmp_path):
    scenario = dict(SCENARIO, steps=[{"send": {"name": "a/plain", "data": {}}}])
    ws = workspace(tmp_path, scenario)

    async def go(url: str, verify: bool):
        transport = CountingTransport()
        client = EventApiClient(transport=transport)
        try:
            runner = ScenarioRunner(ws.scenario("checkout"), ws.templates, client=client,
                                    target=Target(url, "k"), verify=verify,
                                    verifier=RunsVerifier(client, RestAccess(url), policy=QUICK))
            return await runner.run(), transport.paths
        finally:
            await client.aclose()

    with running_inbox() as inbox:
        report, paths = run(go(inbox.url, True))
        first = inbox.events()[0].internal_id
        assert report.passed and report.results[0].dedup == ["ran"]
        assert report.results[0].to_json()["runs"] == [
            {"outcome": "ran", "runs": 1, "detail": "ran: 1 run"}]
        assert paths == ["/e/k", f"/v1/events/{first}/runs"]
        report, paths = run(go(inbox.url, False))
    assert report.passed and paths == ["/e/k"]
    result = report.results[0]
    assert result.dedup is None and result.to_json()["runs"] is None


def test_the_same_seed_reproduces_the_payloads(app_home, tmp_path):
    ws = workspace(tmp_path)
    rows = parse_rows("order,amount\nA,1\n", "rows.csv")
    with running_inbox() as first, running_inbox() as second:
        run(execute(ws, first.url, rows=rows))
        run(execute(ws, second.url, rows=rows))
        a = [without_server_values(e.event) for e in first.events()]
        b = [without_server_values(e.event) for e in second.events()]
    assert a == b and len(a) == 5


def test_a_failed_expectation_and_a_failed_send_fail_the_run(app_home, tmp_path):
    scenario = dict(SCENARIO, steps=[
        {"send": {"name": "a/b", "data": {}}, "expect": {"accepted": 2}},
        {"send": {"name": "a/c", "data": {}}},
    ])
    ws = workspace(tmp_path, scenario)
    with running_inbox(event_key="right") as inbox:
        _, report = run(execute(ws, inbox.url, key="right"))
        assert [(r.state, r.reason) for r in report.results] == [
            ("failed", "expected 2 accepted, got 1 of 1"), ("passed", "1/1 accepted")]
        _, report = run(execute(ws, inbox.url, key="wrong"))
        assert [r.state for r in report.results] == ["failed", "failed"]
        assert report.results[1].reason == "status 401, 0/1 accepted: Event key not found"
        assert "wrong" not in json.dumps(report.to_json())
        _, report = run(execute(ws, "http://127.0.0.1:9", key="k", verifier=None, attempts=1))
        assert report.results[1].state == "error"
        assert report.results[1].reason.startswith("send failed: ")


def test_rerun_failed_steps_with_the_rows_state(app_home, tmp_path):
    scenario = dict(SCENARIO, steps=[
        {"send": {"name": "a/first", "data": {}}, "as": "first"},
        {"send": {"name": "a/second", "data": {"ref": "{{ steps.first.ids[0] }}"}}},
    ])
    ws = workspace(tmp_path, scenario)
    with running_inbox(event_key="right") as inbox:
        _, report = run(execute(ws, inbox.url, key="wrong"))
        assert [(r.state, r.reason) for r in report.results] == [
            ("failed", "status 401, 0/1 accepted: Event key not found"),
            # why step 1 has no ids, not only "(it has none)"
            ("error", "scenarios/s.json:21:19: unknown variable: the list has no item [0] "
                      "(it has none: step 'first' had no event accepted: Event key not found)")]

        rerun = run(rerun_failed(ws, inbox.url, report, key="right"))
        assert [r.state for r in rerun.results] == ["passed", "passed"]
        events = inbox.events()
        assert [e.name for e in events] == ["a/first", "a/second"]
        assert events[1].event["data"]["ref"] == events[0].internal_id
        # a step added above: the results name steps by their place, and "Re-run failed"
        # ran the new step 0 and called the failed one passed
        changed = ws.scenario("checkout")
        changed.steps.insert(0, changed.steps[0])
        runner = ScenarioRunner(changed, ws.templates, dry_run=True)
        assert runner.rerun_problem(report) == (
            "the scenario's steps changed since that run (a step added, removed or edited): "
            "run it again from the start")
        with pytest.raises(UserError, match="steps changed since that run"):
            run(runner.rerun_failed(report))
        assert len(inbox.events()) == 2


def test_stop_cancels_the_step_in_flight_and_sends_nothing_more(app_home, tmp_path):
    scenario = dict(SCENARIO, steps=[
        {"send": {"name": "a/one", "data": {}}}, {"wait": "30s"},
        {"send": {"name": "a/never", "data": {}}},
    ])
    ws = workspace(tmp_path, scenario)
    holder: dict[str, ScenarioRunner] = {}

    def on_result(result):
        if result.name == "step 1":
            asyncio.get_running_loop().call_later(0.05, holder["runner"].stop)

    async def go(url):
        client = EventApiClient()
        try:
            runner = ScenarioRunner(ws.scenario("checkout"), ws.templates, client=client,
                                    target=Target(url, "k"), on_result=on_result)
            holder["runner"] = runner
            return await runner.run()
        finally:
            await client.aclose()

    with running_inbox() as inbox:
        report = run(go(inbox.url))
        assert [e.name for e in inbox.events()] == ["a/one"]
    assert report.cancelled and not report.passed
    assert [(r.name, r.state) for r in report.results] == [("step 1", "passed"),
                                                           ("wait 2", "cancelled")]


def test_a_dry_run_renders_and_checks_everything_and_sends_nothing(app_home, tmp_path):
    ws = workspace(tmp_path)
    results = []
    runner = ScenarioRunner(ws.scenario("checkout"), ws.templates, dry_run=True, seed=1,
                            rows=[{"order": "X", "amount": "3"}], on_result=results.append,
                            limits=Limits(request_limit=300))
    report = run(runner.run())
    assert report.passed and report.dry_run and report.target == ""
    assert [r.state for r in report.results] == ["dry-run"] * 5
    assert report.results[2].reason == "would wait 50ms"
    payment = report.results[3]
    assert len(payment.rendered[0]["data"]["orderEvent"]) == 26
    assert payment.requests == 1 and payment.bytes > 0
    assert results == report.results


def test_a_dry_run_gives_later_steps_the_pre_checks_stand_ins(app_home, tmp_path):
    """The pre-check rendered `steps.a.status + 1` with status 200 and passed it; the dry
    run then gave None, and the step failed with a TypeError a real run would not have."""
    scenario = dict(SCENARIO, steps=[
        {"send": {"name": "x/y", "data": {}}, "as": "a"},
        {"send": {"name": "x/z", "data": {"next": "{{ steps.a.status + 1 }}",
                                          "n": "{{ steps.a.accepted }}"}}},
    ])
    ws = workspace(tmp_path, scenario=scenario)
    runner = ScenarioRunner(ws.scenario(scenario["name"]), ws.templates, dry_run=True)
    assert runner.precheck() == []
    report = run(runner.run())
    assert [r.state for r in report.results] == ["dry-run"] * 2, [
        r.reason for r in report.results]
    assert report.results[1].rendered[0]["data"] == {"next": 201, "n": 1}


def test_render_problems_are_found_before_anything_is_sent(app_home, tmp_path):
    scenario = dict(SCENARIO, steps=[
        {"send": {"name": "a/ok", "data": {}}},
        {"send": {"name": "a/b", "data": "{{ vars.list }}"}},
        {"send": {"name": "a/c", "data": {"x": "{{ row.missing }}"}}},
    ], vars={"list": [1, 2]})
    ws = workspace(tmp_path, scenario)
    runner = ScenarioRunner(ws.scenario("checkout"), ws.templates, dry_run=True)
    assert runner.precheck() == [
        "scenarios/s.json:21:17: event 1: Event data must be a JSON object, not an array",
        "scenarios/s.json:28:17: unknown variable: row has no 'missing' (the row is empty)",
    ]


def test_big_steps_are_split_into_requests_within_the_limits(app_home, tmp_path):
    scenario = dict(SCENARIO, steps=[{"send": [
        {"name": "big/one", "data": {"pad": "x" * 200, "n": "{{ seq }}"}} for _ in range(5)]}])
    ws = workspace(tmp_path, scenario)
    with running_inbox() as inbox:
        _, report = run(execute(ws, inbox.url, limits=Limits(request_limit=600)))
        events = inbox.events()
    result = report.results[0]
    assert result.state == "passed" and result.requests == 3 and result.accepted == 5
    assert [e.event["data"]["n"] for e in events] == [1, 2, 3, 4, 5]
    assert result.ids == [e.internal_id for e in events]


@pytest.mark.parametrize(("name", "text", "message"), [
    ("rows.csv", "a,b\n1,2,3\n", "rows.csv:2:1: more values than columns"),
    ("rows.csv", "", "rows.csv: no header row (the first line names the columns)"),
    ("rows.json", '[{"a": 1}, 2]', "rows.json:1:12: row 2 is not a JSON object"),
    ("rows.json", '{"a": 1}', "rows.json:1:1: a rows file is a JSON array of objects "
                              "(or .csv/.jsonl)"),
    ("rows.json", '[{"a": }]', "rows.json:1:8: Unexpected '}': expected a value"),
    ("rows.jsonl", '{"a": 1}\n[1]\n', "rows.jsonl:2:1: each line must be a JSON object"),
    # these three read as something: the last of two columns, the rest of the file as one
    # value, and "'{' at 1:1" on line 3
    ("rows.csv", "a,b,a\n1,2,3\n", "rows.csv:1:1: the column 'a' is named twice"),
    ("rows.csv", 'a,b\n1,2\n1,"two\n3,4\n', "rows.csv:3:1: not CSV: unexpected end of data"),
    ("rows.jsonl", '{"a": 1}\n{"a": 2}\n{"a": 3\n',
     "rows.jsonl:3:8: Unexpected end of input: '{' at 3:1 is never closed"),
])
def test_bad_rows_files_say_where(name, text, message):
    with pytest.raises(Exception, match=None) as info:
        parse_rows(text, name)
    assert str(info.value) == message


def test_rows_files_of_each_kind():
    assert parse_rows("a,b\n1,\n", "r.csv") == [{"a": "1", "b": ""}]
    assert parse_rows('[{"a": 1}]', "r.json") == [{"a": 1}]
    assert parse_rows('{"a": 1}\n\n{"a": 2}\n', "r.jsonl") == [{"a": 1}, {"a": 2}]
    # the same suffixes as `send` and `validate`, in any case
    for name in ("R.JSONL", "r.ndjson", "R.NDJSON"):
        assert parse_rows('{"a": 1}\n{"a": 2}\n', name) == [{"a": 1}, {"a": 2}], name
    # JSON allows U+2028, U+2029 and U+0085 raw in a string: they split no line (they had
    # cut the row in two: "Unterminated string"); a CRLF or a lone CR does
    for odd in ("\u2028", "\u2029", "\x85"):
        assert parse_rows(f'{{"user": "Ann{odd}Lee"}}\r\n{{"a": 2}}\r{{"a": 3}}', "r.jsonl") == [
            {"user": f"Ann{odd}Lee"}, {"a": 2}, {"a": 3}], repr(odd)


def test_the_model_is_usable_without_files():
    scenario = Scenario("s", [])
    with pytest.raises(ValueError, match="needs a client"):
        ScenarioRunner(scenario, {"t": EventTemplate("t", {"name": "a"})})
    aimless = ScenarioRunner(scenario, {}, client=EventApiClient())  # its target comes later
    with pytest.raises(ValueError, match="needs a target"):
        asyncio.run(aimless.run())


def test_with_merges_into_a_template_however_deep_both_are():
    """A template and a `with` nested 100,000 deep raised RecursionError out of `run` (the
    envelope check, after the merge, says "nested too deeply" as for an inline event)."""
    from console.services.runner import deep_merge

    def nested(depth: int, leaf: dict) -> dict:
        value = leaf
        for _ in range(depth):
            value = {"a": value}
        return value

    merged = deep_merge(nested(100_000, {"x": 1, "y": 2}), nested(100_000, {"y": 3}))
    for _ in range(100_000):
        merged = merged["a"]
    assert merged == {"x": 1, "y": 3}
    assert deep_merge({"a": {"b": 1}, "c": 2}, {"a": 5, "d": {"e": 1}}) == {
        "a": 5, "c": 2, "d": {"e": 1}}
    assert deep_merge({"a": 1}, [1]) == [1]


def test_a_step_expecting_nothing_accepted_is_an_error_when_nothing_answered(app_home,
                                                                            tmp_path):
    """`"accepted": 0` (a refused-key test) passed, exit 0, when the server was down: the
    0 it expected was the 0 of a send that never arrived."""
    scenario = dict(SCENARIO, steps=[
        {"send": {"name": "a/b", "data": {}}, "expect": {"accepted": 0}}])
    ws = workspace(tmp_path, scenario)
    _, report = run(execute(ws, "http://127.0.0.1:9", key="k", verifier=None, attempts=1))
    [result] = report.results
    assert result.state == "error"
    assert result.reason.startswith('no answer, so "0 accepted" proves nothing: could not '
                                    "connect to http://127.0.0.1:9/e/"), result.reason
    assert not report.passed


def test_the_events_summary_counts_the_events_not_taken(app_home, tmp_path):
    """"273 accepted · 273 ran" was said of 300 events, 27 of them refused."""
    from console.services.run_results import RunReport, StepResult

    report = RunReport("s", "inbox", "", 1)
    report.results = [
        StepResult(0, "a", "send", None, 1, status=500, events=2, accepted=0,
                   runs=[{"outcome": "not accepted"}] * 2, dedup=[]),
        StepResult(1, "b", "send", None, 1, status=200, events=3, accepted=2,
                   runs=[{"outcome": "ran"}, {"outcome": "not accepted"},
                         {"outcome": "deduplicated"}], dedup=["ran", "deduplicated"]),
    ]
    assert report.events_summary() == "2 accepted · 3 not accepted · 1 deduplicated · 1 ran"


def test_a_rerun_renders_a_step_that_never_sent_from_where_it_began(app_home, tmp_path):
    """A step that failed before sending (it used a step the server refused) was rendered
    anew from the seed's start at Re-run failed: `seq` began again, and it sent step 1's id
    (deduplicated by Inngest) and passed."""
    scenario = dict(SCENARIO, steps=[
        {"send": {"name": "a/first", "id": "o-{{ seq }}", "data": {"n": "{{ seq }}"}},
         "as": "first"},
        {"send": {"name": "a/second", "id": "o-{{ seq }}",
                  "data": {"ref": "{{ steps.first.ids[0] }}", "u": "{{ uuid() }}"}}},
    ])
    ws = workspace(tmp_path, scenario)
    with running_inbox(event_key="right") as inbox:
        _, report = run(execute(ws, inbox.url, key="wrong"))
        assert [r.state for r in report.results] == ["failed", "error"]

        rerun = run(rerun_failed(ws, inbox.url, report, key="right"))
        sent = [e.event for e in inbox.events()]
    assert [r.state for r in rerun.results] == ["passed", "passed"]
    assert [e["id"] for e in sent] == ["o-1", "o-2"]  # as a run from the start sends them
    _, fresh = run(execute(ws, None, dry_run=True))
    assert sent[1]["data"]["u"] == fresh.results[1].rendered[0]["data"]["u"]


def test_a_step_with_a_request_not_answered_is_an_error_whatever_the_others_said(
        app_home, tmp_path):
    """[400, no answer] read as 400: a step expecting 400 passed, though its second request
    was never answered (the other way round it was an error)."""
    from tests.support.fault_server import FaultServer, Reply

    scenario = dict(SCENARIO, steps=[
        {"send": [{"name": "a/b", "data": {"pad": "x" * 300}},
                  {"name": "a/c", "data": {"pad": "y" * 300}}],
         "expect": {"status": 400}}])
    ws = workspace(tmp_path, scenario)
    with FaultServer() as server:
        server.script(Reply.json(400, {"ids": [], "status": 400, "error": "bad"}),
                      Reply.reset())
        _, report = run(execute(ws, server.origin, key="k", verifier=None, attempts=1,
                                limits=Limits(request_limit=500, event_limit=500)))
    [result] = report.results
    assert (result.state, result.status) == ("error", None), result.reason


def _one_step(tmp_path: Path, data: dict, repeat: int, **extra) -> Workspace:
    return workspace(tmp_path, {
        "format": "event-console/scenario@1", "name": "checkout",
        "steps": [{"send": {"name": "a/b", "data": data}, "repeat": repeat}], **extra})


def test_a_mistake_met_in_every_repeat_is_said_once_and_stop_is_heard_within_a_row(
        app_home, tmp_path):
    """Its words differ from one repeat to the next ("no item [3]", "no item [4]", ...):
    10,000 repeats gave 9,997 lines. And the pre-check gave the loop a turn only between
    data rows: a Stop 0.5 s into 30,000 repeats was heard after 5.9 s."""
    ws = _one_step(tmp_path, {"sku": "{{ vars.skus[seq - 1] }}"}, 10_000,
                   vars={"skus": ["a", "b", "c"]})
    runner = ScenarioRunner(ws.scenario("checkout"), ws.templates, dry_run=True)
    [said] = runner.precheck()
    assert said.endswith(": unknown variable: the list has no item [3] (it has 3 items) "
                         "(first in repeat 4 of 10000; 9,996 more times)"), said

    rendered: list[int] = []
    stopping = ScenarioRunner(ws.scenario("checkout"), ws.templates, dry_run=True)
    events = stopping._events
    stopping._events = lambda *args: rendered.append(1) or events(*args)  # type: ignore

    async def stop_soon() -> list[str]:
        asyncio.get_running_loop().call_later(0.05, stopping.stop)
        return await stopping.precheck_async()

    run(stop_soon())
    assert 0 < len(rendered) < 10_000  # stopped within the row's repeats


def test_a_var_given_with_var_may_use_the_scenarios_earlier_vars(app_home, tmp_path):
    """Overriding "order" with a value that uses "prefix" (a scenario var before it) said
    "vars has no 'prefix'" once --var values were all rendered first."""
    ws = _one_step(tmp_path, {"order": "{{ vars.order }}", "url": "{{ vars.url }}"}, 1,
                   vars={"prefix": "ord", "order": "{{ vars.prefix }}-1",
                         "url": "https://{{ vars.host }}/x"})
    runner = ScenarioRunner(ws.scenario("checkout"), ws.templates, dry_run=True,
                            variables={"order": "{{ vars.prefix }}-99", "host": "example.com"})
    assert runner.precheck() == []
    report = run(runner.run())
    assert report.results[0].rendered == [
        {"name": "a/b", "data": {"order": "ord-99", "url": "https://example.com/x"}}]
