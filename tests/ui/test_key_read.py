"""Send reads the environment's key off the Qt thread: a keyring that takes its time (an
unlock prompt left open, KWallet's dialog) never freezes the window."""

from __future__ import annotations

import threading

from PySide6.QtCore import QTimer

from console.services.environments import Environment
from tests.ui.conftest import wait_until
from tests.ui.test_main_window import open_window

KEY = "keyed-key-0000abcd"


def test_a_slow_keyring_read_leaves_the_window_working(qtbot, app_home, run_async,
                                                       keyring_backend):
    context, window = open_window(qtbot)
    read = keyring_backend.get_password
    gate = threading.Event()
    readers: list[int] = []

    def held_read(service: str, username: str) -> str | None:
        if username == "Keyed/event":
            readers.append(threading.get_ident())
            gate.wait(20)  # until the "prompt" is answered
        return read(service, username)

    async def session():
        await context.start(inbox_port=0)
        inbox = context.inbox.url
        context.environments.put(Environment("Keyed", "custom", inbox, inbox))
        context.environments.save()
        context.secrets.set("Keyed", "event", KEY)
        window.environments_changed()
        window.select_environment("Keyed")
        keyring_backend.get_password = held_read
        window.editor.setPlainText('{"name": "shop/slow-keyring"}')
        window.send()
        await wait_until(lambda: readers, message="the key read began")
        # the read is held: the loop still runs timers, and the window says what it does
        ticks: list[int] = []
        QTimer.singleShot(0, lambda: ticks.append(1))
        await wait_until(lambda: ticks, timeout=2, message="a timer firing during the read")
        assert readers[0] != threading.get_ident()
        assert window.statusBar().currentMessage() == "Sending to Keyed…"
        window.send()  # a second Send meanwhile sends nothing
        assert window.statusBar().currentMessage().startswith("A send is in progress")
        assert context.inbox.events == []
        gate.set()
        rows = window.log_model.rows
        await wait_until(lambda: rows and rows[-1].status == 200, message="the send answered")
        await wait_until(lambda: not window.flow.sending, message="send finished")
        assert [e.name for e in context.inbox.events] == ["shop/slow-keyring"]
        assert len(readers) == 1

        # a keyring that fails the read: said in the status bar, nothing sent
        def failing_read(service: str, username: str) -> str | None:
            raise RuntimeError("org.freedesktop.Secret.Error.IsLocked: collection is locked")

        keyring_backend.get_password = failing_read
        window.send()
        await wait_until(lambda: window.statusBar().currentMessage().startswith("Not sent: "),
                         message="the refusal")
        message = window.statusBar().currentMessage()
        assert message.startswith("Not sent: No usable keyring: RuntimeError: "), message
        assert not window._checking and len(context.inbox.events) == 1
        del keyring_backend.get_password
        await context.shutdown()

    try:
        run_async(session())
    finally:
        gate.set()
        vars(keyring_backend).pop("get_password", None)
