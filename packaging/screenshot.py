"""Take the AppStream screenshot from the real app: resources/screenshots/main-window.png.

Why a script: software centres show this picture, so it must be the app as it is, not a
mock-up, and it must be easy to retake when the window changes. It boots the same pieces as
console/app.py (app context, main window, qasync loop) in a throw-away app home, offscreen,
at the size the metainfo declares (1280x800); sends the starter event to the built-in inbox
so the send log shows a real answer; then grabs the window. It drives the window only
through what a user does (pick an environment, Send), so it survives UI changes.

    python packaging/screenshot.py [OUT.png]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "resources" / "screenshots" / "main-window.png"
SIZE = (1280, 800)  # keep in step with <image width height> in the metainfo


async def stage(window: Any, context: Any) -> None:
    """Bring the window into the state the screenshot shows: one event sent to the inbox."""
    await context.start()
    if hasattr(window, "inbox_started"):
        window.inbox_started()
    inbox_env = next((e for e in context.environments.all() if e.kind == "inbox"), None)
    if inbox_env is not None and context.inbox is not None:
        window.select_environment(inbox_env.name)
        window.send()

        def done() -> bool:
            flow = getattr(window, "flow", None)
            return bool(context.inbox.events) and not getattr(flow, "sending", False)

        if not await _until(done, seconds=10):
            print("screenshot: the send did not finish; taking the window as it is")
    await asyncio.sleep(0.5)  # health dot, model updates, repaint


async def _until(predicate: Callable[[], bool], *, seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def take(out: Path) -> Path:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="event-console-shot-") as home:
        os.environ["EVENT_CONSOLE_HOME"] = home
        for var in [v for v in os.environ if v.startswith("INNGEST_")]:
            del os.environ[var]
        from PySide6.QtWidgets import QApplication

        from console.services.paths import app_paths
        from console.ui.context import AppContext
        from console.ui.loop import ConsoleEventLoop
        from console.ui.main_window import MainWindow

        app = QApplication.instance() or QApplication(sys.argv[:1])
        app.setApplicationName("Event Console")
        app.setQuitOnLastWindowClosed(False)  # the loop ends when run() does, not before
        loop = ConsoleEventLoop(app)
        asyncio.set_event_loop(loop)
        context = AppContext.create(app_paths())
        window = MainWindow(context)
        window.resize(*SIZE)
        window.show()

        async def run() -> None:
            try:
                await stage(window, context)
                out.parent.mkdir(parents=True, exist_ok=True)
                if not window.grab().save(str(out), "PNG"):
                    raise SystemExit(f"screenshot: could not write {out}")
            finally:
                window.close()
                await context.shutdown()

        with loop:
            loop.run_until_complete(run())
    return out


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else DEFAULT_OUT
    print(take(out))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main(sys.argv[1:]))
