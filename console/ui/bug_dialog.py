"""A bug reaching the top is logged with its traceback and shown; the app keeps running."""

from __future__ import annotations

import html
import logging
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.ui import rich

log = logging.getLogger("console.bug")


class BugDialog(QDialog):
    def __init__(self, summary: str, details: str, log_file: Path, *,
                 key: tuple[str, ...] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Something went wrong")
        self.details = details
        layout = QVBoxLayout(self)
        self.summary = summary
        self.key = key or (summary,)  # what makes another bug the same (_bug_key)
        self.repeats = 0  # the same bug again while this dialog is open
        label = QLabel(
            f"<b>{html.escape(summary)}</b><br>This is a bug in Event Console, not something "
            "you did. The console keeps running. Details were written to<br>"
            f"<code>{html.escape(str(log_file))}</code>"
        )
        rich.wrapping(label)
        layout.addWidget(label)
        self.repeat_label = QLabel()
        self.repeat_label.hide()
        layout.addWidget(self.repeat_label)
        text = QPlainTextEdit(details)
        text.setReadOnly(True)
        layout.addWidget(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy details")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 360)

    def copy_details(self) -> None:
        QApplication.clipboard().setText(self.details)

    def happened_again(self) -> None:
        self.repeats += 1
        self.repeat_label.setText(f"It happened {self.repeats:,} more time"
                                  f"{'s' if self.repeats != 1 else ''} since (not logged "
                                  "again while this is open).")
        self.repeat_label.show()


class BugReporter:
    """sys.excepthook and the asyncio exception handler, both ending in BugDialog."""

    def __init__(self, log_file: Path) -> None:
        self.log_file = log_file
        self.shown: list[BugDialog] = []

    def report(self, exc: BaseException, context: str = "") -> None:
        """Log it and show it; the same bug again while its dialog is open is counted in
        that dialog (one that repeats in a loop opened a dialog, and logged a traceback,
        each time: 1,748 in 15 s, and 1.9 GB, when the inbox ran out of descriptors)."""
        summary = f"{type(exc).__name__}: {exc}"[:300]
        key = _bug_key(exc, summary)
        for shown in self.shown:
            if shown.key == key:
                shown.happened_again()
                return
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        log.error("uncaught %s%s\n%s", type(exc).__name__, f" ({context})" if context else "",
                  details)
        dialog = BugDialog(summary, details, self.log_file, key=key)
        self.shown.append(dialog)
        dialog.finished.connect(lambda _=0, d=dialog: self.shown.remove(d))
        dialog.show()

    def excepthook(self, exc_type: type[BaseException], exc: BaseException,
                   tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        exc.__traceback__ = tb
        self.report(exc)

    def loop_exception(self, loop: Any, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if exc is None:
            log.warning("asyncio: %s", context.get("message"))
            return
        self.report(exc, str(context.get("message", "")))


def _bug_key(exc: BaseException, summary: str) -> tuple[str, ...]:
    """The same bug: the same exception type raised at the same line, whatever its message
    says (one naming a row or a path differed each time, and each opened a dialog); without
    a traceback, the same summary."""
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    if not frames:
        return (summary,)
    last = frames[-1]
    return (type(exc).__qualname__, last.filename, str(last.lineno))
