"""A scripted session with a known key, then a search of everything the app wrote: no key."""

from __future__ import annotations

import logging
from pathlib import Path

from tests.support.fault_server import FaultServer, Reply
from tests.support.inbox_thread import running_inbox
from tests.ui.conftest import wait_until

KEY = "evtkey-LEAKCANARY-7f3a9c21"
SIGNING = "signkey-prod-LEAKCANARY-0b5e"


def files_containing(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            hits.append(path)
    return hits


def test_the_key_never_reaches_files_logs_or_output(cli, keyring_backend, app_home, tmp_path,
                                                    qtbot, run_async, caplog):
    caplog.set_level(logging.DEBUG)
    outputs: list[str] = []
    event = tmp_path / "event.json"
    event.write_text('{"name": "leak/check", "data": {"id": 1}}')
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "", "data": {}}')

    with running_inbox(event_key=KEY) as inbox, FaultServer() as echo:
        # a hostile server that echoes the key back in its error text, twice over retries
        echo.script(Reply.json(503, {"error": f"down for /e/{KEY}"}),
                    Reply.json(400, {"error": f"bad key {KEY}", "ids": [], "status": 400}))
        steps = [
            cli("env", "add", "Secret", "--event-origin", inbox.url),
            cli("env", "set-key", "Secret", input=KEY + "\n"),
            cli("env", "set-key", "Secret", "--signing", input=SIGNING + "\n"),
            cli("env", "add", "Echo", "--event-origin", echo.origin),
            cli("env", "set-key", "Echo", input=KEY + "\n"),
            cli("env", "list"),
            cli("env", "list", "--json"),
            cli("send", "--env", "Secret", str(event)),
            cli("send", "--env", "Secret", str(bad)),
            cli("send", "--env", "Echo", str(event)),
            cli("history", "--json"),
            cli("history"),
        ]
        for step in steps:
            outputs += [step.stdout, step.stderr]
        assert steps[7].returncode == 0, steps[7].stderr
        assert steps[9].returncode == 1

        # the window: send with the key from the keyring, then close it (writes its state)
        from console.services.outcomes import PollPolicy
        from console.services.paths import app_paths
        from console.ui.context import AppContext
        from console.ui.main_window import MainWindow

        context = AppContext.create(app_paths())
        context.poll_policy = PollPolicy(total=2.0)
        window = MainWindow(context)
        qtbot.addWidget(window)
        window.show()

        async def session():
            await context.start(inbox_port=0)
            window.inbox_started()
            for name in ("Secret", "Echo"):
                window.select_environment(name)
                outputs.append(window.windowTitle())
                before = len(window.log_model.rows)
                echo.script(Reply.json(400, {"error": f"bad key {KEY}", "status": 400}))
                window.send()
                rows = window.log_model.rows
                await wait_until(lambda b=before, r=rows: len(r) > b and not r[-1].pending,
                                 message=f"send to {name}")
                await wait_until(lambda: not window.flow.sending, timeout=20,
                                 message=f"send to {name} finished")
                for column in range(window.log_model.columnCount()):
                    outputs.append(str(window.log_model.data(window.log_model.index(len(rows) - 1,
                                                                                       column))))
                outputs.append(window.statusBar().currentMessage())
            window.close()
            await wait_until(lambda: context.inbox is None or True)
            await context.shutdown()

        run_async(session())
        assert inbox.wait_for_events(2)

    outputs += [r.getMessage() for r in caplog.records]
    grabbed = window.grab()
    assert not grabbed.isNull()
    for needle in (KEY, SIGNING):
        assert files_containing(app_home, needle.encode()) == [], needle
        assert files_containing(tmp_path, needle.encode()) == [], needle
        leaking = [o for o in outputs if needle in o]
        assert leaking == [], leaking
    # the session did write things worth searching
    written = [p.name for p in app_home.rglob("*") if p.is_file()]
    assert "environments.json" in written and "window.ini" in written
