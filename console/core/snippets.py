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

from console.core.envelope import envelope_of, ignored_keys
from console.core.serialize import json_text

CLOUD_EVENT_ORIGIN = "https://inn.gs"
APP_ID = "event-console"
_PY_EVENT_FIELDS = ("name", "data", "id", "ts")


def _events(body: bytes) -> list[Any]:
    value = json.loads(body)
    return value if isinstance(value, list) else [value]


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def curl_snippet(body: bytes, *, event_origin: str, branch: str | None = None) -> str:
    """A curl command posting this body; the body goes through a quoted here-document.

    A here-document (not `--data-raw`) because one command-line argument is capped at
    128 KiB on Linux while a request may be 512 KiB or more. The here-document adds one
    trailing newline, which JSON ignores.
    """
    origin = event_origin.rstrip("/")
    lines = [
        # the origin single-quoted: in double quotes a $(…) or `…` in it would run; -g:
        # curl would read {…} and […] in it as globs
        f'curl -sS -g -X POST {_shell_quote(origin + "/e/")}"$INNGEST_EVENT_KEY" \\',
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
    """An `inngest.send()` call with the TypeScript SDK (v3 client options)."""
    options = [f"  id: {json.dumps(APP_ID)},", "  eventKey: process.env.INNGEST_EVENT_KEY,"]
    if not _is_cloud(event_origin):
        options.append(f"  baseUrl: {json.dumps(event_origin.rstrip('/'))},")
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
    """`client.send()` with the official Python SDK (`pip install inngest`)."""
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
