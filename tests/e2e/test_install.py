"""What `pip install .` ships: every package, and the resources inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_console_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "console").rglob("__init__.py")
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert "console.resources" in listed


def test_the_wheel_carries_the_resources(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("event_console-*.whl")
    from console import __version__

    assert wheel.name.startswith(f"event_console-{__version__}-")  # the version's one source
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("console/resources/icons/event-console.svg",
                   "console/resources/template.schema.json",
                   "console/resources/scenario.schema.json",
                   "console/resources/examples/scenarios/checkout.json",
                   "console/ui/editor/json_editor.py", "console/py.typed"):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "packaging/")) for n in names)
    # installed, the app finds its own resources, not a resources/ folder that another
    # package put in the same site-packages (it took that one, and had no window icon)
    target = tmp_path / "site-packages"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)], capture_output=True, text=True, timeout=300, check=False)
    assert installed.returncode == 0, installed.stderr
    (target / "resources").mkdir()
    found = subprocess.run(
        [sys.executable, "-c", "from console.services.resources import resource; "
         "print(resource('scenario.schema.json'))"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert found.stdout.strip() == str(target / "console" / "resources" / "scenario.schema.json")
    assert Path(found.stdout.strip()).is_file(), found.stderr
