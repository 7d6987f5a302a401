"""Named targets the console sends to, and the transient one the SDK variables describe.

Non-secret settings live as JSON in the config dir; keys live in the keyring (see
`secrets.py`). The SDK variables are read exactly as the official SDKs read them and form a
"From environment" target that is preselected when present.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import SplitResult, unquote, urlsplit

from console.core.errors import UserError
from console.core.plan import REQUEST_LIMIT
from console.core.positions import parse_with_positions
from console.core.redact import PLACEHOLDER_KEY, has_event_key, mask_url
from console.services.atomic import free_path, write_text_atomic
from console.services.paths import AppPaths, private_folder

Kind = Literal["dev", "inbox", "cloud", "custom", "from-env"]
KINDS: tuple[Kind, ...] = ("dev", "inbox", "cloud", "custom", "from-env")

EVENT_LIMIT_SELF_HOSTED = 3 * 1024 * 1024
EVENT_LIMIT_CLOUD_FREE = 256 * 1024
DEV_ORIGIN = "http://127.0.0.1:8288"
INBOX_ORIGIN = "http://127.0.0.1:8289"
CLOUD_EVENT_ORIGIN = "https://inn.gs"
CLOUD_REST_ORIGIN = "https://api.inngest.com"
DEV_PLACEHOLDER_KEY = PLACEHOLDER_KEY
FROM_ENV_NAME = "From environment"
# where each kind sends when its entry in the file names no event origin
_KIND_ORIGINS = {"dev": DEV_ORIGIN, "inbox": INBOX_ORIGIN, "cloud": CLOUD_EVENT_ORIGIN}


@dataclass(frozen=True, slots=True)
class Environment:
    """A target: where events go, how big requests may be. Never holds a key."""

    name: str
    kind: Kind = "custom"
    event_origin: str = DEV_ORIGIN
    rest_origin: str = DEV_ORIGIN
    branch: str | None = None
    request_limit: int = REQUEST_LIMIT
    event_limit: int = EVENT_LIMIT_SELF_HOSTED
    paid_plan: bool = False

    @property
    def needs_key(self) -> bool:
        """Dev Server and inbox accept any key; the SDK sends a placeholder."""
        return self.kind not in ("dev", "inbox")

    @property
    def transient(self) -> bool:
        return self.kind == "from-env"

    @property
    def history_name(self) -> str:
        """The environment the history and the dedup ledger keep a send under: the name;
        for the From-environment target, also where its variables point. They change from
        shell to shell, and each server keeps its own ids: one name for all of them
        predicted sends to a fresh server as duplicates."""
        if self.kind != "from-env":
            return self.name
        branch = f", branch {self.branch}" if self.branch else ""
        return f"{self.name} ({self.event_origin}{branch})"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], notes: list[str] | None = None) -> Environment:
        """An environment as the file keeps it. ValueError when it cannot be one (no name,
        an unknown kind, an origin that is not text or is missing where no kind gives
        one): the caller keeps such an entry as it is. A field of the wrong type or value
        gets its default, said in `notes`.

        An origin that is missing gets the kind's (a Dev Server's, the inbox's, Inngest
        Cloud's), and a missing REST origin the event origin (as `env add` makes one): a
        hand-written entry without `rest_origin` had the Dev Server's, so its signing key
        went to whatever listened on 127.0.0.1:8288; and a non-text origin had pointed the
        environment at the Dev Server without a word."""
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError("an environment needs a non-empty name")
        name = name.strip()
        kind = raw.get("kind", "custom")
        if kind not in KINDS:
            raise ValueError(f"{name!r}: unknown kind {_shown(kind)}")
        said = notes if notes is not None else []
        origins: dict[str, str] = {}
        for key in ("event_origin", "rest_origin"):
            value = raw.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise ValueError(f"{name!r}: {key} is {_shown(value)}, not a URL in quotes")
            origins[key] = normalize_origin(value)
        event_origin = origins.get("event_origin") or _KIND_ORIGINS.get(kind)
        if not event_origin:
            raise ValueError(f"{name!r}: no event_origin (where its events go)")
        rest_origin = origins.get("rest_origin") or (
            CLOUD_REST_ORIGIN if kind == "cloud" else event_origin)
        branch = raw.get("branch")
        if branch is not None and not isinstance(branch, str):
            said.append(f"{name!r}: branch {_shown(branch)} is not text: none is used")
            branch = None
        # checked as `env add` checks it: a line break had split `env list`'s line, and each
        # send ended in "Illegal header value"; not loaded rather than sent without its
        # branch, which would send a branch's events to the environment itself
        problem = _text_problem(name, "the name") or _branch_problem(branch or None)
        if problem:
            raise ValueError(f"{name!r}: {problem}")
        limits: dict[str, int] = {}
        for key in ("request_limit", "event_limit"):
            value = raw.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                limits[key] = value
            elif value is not None:
                said.append(f"{name!r}: {key} {_shown(value)} is not a positive whole number"
                            " of bytes: the default is used")
        paid = raw.get("paid_plan", False)
        if not isinstance(paid, bool):
            said.append(f"{name!r}: paid_plan {_shown(paid)} is not true or false: false is"
                        " used")
            paid = False
        if kind == "cloud" and "event_limit" not in limits:  # as `cloud()` makes one
            limits["event_limit"] = EVENT_LIMIT_SELF_HOSTED if paid else EVENT_LIMIT_CLOUD_FREE
        return cls(name=name, kind=kind, event_origin=event_origin, rest_origin=rest_origin,
                   branch=branch or None, paid_plan=paid, **limits)


def _shown(value: Any) -> str:
    """A value from the file, said in a message: short, on one line."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


