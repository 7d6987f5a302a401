"""The batch composer: a list of events beside the editor, with meters and a preview.

The list is a Qt model over a core `Batch`; each list operation is an undo command; the
selected event is edited in the main editor (the composer says which event is selected
and takes the editor's text back). Sizes, plans and limits all come from `console.core`.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QUndoStack
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.core.batch import Batch, Meters, Tally, meters_of
from console.core.dedup import id_key_of
from console.core.plan import BatchPlan
from console.core.problems import Problem
from console.core.serialize import pretty
from console.ui import rich
from console.ui.batch.actions import make_actions, make_toolbar
from console.ui.batch.commands import InsertEvents, MoveEvents, RemoveEvents, ReplaceEvents
from console.ui.batch.importing import BatchImports
from console.ui.batch.meters import SizeMeters
from console.ui.batch.model import (
    DEFAULT_EVENT_LIMIT,
    DEFAULT_REQUEST_LIMIT,
    BatchListModel,
    runs,
)
from console.ui.batch.preview import PreviewDialog, PreviewTarget
from console.ui.batch.view import BatchListView
from console.ui.colours import style
from console.ui.tasks import TaskOwner

NEW_EVENT = {"name": "app/event.name", "data": {}}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class BatchComposer(BatchImports, QWidget):
    """Signals: `event_selected(row, pretty_text)` (row -1 and "" when nothing is selected),
    `batch_changed()` after any change, `meters_changed(Meters)`.
    Slots: `update_selected(text)` takes the editor's text for the selected event.
    """

    event_selected = Signal(int, str)
    batch_changed = Signal()
    meters_changed = Signal(object)
    import_finished = Signal(bool)  # a background import ended: True when events were added

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        current_text: Callable[[], str | None] | None = None,
        request_limit: int = DEFAULT_REQUEST_LIMIT,
        event_limit: int = DEFAULT_EVENT_LIMIT,
        batch: Batch | None = None,
        tasks: TaskOwner | None = None,
    ) -> None:
        super().__init__(parent)
        self._current_text = current_text
        self.tasks = tasks or TaskOwner()
        self.importing: asyncio.Task[bool] | None = None  # a big import being checked
        self._importing_source = ""
        self.import_end = 0  # the row after the last events added
        self._target: PreviewTarget | Callable[[], PreviewTarget | None] | None = None
        self._emitted: tuple[int, bytes] = (-1, b"")  # row and bytes the editor was given
        self._last_text = ""
        self._last_meters: Meters | None = None
        self._editor_sizes: list[int] = []  # of the editor's events: metered while no batch
        self.preview_dialog: PreviewDialog | None = None
        self.model = BatchListModel(
            batch, request_limit=request_limit, event_limit=event_limit, parent=self
        )
        self.undo_stack = QUndoStack(self)
        self.undo_stack.indexChanged.connect(self._undo_index_changed)

        self.view = BatchListView(self.model, self)
        self.view.setAccessibleName("Batch events")
        self.view.rows_dropped.connect(self.move_rows)
        self.view.files_dropped.connect(self.import_files)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setObjectName("batch-error")
        rich.wrapping(self.error_label)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(style("error"))
        self.error_label.hide()
        self.status_label = QLabel()
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setObjectName("batch-status")
        self.status_label.hide()
        self.meters = SizeMeters(self)
        self.rules_label = QLabel()
        self.rules_label.setTextFormat(Qt.TextFormat.PlainText)
        self.rules_label.setObjectName("batch-rules")
        rich.wrapping(self.rules_label)
        self.rules_label.setStyleSheet(style("error"))
        self.rules_label.hide()

        self.actions_by_name: dict[str, QAction] = make_actions(self)
        toolbar = make_toolbar(self, self.actions_by_name)
        self.preview_button = QPushButton("Preview requests…", self)
        self.preview_button.setToolTip("Each planned request exactly as it will be sent")
        self.preview_button.clicked.connect(self.open_preview)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(toolbar)
        layout.addWidget(self.error_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.rules_label)
        layout.addWidget(self.meters)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.preview_button)
        layout.addLayout(bottom)
        self._changed()

    # -- state -----------------------------------------------------------------------------
    @property
    def batch(self) -> Batch:
        return self.model.batch

    @property
    def schemas(self) -> Any:
        """A core SchemaLibrary (or None): rows and imports get its warnings (never
        blocking: Send asks "Send anyway?")."""
        return self.model.schemas

    @schemas.setter
    def schemas(self, schemas: Any) -> None:
        self.model.set_schemas(schemas)

    def warnings(self) -> dict[int, tuple[Problem, ...]]:
        """Rows with warnings (row -> them), for Send's "Send anyway?"."""
        return self.model.all_warnings()

    def set_limits(self, request_limit: int, event_limit: int) -> None:
        """The environment's limits (call when the environment changes)."""
        self.model.set_limits(request_limit, event_limit)
        self._changed()

    def set_target(self, target: PreviewTarget | Callable[[], PreviewTarget | None] | None
                   ) -> None:
        """Where the preview says the requests go (masked URL, branch), or what tells it
        when a preview opens (the key in use can change without the environment changing)."""
        self._target = target

    def current_row(self) -> int:
        index = self.view.currentIndex()
        return index.row() if index.isValid() else -1

    def selected_rows(self) -> list[int]:
        """From the selection's ranges: Qt's selectedRows() grows with the square of the
        scattered ranges (3 s for 30,000 of them, each Alt+Down 72 s at 100,000)."""
        selection = self.view.selectionModel().selection()
        spans = (selection.at(i) for i in range(selection.count()))
        return sorted({row for span in spans for row in range(span.top(), span.bottom() + 1)})

    def select_rows(self, rows: Sequence[int]) -> None:
        selection = QItemSelection()
        for first, last in runs(sorted(set(rows))):
            selection.select(self.model.index(first, 0), self.model.index(last, 0))
        flags = QItemSelectionModel.SelectionFlag
        model = self.view.selectionModel()
        if rows:
            model.setCurrentIndex(self.model.index(rows[0], 0), flags.NoUpdate)
            model.select(selection, flags.ClearAndSelect)
            self.view.scrollTo(self.model.index(rows[0], 0))
        else:
            model.clear()
        self._emit_selected()

    def meters_now(self) -> Meters:
        """The batch's meters; with the batch empty, the editor's events' (what Send sends)."""
        if not len(self.batch) and self._editor_sizes:
            return meters_of(self._editor_sizes, self.model.request_limit,
                             self.model.event_limit, editor=True)
        return self.batch.meters(
            self.model.request_limit, self.model.event_limit, self._metered_row())

    def _metered_row(self) -> int | None:
        """The event on the per-event meter: the current row, or with several rows selected
        (after an import, say) the largest of them; None: the largest of the batch."""
        row = self.current_row()
        chosen = self.selected_rows()
        if len(chosen) <= 1:
            return row if row >= 0 else None
        return max(chosen, key=self.batch.sizes().__getitem__)

    def set_editor_sizes(self, sizes: Sequence[int]) -> None:
        """Compact sizes of the events in the editor's text, as its last check found them."""
        self._editor_sizes = list(sizes)
        if not len(self.batch):
            self._update_meters()

    def problems(self) -> dict[int, str]:
        """Rows that stop the batch from being sent as it is (row -> reason); empty = ok."""
        return self.model.problems()

    def error_text(self) -> str:
        return self.error_label.text() if self.error_label.isVisible() else ""

    # -- list operations (undoable) ------------------------------------------------------------
    def add_events(
        self, events: Sequence[Any], *, at: int | None = None, verb: str = "Add",
        parts: Sequence[bytes] | None = None, checked: bool = False,
    ) -> None:
        """`parts`, `checked`: what an import's validation already made (Batch.insert)."""
        if not events:
            return
        if at is None:  # after the current row, else at the end
            at = self.current_row() + 1 if self.current_row() >= 0 else len(self.batch)
        row = at
        self.import_end = row + len(events)
        self.undo_stack.push(InsertEvents(self.model, row, events, self.select_rows, verb,
                                          parts=parts, checked=checked))
        self._show_error("")

    def add_text(self, text: str, *, source: str = "editor") -> bool:
        """Add the event(s) in `text` (one event, an array or JSON Lines)."""
        return self.import_text(text, source=source, verb="Add")

    def add_current(self) -> None:
        """Add the editor's event (or a new skeleton event when there is no editor)."""
        if self._current_text is None:
            self.add_events([copy.deepcopy(NEW_EVENT)])
            return
        row = self.current_row()
        draft = row < 0
        # a row's copy is the row as it is (rows go out as they are): the editor's text was
        # rendered, so "Total: {{ 1 + 1 }}" opened from the inbox was copied as "Total: 2"
        # (a row the editor holds text for that does not parse: that text, refused with why)
        text = (self._current_text() if draft or row in self.model.invalid_rows
                else pretty(self.batch[row]))
        if text is None or not self.add_text(text):
            return  # None: the editor said why
        if draft and self.importing is None:  # (a big text is still being checked)
            # the editor stays the draft it was: the next event typed there is a new one,
            # not an edit of the row just added (which it would overwrite)
            added = self.selected_rows()
            self.view.selectionModel().clear()
            if added:
                self.view.scrollTo(self.model.index(added[-1], 0))

    def set_ids(self, ids: dict[int, str]) -> None:
        """Give the events of these rows these `id`s (one undo step)."""
        events = {row: {**self.batch[row], id_key_of(self.batch[row]): new}  # "ID" too
                  for row, new in ids.items()
                  if 0 <= row < len(self.batch) and isinstance(self.batch[row], dict)}
        if events:
            self.undo_stack.push(ReplaceEvents(
                self.model, events, self.select_rows,
                f"New ids for {len(events):,} event{'s' if len(events) != 1 else ''}"))

    def duplicate_selected(self) -> None:
        rows = self.selected_rows()
        if rows:
            events = [copy.deepcopy(self.batch[r]) for r in rows]
            self.add_events(events, at=rows[-1] + 1, verb="Duplicate")

    def remove_selected(self) -> None:
        rows = self.selected_rows()
        if rows:
            self.undo_stack.push(RemoveEvents(self.model, rows, self.select_rows))

    def move_rows(self, rows: Sequence[int], dest: int) -> None:
        picked = sorted(set(rows))
        target = dest - sum(1 for r in picked if r < dest)
        if not picked or picked == list(range(target, target + len(picked))):
            return  # dropped onto itself
        self.undo_stack.push(MoveEvents(self.model, picked, dest, self.select_rows))

    def move_selected(self, delta: int) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        if delta < 0 and rows[0] > 0:
            self.move_rows(rows, rows[0] + delta)
        elif delta > 0 and rows[-1] < len(self.batch) - 1:
            self.move_rows(rows, rows[-1] + 1 + delta)

    # -- the editor ----------------------------------------------------------------------------
    def update_selected(self, text: str) -> None:
        """The editor's text for the selected event: only that event is re-serialized.

        Text that is not (yet) an event leaves the row's last valid version in place and
        marks the row; the editor's own validation says what is wrong where.
        """
        row = self.current_row()
        if row < 0 or text == self._last_text:
            return
        self._last_text = text
        problem = None
        changed = False
        try:
            value = json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            problem = f"The editor text is not valid JSON ({exc})"
        else:
            if not isinstance(value, dict):
                problem = "An event must be a JSON object"
            else:
                try:
                    changed = self.model.replace(row, value)
                except (ValueError, RecursionError):
                    problem = "This event cannot be serialized as JSON"
        if problem is not None:
            self.model.set_invalid(row, f"{problem}; the last valid version is kept")
            self._update_rules()
            return
        self._emitted = (row, self.batch.part(row))  # the editor already shows this event
        if changed:
            self._changed()
        else:
            self._update_rules()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._emit_selected()
        self._update_meters()

    def _selection_changed(self, *_args: Any) -> None:
        self._update_meters()

    def _emit_selected(self) -> None:
        row = self.current_row()
        key = (row, self.batch.part(row) if row >= 0 else b"")
        if key != self._emitted:
            self._emitted = key
            if row >= 0 and row in self.model.invalid_rows:  # the editor shows the kept one
                self.model.set_invalid(row, None)
                self._update_rules()
            self._last_text = pretty(self.batch[row]) if row >= 0 else ""
            self.event_selected.emit(row, self._last_text)

    # -- preview and send results ------------------------------------------------------------
    def open_preview(self, batch: Batch | None = None,
                     plan: BatchPlan | None = None) -> PreviewDialog:
        """The requests of this batch, or of `batch` planned as `plan` (the editor's)."""
        if self.preview_dialog is not None:  # one at a time: each kept its requests' text
            self.preview_dialog.close()
            self.preview_dialog.deleteLater()
        if batch is None or plan is None:
            batch, plan = self.batch, self.model.plan()
        target = self._target() if callable(self._target) else self._target
        self.preview_dialog = PreviewDialog(batch, plan, target, self)
        self.preview_dialog.show()
        return self.preview_dialog

    def mark_outcomes(self, result: Tally) -> None:
        """Colour rows by the last send (accepted/rejected/not accepted); any edit clears it."""
        marks: dict[int, tuple[str, str]] = dict.fromkeys(result.accepted, ("accepted", "accepted"))
        marks.update({i: ("rejected", f"rejected: {why}") for i, why in result.rejected})
        marks.update(dict.fromkeys(result.not_accepted, ("not accepted", "not accepted")))
        marks.update(dict.fromkeys(result.in_flight, ("unknown", "in flight when cancelled")))
        marks.update(dict.fromkeys(result.uncertain, (
            "unknown", "no usable answer: the server may have taken it (see the send log)")))
        marks.update(dict.fromkeys(result.not_sent, ("not sent", "not sent")))
        self.model.set_outcomes(marks)

    # -- internals -------------------------------------------------------------------------------
    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _undo_index_changed(self, _index: int) -> None:
        self._changed()

    def _changed(self) -> None:
        self._update_meters()
        self._update_rules()
        self._emit_selected()
        self.batch_changed.emit()

    def _update_rules(self) -> None:
        """Events Inngest would reject (envelope rules, text that is no event): say so."""
        found = dict(self.batch.invalid())
        found.update(self.model.invalid_rows)
        text = ""
        if found:
            row, why = min(found.items())
            more = f" (and {len(found) - 1:,} more)" if len(found) > 1 else ""
            text = f"Cannot send: event #{row + 1}: {why}{more}"
        if text != self.rules_label.text():
            self.rules_label.setText(text)
            self.rules_label.setVisible(bool(text))

    def _update_meters(self) -> None:
        meters = self.meters_now()
        if meters != self._last_meters:
            self._last_meters = meters
            self.meters.set_meters(meters)
            self.meters_changed.emit(meters)
