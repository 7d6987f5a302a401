"""Errors the user caused and can fix, apart from bugs.

A `UserError` is shown plainly where the user is looking, never as a traceback. Anything
else reaching the top is a bug: logged with its traceback and shown in the bug dialog.
"""

from __future__ import annotations


class UserError(Exception):
    """A known, user-facing failure with a message that says what to do next."""


class InputError(UserError):
    """The user's input (event, file, option) is not acceptable."""


class Interrupted(Exception):
    """A second stop signal (Ctrl+C, SIGTERM, SIGHUP) to a command: quit at once, without
    a traceback, with `code` (128 + the signal's number)."""

    def __init__(self, signum: int, name: str) -> None:
        super().__init__(name)
        self.code = 128 + signum