def normalize_origin(origin: str) -> str:
    """`http://host:port` without a trailing slash; a bare host gets `http://`."""
    origin = origin.strip()
    if not origin:
        return ""
    scheme, sep, rest = origin.partition("://")
    if not sep:
        scheme, rest = "http", origin
    # HTTP://host is http://host; only the slashes after the host go ("http://" was
    # "http:", then "http://http:", with a host named "http")
    return f"{scheme.lower()}://{rest.rstrip('/')}"


def origin_problem(origin: str) -> str | None:
    """Why `origin` (normalized) cannot be sent to, or None: an http(s) URL with a host and
    a port from 1 to 65535, no spaces or control characters, and no secret in it.

    An origin is kept as the name of an environment (`--url`) and in the history, so an
    event key in its path (`https://inn.gs/e/<key>`, the event URL Inngest shows) or a
    password in it would have been kept there too: both are refused, and the message
    shows the origin masked."""
    parts = _split(origin)
    shown = _shown_origin(origin, parts)
    if not origin.startswith(("http://", "https://")):
        return f"{shown!r} is not an http:// or https:// origin"
    if parts is None:
        return f"{shown!r} is not a URL (a [ around an IPv6 address is not closed)"
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in origin):
        return f"{shown!r} holds a space or a control character"
    try:
        port = parts.port
    except ValueError:
        return f"{shown!r} has a port that is not a number from 1 to 65535"
    if not parts.hostname:
        return f"{shown!r} has no host"
    if (bad := _host_problem(parts.netloc.rpartition("@")[2])) is not None:
        return f"{shown!r} {bad}"
    if port == 0:
        return f"{shown!r} has a port that is not a number from 1 to 65535"
    if has_event_key(parts.path):
        return (f"{shown!r} holds an event key (…/e/<key>): give the origin alone (such as "
                "https://inn.gs) and the key through INNGEST_EVENT_KEY or the keyring "
                "(event-console env set-key)")
    if "@" in parts.netloc:
        return (f"{shown!r} holds a user name or password: give the origin alone and the "
                "key through INNGEST_EVENT_KEY or the keyring (event-console env set-key)")
    if parts.query or parts.fragment or "?" in origin or "#" in origin:
        # the request path goes after the origin: `?key=…/e/<key>` reached the server, and
        # the query was kept as the environment's name
        return (f"{shown!r} has a query or a fragment (?…, #…): give the origin alone, "
                "such as https://inn.gs or http://127.0.0.1:8288")
    if unquote(parts.path).rstrip("/").lower().endswith("/e"):
        return (f"{shown!r} ends in /e: give the origin alone (such as https://inn.gs); "
                "the console adds /e/<key> itself")
    return None


def origins_problem(env: Environment) -> str | None:
    """`origin_problem` of the environment's event and REST origins (an empty REST origin
    is allowed: runs are then not looked up), with which one it is."""
    return next((f"{label}: {p}" for label, origin in (
        ("event origin", env.event_origin), ("REST origin", env.rest_origin))
        if origin and (p := origin_problem(origin))), None)


