"""What a scenario run came to, step by step, and the data rows it ran over.

Why a separate module: the CLI prints these as JSON lines, the GUI shows them in its
timeline, and the exports (JSON, JUnit XML) read them; none of those needs the runner.
Results hold no secret: errors from the client are already scrubbed of the key, and the
target is shown by environment name and masked URL only.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.core.batch import is_jsonl_name
from console.core.dedup import OutcomeKind, summary_line
from console.core.errors import InputError
from console.core.positions import parse_with_positions, text_lines
from console.core.serialize import json_text
from console.services.text_files import checkout_root, read_text_file

MAX_ROWS_BYTES = 64 * 1024 * 1024

PASSED, FAILED, ERROR, CANCELLED, DRY_RUN = "passed", "failed", "error", "cancelled", "dry-run"
SAID = {CANCELLED: "stopped"}  # a state in words for people, where it differs
_KINDS = {kind.value for kind in OutcomeKind}


@dataclass
class StepResult:
    """One execution of one step (a repeat of a step is its own result)."""

    step: int  # 0-based index in the scenario
    name: str
    kind: str  # "send" | "wait"
    row: int | None = None  # 1-based data row
    iteration: int = 1  # 1-based repeat number
    state: str = PASSED  # passed | failed (expectation) | error (could not send) | cancelled
    reason: str = ""
    status: int | None = None
    ids: list[str] = field(default_factory=list)
    events: int = 0
    accepted: int = 0
    error: str | None = None
    dedup: list[str] | None = None  # confirmed outcome per accepted event ("ran", ...)
    predicted: list[dict[str, Any]] | None = None  # the dedup ledger's verdicts, per event
    runs: list[dict[str, Any]] | None = None  # confirmed outcomes with details, per event
    started_ms: int = 0
    duration_ms: float = 0.0
    requests: int = 0
    bytes: int = 0
    rendered: list[Any] = field(default_factory=list, repr=False)
    # where the run's rendering stood when this step began (RenderRun.mark): a re-run of a
    # step that failed before sending renders from there, not from the seed's start
    render_mark: Any = field(default=None, repr=False, compare=False)
    # each event's fate as the send's answers tell it (accepted, or why not): what the
    # run's summary counts when runs were not looked up
    taken: list[OutcomeKind] = field(default_factory=list, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return self.state in (PASSED, DRY_RUN)

    @property
    def outcome_kinds(self) -> list[OutcomeKind]:
        """The confirmed outcome of every event of the step, in order, the ones not taken
        too (empty when runs were not looked up)."""
        return [OutcomeKind(run["outcome"]) for run in self.runs or []
                if run.get("outcome") in _KINDS]

    @property
    def key(self) -> tuple[int | None, int, int]:
        return (self.row, self.step, self.iteration)

    @property
    def label(self) -> str:
        parts = [self.name]
        if self.iteration > 1:
            parts.append(f"#{self.iteration}")
        if self.row is not None:
            parts.append(f"(row {self.row})")
        return " ".join(parts)

    def to_json(self, *, sent: bool = False) -> dict[str, Any]:
        """One result; `sent` adds the rendered events (the JSON export has them)."""
        out: dict[str, Any] = {
            "step": self.step + 1, "name": self.name, "kind": self.kind, "row": self.row,
            "iteration": self.iteration, "state": self.state, "passed": self.passed,
            "reason": self.reason,
        }
        if self.kind == "send":
            out.update({
                "status": self.status, "ids": self.ids, "events": self.events,
                "accepted": self.accepted, "error": self.error, "dedup": self.predicted,
                "runs": self.runs, "requests": self.requests, "bytes": self.bytes,
            })
        out["duration_ms"] = round(self.duration_ms, 1)
        if sent and self.kind == "send":
            out["sent"] = self.rendered
        return out


@dataclass
class RowState:
    """What later steps of one data row can refer to."""

    row: dict[str, Any]
    vars: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class RunReport:
    scenario: str
    environment: str
    target: str  # masked URL, or "" for a dry run
    seed: int
    dry_run: bool = False
    started_ms: int = 0
    duration_ms: float = 0.0
    cancelled: bool = False
    results: list[StepResult] = field(default_factory=list)
    rows: list[RowState] = field(default_factory=list, repr=False)
    steps: str = field(default="", repr=False)  # the steps that ran, as JSON ("Re-run failed")
    not_run: int = 0  # send steps a stop kept from starting (repeats and rows counted)

    @property
    def passed(self) -> bool:
        return not self.cancelled and all(r.passed for r in self.results)

    @property
    def failed(self) -> list[StepResult]:
        return [r for r in self.results if r.state in (FAILED, ERROR)]

    def events_summary(self) -> str:
        """What the run's events did, "2 accepted · 1 not accepted · 1 ran" ("" when no
        step's runs were looked up). A step whose runs were not looked up (--no-verify)
        still counts its events, as its answers tell: they were left out, and "1
        accepted" was said of three; then its refused ones were."""
        if not any(result.runs for result in self.results):
            return ""
        kinds: list[OutcomeKind] = []
        for result in self.results:
            # every event's, the ones not taken too: "273 accepted · 273 ran" had been
            # said of 300 events, 27 of them refused
            kinds += result.outcome_kinds or result.taken
        return summary_line(kinds)

    def counts(self) -> dict[str, int]:
        out = {PASSED: 0, FAILED: 0, ERROR: 0, CANCELLED: 0, DRY_RUN: 0}
        for result in self.results:
            out[result.state] = out.get(result.state, 0) + 1
        return out

    def counts_text(self) -> str:
        """The counts for people ("2 passed, 1 stopped"; "no steps"): a cancelled step
        reads "stopped", as the results table and the run's verdict say."""
        return ", ".join(f"{n} {SAID.get(state, state)}" for state, n in self.counts().items()
                         if n) or "no steps"

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "environment": self.environment, "target": self.target,
            "seed": self.seed, "dry_run": self.dry_run, "started_ms": self.started_ms,
            "duration_ms": round(self.duration_ms, 1), "cancelled": self.cancelled,
            "not_run": self.not_run,
            "passed": self.passed, "counts": self.counts(),
            "results": [r.to_json(sent=True) for r in self.results],
        }


