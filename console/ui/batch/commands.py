"""Undoable list operations on the batch: add/import, remove, move, new ids.

Each command captures what it needs at the moment it runs (not when it was created), so
an event edited in the editor between a command and its undo comes back as edited.
Edits of one event's text are not list operations: the editor's own undo covers them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand

from console.ui.batch.model import BatchListModel

Select = Callable[[list[int]], None]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


class InsertEvents(QUndoCommand):
    def __init__(
        self, model: BatchListModel, row: int, events: Sequence[Any], select: Select, verb: str,
        *, parts: Sequence[bytes] | None = None, checked: bool = False,
    ) -> None:
        super().__init__(f"{verb} {_plural(len(events), 'event')}")
        self._model, self._row, self._events, self._select = model, row, list(events), select
        self._parts, self._checked = parts, checked  # the first insert's (see Batch.insert)

    def redo(self) -> None:
        self._model.insert_events(self._row, self._events, parts=self._parts,
                                  checked=self._checked)
        self._select(list(range(self._row, self._row + len(self._events))))

    def undo(self) -> None:
        rows = range(self._row, self._row + len(self._events))
        self._events = [event for _, event in self._model.take_rows(rows)]
        self._parts, self._checked = None, False  # they may have been edited meanwhile
        self._select([min(self._row, len(self._model.batch) - 1)] if len(self._model.batch) else [])


class RemoveEvents(QUndoCommand):
    def __init__(self, model: BatchListModel, rows: Sequence[int], select: Select) -> None:
        super().__init__(f"Remove {_plural(len(set(rows)), 'event')}")
        self._model, self._rows, self._select = model, sorted(set(rows)), select
        self._removed: list[tuple[int, Any]] = []

    def redo(self) -> None:
        self._removed = self._model.take_rows(self._rows)
        left = len(self._model.batch)
        self._select([min(self._rows[0], left - 1)] if left else [])

    def undo(self) -> None:
        self._model.restore(self._removed)
        self._select(list(self._rows))


class MoveEvents(QUndoCommand):
    """Move rows before `dest`; undone by applying the inverse permutation."""

    def __init__(
        self, model: BatchListModel, rows: Sequence[int], dest: int, select: Select
    ) -> None:
        super().__init__(f"Move {_plural(len(set(rows)), 'event')}")
        self._model, self._rows, self._dest, self._select = model, list(rows), dest, select
        self._order: list[int] = []

    def redo(self) -> None:
        picked = sorted(set(self._rows))
        chosen = set(picked)
        keep = [i for i in range(len(self._model.batch)) if i not in chosen]
        target = self._dest - sum(1 for r in picked if r < self._dest)
        self._order = keep[:target] + picked + keep[target:]
        self._model.reorder(self._order)
        self._select(list(range(target, target + len(picked))))

    def undo(self) -> None:
        inverse = [0] * len(self._order)
        for new, old in enumerate(self._order):
            inverse[old] = new
        self._model.reorder(inverse)
        self._select(sorted(set(self._rows)))


class ReplaceEvents(QUndoCommand):
    """New content for several rows at once (fresh ids for duplicates); undone by putting
    back what each row held when it ran."""

    def __init__(self, model: BatchListModel, events: dict[int, Any], select: Select,
                 text: str) -> None:
        super().__init__(text)
        self._model, self._events, self._select = model, dict(events), select
        self._before: dict[int, Any] = {}

    def redo(self) -> None:
        self._before = {row: self._model.batch[row] for row in self._events}
        for row, event in self._events.items():
            self._model.replace(row, event)
        self._select(sorted(self._events))

    def undo(self) -> None:
        for row, event in self._before.items():
            self._model.replace(row, event)
        self._select(sorted(self._before))
