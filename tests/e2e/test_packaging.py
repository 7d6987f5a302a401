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
import time
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


def _archive_with_a_stand_in_app(folder: Path) -> Path:
    """The archive's layout (packaging/archive.py) with a stand-in for the frozen app: a
    script that notes it ran. install.sh is what is tested, not the bundle."""
    root = folder / "event-console-0.0.0-linux-x86_64"
    app = root / "event-console" / "event-console"
    app.parent.mkdir(parents=True)
    app.write_text('#!/bin/sh\necho ran > "$MARK"\n')
    app.chmod(0o755)
    shutil.copy(PACKAGING / "install.sh", root / "install.sh")
    for source, dest in (
            (PACKAGING / "event-console.desktop",
             "share/applications/dev.eventconsole.EventConsole.desktop"),
            (PACKAGING / "dev.eventconsole.EventConsole.metainfo.xml",
             "share/metainfo/dev.eventconsole.EventConsole.metainfo.xml"),
            (ROOT / "resources" / "icons" / "event-console.svg",
             "share/icons/hicolor/scalable/apps/event-console.svg")):
        (root / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, root / dest)
    return root


@pytest.mark.parametrize("where", ["with space/R&D", 'dollar $HOME "quoted" `tick`'])
def test_the_installed_menu_entry_starts_the_app_from_any_install_path(tmp_path, where):
    """Exec= held the path unquoted: a space (a HOME with one) made the menu entry point
    at a program that does not exist, and a & in it was read by sed as its own syntax."""
    gio = shutil.which("gio")
    require(gio is not None, "gio (libglib2.0-bin), which desktops use to start a menu entry")
    root = _archive_with_a_stand_in_app(tmp_path / "archive")
    prefix, mark = tmp_path / where, tmp_path / "ran"
    env = {"HOME": str(tmp_path / "home"), "PATH": os.environ["PATH"], "PREFIX": str(prefix)}
    installed = run(["sh", str(root / "install.sh")], timeout=60, env=env)
    assert installed.returncode == 0, installed.stderr
    entry = prefix / "share" / "applications" / "dev.eventconsole.EventConsole.desktop"
    validated = run(["desktop-file-validate", str(entry)], timeout=60)
    assert validated.returncode == 0, validated.stdout
    launched = run([str(gio), "launch", str(entry)], timeout=60, env={**env, "MARK": str(mark)})
    assert launched.returncode == 0, launched.stderr
    deadline = time.monotonic() + 10
    while not mark.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mark.read_text() == "ran\n"


def test_an_install_refused_for_a_file_in_the_way_leaves_nothing_behind(tmp_path):
    """It copied the whole app (146 MB) into ~/.local/lib first, then refused."""
    root = _archive_with_a_stand_in_app(tmp_path / "archive")
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "event-console").write_text("#!/bin/sh\n")  # pip install --user
    done = run(["sh", str(root / "install.sh")], timeout=60,
               env={"HOME": str(home), "PATH": os.environ["PATH"]})
    assert done.returncode == 1 and "is not a symlink; not replacing it" in done.stderr
    assert sorted(p.name for p in (home / ".local").iterdir()) == ["bin"]


def _archive_with_a_program(folder: Path, program: str) -> Path:
    """The archive's layout with a real program (a copy of `program`, a real ELF file as
    the frozen app is) in the app's place: /proc/<pid>/exe then names the install."""
    root = _archive_with_a_stand_in_app(folder)
    found = shutil.which(program)
    assert found is not None
    shutil.copy(found, root / "event-console" / "event-console")
    return root


def _installer_env(home: Path, **more: str) -> dict[str, str]:
    return {"HOME": str(home), "PATH": os.environ["PATH"], **more}