def shown_origin(origin: str) -> str:
    """`origin` as it may be shown: an event key, a user name or password, a query masked."""
    return _shown_origin(origin, _split(origin))


def health_origin(env: Environment) -> str:
    """Where `GET /health` checks `env`: its REST API's server, else its event API's. An
    origin a send would refuse (one holding a key, a bad port) is a UserError, never
    requested (Test connection had requested https://inn.gs/e/<key>/health and shown it)."""
    problem = origins_problem(env)
    if problem:
        raise UserError(problem)
    return env.rest_origin or env.event_origin


def is_cloud_origin(origin: str) -> bool:
    """Whether `origin` is Inngest Cloud's: `inn.gs` or a host under `inngest.com`."""
    parts = _split(normalize_origin(origin))
    host = (parts.hostname or "").lower() if parts is not None else ""
    return host == "inn.gs" or host == "inngest.com" or host.endswith(".inngest.com")


def on_this_machine(origin: str) -> bool:
    """Whether `origin` (normalized) is a loopback address or localhost: `127.0.0.1:8288`
    and `HTTP://[::1]` as much as `http://127.0.0.1` (only those were, unnormalized)."""
    parts = _split(origin)
    return parts is not None and is_loopback_host(parts.hostname or "")


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback address (127.0.0.0/8, ::1, bracketed or not)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _split(origin: str) -> SplitResult | None:
    """`urlsplit`, or None for what it cannot split (`http://[::1`: an IPv6 address whose
    bracket is not closed, which raised out of the window's start)."""
    try:
        return urlsplit(origin)
    except ValueError:
        return None


def _host_problem(hostport: str) -> str | None:
    """Brackets are for an IPv6 address and hold all of it: `http://[::1]]:80` and
    `http://[::1]x` split to host ::1, and the send then failed with "not a valid URL"."""
    if not hostport.startswith("["):
        stray = "[" in hostport or "]" in hostport
        return "has a [ or ] outside an IPv6 address" if stray else None
    address, _, rest = hostport[1:].partition("]")
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return f"has {address!r} in brackets, which is not an IPv6 address"
    if (rest and not rest.startswith(":")) or "[" in rest or "]" in rest:
        return "has something other than a port after its IPv6 address"
    return None


def _shown_origin(origin: str, parts: SplitResult | None) -> str:
    """`origin` with an event key and any user name or password masked."""
    shown = mask_url(origin)
    netloc = parts.netloc if parts is not None else origin.partition("://")[2].split("/")[0]
    if "@" in netloc:
        shown = shown.replace(netloc, "****@" + netloc.rpartition("@")[2], 1)
    for mark in ("?", "#"):  # a query may carry a key (?key=…): its values are not shown
        head, found, _tail = shown.partition(mark)
        if found:
            shown = head + mark + "…"
    return shown


def _text_problem(value: str | None, what: str) -> str | None:
    """A name or branch goes into one-line listings and messages: no control characters,
    line separators or marks that reorder the text around them (U+202E)."""
    if value and any(_unprintable(ch) for ch in value):
        return (f"{what} {value!r} holds a control character (a line break, a tab, a "
                "character that reorders text…)")
    return None


def _branch_problem(branch: str | None) -> str | None:
    """A branch goes in the x-inngest-env header, which holds ASCII only."""
    if branch is not None and not branch.strip():
        return "the branch is blank: leave it out for the environment's own events"
    if branch and not branch.isascii():
        return (f"the branch {branch!r} holds a character that is not ASCII: it is sent in "
                "the x-inngest-env header, which holds ASCII only")
    return _text_problem(branch, "the branch")


def _unprintable(ch: str) -> bool:
    code = ord(ch)
    return (code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029, 0x061C)
            or 0x200E <= code <= 0x200F or 0x202A <= code <= 0x202E
            or 0x2066 <= code <= 0x2069)


def dev_server() -> Environment:
    return Environment("Dev Server", "dev", DEV_ORIGIN, DEV_ORIGIN)


def inbox(origin: str = INBOX_ORIGIN) -> Environment:
    return Environment("Inbox", "inbox", origin, origin)


