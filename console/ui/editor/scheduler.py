"""When validation runs: after a pause in typing, and off the event loop for big texts.

Validating on every keystroke would put a full parse (and schema checks) on the path
between a key and its repaint; instead every edit restarts a 250 ms single-shot timer and
only its timeout validates. A document of OFF_LOOP_CHARS or more is validated in a worker
thread when an asyncio loop (qasync) is running; a result for text that has since been
edited is dropped, because the timer is already due to validate the newer text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from console.core.problems import Problem

log = logging.getLogger(__name__)

Validator = Callable[[str], Sequence[Problem]]
DEBOUNCE_MS = 250
OFF_LOOP_CHARS = 200_000
# What follows the editor on every keystroke (the name field, the placeholder preview) does
# so up to this size; above it, after a pause (a parse or scan of 5 MB per key cost 9 ms)
AT_ONCE_CHARS = 100_000


class ValidationScheduler(QObject):
    """`validated(problems, text)` is emitted with the problems of exactly that text."""

    validated = Signal(list, str)
    failed = Signal(str)

    def __init__(self, text: Callable[[], str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._text = text
        self._validator: Validator | None = None
        self._revision = 0
        self._task: asyncio.Task[None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.run_now)

    def set_validator(self, validator: Validator | None) -> None:
        self._validator = validator
        self.schedule()

    def schedule(self) -> None:
        """The text changed: (re)start the pause timer."""
        self._revision += 1
        self._timer.start()

    def pending(self) -> bool:
        return self._timer.isActive() or (self._task is not None and not self._task.done())

    def cancel(self) -> None:
        self._timer.stop()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def run_now(self) -> None:
        self._timer.stop()
        text = self._text()
        if self._validator is None:
            self.validated.emit([], text)
            return
        loop = _running_loop() if len(text) >= OFF_LOOP_CHARS else None
        if loop is None:
            self.validated.emit(self._run(self._validator, text), text)
            return
        if self._task is not None:
            self._task.cancel()
        self._task = loop.create_task(self._off_loop(self._validator, text, self._revision))

    async def _off_loop(self, validator: Validator, text: str, revision: int) -> None:
        problems = await asyncio.to_thread(self._run, validator, text)
        # The editor may have been closed (and this object deleted) while the thread ran.
        if shiboken6.isValid(self) and revision == self._revision:
            self.validated.emit(problems, text)

    def _run(self, validator: Validator, text: str) -> list[Problem]:
        try:
            return list(validator(text))
        except Exception:  # a validator bug must not take the editor down on every pause
            log.exception("validation failed")
            self.failed.emit("Validation failed: an internal error (see the log).")
            return []


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
