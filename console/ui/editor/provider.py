"""What the editor needs from a completion source, and the adapter to console.core.

The editor depends only on the `CompletionProvider` protocol, so tests and the main window
can hand it anything with these three methods. `CoreCompletionProvider` is the real one:
it forwards to `console.core.completion` with the schema library and known event names
the main window keeps up to date.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from console.core import completion


class CandidateLike(Protocol):
    """The shape of `console.core.completion.Candidate`."""

    @property
    def label(self) -> str: ...
    @property
    def insert_text(self) -> str: ...
    @property
    def kind(self) -> Any: ...
    @property
    def detail(self) -> str: ...
    @property
    def documentation(self) -> str: ...


class CompletionProvider(Protocol):
    """Offsets are code points into `text` (the editor converts from Qt positions)."""

    def complete(self, text: str, offset: int) -> Sequence[CandidateLike]: ...
    def hover(self, text: str, offset: int) -> str | None: ...
    def skeleton_for(self, text: str, offset: int) -> dict[str, Any] | None: ...


class CoreCompletionProvider:
    """`console.core.completion` bound to the current schemas and event names.

    `schemas` and `event_names` are callables so the provider always sees the latest
    schema library and history without being rebuilt.
    """

    def __init__(
        self,
        schemas: Callable[[], Any] = lambda: None,
        event_names: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        self._schemas = schemas
        self._event_names = event_names

    def complete(self, text: str, offset: int) -> Sequence[CandidateLike]:
        result: Sequence[CandidateLike] = completion.complete(
            text, offset, schemas=self._schemas(), event_names=list(self._event_names())
        )
        return result

    def hover(self, text: str, offset: int) -> str | None:
        result: str | None = completion.hover(text, offset, schemas=self._schemas())
        return result

    def skeleton_for(self, text: str, offset: int) -> dict[str, Any] | None:
        result: dict[str, Any] | None = completion.skeleton_for(
            text, offset, schemas=self._schemas()
        )
        return result
