"""What the window works with, created once at boot and passed in (no globals)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from console.services.client import EventApiClient
from console.services.environments import EnvironmentStore
from console.services.inbox import CapturedEvent, InboxServer
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

    @classmethod
    def create(cls, paths: AppPaths) -> AppContext:
        paths.ensure()
        return cls(paths, EnvironmentStore.load(paths), SecretStore(), EventApiClient())

    async def start(self, inbox_port: int | None = None) -> None:
        """Start the built-in inbox on the Inbox environment's port, or any free one."""
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
                self.inbox_error = f"inbox could not listen on port {candidate}: {exc}"
                continue
            self.inbox, self.inbox_error = server, None
            break
        if self.inbox is not None and inbox_env is not None:
            origin = self.inbox.url
            if origin != inbox_env.event_origin:
                self.environments.put(
                    replace(inbox_env, event_origin=origin, rest_origin=origin),
                    replacing=inbox_env.name,
                )

    def _captured(self, event: CapturedEvent) -> None:
        for listener in list(self.inbox_listeners):
            listener(event)

    async def shutdown(self) -> None:
        await self.tasks.cancel_all()
        if self.inbox is not None:
            await self.inbox.stop()
        await self.client.aclose()
        await asyncio.sleep(0)
