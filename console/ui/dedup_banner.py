"""Before a send: what Inngest will do with each event's `id`, shown above the editor.

`DedupBanner` shows the ledger's verdicts; `DedupCheck` keeps it current as the user edits
(debounced, off the keystroke path) and asks before duplicates of earlier sends leave.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from console.core.dedup import Prediction, Verdict, duplicates_headline, id_key_of
from console.core.edits import set_strings
from console.core.errors import UserError
from console.core.ids import random_ulid
from console.core.pipeline import PreparedSend, prepare_events
from console.core.positions import escape_token
from console.services.targets import ResolvedTarget
from console.ui import rich
from console.ui.colours import colour
from console.ui.tasks import loop_running

if TYPE_CHECKING:
    from console.ui.main_window import MainWindow

_SHOWN = 4


class DedupBanner(QFrame):
    """Hidden when every event is new; amber for duplicates, grey for events with no id."""

    drop_requested = Signal()
    regenerate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.predictions: list[Prediction] = []
        self.label = QLabel()
        rich.wrapping(self.label)
        self.drop_button = QPushButton("Drop duplicates")
        self.drop_button.setToolTip("Remove the events Inngest would start no runs for")
        self.drop_button.clicked.connect(self.drop_requested)
        self.regenerate_button = QPushButton("New ids")
        self.regenerate_button.setToolTip("Give the duplicate events fresh ids so they run")
        self.regenerate_button.clicked.connect(self.regenerate_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.regenerate_button)
        layout.addWidget(self.drop_button)
        self.hide()

    @property
    def duplicates(self) -> list[Prediction]:
        return [p for p in self.predictions if p.duplicate]

    def set_predictions(self, predictions: Sequence[Prediction], *, batch: bool) -> None:
        self.predictions = list(predictions)
        duplicates = self.duplicates
        missing = [p for p in predictions if p.verdict is Verdict.NO_ID]
        if not duplicates and not missing:
            self.hide()
            return
        lines = []
        for p in duplicates[:_SHOWN]:
            where = f"#{p.index + 1} " if batch else ""
            text = f'{where}id "{p.dedup_id}": {p.message}'
            lines.append(f"<span style='color:{colour('warn')}'><b>Duplicate</b> "
                         f"{html.escape(text)}</span>")
        if len(duplicates) > _SHOWN:
            lines.append(f"… and {len(duplicates) - _SHOWN} more duplicates")
        if missing:
            count = f"{len(missing)} events have" if batch and len(missing) > 1 else (
                "This event has" if not batch else "1 event has")
            lines.append(
                f"<span style='color:{colour('muted')}'>{count} no dedup id: a repeat or retry "
                "runs functions again</span>"
            )
        self.label.setText("<br>".join(lines))
        self.drop_button.setVisible(bool(duplicates) and batch)
        self.regenerate_button.setVisible(bool(duplicates))
        self.show()


class DedupCheck(QObject):
    """The banner's owner: refreshes it after edits and confirms duplicates before a send."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.banner = DedupBanner()
        self.banner.drop_requested.connect(self.drop_duplicates)
        self.banner.regenerate_requested.connect(self.regenerate_ids)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(400)
        self.timer.timeout.connect(self.refresh)
        self._generation = 0  # of refresh(): only the newest one's answer is shown

    def schedule(self) -> None:
        self.timer.start()

    def refresh(self) -> None:
        """The editor's event, or the batch when it has events, against the history."""
        window = self.window
        self._generation += 1  # an answer for text since edited must not be shown
        generation = self._generation
        batch = window.composer.batch
        if len(batch):
            events = batch.events
        else:
            parsed, value = window.editor_value_as_sent()
            events = value if isinstance(value, list) else [value]
            if not parsed or not all(isinstance(e, dict) for e in events):
                # nothing to check: what the banner said was about other text
                self.banner.set_predictions([], batch=False)
                return
        env_name = window.env_combo.currentData()
        if env_name is None or not all(isinstance(e, dict) for e in events):
            return
        if not loop_running():  # still booting: look again shortly
            self.timer.start()
            return

        kept_as = window.environment().history_name

        async def refresh() -> None:
            try:
                predictions = await window.flow.predict(kept_as, events)
            except UserError as exc:  # the history failed: it is off now, and said so
                self.banner.set_predictions([], batch=False)
                window.statusBar().showMessage(str(exc))
                return
            if (window.env_combo.currentData() == env_name
                    and generation == self._generation):
                self.banner.set_predictions(predictions, batch=len(batch) > 0)

        window.context.tasks.spawn(refresh(), "dedup-check")

    async def checked(self, resolved: ResolvedTarget, prepared: PreparedSend, *,
                      shown: bool = True) -> PreparedSend | None:
        """What may be sent after the user saw the duplicates: all, fewer, or nothing.

        `shown`: the events are the batch's or the editor's (the banner describes them,
        and new ids are written there too); History's Send again passes False."""
        env = resolved.environment
        predictions = await self.window.flow.predict(env.history_name, prepared.events)
        if shown:
            self._generation += 1  # a refresh still asking must not overwrite these
            self.banner.set_predictions(predictions, batch=len(prepared.events) > 1)
        duplicates = [p for p in predictions if p.duplicate]
        if not duplicates:
            return prepared
        choice = await self.confirm(duplicates, len(prepared.events))
        if choice == "cancel":
            self.window.statusBar().showMessage("Not sent")
            return None
        if choice == "send":
            return prepared
        if choice == "renew":
            ids = {p.index: random_ulid() for p in duplicates}
            if shown:
                self.renew_with(ids)  # the same ids where the user sees the events
            events = [{**event, id_key_of(event): ids[i]} if i in ids else event
                      for i, event in enumerate(prepared.events)]
            return prepare_events(events, request_limit=env.request_limit,
                                  event_limit=env.event_limit)
        dropped = {p.index for p in duplicates}
        keep = [e for i, e in enumerate(prepared.events) if i not in dropped]
        if not keep:
            self.window.statusBar().showMessage("Not sent: every event is a duplicate")
            return None
        return prepare_events(keep, request_limit=env.request_limit, event_limit=env.event_limit)

    async def confirm(self, duplicates: list[Prediction], total: int) -> str:
        """"send", "drop" or "cancel", from a window-modal dialog.

        The dialog is opened, never exec()'d: this runs inside a send's task, and a nested
        event loop there would step the other tasks while this one is still executing,
        which asyncio refuses ("Cannot enter into task ..."), leaving them stuck for good
        (the health probe, the inbox, a run being polled)."""
        lines = "\n".join(p.message for p in duplicates[:6])
        box = QMessageBox(self.window)
        box.setWindowTitle("Duplicate ids")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText(
            f"{duplicates_headline(duplicates, total)}\n"
            f"Inngest will accept them and start no runs.\n\n{lines}"
        )
        send = box.addButton("Send anyway", QMessageBox.ButtonRole.AcceptRole)
        renew = box.addButton("New ids and send", QMessageBox.ButtonRole.AcceptRole)
        renew.setToolTip("Give the duplicates fresh ids (in the batch or the editor), then send")
        drop = box.addButton("Drop duplicates", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def answered(_code: int) -> None:
            if not answer.done():
                answer.set_result(box.clickedButton())

        box.finished.connect(answered)
        box.open()
        try:
            clicked = await answer
        finally:
            with contextlib.suppress(RuntimeError):  # the window (and so the box) is gone
                box.finished.disconnect()
                box.close()
                box.deleteLater()
        return {send: "send", renew: "renew", drop: "drop"}.get(clicked, "cancel")

    def drop_duplicates(self) -> None:
        rows = [p.index for p in self.banner.duplicates]
        composer = self.window.composer
        if rows and len(composer.batch):
            composer.select_rows(rows)
            composer.remove_selected()

    def regenerate_ids(self) -> None:
        self.renew_with({p.index: random_ulid() for p in self.banner.duplicates})

    def renew_with(self, ids: dict[int, str]) -> None:
        """These ids for these events where the user sees them: the batch's rows (one undo
        step), else the editor's event or array (only those values change, one editor
        undo step)."""
        if not ids:
            return
        composer = self.window.composer
        if len(composer.batch):
            composer.set_ids(ids)
            return
        parsed, value = self.window.editor_value()
        if not parsed:
            return
        # where the server reads each id ("ID" is one): a new "id" beside it changed nothing
        if isinstance(value, dict) and set(ids) == {0}:
            pointers = {f"/{escape_token(id_key_of(value))}": ids[0]}
        elif isinstance(value, list):
            pointers = {f"/{index}/{escape_token(id_key_of(value[index]))}": new
                        for index, new in ids.items() if 0 <= index < len(value)}
        else:
            return
        updated = set_strings(self.window.event_text(), pointers)
        if updated is not None:
            self.window.editor.replace_text(updated)