def cloud(
    name: str = "Inngest Cloud", *, branch: str | None = None, paid: bool = False
) -> Environment:
    limit = EVENT_LIMIT_SELF_HOSTED if paid else EVENT_LIMIT_CLOUD_FREE
    return Environment(
        name, "cloud", CLOUD_EVENT_ORIGIN, CLOUD_REST_ORIGIN, branch, REQUEST_LIMIT, limit, paid
    )


@dataclass(frozen=True, slots=True)
class SdkVariables:
    """What the INNGEST_* variables say, read the way the SDKs read them."""

    environment: Environment
    event_key: str | None
    signing_key: str | None


_SDK_VARS = (
    "INNGEST_EVENT_KEY", "INNGEST_BASE_URL", "INNGEST_EVENT_API_BASE_URL",
    "INNGEST_API_BASE_URL", "INNGEST_DEV", "INNGEST_ENV", "INNGEST_SIGNING_KEY",
)


def from_sdk_variables(environ: Mapping[str, str] | None = None) -> SdkVariables | None:
    """The transient "From environment" target, or None when no SDK variable points anywhere.

    Precedence follows the SDKs: the specific origins beat INNGEST_BASE_URL, which beats
    INNGEST_DEV (a URL, or 1/true for the default Dev Server), which beats Inngest Cloud.
    INNGEST_DEV=0/false forces Cloud. Only the signing key alone does not make a target.
    Another word (yes, on) is dev mode at the default Dev Server, as the Python SDK reads
    it (`http://yes` was the target); no/off is Cloud.
    """
    env = os.environ if environ is None else environ
    values = {k: env.get(k, "").strip() for k in _SDK_VARS}
    if not any(values[k] for k in _SDK_VARS if k not in ("INNGEST_SIGNING_KEY", "INNGEST_ENV")):
        return None
    dev_flag = values["INNGEST_DEV"]
    dev_url: str | None = None
    is_dev = False
    if dev_flag:
        lowered = dev_flag.lower()
        if lowered in ("0", "false", "no", "off"):
            is_dev = False
        elif "://" in dev_flag or any(ch in dev_flag for ch in ".:[") or lowered == "localhost":
            is_dev, dev_url = True, normalize_origin(dev_flag)  # a URL, or host[:port]
        else:  # 1, true, yes, on …: the default Dev Server
            is_dev, dev_url = True, DEV_ORIGIN
    base = values["INNGEST_BASE_URL"]
    default_origin = dev_url if is_dev and dev_url else None
    event_origin = (
        values["INNGEST_EVENT_API_BASE_URL"] or base or default_origin or CLOUD_EVENT_ORIGIN
    )
    rest_origin = values["INNGEST_API_BASE_URL"] or base or default_origin or CLOUD_REST_ORIGIN
    kind_is_dev = is_dev or on_this_machine(normalize_origin(event_origin))
    event_key = values["INNGEST_EVENT_KEY"] or (DEV_PLACEHOLDER_KEY if kind_is_dev else None)
    environment = Environment(
        name=FROM_ENV_NAME,
        kind="from-env",
        event_origin=normalize_origin(event_origin),
        rest_origin=normalize_origin(rest_origin),
        branch=values["INNGEST_ENV"] or None,
        # Cloud's limit for Cloud alone: an INNGEST_BASE_URL naming a self-hosted server
        # is held to its 3 MiB, as that server saved as an environment is (it was 256 KiB)
        event_limit=(EVENT_LIMIT_CLOUD_FREE if not kind_is_dev and is_cloud_origin(event_origin)
                     else EVENT_LIMIT_SELF_HOSTED),
    )
    # a signing key is never a bearer token to a Dev Server (INNGEST_DEV, or an origin on
    # this machine, taken for one above: placeholder key, 3 MiB events), as for saved ones
    signing = None if kind_is_dev else values["INNGEST_SIGNING_KEY"] or None
    return SdkVariables(environment, event_key, signing)


