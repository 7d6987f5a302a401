"""A planned request as code a user can paste: curl, TypeScript or Python with the SDK.

Users move from the console to scripts and apps. The snippets carry the exact events of one
request and name the key only as an environment variable reference, so copying one can
never leak a key into a chat, a ticket or shell history.
"""

from __future__ import annotations

import json
import math
import pprint
import textwrap
from typing import Any
from urllib.parse import urlsplit

from console.core.envelope import envelope_of, ignored_keys
from console.core.redact import PLACEHOLDER_KEY
from console.core.serialize import json_text

CLOUD_EVENT_ORIGIN = "https://inn.gs"
APP_ID = "event-console"
_PY_EVENT_FIELDS = ("name", "data", "id", "ts")


def _events(body: bytes) -> list[Any]:
    value = json.loads(body)
    return value if isinstance(value, list) else [value]


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _has_path(origin: str) -> bool:
    """Whether `origin` goes on past its host (`http://host:8288/inngest`)."""
    try:
        return bool(urlsplit(origin.rstrip("/")).path)
    except ValueError:
        return False


def curl_snippet(
    body: bytes, *, event_origin: str, branch: str | None = None, dev: bool = False
) -> str:
    """A curl command posting this body; the body goes through a quoted here-document.

    A here-document (not `--data-raw`) because one command-line argument is capped at
    128 KiB on Linux while a request may be 512 KiB or more. The here-document adds one
    trailing newline, which JSON ignores. To a Dev Server or the inbox (`dev`), with no
    key set, it sends the placeholder key as the console and the SDKs do (an empty key
    was a 401).
    """
    origin = event_origin.rstrip("/")
    key = f'"${{INNGEST_EVENT_KEY:-{PLACEHOLDER_KEY}}}"' if dev else '"$INNGEST_EVENT_KEY"'
    lines = [
        # the origin single-quoted: in double quotes a $(…) or `…` in it would run; -g:
        # curl would read {…} and […] in it as globs
        f'curl -sS -g -X POST {_shell_quote(origin + "/e/")}{key} \\',
        "  -H 'content-type: application/json' \\",
    ]
    if branch:
        lines.append(f"  -H {_shell_quote('x-inngest-env: ' + branch)} \\")
    text = body.decode("utf-8")
    delimiter = "JSON"
    while delimiter in text.splitlines():
        delimiter += "_END"
    lines.append(f"  --data-binary @- <<'{delimiter}'")
    lines.append(text)
    lines.append(delimiter)
    return "\n".join(lines) + "\n"


def _is_cloud(origin: str) -> bool:
    return origin.rstrip("/") == CLOUD_EVENT_ORIGIN


def typescript_snippet(
    body: bytes, *, event_origin: str, branch: str | None = None, dev: bool = False
) -> str:
    """An `inngest.send()` call with the TypeScript SDK (v3 client options).

    The SDK posts to `new URL("e/" + key, baseUrl)`: an origin with a path keeps it only
    when it ends in a slash (`http://host/inngest` posted to `http://host/e/…`)."""
    options = [f"  id: {json.dumps(APP_ID)},", "  eventKey: process.env.INNGEST_EVENT_KEY,"]
    if not _is_cloud(event_origin):
        base = event_origin.rstrip("/") + ("/" if _has_path(event_origin) else "")
        options.append(f"  baseUrl: {json.dumps(base)},")
    if branch:
        options.append(f"  env: {json.dumps(branch, ensure_ascii=False)},")
    if dev:
        options.append("  isDev: true,")
    events = _events(body)
    proto, big, negative_zero = _js_hazards(events)
    payload = json_text(events, indent=2)  # half a UTF-16 pair: written as \\u escapes
    if proto:  # in an object literal "__proto__" sets the prototype: the key was dropped
        payload = f"JSON.parse({json_text(json_text(events))})"
    notes = (["// numbers beyond 2^53 lose precision in JavaScript, so the SDK cannot send",
              "// them as written: send such a value as a string"] if big else [])
    if negative_zero:  # JSON.stringify(-0) is "0"
        notes += ["// -0.0 goes out as 0 from JavaScript (JSON.stringify writes -0 as 0)"]
    return "\n".join([
        'import { Inngest } from "inngest";',
        "",
        "const inngest = new Inngest({",
        *options,
        "});",
        "",
        *notes,
        f"await inngest.send({payload});",
        "",
    ])


