"""From an environment to a ready-to-send target: origin, key, branch, limits.

The one place that decides which key is used, so the GUI, `send` and `run` agree:
the SDK variables for the "From environment" target; otherwise session memory or the
keyring; otherwise INNGEST_EVENT_KEY; otherwise the Dev Server placeholder where any key
works. A missing key for Inngest Cloud is a plain message saying how to set one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from console.core.errors import UserError
from console.core.redact import PLACEHOLDER_KEY, key_problem
from console.services.client import REFUSED, THROUGH_PROXY, Target
from console.services.environments import (
    DEV_ORIGIN,
    DEV_PLACEHOLDER_KEY,
    EVENT_LIMIT_CLOUD_FREE,
    Environment,
    EnvironmentStore,
    is_cloud_origin,
    normalize_origin,
    on_this_machine,
    origin_problem,
    origins_problem,
    shown_origin,
)
from console.services.outcomes import RestAccess
from console.services.secrets import KeyringUnavailable, SecretStore, set_key_command


@dataclass(frozen=True)
class ResolvedTarget:
    environment: Environment
    target: Target
    signing_key: str | None = field(repr=False)  # a logged ResolvedTarget leaks nothing
    key_source: str  # "keyring", "session", "INNGEST_EVENT_KEY", "placeholder", "environment"

    @property
    def rest_access(self) -> RestAccess:
        """Where this target's runs are looked up, with which key (or why they cannot be)."""
        env = self.environment
        return RestAccess.for_environment(
            name=env.name, kind=env.kind, rest_origin=env.rest_origin, branch=env.branch,
            signing_key=self.signing_key)

    @property
    def secrets(self) -> list[str]:
        """Strings that must never be shown; used to scrub free text."""
        return [s for s in (self.target.event_key, self.signing_key) if s]


def adhoc_environment(origin: str) -> Environment:
    """`--url ORIGIN`: an unsaved Dev Server style target (both APIs on one origin).

    Like the SDKs in dev mode, it sends the placeholder key unless INNGEST_EVENT_KEY is set;
    a server that wants a real key answers 401 and the user sees that plainly.
    """
    origin = normalize_origin(origin)
    problem = origin_problem(origin)
    if problem:
        raise UserError(f"--url: {problem}")
    env = Environment(name=origin, kind="dev", event_origin=origin, rest_origin=origin)
    # Inngest Cloud's own origin keeps its per-event limit, as the From-environment target
    # does: `send --dry-run --url https://inn.gs` planned a 300 KB event as sendable
    return replace(env, event_limit=EVENT_LIMIT_CLOUD_FREE) if is_cloud_origin(origin) else env


def environment_named(store: EnvironmentStore, name: str) -> Environment:
    """The environment of that name; a bare origin, as the history names a `send --url`,
    is that `--url` again (History's "Send again" of such a send)."""
    try:
        return store.get(name)
    except UserError:
        if name.startswith(("http://", "https://")) and not origin_problem(
                normalize_origin(name)):
            return adhoc_environment(name)
        raise