@dataclass
class EnvironmentStore:
    """The saved environments (JSON in the config dir) plus the transient SDK one.

    Several processes share the file (the window, `env add` in a terminal, a second
    window). `save` writes this store's own changes (each put and remove, the selection if
    it changed) over what the file holds then, under a lock: it wrote its whole list, so
    an `env add` made while the window was open was gone when the window closed, and an
    `env remove` came back. A `put(..., session_only=True)` is never written."""

    path: Path
    saved: list[Environment] = field(default_factory=list)
    selected: str | None = None
    sdk: SdkVariables | None = None
    notice: str | None = None
    renames: dict[str, str] = field(default_factory=dict)  # old name -> new, this session
    _changes: list[tuple[str, Environment | None, str | None]] = field(
        default_factory=list, repr=False)  # ("put", env, replacing) / ("remove", None, name)
    # name -> (the environment for this session only, the one the file keeps, if any)
    _session: dict[str, tuple[Environment, Environment | None]] = field(
        default_factory=dict, repr=False)
    _read_selected: str | None = field(default=None, repr=False)  # as the file had it
    unread: list[Any] = field(default_factory=list)  # entries kept as they are (see read)
    unreadable: str | None = None  # why the file could not be read (see read)

    def current_name(self, name: str) -> str:
        """`name`, or what it was renamed to since (a picker holding the old name)."""
        seen = set()
        while name in self.renames and name not in seen:
            seen.add(name)
            name = self.renames[name]
        return name

    @classmethod
    def load(cls, paths: AppPaths, environ: Mapping[str, str] | None = None) -> EnvironmentStore:
        """Read the file; first start (or a broken file) offers Dev Server and Inbox."""
        return cls.read(paths.environments_file, sdk=from_sdk_variables(environ))

    @classmethod
    def read(cls, path: Path, sdk: SdkVariables | None = None) -> EnvironmentStore:
        """The file's environments. One that is damaged (not JSON, not the shape this
        console writes) is moved aside as .broken, and the defaults offered; one that
        cannot be read (no permission, a folder in its place) is left where it is, and
        nothing is saved over it (`unreadable`). Entries that cannot be used are kept as
        they are in `unread`, written back by `save`, and named in `notice`: they had
        been dropped from the file at the next save, without a word in the window."""
        store = cls(path, sdk=sdk)
        try:
            text = store.path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):  # a home that is a file holds none
            store.saved = [dev_server(), inbox()]
            return store
        except UnicodeDecodeError as exc:
            store._broken(f": not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                          f"{exc.start})")
            return store
        except OSError as exc:  # the file is there: it is not damaged, only not readable
            store.unreadable = exc.strerror or str(exc)
            store.notice = (f"{store.path} cannot be read ({store.unreadable}); the default "
                            "environments are used for now, and nothing is saved over it.")
            store.saved = [dev_server(), inbox()]
            return store
        doc = parse_with_positions(text)
        if doc.error is not None:  # where, as `validate` and the editor say it
            store._broken(f":{doc.error.line}:{doc.error.column}: {doc.error.message}")
            return store
        raw = doc.value
        items = raw.get("environments", []) if isinstance(raw, dict) else None
        if not isinstance(items, list):
            store._broken(": it holds no list of environments")
            return store
        problems: list[str] = []
        for item in items:
            try:
                if not isinstance(item, dict):
                    raise ValueError(f"an entry that is {_shown(item)}, not an object")
                env = Environment.from_json(item, problems)
            except ValueError as exc:
                problems.append(f"{exc} (not used, kept in the file)")
                store.unread.append(item)
                continue
            if env.kind == "from-env":  # made from INNGEST_* variables, never kept
                continue
            if env.name in store.names():
                problems.append(f"a second environment named {env.name!r} (not used, kept in"
                                " the file)")
                store.unread.append(item)
                continue
            store.saved.append(env)
        if problems:
            store.notice = f"{store.path}: " + "; ".join(problems)
        selected = raw.get("selected")
        store.selected = selected if isinstance(selected, str) else None
        store._read_selected = store.selected
        return store

    def _broken(self, why: str) -> None:
        """`why`: what follows the file's name (`:LINE:COL: message`, or `: message`)."""
        kept = _keep_broken(self.path)
        self.notice = (f"{self.path}{why.rstrip('.')}. Starting with the default environments;"
                       + (f" the broken file was kept as {kept.name}." if kept else
                          " it could not be moved aside."))
        self.saved = [dev_server(), inbox()]

    def save(self) -> None:
        """Write this store's changes over the file as it is now (see the class). On
        failure (a full disk, a folder in the file's place) nothing is written and the
        changes stay, to be saved again."""
        private_folder(self.path.parent)  # `env add` first: it was left 0755
        with _file_lock(self.path.with_name(self.path.name + ".lock")):
            refused: list[str] = []
            read = EnvironmentStore.read(self.path)  # a broken file is moved aside, and said
            if read.unreadable is not None:
                raise UserError(f"not saved: {self.path} cannot be read ({read.unreadable})")
            on_disk = read if self.path.exists() else None  # else none yet, or broken
            if on_disk is None:  # this store's list, as the file would keep it
                merged = [kept for e in self.saved if (kept := self._kept(e)) is not None]
            else:
                merged = list(on_disk.saved)
                for kind, env, name in self._changes:
                    why = _replay(merged, kind, env, name)
                    if why is not None and env is not None:
                        refused.append(why)
                        self._unrename(name or env.name, env.name)
            selected = self.selected
            if on_disk is not None and self.selected == self._read_selected:
                selected = on_disk.selected  # changed elsewhere, not here: theirs
            payload = {
                "format": "event-console/environments@1",
                "selected": selected,
                "environments": [env.to_json() for env in merged]
                + (self._still_unread(on_disk.unread) if on_disk is not None else []),
            }
            write_text_atomic(self.path, json.dumps(payload, indent=2) + "\n")
        self._changes.clear()
        self.selected = self._read_selected = selected
        self.saved = [self._session[e.name][0] if e.name in self._session else e
                      for e in merged]
        if refused:  # the rest is saved; this store now holds what the file holds
            raise UserError("; ".join(refused))

    def _still_unread(self, unread: list[Any]) -> list[Any]:
        """The entries kept as they are, but for a second entry of a name this store
        removed or renamed: it had come back in its place, pointing elsewhere, and the
        selection (still that name) went to it at the next plain `send`."""
        gone = {name for kind, env, name in self._changes
                if name and (kind == "remove" or (env is not None and env.name != name))}
        return [item for item in unread if not (
            isinstance(item, dict) and isinstance(item.get("name"), str)
            and item["name"].strip() in gone)]

    def _unrename(self, old: str, new: str) -> None:
        """A put of `new` (renaming `old`) that was refused: what it moved goes back (the
        selection followed the rename, and the window then picked the first environment;
        an Inbox on a port for this session was sent to the saved port)."""
        if old == new:
            return
        if self.renames.get(old) == new:
            del self.renames[old]
        if self.selected == new:
            self.selected = old
        if new in self._session:
            session, kept = self._session.pop(new)
            self._session[old] = (replace(session, name=old),
                                  replace(kept, name=old) if kept is not None else None)

    def revert(self) -> None:
        """Drop the changes not saved (a save failed): back to the file as it is."""
        fresh = EnvironmentStore.read(self.path)
        self._changes.clear()
        self.saved = [self._session[e.name][0] if e.name in self._session else e
                      for e in fresh.saved]
        self.selected = self._read_selected = fresh.selected

    def _kept(self, env: Environment) -> Environment | None:
        """`env` as the file keeps it: without a change made for this session only."""
        session, kept = self._session.get(env.name, (None, None))
        return env if session is not env else kept

    def all(self) -> list[Environment]:
        """The SDK target first (it wins when present), then the saved ones."""
        head = [self.sdk.environment] if self.sdk else []
        return head + list(self.saved)

    def __iter__(self) -> Iterator[Environment]:
        return iter(self.all())

    def names(self) -> list[str]:
        return [env.name for env in self.all()]

    def get(self, name: str) -> Environment:
        """The environment of exactly this name, else of this name in another case when
        only one has it, else as the history names it (History's "Send again")."""
        envs = self.all()
        name = name.strip()  # the file keeps names without spaces around them
        for matches in ([e for e in envs if e.name == name],
                        [e for e in envs if e.name.casefold() == name.casefold()],
                        [e for e in envs if e.history_name == name]):
            if len(matches) == 1:
                return matches[0]
            if matches:
                names = ", ".join(repr(e.name) for e in matches)
                raise UserError(f"{name!r} could be any of {names}: give the name exactly")
        known = ", ".join(self.names()) or "none"
        raise UserError(f"no environment named {name!r} (known: {known})")

    def selected_unloaded(self) -> str | None:
        """The selected name when it names an entry of the file that was not loaded (kept
        as it is, and named in `notice`): the first environment is no stand-in for it (a
        branch's events went to the environment itself)."""
        name = self.selected
        if name is None or self.sdk or name in self.names():
            return None
        kept = {item.get("name") for item in self.unread if isinstance(item, dict)}
        return name if name in kept else None

    def default(self) -> Environment:
        """The SDK target when present, else the last selected, else the first."""
        if self.sdk:
            return self.sdk.environment
        for env in self.saved:
            if env.name == self.selected:
                return env
        if not self.saved:
            raise UserError("no environments: add one with `event-console env add`")
        return self.saved[0]

    def put(self, env: Environment, *, replacing: str | None = None,
            session_only: bool = False) -> None:
        """Add or replace (by `replacing` name or same name); `session_only`: in this
        process, never saved (the inbox on a port of its own while 8289 is taken)."""
        if env.kind == "from-env" or env.name == FROM_ENV_NAME:
            raise UserError(f"{FROM_ENV_NAME!r} comes from INNGEST_* variables; pick another name")
        if not env.name.strip():
            raise UserError("an environment needs a name")
        problem = (_text_problem(env.name, "the name") or _branch_problem(env.branch)
                   or origins_problem(env))
        if problem:
            raise UserError(problem)
        old = replacing or env.name
        # names differing only in case would share a key on a keyring that ignores case
        # (Windows' Credential Manager) and make `--env prod` a guess
        same = [] if env.name == replacing else [
            e.name for e in self.saved
            if e.name.casefold() == env.name.casefold() and e.name != replacing]
        if same and same[0] == env.name:
            raise UserError(f"an environment named {env.name!r} already exists")
        if same:
            raise UserError(f"an environment named {same[0]!r} already exists: names must "
                            "differ in more than case")
        replaced: Environment | None = None
        for i, existing in enumerate(self.saved):
            if existing.name == old:
                replaced, self.saved[i] = existing, env
                if old != env.name:  # a rename: what was selected stays selected
                    self.renames[old] = env.name
                    self.selected = env.name if self.selected == old else self.selected
                break
        else:
            self.saved.append(env)
        session, kept = self._session.pop(old, (None, replaced))
        if session_only:
            self._session[env.name] = (env, kept)
            return
        if session is not None and kept is not None:
            # an edit of the Inbox on its port for this session (its limit, say) keeps each
            # origin the file has that was not edited: saved, that port was used at every
            # later start
            saved = replace(
                env, event_origin=kept.event_origin
                if env.event_origin == session.event_origin else env.event_origin,
                rest_origin=kept.rest_origin
                if env.rest_origin == session.rest_origin else env.rest_origin)
            if saved != env:
                self._session[env.name] = (env, saved)
                env = saved
        self._changes.append(("add" if replaced is None else "put", env, replacing))

    def remove(self, name: str) -> Environment:
        for i, env in enumerate(self.saved):
            if env.name == name:
                self._session.pop(name, None)
                self._changes.append(("remove", None, name))
                return self.saved.pop(i)
        raise UserError(f"no saved environment named {name!r}")