def test_an_upgrade_leaves_a_running_app_its_own_files(tmp_path):
    """install.sh deleted the app folder and copied the new one to the same path: a
    running app (which reads its own files by path as it imports) read the new build at the
    old offsets, its send died with a zlib error and its window could not close."""
    first = _archive_with_a_program(tmp_path / "one", "sleep")
    second = _archive_with_a_program(tmp_path / "two", "sleep")
    home = tmp_path / "home"
    env = _installer_env(home)
    assert run(["sh", str(first / "install.sh")], timeout=60, env=env).returncode == 0
    program = home / ".local" / "bin" / "event-console"
    running = subprocess.Popen([str(program), "60"])
    try:
        exe = Path(f"/proc/{running.pid}/exe")
        deadline = time.monotonic() + 10
        while not os.readlink(exe).endswith("/event-console") and time.monotonic() < deadline:
            time.sleep(0.02)
        its_folder = Path(os.readlink(exe)).parent
        upgraded = run(["sh", str(second / "install.sh")], timeout=60, env=env)
        assert upgraded.returncode == 0, upgraded.stderr
        link = home / ".local" / "lib" / "event-console"
        assert link.is_symlink() and link.resolve() != its_folder
        assert (its_folder / "event-console").is_file()  # kept while it runs
        assert running.poll() is None
    finally:
        running.kill()
        running.wait()
    again = run(["sh", str(second / "install.sh")], timeout=60, env=env)
    assert again.returncode == 0, again.stderr
    versions = home / ".local" / "lib" / "event-console.d"
    assert [p.name for p in versions.iterdir()] == [link.resolve().name]  # the rest pruned
    assert run([str(program), "0"], timeout=60, env=env).returncode == 0


def test_an_install_of_before_upgrades_in_place(tmp_path):
    """An install made when the app folder was a plain folder: it becomes the link."""
    root = _archive_with_a_stand_in_app(tmp_path / "archive")
    home = tmp_path / "home"
    old = home / ".local" / "lib" / "event-console"
    old.mkdir(parents=True)
    (old / "event-console").write_text("#!/bin/sh\n")
    (old / "event-console").chmod(0o755)
    (home / ".local" / "bin").mkdir()
    (home / ".local" / "bin" / "event-console").symlink_to(old / "event-console")
    done = run(["sh", str(root / "install.sh")], timeout=60, env=_installer_env(home))
    assert done.returncode == 0, done.stderr
    assert old.is_symlink() and (old / "event-console").read_text().startswith("#!/bin/sh\necho")


def test_a_relative_prefix_is_taken_from_where_install_sh_runs(tmp_path):
    """PREFIX=rel said "installed" and left a dangling link and a menu entry running
    "rel/lib/…" from wherever the desktop starts it."""
    root = _archive_with_a_stand_in_app(tmp_path / "archive")
    where = tmp_path / "here"
    where.mkdir()
    done = subprocess.run(["sh", str(root / "install.sh")], capture_output=True, text=True,
                          timeout=60, cwd=where, check=False,
                          env=_installer_env(tmp_path / "home", PREFIX="rel"))
    assert done.returncode == 0, done.stderr
    program = where / "rel" / "bin" / "event-console"
    assert program.resolve().is_file()
    entry = where / "rel" / "share" / "applications" / "dev.eventconsole.EventConsole.desktop"
    assert f'Exec="{where}/rel/lib/event-console/event-console"' in entry.read_text()


def test_another_tools_event_console_link_is_neither_replaced_nor_removed(tmp_path):
    """`--uninstall` removed pipx's ~/.local/bin/event-console, and an install replaced it,
    without a word."""
    root = _archive_with_a_stand_in_app(tmp_path / "archive")
    home = tmp_path / "home"
    bin_dir = home / ".local" / "bin"
    bin_dir.mkdir(parents=True)
    pipx = home / ".local" / "share" / "pipx" / "venvs" / "event-console" / "bin" / "event-console"
    (bin_dir / "event-console").symlink_to(pipx)
    env = _installer_env(home)
    removed = run(["sh", str(root / "install.sh"), "--uninstall"], timeout=60, env=env)
    assert removed.returncode == 0, removed.stderr
    assert os.readlink(bin_dir / "event-console") == str(pipx)
    refused = run(["sh", str(root / "install.sh")], timeout=60, env=env)
    assert refused.returncode == 1
    assert f"is a link to {pipx} (another install of event-console)" in refused.stderr
    assert os.readlink(bin_dir / "event-console") == str(pipx)
    assert not (home / ".local" / "lib").exists()


