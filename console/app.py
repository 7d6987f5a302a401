"""Boot: QApplication + qasync loop + main window; orderly shutdown; bugs caught at the top.

Heavy imports (Qt, httpx) happen here, not in the CLI, so `event-console send` starts fast.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
import traceback
from logging.handlers import RotatingFileHandler
from types import TracebackType
from typing import Any

from console import __version__
from console.core.errors import UserError
from console.services.paths import AppPaths, app_paths

log = logging.getLogger("console")
_T0 = time.perf_counter()


def setup_logging(paths: AppPaths) -> str | None:
    """One rotating log file in the state dir; nothing secret is ever logged. When it
    cannot be written (a state folder left by `sudo event-console`, a read-only disk), the
    log goes to stderr and what is wrong is returned, to be said in the window: the window
    had not opened at all."""
    paths.ensure()
    problem = None
    handler: logging.Handler
    try:
        handler = RotatingFileHandler(paths.log_file, maxBytes=2_000_000, backupCount=3,
                                      encoding="utf-8")
    except OSError as exc:
        handler = logging.StreamHandler(sys.stderr)
        problem = (f"The log {paths.log_file} cannot be written ({exc.strerror or exc}): it"
                   " goes to standard error for this session")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "qasync", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return problem


def _cannot_start(message: str) -> int:
    """Say why the window cannot open: on stderr, and in a message box, since an app
    started from a menu has no terminal (not offscreen: nobody could close the box)."""
    print(f"event-console: {message}", file=sys.stderr)
    if os.environ.get("QT_QPA_PLATFORM", "") not in ("offscreen", "minimal"):
        from PySide6.QtWidgets import QApplication, QMessageBox

        app = QApplication.instance() or QApplication(sys.argv[:1])
        QMessageBox.critical(None, "Event Console cannot start", message)
        del app
    return 2


def no_display(environ: Any = os.environ, platform: str = sys.platform) -> str | None:
    """Why the window has nowhere to open, or None. Without a display Qt aborts (core
    dumped, exit 134) after naming its plugins, which tells an ssh user nothing."""
    if platform in ("win32", "darwin") or environ.get("QT_QPA_PLATFORM"):
        return None
    display, wayland = environ.get("DISPLAY", ""), environ.get("WAYLAND_DISPLAY", "")
    if not display and not wayland:
        why = "DISPLAY and WAYLAND_DISPLAY are not set"
    elif _local_display_gone(display, wayland, environ):  # a stale one, in tmux say
        why = f"no display server at {'DISPLAY=' + display if display else wayland}"
    else:
        return None
    return (f"no display to open the window on ({why}). The commands work without one: "
            "event-console send, run, inbox… (event-console --help); "
            "QT_QPA_PLATFORM=offscreen opens the window unseen")


def _local_display_gone(display: str, wayland: str, environ: Any) -> bool:
    """Whether every display named is gone: no socket on this machine, or a display on a
    host (ssh's forwarded `localhost:10`, after the ssh session ended) that refuses its
    port. One that cannot be told (a slow network) is left to Qt."""
    sockets = []
    if display:
        host, _, number = display.rpartition(":")
        server = number.split(".")[0]  # ":10.0": display 10, screen 0
        if not server.isdigit():
            return False
        if host not in ("", "unix"):
            return _tcp_display_gone(host, 6000 + int(server))
        sockets.append(f"/tmp/.X11-unix/X{server}")
    if wayland:
        runtime = environ.get("XDG_RUNTIME_DIR", "")
        if not wayland.startswith("/") and not runtime:
            return False
        sockets.append(wayland if wayland.startswith("/") else os.path.join(runtime, wayland))
    return not any(os.path.exists(path) for path in sockets)


def _tcp_display_gone(host: str, port: int) -> bool:
    """Whether an X display served over TCP (X11 forwarding) is surely not there: its host
    unknown, or the port refused. Qt had aborted with exit 134 after naming its plugins."""
    import socket

    try:
        socket.create_connection((host.strip("[]"), port), timeout=2).close()
    except (ConnectionRefusedError, socket.gaierror):
        return True
    except OSError:  # a timeout, a filtered port: Qt may still get through
        return False
    return False


def run_gui(*, smoke_test: bool = False) -> int:
    if smoke_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if (missing := no_display()) is not None:
        print(f"event-console: {missing}", file=sys.stderr)
        return 2
    paths = app_paths()
    try:
        log_problem = setup_logging(paths)
    except UserError as exc:  # no folder for the log, the history, the settings
        return _cannot_start(str(exc))

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from console.ui.bug_dialog import BugReporter
    from console.ui.context import AppContext
    from console.ui.loop import ConsoleEventLoop
    from console.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Event Console")
    app.setOrganizationName("event-console")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("dev.eventconsole.EventConsole")
    from PySide6.QtGui import QIcon

    from console.services.resources import resource

    app.setWindowIcon(QIcon(str(resource("icons", "event-console.svg"))))
    # closing the window ends `lifetime()` below, which shuts down in order; Qt must not
    # stop the loop underneath it first
    app.setQuitOnLastWindowClosed(False)
    loop = ConsoleEventLoop(app)
    asyncio.set_event_loop(loop)
    reporter = BugReporter(paths.log_file)
    sys.excepthook = reporter.excepthook
    loop.set_exception_handler(reporter.loop_exception)

    context = AppContext.create(paths)
    if log_problem is not None:
        context.notices.append(log_problem)
    window = MainWindow(context)
    stopped_by = _close_on_signals(window)
    log.info("event-console %s starting", __version__)
    exit_after_paint = os.environ.get("EVENT_CONSOLE_EXIT_AFTER_PAINT") == "1"
    result: dict[str, Any] = {}

    ready = {"painted": False, "started": False}

    def step_done(step: str) -> None:
        ready[step] = True
        if smoke_test and all(ready.values()) and not result:
            result.update(smoke_report(window, context))
            window.close()

    def on_first_paint() -> None:
        if exit_after_paint:
            print(f"first-paint {(time.perf_counter() - _T0) * 1000:.1f}", flush=True)
            window.close()
        step_done("painted")

    window.first_painted.connect(on_first_paint)
    window.show()
    if smoke_test:
        QTimer.singleShot(10_000, window.close)  # never hang a CI step

    closed = asyncio.Event()
    window.closed.connect(closed.set)

    async def lifetime() -> None:
        await context.start()
        if not closed.is_set():
            window.inbox_started()  # its address, the environments, the start's notices
            step_done("started")
        await closed.wait()
        await context.shutdown()

    with loop:
        running = asyncio.ensure_future(lifetime())
        try:
            loop.run_until_complete(running)
        except RuntimeError:
            if running.done():
                raise
            # Qt ended its loop itself: the display went away (an X server that died, a
            # logout). Qt's loop cannot run again to close in order, so what the window's
            # close saves is saved here (the history needs nothing: its rows are on disk,
            # and a send in flight is "unknown" at the next start)
            running.cancel()
            window.save_state()
            log.warning("the display went away: settings saved, quitting")
            print("event-console: the display went away; settings saved", file=sys.stderr)
            sys.excepthook = sys.__excepthook__
            return 1
    sys.excepthook = sys.__excepthook__
    if smoke_test:
        print(json.dumps(result), flush=True)
        return 0 if result.get("ok") else 1
    return 128 + stopped_by[0] if stopped_by else 0


def _close_on_signals(window: Any) -> list[int]:
    """SIGTERM (a logout, `kill`, a service manager), SIGINT (Ctrl+C in the terminal it
    was started from) and SIGHUP (that terminal closed) close the window as its close
    button does, so the shutdown is the orderly one: settings and environments saved, the
    history closed, the inbox stopped. SIGTERM and SIGHUP had ended the process at once,
    and Ctrl+C raised KeyboardInterrupt wherever Python happened to run next.

    Python runs a signal's handler only when it next runs Python code, which inside Qt's
    loop may be much later: the signal number is written to a socket (set_wakeup_fd) that
    Qt watches. Returns the list the signals received are added to."""
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    received: list[int] = []
    reader, writer = socket.socketpair()
    for end in (reader, writer):
        end.setblocking(False)
    try:
        signal.set_wakeup_fd(writer.fileno())
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # SIGHUP: its terminal closed
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), lambda *_: None)  # the socket says it
    except (ValueError, OSError):  # not the main thread
        return received
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, window)

    def woken() -> None:
        try:
            data = reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        if data and not received:
            received.append(data[0])
            log.info("signal %d: closing", data[0])
            window.close()

    notifier.activated.connect(woken)
    window._signal_ends = (reader, writer, notifier)  # kept alive with the window
    return received


def smoke_report(window: Any, context: Any) -> dict[str, Any]:
    """What the packaged-app check needs to know: window up, keyring and resources found,
    schema formats checked."""
    from console.services.resources import resource

    backends = context.secrets.known_backends()
    native = {"linux": "SecretService", "darwin": "macOS", "win32": "Windows"}.get(sys.platform, "")
    icon = resource("icons", "event-console.svg")
    from jsonschema import Draft202012Validator  # its format checkers' packages are bundled

    formats = sorted(Draft202012Validator.FORMAT_CHECKER.checkers)
    checks = {
        "window": window.isVisible(),
        "keyring_backends": backends,
        "keyring_native_found": any(f".{native}." in name for name in backends),
        "keyring_active": context.secrets.backend_name(),
        "keyring_problem": context.secrets.backend_problem(),
        "resources": str(icon.parent),
        "resources_ok": icon.is_file(),
        "inbox": window.inbox_panel.address.text(),
        "status": window.statusBar().currentMessage(),
        "schema_formats": formats,
        "schema_formats_ok": {"date-time", "time", "uri", "email"} <= set(formats),
    }
    checks["ok"] = all(checks[k] for k in ("window", "keyring_native_found", "resources_ok",
                                           "schema_formats_ok"))
    return checks


def format_exception(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> str:
    return "".join(traceback.format_exception(exc_type, exc, tb))
