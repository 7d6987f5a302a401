"""Event and signing keys: the OS keyring only, or this session's memory when asked.

One keyring entry per environment and key kind (service `event-console`, user
`<environment>/<kind>`). Nothing here ever logs, prints or writes a key.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from typing import Literal

from console.core.errors import UserError
from console.core.redact import key_problem, scrub

SERVICE = "event-console"
KeyKind = Literal["event", "signing"]

SECRET_SERVICE_HINT = (
    "Install and unlock a Secret Service (GNOME Keyring or KeePassXC on Linux; the system "
    "keychain on macOS and Windows)")
KEYRING_HINT = (SECRET_SERVICE_HINT + ", or set INNGEST_EVENT_KEY (INNGEST_SIGNING_KEY for a "
                "signing key) for this shell.")
FIX_HINT = (KEYRING_HINT + " In the window, Environments… can also keep the key in memory "
            "for this session only.")
# the window has no shell: there, the key can be kept in memory instead
WINDOW_HINT = (SECRET_SERVICE_HINT + ", or keep the key in memory for this session only "
               "(Environments…, \"Keep keys in memory for this session only\").")
NO_BACKEND = "no keyring backend is installed or none is running"
NULL_BACKEND = ("the keyring backend is keyring's null backend (PYTHON_KEYRING_BACKEND or "
                "keyringrc.cfg), which keeps nothing")
LOCKED = "the keyring is locked and could not be unlocked (no unlock prompt was answered)"
NO_COLLECTION = ("the keyring has no collection to keep keys in yet, and creating one needs a "
                 "prompt that was dismissed or could not be shown")


class KeyringUnavailable(UserError):
    """No usable keyring backend: say so, say how to fix it."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{self.lead(reason)} {FIX_HINT}")
        self.reason = reason

    @staticmethod
    def lead(reason: str) -> str:
        return f"No usable keyring: {reason.rstrip('.! ')}."

    def window_text(self) -> str:
        """The message as the window says it (no shell there to set a variable in)."""
        return f"{self.lead(self.reason)} {WINDOW_HINT}"


def in_window_words(exc: BaseException) -> str:
    """What the window says of `exc`: a keyring's trouble with the window's own advice."""
    return exc.window_text() if isinstance(exc, KeyringUnavailable) else str(exc)


def _entry(env_name: str, kind: KeyKind) -> str:
    return f"{env_name}/{kind}"


