"""JUnit XML output, validated against the JUnit schema CI servers use."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lxml import etree

from console.core.scenario import parse_scenario
from console.services.junit import junit_xml
from console.services.run_results import RunReport, StepResult
from console.services.runner import ScenarioRunner
from console.services.workspace import Workspace

XSD = etree.XMLSchema(etree.parse(str(Path(__file__).parents[1] / "support" / "junit.xsd")))
EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def validated(data: bytes) -> etree._Element:
    root = etree.fromstring(data)
    XSD.assertValid(root)
    return root


def test_every_kind_of_result_is_valid_junit():
    report = RunReport("checkout \u00e9", "Inbox", "http://127.0.0.1:8289/e/****abcd", 42,
                       started_ms=1_700_000_000_000, duration_ms=1234.5)
    report.results = [
        StepResult(0, "order", "send", row=1, state="passed", reason="1/1 accepted",
                   status=200, ids=["01J0000000000000000000000A"], events=1, accepted=1,
                   duration_ms=12.3),
        StepResult(1, "wait 2", "wait", row=1, reason="waited 1s"),
        StepResult(2, "payment", "send", row=1, iteration=2, state="failed",
                   reason="expected status 400, got 200", status=200, events=1, accepted=1,
                   dedup=["ran"]),
        StepResult(3, "step 4", "send", row=1, state="error",
                   reason="send failed: could not connect \x00\x1b<&>", status=None,
                   error="could not connect"),
        StepResult(4, "step 5", "send", row=1, state="cancelled", reason="stopped"),
    ]
    root = validated(junit_xml(report))
    suite = root.find("testsuite")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "1")
    assert suite.get("name") == "checkout \u00e9" and suite.get("skipped") == "1"
    assert suite.get("timestamp") == "2023-11-14T22:13:20" and suite.get("time") == "1.234"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {"environment": "Inbox", "target": "http://127.0.0.1:8289/e/****abcd",
                     "seed": "42", "dry_run": "false", "cancelled": "false"}
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "order (row 1)", "payment #2 (row 1)", "step 4 (row 1)", "step 5 (row 1)"]
    assert cases[0].get("classname") == "scenario.checkout \u00e9"
    assert cases[1].find("failure").get("message") == "expected status 400, got 200"
    assert cases[2].find("error").get("message") == "send failed: could not connect <&>"
    assert cases[3].find("skipped").get("message") == "stopped"
    assert "ids: 01J0000000000000000000000A" in cases[0].find("system-out").text


def test_a_real_dry_run_report_is_valid_junit(app_home, tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    for kind in ("templates", "scenarios"):
        for file in (EXAMPLES / kind).iterdir():
            (ws.folder / kind / file.name).write_bytes(file.read_bytes())
    ws.reload_if_changed()
    scenario = ws.scenario("checkout")
    runner = ScenarioRunner(scenario, ws.templates, dry_run=True, seed=3)
    report = asyncio.run(runner.run())
    root = validated(junit_xml(report))
    assert root.get("tests") == "3" and root.get("failures") == "0"


def test_an_empty_report_is_valid_junit():
    scenario, _ = parse_scenario(
        '{"format": "event-console/scenario@1", "name": "s", "steps": [{"wait": "1s"}]}', "s")
    report = RunReport(scenario.name, "", "", 1)
    assert validated(junit_xml(report)).get("tests") == "0"


def test_the_schema_rejects_what_ci_servers_would_not_read():
    broken = (b'<testsuites><testsuite name="s" tests="1" failures="0" errors="0">'
              b'<testcase classname="c"/></testsuite></testsuites>')
    assert not XSD.validate(etree.fromstring(broken))
    assert "'name' is required" in str(XSD.error_log.last_error)


def test_a_report_written_to_a_pipe_goes_into_the_pipe(tmp_path):
    """`run --junit PIPE` (or /dev/stdout) replaced the pipe with a plain file: the write
    is atomic by renaming a temp file over the path, which is right for files only."""
    import os
    import threading

    from console.services.atomic import write_text_atomic

    pipe = tmp_path / "results.fifo"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text("utf-8")))
    reader.start()
    write_text_atomic(pipe, "<testsuites/>\n")
    reader.join(timeout=10)
    assert received == ["<testsuites/>\n"]
    assert pipe.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["results.fifo"]
    plain = tmp_path / "plain.xml"
    write_text_atomic(plain, "x")  # a file is still replaced whole
    assert plain.read_text("utf-8") == "x"
