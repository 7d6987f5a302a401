"""Manage environments and their keys: add, edit, remove, set/replace key, test connection."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.core.errors import UserError
from console.core.redact import mask_key
from console.services.client import health_words
from console.services.environments import (
    EVENT_LIMIT_CLOUD_FREE,
    EVENT_LIMIT_SELF_HOSTED,
    KINDS,
    Environment,
    cloud,
    health_origin,
    normalize_origin,
    origins_problem,
    shown_origin,
)
from console.services.secrets import SECRET_SERVICE_HINT, KeyringUnavailable
from console.ui import rich
from console.ui.context import AppContext


def _limit_box() -> QSpinBox:
    box = QSpinBox()
    box.setRange(1, 2**31 - 1)
    box.setSuffix(" bytes")
    box.setGroupSeparatorShown(True)
    return box


class EnvironmentsDialog(QDialog):
    """Edits a copy; Save writes the JSON file and the keyring. An added environment is a
    draft until saved. Leaving an entry with unsaved edits, or a draft (for another entry,
    Add, Close), asks whether to save first."""

    changed = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Environments")
        self.context = context
        self.store = context.environments
        self.secrets = context.secrets
        self.current: str | None = None
        self._testing: asyncio.Task[None] | None = None  # Test connection's request
        self._shown: tuple[object, ...] = ()  # the form as `_select` filled it
        self._draft: Environment | None = None  # added with Add, not saved yet

        self.list = QListWidget()
        self.list.currentTextChanged.connect(self._switch)
        add = QPushButton("Add custom")
        add_cloud = QPushButton("Add Inngest Cloud")
        self.remove_button = QPushButton("Remove")
        add.clicked.connect(lambda: self._add(Environment("New environment", "custom")))
        add_cloud.clicked.connect(lambda: self._add(cloud("Inngest Cloud")))
        self.remove_button.clicked.connect(self._remove)

        self.name = QLineEdit()
        self.kind = QComboBox()
        self.kind.addItems([k for k in KINDS if k != "from-env"])
        self.event_origin = QLineEdit()
        self.rest_origin = QLineEdit()
        self.branch = QLineEdit()
        self.branch.setPlaceholderText("optional branch environment (x-inngest-env)")
        self.request_limit = _limit_box()
        self.event_limit = _limit_box()
        self.paid = QCheckBox("Paid plan (3 MiB events)")
        self.paid.toggled.connect(self._paid_toggled)
        self.event_key = QLineEdit()
        self.event_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.signing_key = QLineEdit()
        self.signing_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.session_only = QCheckBox("Keep keys in memory for this session only")
        self.keyring_note = QLabel()
        rich.wrapping(self.keyring_note)
        self.status = QLabel()
        rich.wrapping(self.status)
        test = QPushButton("Test connection")
        test.clicked.connect(self._test)
        save = QPushButton("Save")
        save.setDefault(True)
        save.clicked.connect(self._save)

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Kind", self.kind)
        form.addRow("Event API origin", self.event_origin)
        form.addRow("REST API origin", self.rest_origin)
        form.addRow("Branch", self.branch)
        form.addRow("Request limit", self.request_limit)
        form.addRow("Per-event limit", self.event_limit)
        form.addRow("", self.paid)
        form.addRow("Event key", self.event_key)
        form.addRow("Signing key", self.signing_key)
        form.addRow("", self.session_only)
        form.addRow(self.keyring_note)
        actions = QHBoxLayout()
        actions.addWidget(test)
        actions.addStretch(1)
        actions.addWidget(save)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.status)
        right.addLayout(actions)
        left = QVBoxLayout()
        left.addWidget(self.list)
        for button in (add, add_cloud, self.remove_button):
            left.addWidget(button)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(right, 2)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        outer = QVBoxLayout(self)
        outer.addLayout(body)
        outer.addWidget(close)
        self.resize(760, 520)

        self._keyring_problem = self.secrets.backend_problem()
        self._fresh: set[str] = set()  # added here and not saved since: no keys to move
        self.session_only.toggled.connect(self._keyring_note)
        if self._keyring_problem:
            self.session_only.setChecked(True)
        self._keyring_note()
        self._refresh()

    def _keyring_note(self) -> None:
        """Where a saved key goes, as the box says now; without a keyring, what to do."""
        problem = self._keyring_problem
        if not problem:
            self.keyring_note.setText(f"Keys are stored in {self.secrets.backend_name()}.")
            return
        if self.session_only.isChecked():
            where = "Keys saved here now stay in memory for this session only."
        else:
            where = ("Keys saved here now cannot be kept: tick the box above to keep them "
                     "in memory for this session only.")
        self.keyring_note.setText(f"{KeyringUnavailable.lead(problem)} {where} "
                                  f"{SECRET_SERVICE_HINT}.")

    # -- list --------------------------------------------------------------------------
    def _refresh(self, select: str | None = None) -> None:
        """The list again, `select` (else the first) shown in the form."""
        names = [e.name for e in self._entries()]
        target = select if select in names else (names[0] if names else None)
        self._relist(target)
        if target is not None:
            self._select(target)

    def _relist(self, current: str | None) -> None:
        """The list as the store holds it now, `current` selected; the form as it is (a
        save refused for a name taken meanwhile keeps what was typed)."""
        names = [e.name for e in self._entries()]
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItems(names)
        if self._draft is not None:  # the last one, in italics until saved
            item = self.list.item(len(names) - 1)
            font = item.font()
            font.setItalic(True)
            item.setFont(font)
            item.setToolTip("Not saved yet")
        if current in names:
            self.list.setCurrentRow(names.index(current))
        self.list.blockSignals(False)

    def _form(self) -> tuple[object, ...]:
        return (self.name.text(), self.kind.currentText(), self.event_origin.text(),
                self.rest_origin.text(), self.branch.text(), self.request_limit.value(),
                self.event_limit.value(), self.paid.isChecked(), self.event_key.text(),
                self.signing_key.text())

    def _entries(self) -> list[Environment]:
        return [*self.store.saved, *([self._draft] if self._draft is not None else [])]

    def _is_draft(self, name: str | None) -> bool:
        return self._draft is not None and name == self._draft.name

    def unsaved(self) -> bool:
        """Whether the form shows a draft, or differs from the entry it shows (a typed
        key counts)."""
        return self.current is not None and (self._is_draft(self.current)
                                             or self._form() != self._shown)

    def _leave_edits(self) -> bool:
        """Before the form shows something else: True to go on. Unsaved edits (a key
        just pasted, say) are saved, dropped or kept, as the user answers; a Save that
        fails keeps them, with its message."""
        if not self.unsaved():
            return True
        buttons = QMessageBox.StandardButton
        draft = self._is_draft(self.current)
        answer = QMessageBox.question(
            self, "Unsaved changes",
            f"Save the new environment {self.name.text()!r}?" if draft
            else f"Save the changes to {self.current!r}?",
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        if answer == buttons.Discard:
            self._draft = None if draft else self._draft
            return True
        return answer == buttons.Save and self._save()

    def _switch(self, name: str) -> None:
        """The user picked another entry in the list."""
        if name == self.current:
            return
        if not self._leave_edits():
            self._show_in_list(self.current)
            return
        self._refresh(name)  # a draft saved or dropped meanwhile

    def _show_in_list(self, name: str | None) -> None:
        items = self.list.findItems(name or "", Qt.MatchFlag.MatchExactly) if name else []
        self.list.blockSignals(True)
        if items:
            self.list.setCurrentItem(items[0])
        self.list.blockSignals(False)

    def reject(self) -> None:  # Close, Esc and the title bar's close
        if self._leave_edits():
            super().reject()

    def done(self, result: int) -> None:
        """Closed: a Test connection still waiting is cancelled (the dialog is deleted once
        closed, and its answer would go to a label that is gone)."""
        if self._testing is not None:
            self._testing.cancel()
        super().done(result)

    def _unique(self, base: str) -> str:
        names = {e.name for e in self._entries()}
        name, n = base, 2
        while name in names:
            name, n = f"{base} {n}", n + 1
        return name

    def _add(self, env: Environment) -> None:
        if not self._leave_edits():
            return
        self._draft = Environment(**{**env.to_json(), "name": self._unique(env.name)})
        self._refresh(self._draft.name)
        if not self.status.text():  # else what is wrong with it
            self.status.setText("New: fill it in, then Save.")

    def _remove(self) -> None:
        if self.current is None:
            return
        if self._is_draft(self.current):  # nothing saved, nothing to ask
            self._draft = None
            self._refresh()
            return
        answer = QMessageBox.question(  # one click deleted the keys for good
            self, "Remove environment?",
            f"Remove {self.current!r} and delete its event and signing keys from the "
            "keyring? This cannot be undone.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        env = self.store.remove(self.current)
        try:
            self.store.save()
        except (OSError, UserError) as exc:  # a full disk, a file it cannot read: as it was
            self.store.revert()
            self._refresh(env.name)
            self.status.setText(rich.error(f"Not removed: {exc}"))
            return
        problem: KeyringUnavailable | None = None
        try:
            self.secrets.delete_all(env.name)
        except KeyringUnavailable as exc:
            problem = exc
        self._refresh()  # selects another environment, which clears the status
        self.changed.emit()
        if problem is None:
            self.status.setText(f"Removed {env.name!r}.")
        else:  # said, and after the refresh: a new environment of that name gets them
            self.status.setText(rich.error(
                f"Removed {env.name!r}, but its keys are still in the keyring (a new "
                f"environment named {env.name!r} would use them): "
                f"{problem.window_text()}"))

    def _select(self, name: str) -> None:
        env = next((e for e in self._entries() if e.name == name), None)
        if env is None:
            return
        self.current = env.name
        self.name.setText(env.name)
        self.kind.setCurrentText(env.kind)
        # masked as everywhere else: a hand-edited file may hold an origin with a key in it
        # (https://inn.gs/e/<key>), which Save then refuses until it is fixed
        self.event_origin.setText(shown_origin(env.event_origin))
        self.rest_origin.setText(shown_origin(env.rest_origin))
        self.branch.setText(env.branch or "")
        self.request_limit.setValue(env.request_limit)
        self.event_limit.setValue(env.event_limit)
        self.paid.blockSignals(True)
        self.paid.setChecked(env.paid_plan)
        self.paid.blockSignals(False)
        self.event_key.clear()
        self.signing_key.clear()
        unusable: list[str] = []  # keys another tool stored that no send could use
        for field, kind in ((self.event_key, "event"), (self.signing_key, "signing")):
            try:
                key, problem = self.secrets.stored(env.name, kind)  # type: ignore[arg-type]
            except KeyringUnavailable as exc:  # locked, say: not "not set"
                self._keyring_failed(exc.reason)
                field.setPlaceholderText("unknown: the keyring cannot be read")
                continue
            if problem:
                unusable.append(problem)
            field.setPlaceholderText(
                "set, but not usable; type the key to replace it" if problem
                else f"set ({mask_key(key)}); type to replace" if key else "not set"
            )
        self.status.clear()
        if unusable:
            self.status.setText(rich.error(" · ".join(unusable)))
        problem = origins_problem(env)
        if problem:
            self.status.setText(rich.error(f"{problem}. Fix it, then Save."))
        self._shown = self._form()

    def _keyring_failed(self, reason: str) -> None:
        """A keyring that looked usable failed (a locked one): say so, as at the start
        with none, and offer this session's memory."""
        if self._keyring_problem:
            return
        self._keyring_problem = reason
        self.session_only.setChecked(True)
        self._keyring_note()

    def _paid_toggled(self, paid: bool) -> None:
        if self.kind.currentText() == "cloud":
            self.event_limit.setValue(EVENT_LIMIT_SELF_HOSTED if paid else EVENT_LIMIT_CLOUD_FREE)

    # -- save / test -------------------------------------------------------------------
    def edited(self) -> Environment:
        return Environment.from_json({
            "name": self.name.text(), "kind": self.kind.currentText(),
            "event_origin": normalize_origin(self.event_origin.text()),
            "rest_origin": normalize_origin(self.rest_origin.text()),
            "branch": self.branch.text().strip() or None,
            "request_limit": self.request_limit.value(),
            "event_limit": self.event_limit.value(), "paid_plan": self.paid.isChecked(),
        })

    def _save(self) -> bool:
        """Whether the environment and every key typed were saved."""
        try:
            env = self.edited()
            old = self.current
            draft = self._is_draft(old)
            self.store.put(env, replacing=None if draft else old)
            self.store.save()
        except (UserError, ValueError) as exc:
            self._relist(self.current)  # a name taken meanwhile: the file's list is shown
            self.status.setText(rich.error(f"Not saved: {exc}"))
            return False
        except OSError as exc:  # a full disk, a folder in the file's place: the form stays
            self.store.revert()
            self.status.setText(rich.error(f"Not saved: {exc}"))
            return False
        if draft:  # saved now, and with no keys to move
            self._draft = None
            self._fresh.add(old or "")
        # the environment is saved; a key that cannot be is said as such, and kept typed
        failed: list[str] = []
        if old and old != env.name and old not in self._fresh:
            try:
                self.secrets.rename(old, env.name)
            except KeyringUnavailable as exc:  # locked, say: nothing moved
                failed.append(f"any keys it has in the keyring stay under {old!r}: "
                              f"{exc.window_text()}")
            except UserError as exc:  # a key another tool stored badly: the rest moved
                failed.append(str(exc))
        session = self.session_only.isChecked()
        typed = {kind: field.text().strip() for field, kind in
                 ((self.event_key, "event"), (self.signing_key, "signing"))}
        if old in self._fresh:  # still keyless unless keys are typed now
            self._fresh.discard(old)
            if not any(typed.values()):
                self._fresh.add(env.name)
        unsaved: dict[str, str] = {}
        for kind, key in typed.items():
            if key:
                try:
                    self.secrets.set(env.name, kind, key,  # type: ignore[arg-type]
                                     session_only=session)
                except UserError as exc:
                    failed.append(f"the {kind} key was not saved: {exc}")
                    unsaved[kind] = key
        self._refresh(env.name)
        self.changed.emit()
        if failed:
            # give back what was typed and not saved, to save again
            self.event_key.setText(unsaved.get("event", ""))
            self.signing_key.setText(unsaved.get("signing", ""))
            self.status.setText(rich.error(f"Saved {env.name!r}, but {'; '.join(failed)}"))
            return False
        where = "this session's memory" if session else "the keyring"
        self.status.setText(f"Saved {env.name!r}; keys go to {where}.")
        return True

    def _test(self) -> None:
        try:
            env = self.edited()
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        try:  # checked as Save checks it: a bad port never hangs, a key is never shown
            origin = health_origin(env)
        except UserError as exc:
            self.status.setText(rich.error(f"Not tested: {exc}"))
            return
        self.status.setText(f"Checking {origin}/health …")

        async def check() -> None:
            problem = await self.context.client.health_problem(origin)
            words = health_words(origin, problem)
            self.status.setText(rich.text(words) if problem is None else rich.error(words))

        if self._testing is not None:
            self._testing.cancel()
        self._testing = self.context.tasks.spawn(check(), "test-connection")