@dataclass
class SecretStore:
    """Keys per environment and kind, in the keyring; session-only keys in memory."""

    service: str = SERVICE
    session: dict[tuple[str, KeyKind], str] = field(default_factory=dict)

    def backend_problem(self) -> str | None:
        """Why the keyring cannot be used, or None when it can."""
        try:
            import keyring
            from keyring.backends import fail, null

            backend = keyring.get_keyring()
        except Exception as exc:  # PYTHON_KEYRING_BACKEND naming something unusable, say
            chosen = os.environ.get("PYTHON_KEYRING_BACKEND", "").strip()
            detail = str(exc).strip() or type(exc).__name__
            if chosen:
                return (f"PYTHON_KEYRING_BACKEND={chosen} is not a keyring backend that can "
                        f"be loaded ({detail}): unset it, or name one")
            return f"the keyring library could not start ({detail})"
        if isinstance(backend, fail.Keyring):
            return NO_BACKEND
        if isinstance(backend, null.Keyring):  # keeps nothing: "stored" would be a lie
            return NULL_BACKEND
        return None

    def known_backends(self) -> list[str]:
        """Every backend class keyring found (its backends are entry points; a frozen app
        that lost their metadata finds none but the fallback)."""
        try:
            from keyring import backend

            backend.get_all_keyring()  # loads the entry-point plugins
            classes = backend.KeyringBackend._classes
        except Exception:
            return []
        return sorted(f"{c.__module__}.{c.__name__}" for c in classes)

    def backend_name(self) -> str:
        try:
            import keyring

            backend = keyring.get_keyring()
        except Exception:
            return "none"
        return f"{type(backend).__module__}.{type(backend).__name__}"

    def get(self, env_name: str, kind: KeyKind = "event") -> str | None:
        """The key, from session memory first, then the keyring; None when not set."""
        if (env_name, kind) in self.session:
            return self.session[(env_name, kind)]
        import keyring

        try:
            return keyring.get_password(self.service, _entry(env_name, kind))
        except UnicodeDecodeError:  # the keyring works: what another tool stored there is bad
            raise UserError(
                f"the {kind} key kept for {env_name!r} in the keyring is not text (not UTF-8):"
                f" set it again with {set_key_command(env_name, kind)}, or in"
                " Environments…") from None
        except Exception as exc:  # keyring's own errors and the backend's (D-Bus, locked…)
            raise KeyringUnavailable(_describe(exc)) from None

    def stored(self, env_name: str, kind: KeyKind) -> tuple[str | None, str | None]:
        """The key kept for `env_name` (None when none is), and why no send could use it
        (None when it can): a key another tool put in the keyring is not checked as `set`
        checks one. A trailing line break had gone into the URL (`/e/<key>%0A`), and a
        401 was all the user saw. (KeyringUnavailable when the keyring cannot be read.)"""
        try:
            key = self.get(env_name, kind)
        except KeyringUnavailable:
            raise
        except UserError as exc:  # not text: it cannot even be read
            return None, str(exc)
        problem = key_problem(key) if key else None
        if problem is None:
            return key, None
        return key, (f"the {kind} key kept for {env_name!r} cannot be used: {problem} (set it"
                     f" again with {set_key_command(env_name, kind)}, or in Environments…)")

    def set(self, env_name: str, kind: KeyKind, key: str, *, session_only: bool = False) -> None:
        if not key:
            raise UserError("the key is empty")
        problem = key_problem(key)
        if problem:
            raise UserError(problem)
        if session_only:
            self.session[(env_name, kind)] = key
            return
        problem = self.backend_problem()
        if problem:
            raise KeyringUnavailable(problem)
        import keyring

        try:
            keyring.set_password(self.service, _entry(env_name, kind), key)
        except Exception as exc:  # a backend may quote what it was given
            raise KeyringUnavailable(scrub(_describe(exc), [key])) from None
        self.session.pop((env_name, kind), None)

    def delete(self, env_name: str, kind: KeyKind) -> None:
        self.session.pop((env_name, kind), None)
        import keyring
        from keyring.errors import PasswordDeleteError

        try:
            keyring.delete_password(self.service, _entry(env_name, kind))
        except PasswordDeleteError:
            return
        except Exception as exc:
            reason = _describe(exc)
            if reason != NO_BACKEND:  # no keyring at all holds no key to remove
                raise KeyringUnavailable(reason) from None

    def delete_all(self, env_name: str) -> None:
        """Both keys of an environment, when it is removed: each is tried (and this
        session's copy dropped) even when the other cannot be removed."""
        failed: KeyringUnavailable | None = None
        kinds: tuple[KeyKind, ...] = ("event", "signing")
        for kind in kinds:
            try:
                self.delete(env_name, kind)
            except KeyringUnavailable as exc:
                failed = failed or exc
        if failed is not None:
            raise failed

    def rename(self, old: str, new: str) -> None:
        """Move an environment's keys when it is renamed: this session's first, then the
        keyring's (none to move when there is no keyring at all; a locked one raises
        KeyringUnavailable, and its keys stay under the old name)."""
        kinds: tuple[KeyKind, ...] = ("event", "signing")
        for kind in kinds:
            if (old, kind) in self.session:
                self.session[(new, kind)] = self.session.pop((old, kind))
        if self.backend_problem() == NO_BACKEND:
            return
        import keyring

        dropped: list[str] = []
        for kind in kinds:
            try:
                key = self.get(old, kind)
            except KeyringUnavailable:
                raise
            except UserError:  # not text: it cannot be read to move; no send could use it
                self.delete(old, kind)
                dropped.append(kind)
                continue
            if key is not None:  # as it is: a key another tool stored badly moves too
                try:
                    keyring.set_password(self.service, _entry(new, kind), key)
                except Exception as exc:  # a backend may quote what it was given
                    raise KeyringUnavailable(scrub(_describe(exc), [key])) from None
                self.delete(old, kind)
        if dropped:  # the others moved; said once the move is done
            raise UserError(" and ".join(
                f"the {kind} key kept for {old!r} was not text (not UTF-8), so it was removed:"
                f" set one for {new!r} with {set_key_command(new, kind)}" for kind in dropped))


def set_key_command(env_name: str, kind: KeyKind | str) -> str:
    """The command that sets a key again, quoted for a shell (`'My Env'`)."""
    flag = " --signing" if kind == "signing" else ""
    return f"`event-console env set-key {shlex.quote(env_name)}{flag}`"


def _describe(exc: BaseException) -> str:
    """The backend's complaint (a backend could quote the key it was given: `set` masks
    it). The common cases get plain words: keyring's fallback backend (none found) says it in
    a paragraph about PyPI packages, a locked one "Failed to unlock the collection!", and
    a Secret Service with no keyring yet "Failed to create the collection: Prompt
    dismissed"."""
    from keyring.errors import InitError, KeyringLocked, NoKeyringError

    if isinstance(exc, NoKeyringError):
        return NO_BACKEND
    if isinstance(exc, KeyringLocked):  # e.g. no desktop session to show the prompt
        return LOCKED
    if isinstance(exc, InitError) and "create the collection" in str(exc):  # a new login
        return NO_COLLECTION
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text