def _js_hazards(value: Any) -> tuple[bool, bool, bool]:
    """Whether `value` holds a "__proto__" key, an integer JavaScript cannot hold, and a
    -0.0 (which JavaScript sends as 0)."""
    proto = big = negative_zero = False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            proto = proto or "__proto__" in item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            big = big or abs(item) > 2**53 - 1
        elif isinstance(item, float):
            negative_zero = negative_zero or (item == 0 and math.copysign(1.0, item) < 0)
    return proto, big, negative_zero


def _py_literal(value: Any, indent: int) -> str:
    try:
        text = pprint.pformat(value, sort_dicts=False, width=max(40, 96 - indent))
    except RecursionError:  # nested ~400 deep (sendable): pprint recurses, JSON text not
        return f"json.loads({json_text(value)!r})"
    return textwrap.indent(text, " " * indent)[indent:]


def _py_event(event: Any) -> str:
    if not isinstance(event, dict):
        return f"    inngest.Event(**{_py_literal(event, 4)}),"
    # the fields as the server reads them, in any case ("NAME", "Data"): they were left
    # out, and the snippet failed for want of a name
    read = envelope_of(event)
    args = [
        f"        {key}={_py_literal(read[key], 8 + len(key) + 1)},"
        for key in _PY_EVENT_FIELDS
        if key in read
    ]
    dropped = [key for key in read if key not in _PY_EVENT_FIELDS] + ignored_keys(event)
    lines = ["    inngest.Event("]
    if dropped:
        names = ", ".join(repr(k) for k in dropped)
        lines.append(f"        # not carried by the Python SDK's Event: {names}")
    return "\n".join([*lines, *args, "    ),"])


def python_snippet(
    body: bytes, *, event_origin: str, branch: str | None = None, dev: bool = False
) -> str:
    """`client.send()` with the official Python SDK (`pip install inngest`); for an
    origin with a path, a post with the standard library (see `_python_urllib_snippet`)."""
    if not _is_cloud(event_origin) and _has_path(event_origin):
        return _python_urllib_snippet(body, event_origin=event_origin, branch=branch, dev=dev)
    key = "os.environ.get('INNGEST_EVENT_KEY')" if dev else "os.environ['INNGEST_EVENT_KEY']"
    options = [f"    app_id={APP_ID!r},", f"    event_key={key},"]
    if not _is_cloud(event_origin):
        options.append(f"    event_api_base_url={event_origin.rstrip('/')!r},")
    if branch:
        options.append(f"    env={branch!r},")
    options.append(f"    is_production={not dev!r},")
    events = [_py_event(e) for e in _events(body)]
    reads_json = any("json.loads(" in e for e in events)
    return "\n".join([
        "import asyncio",
        *(["import json"] if reads_json else []),
        "import os",
        "",
        "import inngest",
        "",
        "client = inngest.Inngest(",
        *options,
        ")",
        "",
        "events = [",
        *events,
        "]",
        "",
        "print(asyncio.run(client.send(events)))",
        "",
    ])


def _python_urllib_snippet(
    body: bytes, *, event_origin: str, branch: str | None, dev: bool
) -> str:
    """The events posted with urllib: the SDK joins "/e/{key}" onto its base URL, which
    drops the URL's own path (`http://host/inngest` posted to `http://host/e/…`), and no
    option of its client sets the path."""
    key = (f"os.environ.get('INNGEST_EVENT_KEY') or {PLACEHOLDER_KEY!r}" if dev
           else "os.environ['INNGEST_EVENT_KEY']")
    headers = {"content-type": "application/json"}
    if branch:
        headers["x-inngest-env"] = branch
    url = event_origin.rstrip("/") + "/e/"
    return "\n".join([
        "import json",
        "import os",
        "import urllib.request",
        "",
        "# The Python SDK posts to /e/{key} at the root of its event_api_base_url,",
        "# leaving out the path of this address: the events go with urllib instead.",
        f"key = {key}",
        f"events = {_py_literal(_events(body), 9)}",
        "request = urllib.request.Request(",
        f"    {url!r} + key,",
        "    data=json.dumps(events).encode('utf-8'),",
        f"    headers={headers!r},",
        "    method='POST',",
        ")",
        "with urllib.request.urlopen(request) as response:",
        "    print(response.read().decode('utf-8'))",
        "",
    ])