def resolve_target(
    env: Environment,
    store: EnvironmentStore,
    secrets: SecretStore,
    environ: Mapping[str, str] | None = None,
) -> ResolvedTarget:
    environ = os.environ if environ is None else environ
    problem = origins_problem(env)
    if problem:  # a hand-edited environments file, or INNGEST_API_BASE_URL with a key
        raise UserError(f"environment {env.name!r}: {problem}")
    if env.kind == "from-env" and store.sdk is not None:
        sdk_key = store.sdk.event_key
        if not sdk_key:
            raise UserError(
                "INNGEST_* variables point at Inngest Cloud but INNGEST_EVENT_KEY is not set"
            )
        _checked_variable("INNGEST_EVENT_KEY", sdk_key)
        return ResolvedTarget(
            env, Target(env.event_origin, sdk_key, env.branch),
            _checked_variable("INNGEST_SIGNING_KEY", store.sdk.signing_key), "environment",
        )
    env_key = environ.get("INNGEST_EVENT_KEY", "").strip() or None
    signing_env = environ.get("INNGEST_SIGNING_KEY", "").strip() or None
    key: str | None = None
    signing: str | None = None
    source = "keyring"
    keyring_error: KeyringUnavailable | None = None
    is_saved = env.name in [e.name for e in store.saved]
    if is_saved:
        problems: list[str | None] = []
        try:
            key, problem = secrets.stored(env.name, "event")
            problems.append(problem)
        except KeyringUnavailable as exc:
            keyring_error = exc
        # on its own: a session-only signing key counts without a keyring
        with contextlib.suppress(KeyringUnavailable):
            signing, problem = secrets.stored(env.name, "signing")
            problems.append(problem)
        if any(problems):
            raise UserError(next(p for p in problems if p))
        if key is not None and (env.name, "event") in secrets.session:
            source = "session"
    if key is None and env_key:  # checked where it is used (a stored key wins over it)
        key, source = _checked_variable("INNGEST_EVENT_KEY", env_key), "INNGEST_EVENT_KEY"
    if key is None and not env.needs_key:
        key, source = DEV_PLACEHOLDER_KEY, "placeholder"
    if key is None:
        if keyring_error is not None:
            raise keyring_error
        unusable = secrets.backend_problem() if is_saved else None
        if unusable is not None:  # keyring's null backend: "set one" would go round in a loop
            raise KeyringUnavailable(unusable)
        raise UserError(
            f"no event key for {env.name!r}: set one with {set_key_command(env.name, 'event')}"
            " (or in Environments…), or set INNGEST_EVENT_KEY"
        )
    # INNGEST_SIGNING_KEY goes where a signing key is asked for (Inngest Cloud, a
    # self-hosted server), never as a bearer token to a Dev Server, an inbox or a --url
    if env.needs_key:
        signing = signing or _checked_variable("INNGEST_SIGNING_KEY", signing_env)
    return ResolvedTarget(env, Target(env.event_origin, key, env.branch), signing, source)


def _checked_variable(variable: str, key: str | None) -> str | None:
    """A key from an environment variable, checked as a stored one is: a space or a
    character that is not ASCII went out as it was (a 401 for a quoted space; the runs
    lookup of a signing key said the server "did not answer")."""
    problem = key_problem(key) if key and key != PLACEHOLDER_KEY else None
    if problem:
        raise UserError(f"{variable}: {problem}")
    return key


def not_running_hint(env: Environment, error: str | None, *, window: bool) -> str | None:
    """What to do when the Dev Server (or, for the CLI, the built-in inbox) did not answer
    at all: the first send of a new user (the Dev Server is picked at first start) had said
    "could not connect … All connection attempts failed" and nothing more."""
    if (env.kind not in ("dev", "inbox") or not on_this_machine(env.event_origin)
            or not error or not error.startswith("could not connect")
            or REFUSED not in error or THROUGH_PROXY in error):
        return None  # a certificate, a proxy, a remote `--url`: not a Dev Server to start
    port = _port_of(env.event_origin)
    if env.kind == "inbox":  # the window's own inbox moves to a free port by itself
        return None if window else (
            f"nothing answers at {shown_origin(env.event_origin)}: the built-in inbox "
            f"listens while the window is open, or run `event-console inbox --port {port}` "
            "in another terminal")
    at = "" if port == DEV_SERVER_PORT else f" --port {port}"  # where the send went
    inbox = ("pick Inbox, the built-in one" if window else
             f"run `event-console inbox{at}` in another terminal: it listens where the "
             "Dev Server would")
    return (f"nothing answers at {shown_origin(env.event_origin)}: is the Dev Server running?"
            f" Start it with `npx inngest-cli@latest dev{at}`, or {inbox}")


DEV_SERVER_PORT = urlsplit(DEV_ORIGIN).port or 8288


def _port_of(origin: str) -> int:
    try:
        parts = urlsplit(origin)
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return DEV_SERVER_PORT
