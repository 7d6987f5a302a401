"""The packaged app as it ships: `python packaging/build.py` into a temp dist, then `--check`.

Why in the normal suite: the bundle breaks in ways no source test sees (a module imported
by name only, keyring's entry points, a Qt plugin left out), and the build fits the test
budget here (~40-60 s on 2 cores when the machine is quiet). The check runs the frozen
executable; this test asserts what each of its steps found, and runs the start-up figures
in quick mode (one run each) so that tool keeps working. The small tests around it pin the
icon writers and the messages people see when they run the scripts wrongly.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
BUILD = PACKAGING / "build.py"


def run(args: list[str], timeout: float = 300,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if env is None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=env, check=False)


@pytest.mark.e2e
@pytest.mark.timeout(420)
def test_build_then_check_the_frozen_app(app_home, tmp_path):
    require(importlib.util.find_spec("PyInstaller") is not None,
            "PyInstaller (pip install -e '.[package]')")
    for tool in ("desktop-file-validate", "appstreamcli", "dbus-run-session",
                 "gnome-keyring-daemon", "Xvfb"):
        require(shutil.which(tool) is not None, f"{tool} (see tests/run's system packages)")
    dist, work, report = tmp_path / "dist", tmp_path / "work", tmp_path / "check.json"
    expected_version = version("event-console")

    built = run([sys.executable, str(BUILD), "--dist", str(dist), "--work", str(work)])
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-4000:]
    figures = json.loads((dist / "build-report.json").read_text("utf-8"))
    archive = dist / f"event-console-{expected_version}-linux-x86_64.tar.gz"
    assert figures["version"] == expected_version
    assert figures["archive"] == str(archive) and archive.stat().st_size > 0
    assert (dist / "event-console" / "event-console").is_file()

    # --startup --runs 1: the quick mode of the start-up figures, so that tool keeps working.
    checked = run([sys.executable, str(BUILD), "--check", "--startup", "--runs", "1",
                   "--dist", str(dist), "--work", str(work), "--report", str(report)])
    print(checked.stdout)  # the figures, for the test log
    result = json.loads(report.read_text("utf-8"))
    steps = result["steps"]
    failed = {name: step["detail"] for name, step in steps.items() if not step["ok"]}
    assert not failed, checked.stdout + checked.stderr[-2000:]
    assert checked.returncode == 0 and result["ok"]
    assert list(steps) == [
        "version", "inbox+send", "smoke", "xcb", "bundle", "metadata", "install"]

    assert steps["version"]["data"]["stdout"] == f"event-console {expected_version}"
    sent = steps["inbox+send"]["data"]
    assert sent["captured"]  # the inbox printed the event the frozen `send` delivered
    assert [r["status"] for r in sent["send"]] == [200]
    smoke = steps["smoke"]["data"]["report"]
    assert smoke["ok"] and smoke["window"] and smoke["resources_ok"]
    assert "keyring.backends.SecretService.Keyring" in smoke["keyring_backends"]
    assert Path(smoke["resources"]).is_relative_to(dist / "event-console")
    assert steps["xcb"]["data"]["report"]["window"]  # shown through the bundled xcb plugin
    plugins = steps["bundle"]["data"]["qt_plugins"]
    assert "platforms/libqoffscreen.so" in plugins and "platforms/libqxcb.so" in plugins
    assert not [p for p in plugins if p.startswith(("egldeviceintegrations/", "generic/"))]
    assert result["figures"]["build_seconds"] > 0 and result["figures"]["bundle_bytes"] > 0
    assert "figures: build" in checked.stdout
    startup = result["startup"]
    assert list(startup) == ["bare PySide6 window", "source (python -m console)",
                             "frozen (event-console/event-console)"]
    assert all(row["wall_ms"] > 0 and row["in_app_ms"] > 0 for row in startup.values())


def test_icon_containers_hold_every_size_and_qt_reads_them(qapp, tmp_path):
    sys.path.insert(0, str(PACKAGING))
    try:
        import icons
    finally:
        sys.path.remove(str(PACKAGING))
    from PySide6.QtGui import QImageReader

    files = icons.generate(tmp_path)
    for kind, sizes in (("ico", icons.ICO_SIZES), ("icns", [s for _, s in icons.ICNS_TYPES])):
        reader = QImageReader(str(files[kind]))
        found = []
        for index in range(reader.imageCount()):
            reader.jumpToImage(index)
            image = reader.read()
            assert not image.isNull(), reader.errorString()
            found.append(image.width())
        assert sorted(found) == sorted(sizes), kind
    for size in icons.PNG_SIZES:
        png = files["hicolor"] / f"{size}x{size}" / "apps" / "event-console.png"
        reader = QImageReader(str(png))
        assert reader.size().width() == size and reader.size().height() == size
    assert (files["hicolor"] / "scalable" / "apps" / "event-console.svg").is_file()


def test_check_without_a_build_says_to_build_first(tmp_path):
    done = run([sys.executable, str(BUILD), "--check", "--dist", str(tmp_path / "none")],
               timeout=60)
    assert done.returncode == 1
    assert "no built app at" in done.stderr
    assert "run `python packaging/build.py` first" in done.stderr


def test_build_script_refuses_zero_runs(tmp_path):
    done = run([sys.executable, str(BUILD), "--startup", "--runs", "0"], timeout=60)
    assert done.returncode == 2
    assert "--runs must be at least 1" in done.stderr


def test_install_script_outside_the_archive_says_where_to_run_it(tmp_path):
    done = run(["sh", str(PACKAGING / "install.sh")], timeout=60,
               env={"HOME": str(tmp_path), "PATH": os.environ["PATH"]})
    assert done.returncode == 1
    assert "run me from the unpacked archive" in done.stderr
    assert not (tmp_path / ".local").exists()


def test_install_script_rejects_unknown_options(tmp_path):
    done = run(["sh", str(PACKAGING / "install.sh"), "--frobnicate"], timeout=60,
               env={"HOME": str(tmp_path), "PATH": os.environ["PATH"]})
    assert done.returncode == 2
    assert "usage:" in done.stderr and "[--uninstall]" in done.stderr
