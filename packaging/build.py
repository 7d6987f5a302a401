"""One command for the packaged app: build it, check it, time its start-up.

    python packaging/build.py             build dist/event-console/ and (Linux) the archive
                                          dist/event-console-<version>-linux-x86_64.tar.gz
    python packaging/build.py --onefile   build one self-extracting executable instead
                                          (dist/onefile/event-console; no archive)
    python packaging/build.py --check     run the frozen app (--version, inbox + send,
                                          --smoke-test), install the archive into a temp
                                          home, validate the .desktop file and metainfo
    python packaging/build.py --startup   time to first painted window: bare PySide6 window,
                                          source and frozen app (median of 5 warm runs)

Flags combine (`--build --check` builds first). `--dist` and `--work` move the outputs (the
e2e test builds into a temp dir); `--report FILE` writes the check's results as JSON.
Why a script and not a Makefile: CI, the e2e test and a person at a terminal run exactly
the same steps, on any OS PyInstaller supports, with the venv's Python.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from layout import (
    APP,
    PACKAGING,
    REPO,
    SPEC,
    Layout,
    PackagingError,
    mib,
    package_version,
    tree_size,
)


def build(layout: Layout) -> dict[str, object]:
    """Icons, PyInstaller, archive; returns the figures (also saved in dist/build-report.json)."""
    version = package_version()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(PACKAGING / "icons.py"), str(layout.icons)],
        check=True, stdout=subprocess.DEVNULL,
    )
    env = dict(os.environ, EVENT_CONSOLE_ICON_DIR=str(layout.icons),
               EVENT_CONSOLE_ONEFILE="1" if layout.onefile else "0")
    env.pop("QT_QPA_PLATFORM", None)  # PyInstaller's Qt probes need no platform plugin
    distpath = layout.dist / "onefile" if layout.onefile else layout.dist
    command = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
        "--distpath", str(distpath), "--workpath", str(layout.work / "pyinstaller"), str(SPEC),
    ]
    result = subprocess.run(command, cwd=REPO, env=env, check=False)
    if result.returncode != 0:
        raise PackagingError(f"PyInstaller failed (exit {result.returncode}); see its output")
    missing = missing_console_modules(layout.work / "pyinstaller" / APP / f"warn-{APP}.txt")
    if missing:
        raise PackagingError(
            "the bundle would crash on import: " + "; ".join(missing)
            + " (fix the import, then build again)"
        )
    bundle_seconds = time.perf_counter() - started
    bundle = layout.onefile_exe if layout.onefile else layout.app_dir
    figures: dict[str, object] = {
        "version": version,
        "onefile": layout.onefile,
        "bundle": str(bundle),
        "build_seconds": round(bundle_seconds, 1),
        "bundle_bytes": tree_size(bundle),
    }
    print(f"build: bundle {bundle} in {bundle_seconds:.1f} s, {mib(tree_size(bundle))}")
    if sys.platform.startswith("linux") and not layout.onefile:
        from archive import write_archive

        archive_started = time.perf_counter()
        archive = write_archive(layout, version, layout.icons / "hicolor")
        archive_seconds = time.perf_counter() - archive_started
        figures.update(
            archive=str(archive), archive_bytes=archive.stat().st_size,
            archive_seconds=round(archive_seconds, 1),
        )
        print(f"build: archive {archive} in {archive_seconds:.1f} s, "
              f"{mib(archive.stat().st_size)}")
    figures["total_seconds"] = round(time.perf_counter() - started, 1)
    layout.write_report(figures)
    return figures


def missing_console_modules(warn_file: Path) -> list[str]:
    """Our own modules PyInstaller could not find but something imports unconditionally.

    PyInstaller only warns about these (in warn-event-console.txt); the frozen app would then
    die with ModuleNotFoundError, so the build stops instead. Imports inside try/except
    (optional features) are marked conditional and are allowed.
    """
    try:
        lines = warn_file.read_text("utf-8").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        if not line.startswith("missing module named"):
            continue
        name, _, importers = line.removeprefix("missing module named ").partition(" - imported by ")
        name = name.strip("'")
        if not name.startswith("console.") and name != "console":
            continue
        hard = [part.strip() for part in importers.split("),") if "(top-level" in part
                and "conditional" not in part]
        if hard:
            who = ", ".join(part.split(" (")[0] for part in hard)
            found.append(f"{name} is imported by {who} but does not exist")
    return found


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="packaging/build.py", description=__doc__.split("\n")[0])
    parser.add_argument("--build", action="store_true", help="build (the default with no flags)")
    parser.add_argument("--onefile", action="store_true", help="one executable, not a folder")
    parser.add_argument("--check", action="store_true", help="check the built app")
    parser.add_argument("--startup", action="store_true", help="measure start-up times")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per variant (--startup)")
    parser.add_argument("--dist", type=Path, default=REPO / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=REPO / "build", help="scratch folder")
    parser.add_argument("--report", type=Path,
                        help="write the check's results (and start-up figures) here, as JSON")
    args = parser.parse_args(argv)
    if not (args.check or args.startup):
        args.build = True
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    layout = Layout(args.dist.resolve(), args.work.resolve(), onefile=args.onefile)
    status = 0
    try:
        if args.build:
            build(layout)
        if args.check:
            from check import run_checks

            status = max(status, run_checks(layout, report=args.report))
        if args.startup:
            from startup import measure_startup

            figures = measure_startup(layout, runs=args.runs)
            if args.report is not None:
                saved = (json.loads(args.report.read_text("utf-8"))
                         if args.check and args.report.exists() else {})
                saved["startup"] = figures
                args.report.write_text(json.dumps(saved, indent=2) + "\n", "utf-8")
    except PackagingError as exc:
        print(f"{APP} packaging: {exc}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
