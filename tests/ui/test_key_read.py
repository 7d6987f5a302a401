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
    daemons: list[bool] = []

    def held_read(service: str, username: str) -> str | None:
        if username == "Keyed/event":
            readers.append(threading.get_ident())
            # a thread that never holds the app open (closing the window had waited
            # for the loop's executor, so for the keyring's prompt)
            daemons.append(threading.current_thread().daemon)
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
        assert readers[0] != threading.get_ident() and daemons == [True]
        assert window.statusBar().currentMessage() == "Sending to Keyed…"
        window.send()  # a second Send meanwhile sends nothing, and says why
        assert window.statusBar().currentMessage().startswith(
            "The last Send is still reading its key and checking its ids: wait for it")
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
        # the window's advice: no shell here to set INNGEST_EVENT_KEY in
        assert message.endswith("or keep the key in memory for this session only "
                                "(Environments…, \"Keep keys in memory for this session "
                                "only\")."), message
        assert "INNGEST_EVENT_KEY" not in message
        assert not window._checking and len(context.inbox.events) == 1
        del keyring_backend.get_password
        await context.shutdown()

    try:
        run_async(session())
    finally:
        gate.set()
        vars(keyring_backend).pop("get_password", None)


def test_a_run_reads_its_key_off_the_qt_thread_and_a_missing_key_sends_nothing(
        qtbot, app_home, tmp_path, run_async, keyring_backend):
    """The Scenarios tab's Run read the key on the Qt thread too."""
    import json

    from console.services.client import EventApiClient
    from console.services.environments import EnvironmentStore
    from console.services.paths import app_paths
    from console.services.secrets import SecretStore
    from console.services.workspace import Workspace
    from console.ui.workspace import RunnerPanel, WorkspaceWatcher
    from tests.support.inbox_thread import running_inbox

    workspace = Workspace.open(tmp_path / "ws")
    (workspace.folder / "scenarios" / "one.json").write_text(json.dumps({
        "format": "event-console/scenario@1", "name": "one",
        "steps": [{"send": {"name": "qa/keyed", "data": {}}}]}))
    watcher = WorkspaceWatcher(workspace)
    watcher.reload()
    read = keyring_backend.get_password
    gate = threading.Event()
    readers: list[int] = []

    def held_read(service: str, username: str) -> str | None:
        if username.endswith("/event"):
            readers.append(threading.get_ident())
            gate.wait(20)
        return read(service, username)

    secrets = SecretStore()
    client = EventApiClient()
    try:
        with running_inbox() as box:
            store = EnvironmentStore.load(app_paths())
            for name in ("Keyed", "Keyless"):
                store.put(Environment(name, "custom", box.url, box.url))
            secrets.set("Keyed", "event", KEY)
            panel = RunnerPanel(workspace, watcher, store, secrets, client)
            qtbot.addWidget(panel)
            panel.select_scenario("one")
            panel.select_environment("Keyed")
            keyring_backend.get_password = held_read
            task = panel.start(dry_run=False)
            assert task is not None
            run_async(wait_until(lambda: readers, message="the key read began"))
            ticks: list[int] = []
            QTimer.singleShot(0, lambda: ticks.append(1))
            run_async(wait_until(lambda: ticks, timeout=2, message="a timer during the read"))
            assert readers[0] != threading.get_ident() and box.events() == []
            gate.set()
            report = run_async(task)
            assert report is not None and report.passed
            assert [e.name for e in box.events()] == ["qa/keyed"]

            del keyring_backend.get_password
            panel.select_environment("Keyless")
            report = run_async(panel.start(dry_run=False))
            assert report is None and len(box.events()) == 1
            assert "no event key" in panel.status.text().lower(), panel.status.text()
            assert not panel.stop_button.isEnabled()  # not left running
    finally:
        gate.set()
        vars(keyring_backend).pop("get_password", None)
        secrets.delete_all("Keyed")
        run_async(client.aclose())
