"""`build.py --check`: prove the built app works as shipped, not just that PyInstaller finished.

Each step runs the frozen executable (never the source tree) in a throw-away app home with
no INNGEST_* variables: `--version`; `inbox --port 0` in the background and `send` to it;
`--smoke-test` offscreen inside a private D-Bus session with an unlocked gnome-keyring (so
the Secret Service backend, found through keyring's entry points, must load from the bundle);
the same smoke test on Xvfb with the xcb platform plugin; what the bundle holds and leaves
out; the .desktop file and metainfo validators; and, on Linux, the archive unpacked and
installed into a temp home with its install.sh.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from layout import (
    APP,
    DESKTOP_SOURCE,
    METAINFO_SOURCE,
    REPO,
    Layout,
    PackagingError,
    mib,
    package_version,
)

UNWANTED_QT = ("Qt6Qml", "Qt6Quick", "Qt6WebEngine", "Qt6Pdf", "Qt6Multimedia", "Qt63D",
               "Qt6VirtualKeyboard", "Qt6Designer", "Qt6Charts", "Qt6OpenGLWidgets")
WANTED_PLUGINS = ("platforms/*offscreen*", "platforms/*xcb*", "platforms/*wayland*",
                  "imageformats/*svg*", "iconengines/*svg*")


@dataclass
class Step:
    name: str
    ok: bool
    detail: str
    seconds: float
    data: dict[str, Any]


class Checker:
    def __init__(self, layout: Layout, scratch: Path) -> None:
        self.layout = layout
        self.exe = layout.cli_exe()
        self.scratch = scratch
        self.version = package_version()
        self.steps: list[Step] = []

    # -- plumbing -----------------------------------------------------------------------
    def env(self, name: str, **extra: str) -> dict[str, str]:
        home = self.scratch / f"home-{name}"
        home.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("INNGEST_", "EVENT_CONSOLE_"))}
        env.update(EVENT_CONSOLE_HOME=str(home), QT_QPA_PLATFORM="offscreen")
        env.update(extra)
        return env

    def step(self, name: str, body: Callable[[], tuple[bool, str, dict[str, Any]]]) -> None:
        started = time.perf_counter()
        try:
            ok, detail, data = body()
        except (OSError, subprocess.SubprocessError, ValueError, KeyError) as exc:
            ok, detail, data = False, f"{type(exc).__name__}: {exc}", {}
        seconds = time.perf_counter() - started
        detail = " | ".join(line.strip() for line in detail.splitlines() if line.strip())
        self.steps.append(Step(name, ok, detail, round(seconds, 2), data))
        print(f"{'ok  ' if ok else 'FAIL'} {name:<10} {seconds:5.1f} s  {detail}", flush=True)

    def run(self, args: list[str], env: dict[str, str], *, stdin: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.exe), *args], env=env, input=stdin, text=True,
                              capture_output=True, timeout=timeout, check=False)

    def inside_bundle(self, path: Path) -> bool:
        """Folder build: under the app folder. Onefile: in its unpack dir (`_MEI...`)."""
        path = path.resolve()
        if self.layout.onefile:
            return not path.is_relative_to(REPO) and any(
                part.startswith("_MEI") for part in path.parts)
        return path.is_relative_to(self.exe.parent.resolve())

    # -- steps --------------------------------------------------------------------------
    def check_version(self) -> tuple[bool, str, dict[str, Any]]:
        done = self.run(["--version"], self.env("version"))
        expected = f"{APP} {self.version}"
        out = done.stdout.strip()
        ok = done.returncode == 0 and out == expected
        return ok, out if ok else f"expected {expected!r}, got {_tail(done)}", {"stdout": out}

    def check_send_to_inbox(self) -> tuple[bool, str, dict[str, Any]]:
        env = self.env("inbox")
        inbox = subprocess.Popen([str(self.exe), "inbox", "--port", "0"], env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = _line_reader(inbox.stdout)
        try:
            first = _next_line(lines, inbox, timeout=30)
            url = json.loads(first)["listening"]
            nonce = uuid.uuid4().hex
            event = {"name": "packaging/check.sent", "data": {"nonce": nonce}}
            event_file = self.scratch / "event.json"
            event_file.write_text(json.dumps(event), "utf-8")
            sent = self.run(["send", "--url", url, str(event_file)],
                            dict(env, INNGEST_EVENT_KEY="test"))
            records = _json_lines(sent.stdout)
            accepted = [r for r in records if r.get("status") == 200 and r.get("ids")]
            if sent.returncode != 0 or not accepted:
                return False, f"send failed: {_tail(sent)}", {"send": records}
            event_id = accepted[0]["ids"][0]
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                line = _next_line(lines, inbox, timeout=deadline - time.monotonic())
                if event_id in line or nonce in line:
                    data = {"url": url, "send": records, "captured": json.loads(line)}
                    errors = _stop(inbox)  # Ctrl+C, as in a terminal: a clean stop
                    data["inbox_exit"] = inbox.returncode
                    if inbox.returncode not in (0, 130, -2) or "Traceback" in errors:
                        return False, f"inbox stopped badly ({inbox.returncode}): {errors}", data
                    return True, f"{url}: event {event_id} accepted and captured", data
            return False, "the inbox never printed the event", {"send": records}
        except queue.Empty:
            return False, f"inbox said nothing in time: {_last_lines(_stop(inbox))}", {}
        finally:
            _stop(inbox)

    def check_smoke(self) -> tuple[bool, str, dict[str, Any]]:
        with_keyring = bool(shutil.which("dbus-run-session") and
                            shutil.which("gnome-keyring-daemon"))
        command = [str(self.exe), "--smoke-test"]
        if with_keyring:
            command = [
                "dbus-run-session", "--", "sh", "-c",
                'eval "$(printf pass | gnome-keyring-daemon --unlock --components=secrets)"'
                ' >/dev/null; exec "$@"', "sh", *command,
            ]
        done = subprocess.run(command, env=self.env("smoke"), text=True, capture_output=True,
                              timeout=60, check=False)
        records = _json_lines(done.stdout)
        report = records[-1] if records else {}
        problems = []
        if done.returncode != 0 or not report.get("ok"):
            problems.append(f"exit {done.returncode}, report {report or _tail(done)}")
        backends = report.get("keyring_backends", [])
        if report and with_keyring and not any("SecretService" in b for b in backends):
            problems.append(f"Secret Service backend not found in the bundle: {backends}")
        resources = str(report.get("resources", ""))
        if resources and not self.inside_bundle(Path(resources)):
            problems.append(f"resources found outside the bundle: {resources}")
        keyring_note = "" if with_keyring else " (no gnome-keyring here: backend not verified)"
        detail = "; ".join(problems) or (
            f"window up, keyring {report.get('keyring_active')}, resources {resources}"
            + keyring_note)
        return not problems, detail, {"report": report, "stderr": done.stderr[-2000:]}

    def check_xcb(self) -> tuple[bool, str, dict[str, Any]]:
        """The smoke test on a real X server (Xvfb): the xcb plugin and the system libraries it
        needs load from the bundle, which offscreen alone does not prove."""
        read_fd, write_fd = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                                 "1280x800x24", "-nolisten", "tcp"], pass_fds=(write_fd,),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_fd)
        try:
            with os.fdopen(read_fd) as display_pipe:
                display = display_pipe.readline().strip()
            if not display:
                return False, "Xvfb did not start", {}
            env = self.env("xcb", QT_QPA_PLATFORM="xcb", DISPLAY=f":{display}")
            env.pop("WAYLAND_DISPLAY", None)
            done = self.run(["--smoke-test"], env)
            records = _json_lines(done.stdout)
            report = records[-1] if records else {}
            ok = done.returncode == 0 and bool(report.get("ok")) and bool(report.get("window"))
            detail = (f"main window shown on Xvfb :{display}" if ok
                      else f"{_tail(done)}; report {report}")
            return ok, detail, {"report": report, "stderr": done.stderr[-2000:]}
        finally:
            xvfb.terminate()
            xvfb.wait(timeout=10)

    def check_bundle(self) -> tuple[bool, str, dict[str, Any]]:
        if self.layout.onefile:
            return True, "onefile: contents checked at run time only", {}
        internal = next((p for p in (self.layout.app_dir / "_internal", self.layout.app_dir)
                         if (p / "base_library.zip").exists()), self.layout.app_dir)
        problems = []
        entry_points = list(internal.glob("keyring-*.dist-info/entry_points.txt"))
        if not entry_points or "keyring.backends" not in entry_points[0].read_text("utf-8"):
            problems.append("keyring's entry points (metadata) are missing")
        if not (list(internal.glob("event_console-*.dist-info/METADATA"))
                or list(internal.glob("event_console*.egg-info/PKG-INFO"))):
            problems.append("event-console metadata is missing (the version would be 0.0.0)")
        if not (internal / "certifi" / "cacert.pem").is_file():
            problems.append("certifi's cacert.pem is missing")
        if not (internal / "resources" / "icons" / "event-console.svg").is_file():
            problems.append("resources/ is missing")
        plugins = internal / "PySide6" / "Qt" / "plugins"
        problems += [f"Qt plugin missing: {p}" for p in WANTED_PLUGINS if not list(plugins.glob(p))]
        unwanted = sorted({lib.name for name in UNWANTED_QT for lib in internal.rglob(f"*{name}*")})
        problems += [f"unused Qt library bundled: {name}" for name in unwanted]
        found = sorted(str(p.relative_to(plugins)) for p in plugins.rglob("*") if p.is_file())
        detail = "; ".join(problems) or f"{len(found)} Qt plugins, keyring/certifi/resources in"
        return not problems, detail, {"qt_plugins": found}

    def check_metadata(self) -> tuple[bool, str, dict[str, Any]]:
        problems, outputs = [], {}
        for label, command in (
            ("desktop-file-validate", ["desktop-file-validate", str(DESKTOP_SOURCE)]),
            ("appstreamcli", ["appstreamcli", "validate", "--no-net", str(METAINFO_SOURCE)]),
        ):
            if not shutil.which(command[0]):
                problems.append(f"{command[0]} not installed (apt: desktop-file-utils, appstream)")
                continue
            done = subprocess.run(command, text=True, capture_output=True, check=False)
            outputs[label] = (done.stdout + done.stderr).strip()
            if done.returncode != 0:
                problems.append(f"{label}: {outputs[label]}")
        metainfo = METAINFO_SOURCE.read_text("utf-8")
        if f'<release version="{self.version}"' not in metainfo:
            problems.append(f"metainfo has no <release version=\"{self.version}\"> entry")
        problems += _screenshot_problems(metainfo)
        return not problems, "; ".join(problems) or "desktop entry and metainfo valid", outputs

    def check_install(self) -> tuple[bool, str, dict[str, Any]]:
        from install_check import install_and_uninstall

        archive = self.layout.archive(self.version)
        if not archive.exists():
            raise FileNotFoundError(f"{archive} (build first)")
        return install_and_uninstall(archive, self.scratch / "install", self.version)

    def run_all(self) -> list[Step]:
        self.step("version", self.check_version)
        self.step("inbox+send", self.check_send_to_inbox)
        self.step("smoke", self.check_smoke)
        if shutil.which("Xvfb"):
            self.step("xcb", self.check_xcb)
        else:
            print("note: Xvfb not installed; the smoke test ran offscreen only")
        self.step("bundle", self.check_bundle)
        self.step("metadata", self.check_metadata)
        if sys.platform.startswith("linux") and not self.layout.onefile:
            self.step("install", self.check_install)
        return self.steps


def run_checks(layout: Layout, *, report: Path | None = None) -> int:
    exe = layout.cli_exe()
    if not exe.exists():
        raise PackagingError(f"no built app at {exe}: run `python packaging/build.py` first")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="event-console-check-") as scratch:
        steps = Checker(layout, Path(scratch)).run_all()
    figures = layout.read_report()
    figures["check_seconds"] = round(time.perf_counter() - started, 1)
    passed = sum(s.ok for s in steps)
    print(f"check: {passed}/{len(steps)} passed in {figures['check_seconds']} s")
    if "build_seconds" in figures:
        print(f"figures: build {figures['build_seconds']} s, bundle "
              f"{mib(float(str(figures['bundle_bytes'])))}"
              + (f", archive {mib(float(str(figures['archive_bytes'])))}"
                 if "archive_bytes" in figures else ""))
    if report is not None:
        report.write_text(json.dumps(
            {"ok": passed == len(steps), "steps": {s.name: asdict(s) for s in steps},
             "figures": figures}, indent=2) + "\n", "utf-8")
    return 0 if passed == len(steps) else 1


def _line_reader(stream: Any) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _screenshot_problems(metainfo: str) -> list[str]:
    """The screenshot the metainfo announces exists in resources/ at the size it declares."""
    match = re.search(r'<image type="source" width="(\d+)" height="(\d+)">[^<]*/([^/<]+)</image>',
                      metainfo)
    if not match:
        return ["metainfo has no source screenshot image with width and height"]
    shot = REPO / "resources" / "screenshots" / match.group(3)
    try:
        header = shot.read_bytes()[:24]
    except OSError:
        return [f"{shot} is missing (python packaging/screenshot.py takes it)"]
    size = struct.unpack(">II", header[16:24]) if header[:8] == b"\x89PNG\r\n\x1a\n" else None
    declared = (int(match.group(1)), int(match.group(2)))
    if size != declared:
        return [f"{shot.name} is {size}, the metainfo says {declared}"]
    return []


def _next_line(lines: queue.Queue[str], process: subprocess.Popen[str], timeout: float) -> str:
    """The next stdout line; queue.Empty when the time is up or the process has ended."""
    deadline = time.monotonic() + max(timeout, 0.1)
    while time.monotonic() < deadline:
        try:
            return lines.get(timeout=0.1)
        except queue.Empty:
            if process.poll() is not None and lines.empty():
                time.sleep(0.1)  # let the reader thread deliver the last lines
                if lines.empty():
                    raise
    raise queue.Empty


def _stop(process: subprocess.Popen[str]) -> str:
    """Stop a background app the way a terminal would (Ctrl+C), then harder; its stderr."""
    if process.poll() is None:
        process.send_signal(2 if sys.platform != "win32" else 15)  # SIGINT
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.stderr.read() if process.stderr else ""


def _json_lines(text: str) -> list[dict[str, Any]]:
    records = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records


def _last_lines(text: str, count: int = 2) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) if lines else "no output"


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}: {_last_lines(done.stderr or done.stdout or '')}"