def parse_rows(text: str, name: str) -> list[dict[str, Any]]:
    """Rows of a data file: CSV with a header row, a JSON array of objects, or JSON Lines."""
    if name.lower().endswith(".csv"):
        # strict: a quote never closed was read as the rest of the file, without a word
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        table: list[dict[str, Any]] = []
        try:
            if not reader.fieldnames:
                raise InputError(f"{name}: no header row (the first line names the columns)")
            twice = sorted({c for c in reader.fieldnames if reader.fieldnames.count(c) > 1})
            if twice:  # the last such column was kept, the others dropped
                raise InputError(f"{name}:1:1: the column {twice[0]!r} is named twice")
            start = reader.line_num + 1  # where the row being read begins
            for row in reader:
                if None in row:
                    raise InputError(f"{name}:{reader.line_num}:1: more values than columns")
                table.append({k: ("" if v is None else v) for k, v in row.items()})
                start = reader.line_num + 1
        except csv.Error as exc:
            raise InputError(f"{name}:{start}:1: not CSV: {exc}") from None
        return table
    if is_jsonl_name(name):
        rows: list[dict[str, Any]] = []
        for number, line in enumerate(text_lines(text), start=1):
            if not line.strip():
                continue
            doc = parse_with_positions(line)
            if doc.error is not None:  # "'{' at 1:1 is never closed": this file's line
                said = doc.error.message.replace("' at 1:", f"' at {number}:", 1)
                raise InputError(f"{name}:{number}:{doc.error.column}: {said}")
            if not isinstance(doc.value, dict):
                raise InputError(f"{name}:{number}:1: each line must be a JSON object")
            rows.append(doc.value)
        return rows
    doc = parse_with_positions(text)
    if doc.error is not None:
        raise InputError(doc.error.located(name))
    if not isinstance(doc.value, list):
        raise InputError(f"{name}:1:1: a rows file is a JSON array of objects (or .csv/.jsonl)")
    for i, row in enumerate(doc.value):
        if not isinstance(row, dict):
            span = doc.span(f"/{i}")
            row_line, col = doc.lines.line_col(span.start if span else 0)
            raise InputError(f"{name}:{row_line}:{col}: row {i + 1} is not a JSON object")
    return list(doc.value)


def load_rows(path: Path, workspace: Path | None = None) -> list[dict[str, Any]]:
    """The rows of a `--data` file; one that leads through a link out of the workspace (or
    the current folder) is not read (see text_files.checkout_root)."""
    try:
        text = read_text_file(path, max_bytes=MAX_ROWS_BYTES, kind="a rows file",
                              not_binary="not CSV or JSON text",
                              within=checkout_root(path, workspace))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    rows = parse_rows(text, str(path))
    if not rows:
        raise InputError(f"{path}: no rows")
    return rows


def report_json(report: RunReport) -> str:
    return json_text(report.to_json(), indent=2) + "\n"
