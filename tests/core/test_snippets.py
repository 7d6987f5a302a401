"""Copy-as snippets: they run, carry the exact events, and never contain the key."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from console.core.serialize import array_body, event_bytes
from console.core.snippets import curl_snippet, python_snippet, typescript_snippet

KEY = "test-key-abcdef123456"
EVENTS = [
    {
        "name": "shop/order.created",
        "data": {"id": 1, "note": "it's \"quoted\" ü 日本", "ok": True, "none": None, "f": 1.5},
        "id": "dedup-1",
        "ts": 1700000000000,
    },
    {"name": "shop/order.paid", "data": {"nested": {"list": [1, 2, {"x": False}]}}, "v": "2"},
]
BODY = array_body([event_bytes(e) for e in EVENTS])


class _Capture(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]]

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        body = self.rfile.read(length)
        self.server.received.append(  # type: ignore[attr-defined]
            (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        )
        count = len(json.loads(body)) if body.strip().startswith(b"[") else 1
        reply = json.dumps({"ids": [f"id{i}" for i in range(count)], "status": 200}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def capture() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _origin(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    env["INNGEST_EVENT_KEY"] = KEY
    return env


def test_curl_snippet_posts_the_exact_body(capture: ThreadingHTTPServer) -> None:
    text = curl_snippet(BODY, event_origin=_origin(capture) + "/", branch="feature/x y")
    assert KEY not in text and "$INNGEST_EVENT_KEY" in text
    assert "-H 'x-inngest-env: feature/x y'" in text
    subprocess.run(["bash", "-c", text], env=_env(), check=True, capture_output=True, timeout=20)
    ((path, headers, body),) = capture.received  # type: ignore[attr-defined]
    assert path == f"/e/{KEY}"
    assert headers["content-type"] == "application/json"
    assert headers["x-inngest-env"] == "feature/x y"
    assert body == BODY + b"\n"  # the here-document's newline; JSON ignores it


def test_curl_snippet_without_branch_has_no_env_header() -> None:
    text = curl_snippet(BODY, event_origin="https://inn.gs")
    assert text.startswith("curl -sS -g -X POST 'https://inn.gs/e/'\"$INNGEST_EVENT_KEY\"")
    assert "x-inngest-env" not in text


def test_an_origin_with_shell_syntax_is_a_path_in_the_curl_snippet_never_a_command(
        capture: ThreadingHTTPServer, tmp_path: Path) -> None:
    """The origin stood in double quotes: a $(…) in it (from a shared environments file,
    INNGEST_BASE_URL or a history row) ran when the command was pasted."""
    planted = tmp_path / "PWNED"
    odd = f"/$(touch${{IFS}}{planted})`touch${{IFS}}{planted}`'quote"
    text = curl_snippet(BODY, event_origin=_origin(capture) + odd)
    subprocess.run(["bash", "-c", text], env=_env(), check=True, capture_output=True, timeout=20)
    assert not planted.exists()
    ((path, _headers, body),) = capture.received  # type: ignore[attr-defined]
    assert unquote(path) == f"{odd}/e/{KEY}" and body == BODY + b"\n"


def test_curl_snippet_to_a_dev_server_without_a_key_sends_the_placeholder(
        capture: ThreadingHTTPServer) -> None:
    """Copy as curl of an inbox or Dev Server event read "$INNGEST_EVENT_KEY": unset, the
    path was /e/ and the answer a 401, where the console sends NO_EVENT_KEY_SET."""
    text = curl_snippet(BODY, event_origin=_origin(capture), dev=True)
    without_key = {k: v for k, v in _env().items() if k != "INNGEST_EVENT_KEY"}
    for env in (without_key, _env()):
        subprocess.run(["bash", "-c", text], env=env, check=True, capture_output=True,
                       timeout=20)
    assert [path for path, _h, _b in capture.received] == [  # type: ignore[attr-defined]
        "/e/NO_EVENT_KEY_SET", f"/e/{KEY}"]
    assert "NO_EVENT_KEY_SET" not in curl_snippet(BODY, event_origin="https://inn.gs")


def test_curl_delimiter_never_collides() -> None:
    text = curl_snippet(b"JSON", event_origin="https://inn.gs")
    assert "<<'JSON_END'" in text and text.endswith("JSON\nJSON_END\n")


def _run_python(text: str, folder: Path) -> str:
    """Run a Python snippet as a user would (a script file); its stdout."""
    script = folder / "send.py"
    script.write_text(text)
    done = subprocess.run(
        [sys.executable, str(script)], env=_env(), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_python_snippet_sends_the_events_with_the_sdk(
    capture: ThreadingHTTPServer, tmp_path: Path
) -> None:
    text = python_snippet(BODY, event_origin=_origin(capture), branch="preview")
    assert KEY not in text and "os.environ['INNGEST_EVENT_KEY']" in text
    assert "# not carried by the Python SDK's Event: 'v'" in text
    assert _run_python(text, tmp_path) == "['id0', 'id1']"
    ((path, headers, body),) = capture.received  # type: ignore[attr-defined]
    assert path == f"/e/{KEY}"
    assert headers["x-inngest-env"] == "preview"
    sent = json.loads(body)
    assert sent[0] == EVENTS[0]
    assert sent[1]["name"] == "shop/order.paid" and sent[1]["data"] == EVENTS[1]["data"]


def test_python_snippet_carries_fields_written_in_another_case(
    capture: ThreadingHTTPServer, tmp_path: Path
) -> None:
    """The server reads "NAME", "Data" and "ID" as name, data and id; the snippet left them
    out ("not carried by the Python SDK's Event") and failed for want of a name."""
    event = {"NAME": "t/case", "Data": {"k": 1}, "ID": "x1", "other": 2}
    text = python_snippet(event_bytes(event), event_origin=_origin(capture))
    assert "# not carried by the Python SDK's Event: 'other'" in text
    _run_python(text, tmp_path)
    ((_path, _headers, body),) = capture.received  # type: ignore[attr-defined]
    sent = json.loads(body)[0]
    assert (sent["name"], sent["data"], sent["id"]) == ("t/case", {"k": 1}, "x1")


def test_python_snippet_of_an_event_nested_deep_is_made_and_holds_it_whole(
    tmp_path: Path,
) -> None:
    """Copy as Python raised RecursionError (pprint recurses) for an event nested 400 deep,
    which sends fine: from Preview and from History, a bug dialog. (The Python SDK itself
    refuses data this deep, so the snippet runs here with a stand-in that prints what it
    was given.)"""
    deep: Any = {"leaf": "ü"}
    for _ in range(400):
        deep = {"a": deep}
    event = {"name": "shop/deep", "data": deep}
    text = python_snippet(array_body([event_bytes(event)]), event_origin="https://inn.gs")
    assert "import json" in text
    stand_in = tmp_path / "sdk" / "inngest"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text(
        "import json\n"
        "class Event(dict):\n"
        "    def __init__(self, **fields): super().__init__(fields)\n"
        "class Inngest:\n"
        "    def __init__(self, **options): pass\n"
        "    async def send(self, events): return json.dumps(events)\n")
    script = tmp_path / "deep.py"
    script.write_text(text)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=30,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "sdk"), "INNGEST_EVENT_KEY": KEY},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [event]
    assert "import json" not in python_snippet(BODY, event_origin="https://inn.gs")


def test_python_snippet_dev_mode() -> None:
    text = python_snippet(BODY, event_origin="http://127.0.0.1:8288", dev=True)
    assert "os.environ.get('INNGEST_EVENT_KEY')" in text
    assert "is_production=False" in text
    assert "event_api_base_url='http://127.0.0.1:8288'" in text
    cloud = python_snippet(BODY, event_origin="https://inn.gs")
    assert "event_api_base_url" not in cloud and "is_production=True" in cloud


def _run_with_a_stand_in_sdk(node: str, folder: Path, text: str) -> dict[str, Any]:
    """Run the snippet with a stand-in for the npm package that prints what it was given."""
    pkg = folder / "node_modules" / "inngest"
    pkg.mkdir(parents=True)
    (pkg / "package.json").write_text('{"name": "inngest", "type": "module", "main": "index.js"}')
    (pkg / "index.js").write_text(
        "export class Inngest { constructor(o) { this.o = o; }\n"
        "  async send(p) {\n"
        # where the SDK (v3) posts: new URL(`e/${eventKey}`, eventBaseUrl)
        "    const url = new URL(`e/${this.o.eventKey || 'NO_EVENT_KEY_SET'}`,\n"
        "                        this.o.baseUrl || 'https://inn.gs/').href;\n"
        "    console.log(JSON.stringify({options: this.o, payload: p, url})); } }\n"
    )
    (folder / "snippet.mjs").write_text(text)
    done = subprocess.run([node, "snippet.mjs"], cwd=folder, env=_env(), capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_typescript_snippet_runs_with_node(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node is not None, "node is part of the test toolchain"
    text = typescript_snippet(BODY, event_origin="http://127.0.0.1:8288", branch="b1", dev=True)
    assert KEY not in text and "eventKey: process.env.INNGEST_EVENT_KEY," in text
    seen = _run_with_a_stand_in_sdk(node, tmp_path, text)
    assert seen["payload"] == EVENTS
    assert seen["options"] == {
        "id": "event-console", "eventKey": KEY, "baseUrl": "http://127.0.0.1:8288",
        "env": "b1", "isDev": True,
    }


def test_typescript_snippet_for_cloud_has_no_base_url() -> None:
    text = typescript_snippet(event_bytes(EVENTS[0]), event_origin="https://inn.gs")
    assert "baseUrl" not in text and "isDev" not in text
    assert '"name": "shop/order.created"' in text


def test_typescript_snippet_keeps_a_proto_key_and_warns_of_big_numbers(tmp_path: Path) -> None:
    """In an object literal "__proto__" sets the prototype: the key never reached the SDK."""
    node = shutil.which("node")
    assert node is not None, "node is part of the test toolchain"
    events = [{"name": "a/b", "data": {"__proto__": {"x": 1}, "n": 2}}]
    text = typescript_snippet(event_bytes(events), event_origin="https://inn.gs")
    assert _run_with_a_stand_in_sdk(node, tmp_path, text)["payload"] == events
    assert "lose precision" not in text
    big = typescript_snippet(event_bytes({"name": "a/b", "data": {"n": 2**60}}),
                             event_origin="https://inn.gs")
    assert "// numbers beyond 2^53 lose precision in JavaScript" in big
    assert "-0.0 goes out as 0" not in big
    zero = typescript_snippet(event_bytes({"name": "a/b", "data": {"z": -0.0, "p": 0.0}}),
                              event_origin="https://inn.gs")
    assert "// -0.0 goes out as 0 from JavaScript" in zero


def test_snippets_for_an_origin_with_a_path_post_under_that_path(
        capture: ThreadingHTTPServer, tmp_path: Path) -> None:
    """Both SDKs join the key's path onto the base URL: `http://host/inngest` posted to
    `http://host/e/KEY`, a 404 (or another server's route)."""
    origin = _origin(capture) + "/inngest"
    for dev in (False, True):
        text = python_snippet(BODY, event_origin=origin, branch="b1", dev=dev)
        assert KEY not in text
        _run_python(text, tmp_path)
    ((path, headers, body), _dev) = capture.received  # type: ignore[attr-defined]
    assert path == f"/inngest/e/{KEY}" and _dev[0] == f"/inngest/e/{KEY}"
    assert headers["x-inngest-env"] == "b1" and json.loads(body) == EVENTS
    node = shutil.which("node")
    assert node is not None, "node is part of the test toolchain"
    for base in (origin, origin + "/"):
        text = typescript_snippet(BODY, event_origin=base, dev=True)
        folder = tmp_path / f"ts{len(base)}"
        seen = _run_with_a_stand_in_sdk(node, folder, text)
        assert seen["url"] == f"{origin}/e/{KEY}" and seen["payload"] == EVENTS
    seen = _run_with_a_stand_in_sdk(node, tmp_path / "root", typescript_snippet(
        BODY, event_origin=_origin(capture) + "/"))
    assert seen["url"] == f"{_origin(capture)}/e/{KEY}"
