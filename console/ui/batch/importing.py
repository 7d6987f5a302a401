"""Importing events into the batch composer: from files, the clipboard, dropped files.

All or nothing, with the same validation as the editor and `send`. A big text is checked
on a worker thread while the window stays live; its rows then arrive in one undoable step
with the bytes the check made. `BatchImports` is a part of `BatchComposer` (it uses the
composer's widgets, tasks, batch and undo stack).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, cast

from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QLabel, QPushButton, QWidget

from console.core.batch import is_jsonl_name, read_events
from console.core.errors import InputError
from console.core.problems import Problem
from console.core.validation import Report
from console.services.text_files import MAX_INPUT_BYTES, read_text_file
from console.ui.batch.model import BatchListModel, event_warnings
from console.ui.tasks import TaskOwner, loop_running

_MAX_SHOWN_PROBLEMS = 6
# texts from this size on are checked on a worker thread while the window stays live
# (50,000 events of ~1 KiB: 0.7 s of parsing and checking)
BACKGROUND_IMPORT_CHARS = 1 << 20


class Checked(NamedTuple):
    """An import's report, each event's warnings as its row has them (`event_warnings`),
    and the schemas they are of."""

    report: Report
    warnings: list[tuple[Problem, ...]]
    schemas: Any


class BatchImports:
    """The import half of `BatchComposer` (a mix-in: the composer provides the rest)."""

    tasks: TaskOwner
    schemas: Any
    importing: asyncio.Task[bool] | None
    import_end: int
    _importing_source: str
    status_label: QLabel
    actions_by_name: dict[str, QAction]

    # the composer's
    model: BatchListModel
    import_finished: Any  # Signal(bool)
    preview_button: QPushButton
    add_events: Callable[..., None]
    _show_error: Callable[[str], None]

    def import_text(
        self, text: str, *, source: str = "clipboard", jsonl: bool | None = None,
        verb: str = "Import", at: int | None = None,
    ) -> bool:
        """All or nothing: on any error nothing is added and the problems are shown.

        The same validation as the editor and `send` (syntax and envelope rules, with
        line:col); sizes are left to the plan, which marks an oversized row with its reason.
        Schema warnings do not block: the rows keep them (a row's tooltip, Send's "Send
        anyway?"). A text of `BACKGROUND_IMPORT_CHARS` or more is checked
        on a worker thread while the window stays live: then True means the import has
        started (`self.importing`), and `import_finished` says how it ended. `at`: the row
        to insert at (default: after the current row); `self.import_end` is the row after
        the last one an import added.
        """
        schemas = self.schemas
        return self._import(
            lambda: _checked(read_events(text, jsonl=jsonl, schemas=schemas), schemas),
            len(text), source, verb, at)

    def import_file(self, path: str | Path, *, at: int | None = None) -> bool:
        """`import_text` of a file (JSON Lines by its name); a big one is read on the worker
        thread too."""
        path = Path(path)
        jsonl = True if is_jsonl_name(path.name) else None
        try:
            size = path.stat().st_size
        except OSError as exc:
            self._show_error(_unreadable(path, exc))
            return False
        schemas = self.schemas
        return self._import(
            lambda: _checked(read_events(_read_text(path), jsonl=jsonl, schemas=schemas),
                             schemas),
            size, path.name, "Import", at)

    def _import(self, check: Callable[[], Checked], size: int, source: str, verb: str,
                at: int | None) -> bool:
        if self.importing is not None:
            self._show_error(f"Still importing {self._importing_source}: "
                             "try again when it is done")
            return False
        if size < BACKGROUND_IMPORT_CHARS or not loop_running():
            try:
                checked = check()
            except InputError as exc:
                self._show_error(str(exc))
                return False
            return self._take_import(checked.report, source, verb, at, known=checked)
        self._importing_source = source
        self._show_status(f"Importing {source} ({size / 2**20:.1f} MB)…")
        self._enable_imports(False)
        self.importing = self.tasks.spawn(
            self._import_in_background(check, source, verb, at), "batch-import")
        return True

    async def _import_in_background(self, check: Callable[[], Checked], source: str,
                                    verb: str, at: int | None) -> bool:
        added = False
        try:
            checked = await asyncio.to_thread(check)
            added = self._take_import(checked.report, source, verb,
                                      min(at, len(self.model.batch)) if at is not None
                                      else None, known=checked)
        except InputError as exc:
            self._show_error(str(exc))
        finally:
            self.importing = None
            with contextlib.suppress(RuntimeError):  # the window closed meanwhile
                self._show_status("")
                self._enable_imports(True)
        self.import_finished.emit(added)
        return added

    def _take_import(self, report: Report, source: str, verb: str, at: int | None, *,
                     known: Checked | None = None) -> bool:
        """`known`: the events' warnings (`_checked`), which the rows keep; without them a
        row is checked when its warnings are first asked for."""
        errors = report.errors
        if errors:
            count = len(errors)
            lines = [f"Nothing {verb.lower()}ed: {count} problem{'s' if count > 1 else ''}"
                     f" in {source}"]
            lines += [p.located(source) for p in errors[:_MAX_SHOWN_PROBLEMS]]
            if count > _MAX_SHOWN_PROBLEMS:
                lines.append(f"… and {count - _MAX_SHOWN_PROBLEMS} more")
            self._show_error("\n".join(lines))
            return False
        made = [p for p in report.parts if p is not None]
        parts = made if len(made) == len(report.events) else None
        if parts is not None and known is not None:
            self.model.know_warnings(parts, known.warnings, known.schemas)
        self.add_events(report.events, verb=verb, parts=parts, checked=True, at=at)
        return True

    def still_importing(self) -> str | None:
        """While a big import is checked the batch does not hold it yet: Send, Preview and
        Save Batch as Scenario would have taken the editor's event instead (or the rows
        before it), so they wait; this says why, or None."""
        if self.importing is None:
            return None
        return f"still importing {self._importing_source}: try again when it is done"

    def _enable_imports(self, enabled: bool) -> None:
        """Off while an import runs: another import, and the batch's own Preview (it would
        preview the rows before the import)."""
        for name in ("import_file", "import_clipboard"):
            self.actions_by_name[name].setEnabled(enabled)
        self.preview_button.setEnabled(enabled)

    def import_clipboard(self) -> bool:
        text = QGuiApplication.clipboard().text()
        return self.import_text(text, source="clipboard")

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            cast(QWidget, self), "Import events", "",
            "Events (*.json *.jsonl *.ndjson);;All files (*)",
        )
        if path:
            self.import_file(path)

    def import_files(self, paths: list[str]) -> None:
        """Dropped files, one after the other in the batch as in the drop, stopping at the
        first that cannot be imported."""
        if loop_running():
            self.tasks.spawn(self._import_files_in_order(paths), "batch-import-files")
            return
        at = None
        for path in paths:
            if not self.import_file(path, at=at):
                break
            at = self.import_end

    async def _import_files_in_order(self, paths: list[str]) -> None:
        at = None
        for path in paths:
            if self.importing is not None:
                await asyncio.shield(self.importing)
            if not self.import_file(path, at=at):
                return
            if self.importing is not None and not await asyncio.shield(self.importing):
                return
            at = self.import_end

    def _show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

    def status_text(self) -> str:
        return self.status_label.text() if self.status_label.isVisible() else ""


def _checked(report: Report, schemas: Any) -> Checked:
    """`report` with its events' warnings as their rows will have them: an event the
    import found none for has none (its row is the same event, its text as first written
    gone); one it found some for is checked again as its row (a duplicate key is no more)."""
    if report.errors:
        return Checked(report, [], schemas)
    several = isinstance(report.value, list)
    warned: set[int] = set()
    for problem in report.warnings:
        token = problem.pointer.split("/")[1] if problem.pointer.count("/") else ""
        if not several:
            warned.add(0)
        elif token.isdigit():
            warned.add(int(token))
        else:  # not one event's: every one is checked as its row
            warned.update(range(len(report.parts)))
    found = [event_warnings(part, schemas) if i in warned and part is not None else ()
             for i, part in enumerate(report.parts)]
    return Checked(report, found, schemas)


def _unreadable(path: Path, exc: OSError) -> str:
    return f"Cannot read {path.name}: {exc.strerror or exc}"


def _read_text(path: Path) -> str:
    """The file as UTF-8 text (the checks the CLI's input gets), or an InputError that says
    why not."""
    try:
        return read_text_file(path, max_bytes=MAX_INPUT_BYTES, kind="a file of events",
                              not_binary="not JSON text")
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}") from None
