"""The Qt list model over a core `Batch`: rows, their sizes and whether they can be sent.

The model holds no rules: sizes, plans and blocked reasons come from `console.core`.
Its mutators are the only way the list changes, so undo commands and views stay in step,
and selections survive moves (persistent indexes are remapped, not reset).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor

from console.core.batch import NO_SIZE_LIMIT, Batch
from console.core.plan import REQUEST_LIMIT, BatchPlan
from console.core.problems import Problem
from console.core.validation import validate_text
from console.ui.colours import colour

Index = QModelIndex | QPersistentModelIndex

ROWS_MIME = "application/x-event-console-batch-rows"
DEFAULT_REQUEST_LIMIT = REQUEST_LIMIT
DEFAULT_EVENT_LIMIT = 3 * 1024 * 1024
SIZE_ROLE = Qt.ItemDataRole.UserRole + 1
REQUEST_ROLE = Qt.ItemDataRole.UserRole + 2
PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 3
OUTCOME_ROLE = Qt.ItemDataRole.UserRole + 4
WARNING_ROLE = Qt.ItemDataRole.UserRole + 5
SCATTERED_RUNS = 8  # more runs of rows than this are removed with one model reset
SHOWN_WARNINGS = 4  # in a row's tooltip


def event_warnings(part: bytes, schemas: Any) -> tuple[Problem, ...]:
    """The warnings (schema, envelope) of one event as a batch sends it: its bytes, checked
    as the editor and an import check them. Its text as first written (duplicate keys,
    say) is gone: the row is what goes out."""
    report = validate_text(part.decode("utf-8"), event_limit=NO_SIZE_LIMIT, schemas=schemas)
    return tuple(report.warnings)


def event_title(event: Any) -> str:
    name = event.get("name") if isinstance(event, dict) else None
    return name if isinstance(name, str) and name else "(no name)"


class BatchListModel(QAbstractListModel):
    def __init__(
        self,
        batch: Batch | None = None,
        *,
        request_limit: int = DEFAULT_REQUEST_LIMIT,
        event_limit: int = DEFAULT_EVENT_LIMIT,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.batch = batch if batch is not None else Batch()
        self.request_limit = request_limit
        self.event_limit = event_limit
        self._invalid: dict[int, str] = {}  # row -> why the editor text could not be taken
        self._outcomes: dict[int, tuple[str, str]] = {}  # row -> (state, detail) of last send
        self.token = str(id(self)).encode()
        self._blocked: dict[int, str] = {}
        self._blocked_for: BatchPlan | None = None
        self._schemas: Any = None  # a core SchemaLibrary: rows get its warnings
        # an event's bytes -> its warnings: keyed by content, so moves, undo and duplicates
        # need no bookkeeping; emptied when the schemas change
        self._warnings: dict[bytes, tuple[Problem, ...]] = {}

    # -- reading -------------------------------------------------------------------------
    def plan(self) -> BatchPlan:
        return self.batch.plan(self.request_limit, self.event_limit)

    def blocked_reasons(self) -> dict[int, str]:
        plan = self.plan()
        if self._blocked_for is not plan:
            self._blocked = {b.index: b.reason for b in plan.blocked}
            self._blocked_for = plan
        return self._blocked

    def problem(self, row: int) -> str | None:
        """Why this row cannot go as it is: editor text that is not an event, a rule
        Inngest would reject it for, or a size limit."""
        if row in self._invalid:
            return self._invalid[row]
        issues = self.batch.issues(row)
        if issues:
            return issues[0]
        return self.blocked_reasons().get(row) if self.plan().blocked else None

    def problems(self) -> dict[int, str]:
        """Every row that stops the batch from being sent as it is, with the reason."""
        found = {b.index: b.reason for b in self.plan().blocked}
        found.update(self.batch.invalid())
        found.update(self._invalid)
        return dict(sorted(found.items()))

    def warnings(self, row: int) -> tuple[Problem, ...]:
        """What Send asks "Send anyway?" about for this row (its schema's, envelope ones)."""
        part = self.batch.part(row)
        found = self._warnings.get(part)
        if found is None:
            found = self._warnings[part] = event_warnings(part, self._schemas)
        return found

    def all_warnings(self) -> dict[int, tuple[Problem, ...]]:
        """Every row with warnings (row -> them); rows an import brought are known already."""
        return {row: found for row in range(len(self.batch)) if (found := self.warnings(row))}

    @property
    def schemas(self) -> Any:
        return self._schemas

    def set_schemas(self, schemas: Any) -> None:
        """The workspace's schemas (None: none): the rows' warnings are checked again."""
        if schemas is self._schemas:
            return
        self._schemas = schemas
        self._warnings.clear()
        self._refresh_all()

    def know_warnings(self, parts: Sequence[bytes], found: Sequence[tuple[Problem, ...]],
                      schemas: Any) -> None:
        """Warnings an import's check found for these bytes under `schemas` (kept when they
        are still the model's): a big import's rows are not checked a second time."""
        if schemas is self._schemas:
            self._warnings.update(zip(parts, found, strict=True))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.batch)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.batch):
            return None
        row = index.row()
        if role == Qt.ItemDataRole.DisplayRole:
            # numbers right-aligned with figure spaces (digit-wide): the names line up
            width = len(str(len(self.batch)))
            return f"{row + 1:\u2007>{width}}.  {event_title(self.batch[row])}"
        if role == SIZE_ROLE:
            return self.batch.size(row)
        if role == PROBLEM_ROLE:
            return self.problem(row)
        if role == WARNING_ROLE:
            return bool(self.warnings(row))
        if role == OUTCOME_ROLE:
            return self._outcomes.get(row)
        if role == REQUEST_ROLE:
            number = self.plan().request_of(row)
            return None if number is None else number + 1
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        if role == Qt.ItemDataRole.ForegroundRole:
            if self.problem(row) is not None:
                return QColor(colour("error"))
            outcome = self._outcomes.get(row)
            if outcome is not None:
                return QColor(colour({"accepted": "ok", "rejected": "error"}.get(outcome[0],
                                                                                 "warn")))
        return None

    def _tooltip(self, row: int) -> str:
        lines = [f"{self.batch.size(row):,} bytes"]
        number = self.plan().request_of(row)
        if number is not None:
            lines.append(f"request {number + 1} of {len(self.plan().requests)}")
        problem = self.problem(row)
        if problem is not None:
            lines.append(problem)
        found = self.warnings(row)
        lines += [f"Warning: {w.message}" for w in found[:SHOWN_WARNINGS]]
        if len(found) > SHOWN_WARNINGS:
            lines.append(f"… and {len(found) - SHOWN_WARNINGS} more warnings")
        outcome = self._outcomes.get(row)
        if outcome is not None:
            lines.append(outcome[1])
        return "\n".join(lines)

    # -- drag and drop -------------------------------------------------------------------
    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.isValid():
            return base | Qt.ItemFlag.ItemIsDragEnabled
        return Qt.ItemFlag.ItemIsDropEnabled

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [ROWS_MIME, "text/uri-list"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:  # noqa: N802
        rows = sorted({i.row() for i in indexes if i.isValid()})
        mime = QMimeData()
        mime.setData(ROWS_MIME, QByteArray(self.token + b":" + json.dumps(rows).encode()))
        mime.setText("\n".join(json.dumps(self.batch[r], ensure_ascii=False) for r in rows))
        return mime

    def dragged_rows(self, mime: QMimeData) -> list[int] | None:
        """The rows a drag from this very model carries, else None."""
        if not mime.hasFormat(ROWS_MIME):
            return None
        token, _, rows = bytes(mime.data(ROWS_MIME).data()).partition(b":")
        if token != self.token:
            return None
        return [int(r) for r in json.loads(rows)]

    # -- changing (the only paths; undo commands call these) --------------------------------
    def set_limits(self, request_limit: int, event_limit: int) -> None:
        self.request_limit, self.event_limit = request_limit, event_limit
        self._refresh_all()

    def insert_events(self, row: int, events: Sequence[Any], *,
                      parts: Sequence[bytes] | None = None, checked: bool = False) -> None:
        """`parts`, `checked`: see `Batch.insert`."""
        if not events:
            return
        self.beginInsertRows(QModelIndex(), row, row + len(events) - 1)
        self.batch.insert(row, events, parts=parts, checked=checked)
        self._shift(row, len(events))
        self.endInsertRows()
        self._refresh_all()

    def take_rows(self, rows: Sequence[int]) -> list[tuple[int, Any]]:
        """Remove rows (any order); returns (row, event) ascending, for a later restore."""
        removed: list[tuple[int, Any]] = []
        spans = runs(sorted(set(rows)))
        # scattered rows go in one reset: a signal per run changed the selection each time,
        # and the meters planned the whole batch again (5 s for 1,000 rows of 50,000)
        scattered = len(spans) > SCATTERED_RUNS
        if scattered:
            self.beginResetModel()
        for first, last in reversed(spans):
            if not scattered:
                self.beginRemoveRows(QModelIndex(), first, last)
            removed += self.batch.remove(range(first, last + 1))
            self._shift(last + 1, first - last - 1, dropping=range(first, last + 1))
            if not scattered:
                self.endRemoveRows()
        if scattered:
            self.endResetModel()
        self._refresh_all()
        return sorted(removed, key=lambda pair: pair[0])

    def restore(self, pairs: Sequence[tuple[int, Any]]) -> None:
        for row, event in sorted(pairs, key=lambda pair: pair[0]):
            self.insert_events(row, [event])

    def move_rows(self, rows: Sequence[int], dest: int) -> list[int]:
        """Move rows before `dest` (an index before the move); returns their new rows."""
        picked = sorted(set(rows))
        if not picked:
            return []
        chosen = set(picked)
        keep = [i for i in range(len(self.batch)) if i not in chosen]
        target = dest - sum(1 for r in picked if r < dest)
        self.reorder(keep[:target] + picked + keep[target:])
        return list(range(target, target + len(picked)))

    def reorder(self, order: Sequence[int]) -> None:
        """Arrange rows as `order` (new row i holds old row order[i]); selection follows."""
        if list(order) == list(range(len(self.batch))):
            return
        self.layoutAboutToBeChanged.emit()
        new_of = {old: new for new, old in enumerate(order)}
        self.batch.reorder(order)
        self._invalid = {new_of[r]: m for r, m in self._invalid.items()}
        self._outcomes.clear()
        old = self.persistentIndexList()
        self.changePersistentIndexList(old, [self.index(new_of[i.row()], 0) for i in old])
        self.layoutChanged.emit()
        self._refresh_all()

    def replace(self, row: int, event: Any) -> bool:
        """New content for one row (typing in the editor): only that event is re-serialized."""
        was_blocked = bool(self.plan().blocked)
        before = self.batch.part(row)
        changed = self.batch.replace(row, event)
        if changed:  # typing in the editor makes a version per pause: the old one goes
            self._warnings.pop(before, None)
        cleared = self._invalid.pop(row, None) is not None
        if changed:
            self._outcomes.clear()
        if changed and (was_blocked or self.plan().blocked):
            self._refresh_all()  # a limit verdict may have moved to other rows' requests
        elif changed or cleared:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)
        return changed

    def set_invalid(self, row: int, message: str | None) -> None:
        if message is None:
            if self._invalid.pop(row, None) is None:
                return
        else:
            self._invalid[row] = message
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)

    @property
    def invalid_rows(self) -> dict[int, str]:
        return dict(self._invalid)

    def set_outcomes(self, outcomes: dict[int, tuple[str, str]]) -> None:
        """Mark rows with the result of the last send ("accepted", "rejected", ...)."""
        self._outcomes = dict(outcomes)
        self._refresh_all()

    def _shift(self, start: int, delta: int, dropping: range = range(0)) -> None:
        self._invalid = {
            (r + delta if r >= start else r): m
            for r, m in self._invalid.items()
            if r not in dropping
        }
        self._outcomes.clear()

    def _refresh_all(self) -> None:
        if len(self.batch):
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.batch) - 1, 0))


def runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Ascending rows as (first, last) runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs
