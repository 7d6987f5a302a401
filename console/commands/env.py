"""`event-console env list | add | remove | set-key | test`: targets and their keys."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import shlex
import sys
from typing import Any

from console.commands.common import emit, positive_bytes, print_line
from console.core.errors import UserError
from console.core.plan import REQUEST_LIMIT
from console.core.redact import mask_key
from console.core.terminal import say, typed_text, visible
from console.services.environments import (
    CLOUD_EVENT_ORIGIN,
    CLOUD_REST_ORIGIN,
    DEV_ORIGIN,
    DEV_PLACEHOLDER_KEY,
    Environment,
    EnvironmentStore,
    SdkVariables,
    cloud,
    health_origin,
    normalize_origin,
    shown_origin,
)
from console.services.paths import app_paths
from console.services.secrets import KeyKind, KeyringUnavailable, SecretStore, set_key_command


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("env", help="list, add, remove environments; set keys")
    sub = parser.add_subparsers(dest="env_command", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="saved environments (keys masked)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(func=cmd_list)

    add = sub.add_parser("add", help="add or replace an environment")
    add.add_argument("name", help="what to call it (--env NAME picks it)", type=typed_text)
    add.add_argument("--kind", choices=["cloud", "custom", "dev", "inbox"], default="custom",
                     help="cloud: Inngest Cloud; dev: a Dev Server; inbox: the built-in one; "
                     "custom: self-hosted or anything else (default)")
    add.add_argument("--event-origin", metavar="URL", type=typed_text,
                     help=f"where events are sent (default: {CLOUD_EVENT_ORIGIN} for cloud, "
                     f"{DEV_ORIGIN} otherwise)")
    add.add_argument("--rest-origin", metavar="URL", type=typed_text,
                     help=f"the REST API, for runs (default: {CLOUD_REST_ORIGIN} for cloud, "
                     "the event origin otherwise)")
    add.add_argument("--branch", metavar="NAME", help="branch environment (x-inngest-env)",
                     type=typed_text)
    add.add_argument("--request-limit", type=positive_bytes, metavar="BYTES",
                     help=f"largest request body (default {REQUEST_LIMIT:,})")
    add.add_argument("--event-limit", type=positive_bytes, metavar="BYTES",
                     help="largest event (default 256 KiB for cloud, 3 MiB otherwise)")
    add.add_argument("--paid", action="store_true",
                     help="Inngest Cloud paid plan: 3 MiB events, not 256 KiB (--kind cloud "
                     "only)")
    add.set_defaults(func=cmd_add)

    remove = sub.add_parser("remove", help="remove an environment and its keys")
    remove.add_argument("name", type=typed_text)
    remove.set_defaults(func=cmd_remove)

    set_key = sub.add_parser(
        "set-key", help="store a key in the keyring (read from a prompt or stdin, never argv)"
    )
    set_key.add_argument("name", type=typed_text)
    set_key.add_argument("--signing", action="store_true", help="the signing key (REST API)")
    set_key.set_defaults(func=cmd_set_key)

    test = sub.add_parser("test", help="check the environment answers GET /health")
    test.add_argument("name", type=typed_text)
    test.set_defaults(func=cmd_test)


def _store() -> EnvironmentStore:
    store = EnvironmentStore.load(app_paths())
    if store.notice:
        print(f"event-console: {store.notice}", file=sys.stderr)
    return store


def _key_status(secrets: SecretStore, env: Environment, kind: str,
                sdk: SdkVariables | None = None, unreadable: list[bool] | None = None) -> str:
    """What `env list` says of a key; `unreadable` remembers a keyring that failed, so a
    locked one is asked once, not twice per environment (each ask can be a prompt)."""
    if env.transient and sdk is not None:
        key, variable = ((sdk.event_key, "INNGEST_EVENT_KEY") if kind == "event"
                         else (sdk.signing_key, "INNGEST_SIGNING_KEY"))
        if key == DEV_PLACEHOLDER_KEY:
            return "not needed (any key works)"
        return f"{mask_key(key)} (from {variable})" if key else f"not set ({variable})"
    optional = kind == "event" and not env.needs_key
    cannot = "not needed (any key works)" if optional else "keyring unavailable"
    if unreadable:
        return cannot
    try:
        key, problem = secrets.stored(env.name, "signing" if kind == "signing" else "event")
    except KeyringUnavailable:
        if unreadable is not None:
            unreadable.append(True)
        return cannot
    if problem:  # stored by another tool; never printed (a line break would break rows)
        return "set, but not usable" + (" (not text)" if key is None else "")
    if key:
        return mask_key(key)
    return "not needed (any key works)" if optional else "not set"


def cmd_list(args: argparse.Namespace) -> int:
    store, secrets = _store(), SecretStore()
    unreadable: list[bool] = []
    for env in store.all():
        row = {  # origins masked: INNGEST_EVENT_API_BASE_URL may hold a key (…/e/<key>)
            "name": env.name, "kind": env.kind, "event_origin": shown_origin(env.event_origin),
            "rest_origin": shown_origin(env.rest_origin), "branch": env.branch,
            "request_limit": env.request_limit, "event_limit": env.event_limit,
            "event_key": _key_status(secrets, env, "event", store.sdk, unreadable),
            "signing_key": _key_status(secrets, env, "signing", store.sdk, unreadable),
            "default": env.name == store.default().name and not store.selected_unloaded(),
        }
        if args.json:
            emit(row)
        else:
            mark = "*" if row["default"] else " "
            branch = f" [{env.branch}]" if env.branch else ""
            print_line(f"{mark} {env.name}{branch}  {env.kind}  {row['event_origin']}  "
                       f"key: {row['event_key']}")
    problem = secrets.backend_problem()
    if problem:
        print(f"event-console: {KeyringUnavailable(problem)}", file=sys.stderr)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    if args.paid and args.kind != "cloud":
        # the paid plan raises Inngest Cloud's 256 KiB event limit to 3 MiB; other kinds
        # have 3 MiB already, and saving the flag on them would mean nothing
        raise UserError(f"--paid is for --kind cloud (the Inngest Cloud paid plan allows "
                        f"3 MiB events); a {args.kind} environment allows 3 MiB events "
                        "already: set another limit with --event-limit")
    store = _store()
    name = args.name.strip()  # as the file keeps it, and as it is said after
    base = cloud(name, branch=args.branch, paid=args.paid) if args.kind == "cloud" else (
        Environment(name, args.kind, branch=args.branch)
    )
    event_origin = normalize_origin(args.event_origin) if args.event_origin else base.event_origin
    rest_origin = normalize_origin(args.rest_origin) if args.rest_origin else (
        base.rest_origin if args.kind == "cloud" else event_origin
    )
    limits = ((args.request_limit, "--request-limit"), (args.event_limit, "--event-limit"))
    for value, label in limits:
        if value is not None and value <= 0:
            raise UserError(f"{label} must be a positive number of bytes")
    env = Environment(
        name=name, kind=args.kind, event_origin=event_origin, rest_origin=rest_origin,
        branch=args.branch, request_limit=args.request_limit or REQUEST_LIMIT,
        event_limit=args.event_limit or base.event_limit, paid_plan=args.paid,
    )
    old = next((e for e in store.saved if e.name == name), None)
    store.put(env, replacing=old.name if old else None)
    _save(store)
    print_line(f"saved {env.name!r} ({env.kind}, {env.event_origin})")
    if old is not None and (old.kind, old.event_origin) != (env.kind, env.event_origin):
        say(visible(_replaced(old, env)))
    return 0


def _save(store: EnvironmentStore) -> None:
    """`store.save()`, its OSError (a full disk, a read-only folder, a lock file that
    cannot be made) said as the window's Environments dialog says it: the file is kept
    as it was, and nothing else is done (`env remove` deletes no key)."""
    try:
        store.save()
    except OSError as exc:
        raise UserError(f"not saved: {exc.strerror or exc} ({store.path})") from None


def _replaced(old: Environment, new: Environment) -> str:
    """What `env add` over an environment of that name says: its keys are kept under
    the name and now go to the new origin, so a mistyped host is noticed before a send
    hands it the key."""
    quoted = shlex.quote(new.name)
    return (f"replaced {old.name!r} (was {old.kind}, {shown_origin(old.event_origin)}; now "
            f"{new.kind}, {shown_origin(new.event_origin)}); any keys saved for "
            f"{new.name!r} are kept and now go to the new origin: change them with "
            f"{set_key_command(new.name, 'event')} (--signing for the signing key), or "
            f"remove {new.name!r} and its keys with `event-console env remove {quoted}`")


def cmd_remove(args: argparse.Namespace) -> int:
    store = _store()
    # named as --env names it: " prod " is "Prod" when no other name matches (it was an
    # error here, though `send --env prod` found it)
    env = store.remove(store.get(args.name).name)
    _save(store)
    try:
        SecretStore().delete_all(env.name)
    except KeyringUnavailable as exc:  # said as the window says it, with what to do
        quoted = shlex.quote(env.name)
        say(visible(f"removed {env.name!r}, but its keys are still in the keyring (a new "
                    f"environment named {env.name!r} would use them): {exc.reason}. To "
                    f"delete them, unlock the keyring, then run `event-console env add "
                    f"{quoted}` and `event-console env remove {quoted}`"))
        return 1
    print_line(f"removed {env.name!r}")
    return 0


MAX_KEY_INPUT = 64 * 1024  # read from stdin at most: a key is far shorter


def cmd_set_key(args: argparse.Namespace) -> int:
    store = _store()
    env = store.get(args.name)
    if env.transient:
        raise UserError("the 'From environment' target takes its keys from INNGEST_* variables")
    kind: KeyKind = "signing" if args.signing else "event"
    if sys.stdin.isatty():
        key = getpass.getpass(f"{kind} key for {env.name}: ")
    else:
        lines = [line for line in sys.stdin.read(MAX_KEY_INPUT).splitlines() if line.strip()]
        if len(lines) > 1:  # the first was kept without a word: which line is the key?
            raise UserError(f"stdin holds {len(lines)} lines: give the key alone, on one line")
        key = lines[0] if lines else ""
    key = key.strip()
    if not key:
        raise UserError("no key given (type it at the prompt or pipe it on stdin)")
    SecretStore().set(env.name, kind, key)
    print_line(f"stored the {kind} key for {env.name!r} in the keyring ({mask_key(key)})")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    from console.services.client import EventApiClient, health_words

    env = _store().get(args.name)
    try:
        origin = health_origin(env)
    except UserError as exc:  # never requested: the origin holds a key, say
        raise UserError(f"{env.name}: not checked: {exc}") from None

    async def check() -> str | None:
        client = EventApiClient()
        if client.environment_problem:
            say(client.environment_problem)
        try:
            return await client.health_problem(origin)
        finally:
            await client.aclose()

    problem = asyncio.run(check())
    print_line(f"{env.name}: {health_words(origin, problem)}")
    return 0 if problem is None else 1
