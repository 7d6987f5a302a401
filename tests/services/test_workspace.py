"""Workspace files: round trips, outside changes, crashes, broken and hostile files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from console.core.errors import UserError
from console.core.scenario import EventTemplate, parse_scenario
from console.core.serialize import pretty
from console.services.paths import app_paths
from console.services.workspace import MAX_FILE_BYTES, RecentWorkspaces, Workspace, slug

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def make_template(name="order created", event_name="shop/order.created"):
    return EventTemplate(name, {"name": event_name, "data": {"n": "{{ seq }}"}},
                         "an order", ["shop"])


@pytest.fixture
def ws(app_home, tmp_path) -> Workspace:
    return Workspace.open(tmp_path / "ws")


def test_the_default_workspace_lives_in_the_app_data_dir(app_home):
    workspace = Workspace.open()
    assert workspace.folder == app_paths().default_workspace
    assert all((workspace.folder / kind).is_dir() for kind in ("templates", "scenarios",
                                                               "schemas"))


def test_save_load_and_resave_byte_for_byte(ws):
    path = ws.save_template(make_template())
    assert path == ws.folder / "templates" / "order-created.json"
    text = path.read_text()
    assert text == pretty(make_template().to_json()) and text.endswith("}\n")
    assert json.loads(text)["format"] == "event-console/template@1"
    again = Workspace.open(ws.folder)
    assert again.templates["order created"] == make_template()
    again.save_template(again.template("order created"), replacing="order created")
    assert path.read_text() == text
    scenario_text = (EXAMPLES / "scenarios" / "checkout.json").read_text()
    scenario, _ = parse_scenario(scenario_text, "checkout.json")
    scenario_path = ws.save_scenario(scenario)
    assert scenario_path.read_text() == scenario_text


def test_names_become_file_names_without_clashes(ws):
    assert slug("Order: created / EU") == "order-created-eu"
    assert slug("...") == "untitled"
    ws.save_template(make_template("a b"))
    (ws.folder / "templates" / "a-b.json").rename(ws.folder / "templates" / "a-b.json")
    path = ws.save_template(make_template("A B"))
    assert path.name == "a-b-2.json"
    with pytest.raises(Exception, match="a template named 'a b' already exists"):
        ws.save_template(make_template("a b"))
    # a long name: "File name too long" (a file name holds 255 bytes), with the whole path
    long_name = "checkout " * 40
    saved = ws.save_template(make_template(long_name))
    assert saved.name == ("checkout-" * 12)[:100].rstrip("-") + ".json"
    assert ws.template(long_name).name == long_name


def test_outside_changes_are_picked_up(ws):
    assert not ws.reload_if_changed()
    other = ws.folder / "templates" / "pulled.json"
    other.write_text(pretty(make_template("pulled", "git/pulled").to_json()))
    change = ws.reload_if_changed()
    assert change.templates and not change.scenarios
    assert ws.template("pulled").event_name == "git/pulled"
    # an editor rewrites the file in place, same size
    other.write_text(other.read_text().replace("git/pulled", "git/PULLED"))
    assert ws.reload_if_changed().templates
    assert ws.template("pulled").event_name == "git/PULLED"
    other.unlink()
    assert ws.reload_if_changed().templates and "pulled" not in ws.templates
    (ws.folder / "schemas" / "x.json").write_text("{}")
    assert ws.reload_if_changed().schemas


def test_a_malformed_file_is_listed_and_the_rest_loads(ws):
    ws.save_template(make_template("good"))
    (ws.folder / "templates" / "broken.json").write_text('{\n  "format": "event-console/'
                                                         'template@1",\n  "name": tru\n}\n')
    (ws.folder / "scenarios" / "bad.json").write_text(json.dumps(
        {"format": "event-console/scenario@1", "name": "s", "steps": [{"jump": 1}]}))
    ws.reload_if_changed()
    assert list(ws.templates) == ["good"]
    assert [str(p) for p in ws.problems] == [
        "templates/broken.json:3:11: Unexpected word 'tru': strings must be in double quotes",
        "scenarios/bad.json:1:63: unknown step kind: a step has exactly one of \"send\" or "
        "\"wait\" (keys found: 'jump')",
    ]


def test_two_files_with_one_name(ws):
    ws.save_template(make_template("same"))
    (ws.folder / "templates" / "copy.json").write_text(
        pretty(make_template("same", "other/name").to_json()))
    ws.reload_if_changed()
    assert [str(p) for p in ws.problems] == [
        "templates/same.json:3:11: template name 'same' is also used by templates/copy.json, "
        "which is used (it comes first by file name); this file is ignored"]
    assert ws.template("same").event_name == "other/name"
    assert ws.path_of("templates", "same") == ws.folder / "templates" / "copy.json"


def test_hostile_files_become_problems_not_hangs(ws):
    folder = ws.folder / "templates"
    with (folder / "huge.json").open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    (folder / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (folder / "latin1.json").write_bytes(b'{"name": "caf\xe9"}')
    (folder / "loop-a.json").symlink_to(folder / "loop-b.json")
    (folder / "loop-b.json").symlink_to(folder / "loop-a.json")
    os.mkfifo(folder / "pipe.json")
    (folder / "dir.json").mkdir()
    # a link inside the workspace is followed; one out of it is not read (a workspace is
    # someone else's repository: a link to a token file had its first word quoted)
    (ws.folder / "shared").mkdir()
    (ws.folder / "shared" / "order.json").write_bytes(
        (EXAMPLES / "templates" / "order-created.json").read_bytes())
    (folder / "linked.json").symlink_to(ws.folder / "shared" / "order.json")
    secret = ws.folder.parent / "token.json"
    secret.write_text("ghp_SuperSecretTokenValue")
    (folder / "token.json").symlink_to(secret)
    ws.reload_if_changed()
    messages = {p.file: p.problem.message for p in ws.problems}
    outside = os.path.realpath(ws.folder)
    assert messages == {
        "templates/token.json": f"leads through a link to {os.path.realpath(secret)}, "
                                f"outside {outside}: "
                                "not read",
        "templates/binary.json": "binary file (contains NUL bytes), not JSON text",
        "templates/dir.json": "not a regular file",
        "templates/huge.json": f"file is {MAX_FILE_BYTES + 1:,} bytes, over the "
                               f"{MAX_FILE_BYTES:,} bytes a workspace file may have",
        "templates/latin1.json": "not UTF-8 text (byte 13)",  # at 1:14, see below
        "templates/loop-a.json": "cannot read: Too many levels of symbolic links",
        "templates/loop-b.json": "cannot read: Too many levels of symbolic links",
        "templates/pipe.json": "not a regular file",
    }
    assert list(ws.templates) == ["order-created"]
    latin1 = next(p.problem for p in ws.problems if p.file == "templates/latin1.json")
    assert (latin1.line, latin1.column) == (1, 14)  # the é, not the file's start


def test_deep_nesting_is_a_problem_not_a_crash(ws):
    (ws.folder / "templates" / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    ws.reload_if_changed()
    assert [p.problem.message for p in ws.problems] == ["expected a JSON object"]


CRASHER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from console.services.atomic import write_text_atomic

    def crash(src, dst):
        os.kill(os.getpid(), signal.SIGKILL)  # the power goes out between fsync and rename

    os.replace = crash
    write_text_atomic(Path(sys.argv[1]), sys.argv[2])
""")