def _replay(envs: list[Environment], kind: str, env: Environment | None,
            name: str | None) -> str | None:
    """One change of a store onto the list another process saved; what stops it, if
    anything: a name taken there meanwhile (an `env add staging` in a terminal while the
    window added "Staging": both were saved, and `--env STAGING` became a guess)."""
    if kind == "remove":
        envs[:] = [e for e in envs if e.name != name]
        return None
    assert env is not None
    old = name or env.name
    taken = next((e.name for e in envs if e.name.casefold() == env.name.casefold()
                  and (kind == "add" or e.name != old)), None)
    if taken is not None:
        return (f"an environment named {taken!r} was saved meanwhile (by another window or "
                f"command): {env.name!r} was not saved; give it another name")
    at = next((i for i, e in enumerate(envs) if e.name in (old, env.name)), None)
    envs[:] = [e for e in envs if e.name not in (old, env.name)]
    envs.insert(len(envs) if at is None else at, env)
    return None


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (made if missing) while a store saves; none where the
    system has no `fcntl` (Windows): its saves still merge, a race apart."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _keep_broken(path: Path) -> Path | None:
    """Move a damaged file aside, beside any kept before (a second one had replaced the
    first); where it went, or None when it could not be moved."""
    kept = free_path(path.with_name(path.name + ".broken"))
    try:
        os.replace(path, kept)
    except OSError:
        return None
    return kept
