"""Scenario results as JUnit XML, the report format every CI system reads.

One <testsuite> per scenario run, one <testcase> per send (a repeat or a data row is its
own test case, named so a CI page reads like the timeline). An unmet expectation is a
<failure>, a send that could not be made or got no answer is an <error>, a stopped step is
<skipped>, and so is one "not run" case for the sends a stop kept from starting. Waits are
not tests and are left out. Text that XML 1.0 cannot carry (control characters) is dropped
so the file always parses.
"""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from console.services.run_results import CANCELLED, ERROR, FAILED, RunReport, StepResult

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub("", str(value))


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.3f}"


def _testcase(report: RunReport, result: StepResult) -> ET.Element:
    case = ET.Element("testcase", {
        "name": _text(result.label), "classname": _text(f"scenario.{report.scenario}"),
        "time": _seconds(result.duration_ms),
    })
    if result.state == FAILED:
        node = ET.SubElement(case, "failure", {"type": "expectation",
                                               "message": _text(result.reason)})
        node.text = _text(_details(result))
    elif result.state == ERROR:
        node = ET.SubElement(case, "error", {"type": "send", "message": _text(result.reason)})
        node.text = _text(_details(result))
    elif result.state == CANCELLED:
        ET.SubElement(case, "skipped", {"message": _text(result.reason or "stopped")})
    out = ET.SubElement(case, "system-out")
    out.text = _text(_details(result))
    return case


def _details(result: StepResult) -> str:
    lines = [f"status: {result.status if result.status is not None else 'no response'}",
             f"accepted: {result.accepted}/{result.events}"]
    if result.ids:
        lines.append("ids: " + ", ".join(result.ids))
    if result.dedup is not None:
        lines.append("dedup: " + ", ".join(result.dedup))
    if result.error:
        lines.append(f"error: {result.error}")
    return "\n".join(lines)


def junit_xml(report: RunReport) -> bytes:
    sends = [r for r in report.results if r.kind == "send"]
    counts = {
        "tests": str(len(sends) + (1 if report.not_run else 0)),
        "failures": str(sum(r.state == FAILED for r in sends)),
        "errors": str(sum(r.state == ERROR for r in sends)),
    }
    root = ET.Element("testsuites", {"name": "event-console", **counts,
                                     "time": _seconds(report.duration_ms)})
    stamp = datetime.fromtimestamp(report.started_ms / 1000, tz=UTC)
    suite = ET.SubElement(root, "testsuite", {
        "name": _text(report.scenario), **counts,
        "skipped": str(sum(r.state == CANCELLED for r in sends) + (1 if report.not_run else 0)),
        "time": _seconds(report.duration_ms),
        "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S"),
        "hostname": _text(socket.gethostname() or "localhost"),
    })
    props = ET.SubElement(suite, "properties")
    for name, value in (("environment", report.environment), ("target", report.target),
                        ("seed", report.seed), ("dry_run", str(report.dry_run).lower()),
                        ("cancelled", str(report.cancelled).lower())):
        ET.SubElement(props, "property", {"name": name, "value": _text(value)})
    for result in sends:
        suite.append(_testcase(report, result))
    if report.not_run:  # one case for the sends a stop kept from starting: CI shows them
        case = ET.SubElement(suite, "testcase", {
            "name": "not run", "classname": _text(f"scenario.{report.scenario}"),
            "time": "0.000"})
        ET.SubElement(case, "skipped", {
            "message": f"stopped before {report.not_run} more send step(s) started"})
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
