"""What the window works with, created once at boot and passed in (no globals)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

from console.services.client import EventApiClient
from console.services.environments import EnvironmentStore
from console.services.history_async import AsyncHistory
from console.services.history_schema import window_words
from console.services.inbox import CapturedEvent, InboxServer, listen_problem
from console.services.outcomes import PollPolicy
from console.services.paths import AppPaths
from console.services.secrets import SecretStore
from console.ui.tasks import TaskOwner

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    paths: AppPaths
    environments: EnvironmentStore
    secrets: SecretStore
    client: EventApiClient
    tasks: TaskOwner = field(default_factory=TaskOwner)
    inbox: InboxServer | None = None
    inbox_error: str | None = None
    inbox_listeners: list[Callable[[CapturedEvent], None]] = field(default_factory=list)
    notice_listeners: list[Callable[[str], None]] = field(default_factory=list)  # said later
    history: AsyncHistory | None = None
    notices: list[str] = field(default_factory=list)  # shown once the window is up
    poll_policy: PollPolicy = field(default_factory=PollPolicy)  # looking up runs after a send

    @classmethod
    def create(cls, paths: AppPaths) -> AppContext:
        paths.ensure()
        context = cls(paths, EnvironmentStore.load(paths), SecretStore(), EventApiClient())
        # the environments file's problems too: the window had said "Ready" over a file it
        # could not read, and entries it could not use
        for problem in (context.environments.notice, context.client.environment_problem):
            if problem:
                context.notices.append(problem[:1].upper() + problem[1:])
        return context

    async def start(self, inbox_port: int | None = None) -> None:
        """Open the history, start the built-in inbox (its environment's port, or any)."""
        await self._open_history()
        await self._start_inbox(inbox_port)
        # keyring's first use imports it and finds the backend (~170 ms): do that off the
        # loop now, not inside the first Send
        await asyncio.to_thread(self.secrets.backend_name)

    async def _open_history(self) -> None:
        try:
            self.history = await AsyncHistory.open(self.paths.history_db)
        except Exception as exc:
            log.warning("history not available: %s", exc)
            self.notices.append(f"History is off for this session: {window_words(str(exc))}")
            return
        self.notices.extend(self.history.messages)
        try:
            await self.history.run(lambda store: store.apply_retention())
        except Exception as exc:
            log.warning("retention not applied: %s", exc)

    async def history_failed(self, exc: BaseException) -> str:
        """The history stopped working in the middle of the session (made read-only, damaged,
        held by another program past the wait): it is off for the rest of the session, as
        when it cannot be opened, and the reason is returned to say so."""
        reason = window_words(str(exc) or type(exc).__name__)
        history, self.history = self.history, None
        log.warning("history turned off: %s", reason)
        self.notices.append(f"History is off for this session: {reason}")
        if history is not None:
            with contextlib.suppress(Exception):  # it is failing: closing may fail too
                await history.aclose()
        return reason

    async def _start_inbox(self, inbox_port: int | None) -> None:
        from urllib.parse import urlsplit

        inbox_env = next((e for e in self.environments.saved if e.kind == "inbox"), None)
        port = inbox_port
        if port is None and inbox_env is not None:
            port = urlsplit(inbox_env.event_origin).port or 8289
        for candidate in (port or 0, 0):
            server = InboxServer(port=candidate, on_event=self._captured)
            try:
                await server.start()
            except OSError as exc:
                self.inbox_error = (f"inbox could not listen on port {candidate}: "
                                    f"{listen_problem(exc, candidate, window=True)}")
                continue
            self.inbox, self.inbox_error = server, None
            break
        if self.inbox is not None and inbox_env is not None:
            origin = self.inbox.url
            if origin != inbox_env.event_origin:
                self.environments.put(  # never saved: the next start tries its port again
                    replace(inbox_env, event_origin=origin, rest_origin=origin),
                    replacing=inbox_env.name, session_only=True,
                )

    def _captured(self, event: CapturedEvent) -> None:
        if self.history is not None:
            # under the inbox environment's name, as sends to it are: the ledger counts the
            # events it received (a renamed Inbox had them under "Inbox")
            inbox = next((e for e in self.environments.all() if e.kind == "inbox"), None)
            name = inbox.history_name if inbox is not None else "Inbox"
            written = self.history.submit(lambda store: store.record_captured(name, event))
            loop = asyncio.get_running_loop()

            def checked(done: Future[int]) -> None:  # on the history's thread
                if not done.cancelled() and done.exception() is not None:
                    loop.call_soon_threadsafe(self._capture_not_recorded, done.exception())

            written.add_done_callback(checked)
        for listener in list(self.inbox_listeners):
            listener(event)

    def _capture_not_recorded(self, exc: BaseException | None) -> None:
        """A capture the history could not write (a full disk): it is off from now on, and
        said, as after a send it could not record. Captures had gone missing from it
        without a word while the Inbox tab showed them."""

        async def off() -> None:
            if self.history is None or exc is None:  # off already: said then
                return
            reason = await self.history_failed(exc)
            for listener in list(self.notice_listeners):
                listener(f"History is off for this session: {reason}")

        self.tasks.spawn(off(), "capture-not-recorded")

    async def shutdown(self) -> None:
        await self.tasks.cancel_all()
        if self.inbox is not None:
            await self.inbox.stop()
        await self.client.aclose()
        if self.history is not None:
            await self.history.aclose()
            self.history = None
        await asyncio.sleep(0)