def test_two_installs_at_once_leave_one_whole_app(tmp_path):
    """The one that finished first pruned the other's folder while it was being copied,
    and the link ended on half an app: "installed", and nothing to run."""
    slow = _archive_with_a_program(tmp_path / "slow", "sleep")
    many = slow / "event-console" / "many"
    many.mkdir()
    for n in range(4000):
        (many / str(n)).touch()
    fast = _archive_with_a_program(tmp_path / "fast", "sleep")
    home = tmp_path / "home"
    env = _installer_env(home)
    first = subprocess.Popen(["sh", str(slow / "install.sh")], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.1)
    second = run(["sh", str(fast / "install.sh")], timeout=120, env=env)
    _out, err = first.communicate(timeout=120)
    assert (first.returncode, second.returncode) == (0, 0), err + second.stderr
    program = home / ".local" / "bin" / "event-console"
    assert run([str(program), "0"], timeout=60, env=env).returncode == 0
    versions = list((home / ".local" / "lib" / "event-console.d").iterdir())
    assert not [v for v in versions if v.name.endswith(".partial")]


def test_an_install_of_before_that_is_running_is_not_deleted(tmp_path):
    """An install made when the app folder was a plain folder, with the app open: its files
    were deleted under it (the failure the folders per version are there to prevent)."""
    root = _archive_with_a_program(tmp_path / "archive", "sleep")
    home = tmp_path / "home"
    old = home / ".local" / "lib" / "event-console"
    old.mkdir(parents=True)
    shutil.copy(shutil.which("sleep") or "", old / "event-console")
    running = subprocess.Popen([str(old / "event-console"), "60"])
    try:
        deadline = time.monotonic() + 10
        while not os.readlink(f"/proc/{running.pid}/exe").startswith(str(old)) and \
                time.monotonic() < deadline:
            time.sleep(0.02)
        done = run(["sh", str(root / "install.sh")], timeout=60, env=_installer_env(home))
    finally:
        running.kill()
        running.wait()
    assert done.returncode == 1
    assert f"Event Console is running from {old}; close it, then install again" in done.stderr
    assert (old / "event-console").is_file() and not old.is_symlink()


def test_a_prefix_spelled_another_way_is_the_same_install(tmp_path):
    """`PREFIX=~/.local/` (a trailing slash), or a PREFIX through a symlink: the next install
    called the link "another install" and refused, and --uninstall left it dangling."""
    root = _archive_with_a_stand_in_app(tmp_path / "archive")
    home = tmp_path / "home"
    real = home / "real"
    real.mkdir(parents=True)
    (home / "via").symlink_to(real)
    for first, then in ((f"{home}/.local/", f"{home}/.local"),
                        (str(home / "via"), str(real))):
        installed = run(["sh", str(root / "install.sh")], timeout=60,
                        env=_installer_env(home, PREFIX=first))
        assert installed.returncode == 0, installed.stderr
        again = run(["sh", str(root / "install.sh")], timeout=60,
                    env=_installer_env(home, PREFIX=then))
        assert again.returncode == 0, again.stderr
        removed = run(["sh", str(root / "install.sh"), "--uninstall"], timeout=60,
                      env=_installer_env(home, PREFIX=then))
        assert removed.returncode == 0, removed.stderr
        link = Path(then) / "bin" / "event-console"
        assert not link.is_symlink(), os.readlink(link)
