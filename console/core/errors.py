"""Errors the user caused and can fix, apart from bugs.

A `UserError` is shown plainly where the user is looking, never as a traceback. Anything
else reaching the top is a bug: logged with its traceback and shown in the bug dialog.
"""

from __future__ import annotations


class UserError(Exception):
    """A known, user-facing failure with a message that says what to do next."""


class InputError(UserError):
    """The user's input (event, file, option) is not acceptable."""