def test_a_crash_between_temp_write_and_rename_loses_nothing(ws):
    path = ws.save_template(make_template("keep"))
    before = path.read_bytes()
    new_text = pretty(make_template("keep", "changed/name").to_json())
    proc = subprocess.run([sys.executable, "-c", CRASHER, str(path), new_text],
                          capture_output=True, timeout=30)
    assert proc.returncode == -9
    assert path.read_bytes() == before
    leftovers = [p.name for p in path.parent.iterdir() if p.name.startswith(".keep.json.")]
    assert len(leftovers) == 1 and leftovers[0].endswith(".tmp")
    ws.reload_if_changed()
    assert ws.template("keep").event_name == "shop/order.created"
    assert ws.problems == []


def test_delete_and_undo_restore_the_same_bytes(ws):
    ws.save_template(make_template("gone"))
    path, data = ws.delete("templates", "gone")
    assert "gone" not in ws.templates and not path.exists()
    ws.apply({path: data})
    assert path.read_bytes() == data and "gone" in ws.templates
    snapshot = ws.snapshot([path, path.with_name("new.json")])
    assert snapshot == {path: data, path.with_name("new.json"): None}


def test_scenarios_are_found_by_name_or_file(ws):
    text = (EXAMPLES / "scenarios" / "checkout.json").read_text()
    (ws.folder / "scenarios" / "checkout.json").write_text(text)
    ws.reload_if_changed()
    assert ws.scenario("checkout").name == "checkout"
    assert ws.scenario("checkout.json").name == "checkout"
    with pytest.raises(Exception, match="no scenario named 'nope'"):
        ws.scenario("nope")


