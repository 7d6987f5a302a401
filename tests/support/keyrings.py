"""Keyring backends that fail as real ones do, for what a Secret Service cannot be made to
do on demand: stay locked with no prompt to answer, or quote a secret in its error."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked


class LockedKeyring(KeyringBackend):
    """As gnome-keyring answers when its collection is locked and no prompt can show."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class QuotingKeyring(LockedKeyring):
    """A backend whose error quotes the secret it was handed."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise ValueError(f"could not encode secret {password!r} for {username}")


@contextlib.contextmanager
def using(backend: KeyringBackend) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(previous)


class CountingLockedKeyring(LockedKeyring):
    """A locked keyring that writes a line to $KEYRING_ASKS each time it is asked (for a
    subprocess: each ask of a locked desktop keyring can be an unlock prompt)."""

    def get_password(self, service: str, username: str) -> str | None:
        with open(os.environ["KEYRING_ASKS"], "a", encoding="utf-8") as asks:
            asks.write(f"{username}\n")
        return super().get_password(service, username)


def store_bytes(service: str, username: str, secret: bytes) -> None:
    """Put `secret` in the real Secret Service as keyring would file it, bytes and all (a
    secret that is not UTF-8, as another tool may store: keyring itself only writes text)."""
    import secretstorage

    collection = secretstorage.get_default_collection(secretstorage.dbus_init())
    collection.create_item(f"{service} {username}", {
        "service": service, "username": username, "application": "Python keyring library",
    }, secret, replace=True)