def test_a_scenario_not_found_names_the_scenario_files_that_did_not_load(ws):
    """One of them may be the scenario asked for: "no scenario named 'checkout'" alone sent
    people looking for a typo when checkout.json had a syntax error."""
    (ws.folder / "scenarios" / "checkout.json").write_text("{broken")
    (ws.folder / "scenarios" / "other.json").write_text("[]")
    ws.reload_if_changed()
    for wanted in ("checkout", "nope"):
        with pytest.raises(UserError) as info:
            ws.scenario(wanted)
        assert str(info.value) == (
            f"no scenario named {wanted!r} in {ws.folder}; 2 scenario file(s) did not load, "
            "and one may be it: scenarios/checkout.json, scenarios/other.json")


def test_recent_workspaces(app_home, tmp_path):
    recent = RecentWorkspaces()
    assert recent.file == app_paths().config / "recent.json"
    assert recent.folders() == []
    for i in range(12):
        recent.add(tmp_path / f"w{i}")
    recent.add(tmp_path / "w3")
    folders = recent.folders()
    assert folders[0] == (tmp_path / "w3").resolve() and len(folders) == 10
    recent.file.write_text("{not json")
    assert recent.folders() == []


def test_a_saved_file_keeps_its_mode_and_a_new_one_follows_the_umask(ws):
    """Every save went through a 0600 temp file: a template in a shared checkout, saved
    again, became readable by its owner alone."""
    saved = ws.save_template(EventTemplate("shared", {"name": "a/b", "data": {}}))
    umask = os.umask(0o022)  # the test's own, set before any thread of its own runs
    os.umask(umask)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o666 & ~umask
    saved.chmod(0o640)
    ws.save_template(EventTemplate("shared", {"name": "a/b", "data": {"n": 1}}),
                     replacing="shared")
    assert stat.S_IMODE(saved.stat().st_mode) == 0o640
    assert json.loads(saved.read_text())["event"]["data"] == {"n": 1}


def test_a_scenario_document_is_written_only_when_it_loads_back(ws):
    """Save Batch as Scenario's checks, in the service: too big, a placeholder that does
    not compile, a name taken, a folder that cannot be written; then a good one."""
    from console.core.scenario import one_step_scenario
    from tests.support.writes import writes_fail

    folder = ws.folder / "scenarios"
    big = one_step_scenario("big", [{"name": "a/b", "data": {"s": "x" * 1000}}] * 6000, {})
    with pytest.raises(UserError, match=r"^the scenario would take 6\.\d MiB"):
        ws.save_scenario_document(big)
    broken = one_step_scenario("broken", [{"name": "a/b", "data": {"x": "{{ nope( }}"}}], {})
    with pytest.raises(UserError, match=r"^the scenario:\d+:\d+: "):
        ws.save_scenario_document(broken)
    good = one_step_scenario("good", [{"name": "a/b", "data": {}}], {"k": "v"})
    with writes_fail(), pytest.raises(UserError) as failed:
        ws.save_scenario_document(good)
    assert str(failed.value) == f"not written: File too large in {folder}"
    assert list(folder.iterdir()) == []
    scenario, path = ws.save_scenario_document(good)
    assert scenario.name == "good" and scenario.vars == {"k": "v"}
    assert path.read_text() == pretty(good)
    with pytest.raises(UserError, match="a scenario named 'good' already exists"):
        ws.save_scenario_document(good)
    assert ws.save_scenario_document(good, replacing="good")[1] == path


def test_a_folder_linked_out_of_the_workspace_is_never_written_to(app_home, tmp_path):
    """A workspace (someone else's repository) whose templates/ links to another folder:
    its files were never read from there, but Save as Template wrote there, and said
    "Saved … in <the workspace>". Schemas and scenarios the same."""
    from console.core.scenario import parse_scenario
    from console.services.schema_store import save_schema

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = tmp_path / "cloned"
    root.mkdir()
    for kind in ("templates", "scenarios", "schemas"):
        (root / kind).symlink_to(elsewhere)
    ws = Workspace.open(root)
    with pytest.raises(UserError) as refused:
        ws.save_template(make_template())
    assert f"outside {os.path.realpath(root)}: not written" in str(refused.value)
    path, data = ws.template_file(make_template())  # the Templates tab's undoable save
    with pytest.raises(UserError, match="not written"):
        ws.apply({path: data})
    scenario, _ = parse_scenario(json.dumps({
        "format": "event-console/scenario@1", "name": "s",
        "steps": [{"send": {"name": "a/b"}}]}), "s.json")
    with pytest.raises(UserError, match="not written"):
        ws.save_scenario(scenario)
    with pytest.raises(UserError, match="not written"):
        save_schema(root, "shop/order.created", {"type": "object"})
    assert list(elsewhere.iterdir()) == []
