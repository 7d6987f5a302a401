"""Schema files in a real workspace folder: hostile files, atomic pretty saves, import."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from console.core.errors import InputError
from console.core.problems import Severity
from console.services.schema_store import (
    MAX_SCHEMA_BYTES,
    import_schema,
    load_library,
    load_schema_dir,
    save_schema,
)

SCHEMA = {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}}


@pytest.fixture
def workspace(app_home: Path) -> Path:
    folder = app_home / "workspace"
    (folder / "schemas").mkdir(parents=True)
    return folder


def test_loads_good_files_and_reports_hostile_ones(workspace: Path) -> None:
    schemas = workspace / "schemas"
    (schemas / "app__user.created.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    (schemas / "big.json").write_bytes(b" " * (MAX_SCHEMA_BYTES + 1))
    (schemas / "binary.json").write_bytes(b'{"type": "object"}\x00\x01')
    (schemas / "latin1.json").write_bytes('{\n  "description": "café"}'.encode("latin-1"))
    (schemas / "folder.json").mkdir()
    os.mkfifo(schemas / "fifo.json")
    os.symlink("loop.json", schemas / "loop.json")
    (workspace / "token.txt").write_text("sk_live_SuperSecret")
    os.symlink(workspace / "token.txt", schemas / "token.json")  # out of the folder
    (schemas / "broken.json").write_text('{\n  "type": "object",\n}\n', encoding="utf-8")
    (schemas / "notes.txt").write_text("not a schema", encoding="utf-8")
    (schemas / ".hidden.json").write_text("{", encoding="utf-8")
    library = load_library(workspace)
    assert library.names() == ["app/user.created"]
    assert library.for_event("app/user.created") == SCHEMA
    problems = {Path(p.file).name: (p.problem.message, p.problem.line, p.problem.column)
                for p in library.problems}
    assert problems == {
        "big.json": (f"file is {MAX_SCHEMA_BYTES + 1:,} bytes, over the {MAX_SCHEMA_BYTES:,} "
                     "bytes a schema file may have", 1, 1),
        "binary.json": ("binary file (contains NUL bytes), not a JSON schema", 1, 1),
        "latin1.json": ("not UTF-8 text (byte 23)", 2, 22),  # where the é is
        "folder.json": ("not a regular file", 1, 1),
        "fifo.json": ("not a regular file", 1, 1),
        "loop.json": ("cannot read: Too many levels of symbolic links", 1, 1),
        "broken.json": ("Trailing comma: remove the ',' before '}'", 2, 19),
        "token.json": (f"leads through a link to {os.path.realpath(workspace / 'token.txt')}, "
                       "outside "
                       f"{os.path.realpath(schemas)}: not read", 1, 1),
    }
    assert all(p.problem.severity is Severity.ERROR for p in library.problems)
    assert [Path(p.file).name for p in library.problems] == sorted(problems)


def test_missing_folder_is_an_empty_library(tmp_path: Path) -> None:
    library = load_schema_dir(tmp_path / "nowhere")
    assert len(library) == 0 and library.problems == []


def test_save_writes_pretty_json_atomically(workspace: Path) -> None:
    path = save_schema(workspace, "app/user.created", {"title": "Ünïcode", **SCHEMA})
    assert path == workspace / "schemas" / "app__user.created.json"
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.startswith('{\n  "$schema": "https://json-schema.org/draft/2020-12/schema",\n'
                           '  "x-event-name": "app/user.created",\n  "title": "Ünïcode",\n')
    assert json.loads(text)["required"] == ["email"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["app__user.created.json"]  # no temp
    before = path.read_bytes()
    save_schema(workspace, "app/user.created", json.loads(text))
    assert path.read_bytes() == before  # re-saving changes no byte
    versioned = save_schema(workspace, "app/user.created", SCHEMA, version="2")
    assert versioned.name == "app__user.created@2.json"
    assert json.loads(versioned.read_text())["x-event-version"] == "2"
    library = load_library(workspace)
    assert library.problems == []
    assert library.entry_for("app/user.created", "2").file == str(versioned)  # type: ignore[union-attr]


def test_save_replaces_the_file_that_already_describes_the_event(workspace: Path) -> None:
    custom = workspace / "schemas" / "my-user-schema.json"
    custom.write_text(json.dumps({"x-event-name": "app/user.created", "type": "object"}))
    assert save_schema(workspace, "app/user.created", SCHEMA) == custom
    assert json.loads(custom.read_text())["required"] == ["email"]
    assert len(list((workspace / "schemas").iterdir())) == 1


def test_the_schema_of_a_name_with_an_at_sign_applies_and_is_saved_over(workspace: Path):
    """billing__invoice@paid.json read as version "paid" of "billing/invoice" although its
    "x-event-name" named the whole name: the schema never applied, and every save wrote
    another file (-2, -3, ...)."""
    first = save_schema(workspace, "billing/invoice@paid", SCHEMA)
    assert save_schema(workspace, "billing/invoice@paid", {**SCHEMA, "required": []}) == first
    library = load_library(workspace)
    assert [(e.name, e.version) for e in library.entries] == [("billing/invoice@paid", None)]
    assert library.entry_for("billing/invoice@paid", None) is not None
    # a file name's version still counts when the schema names no event
    (workspace / "schemas" / "app__x@2.json").write_text(json.dumps({"type": "object"}))
    assert ("app/x", "2") in [(e.name, e.version) for e in load_library(workspace).entries]


def test_a_long_event_name_saves_under_a_shorter_file_name_and_loads_back(
        workspace: Path) -> None:
    """A 300-character name (valid, sendable) failed with "File name too long" from the
    schema dialog's Save: a bug dialog."""
    for name in ("app/" + "x" * 300, "app/" + "日本" * 120):
        path = save_schema(workspace, name, SCHEMA, version="2024-01-01")
        assert len(path.name.encode()) <= 160
        assert save_schema(workspace, name, {**SCHEMA, "title": "again"}) != path  # no version
        assert save_schema(workspace, name, SCHEMA, version="2024-01-01") == path  # replaced
        library = load_library(workspace)
        assert library.entry_for(name, "2024-01-01") is not None
    assert len(list((workspace / "schemas").iterdir())) == 4


def test_save_refuses_a_schema_that_would_not_load(workspace: Path) -> None:
    with pytest.raises(InputError) as caught:
        save_schema(workspace, "app/x", {"type": "objekt"})
    message = str(caught.value)
    assert message.startswith(str(workspace / "schemas" / "app__x.json") + ":4:11: Invalid schema:")
    with pytest.raises(InputError, match="a schema needs the event name it describes"):
        save_schema(workspace, "  ", SCHEMA)
    assert list((workspace / "schemas").iterdir()) == []


def test_save_never_replaces_a_file_that_did_not_load(workspace: Path) -> None:
    """A hand-written schemas/shop__order.json with a trailing comma did not load; Edit
    Schema opened an inferred schema, and its Save wrote over that file."""
    broken = workspace / "schemas" / "shop__order.json"
    text = '{"x-event-name": "shop/order",\n  "type": "object",\n  "required": ["orderId"],}\n'
    broken.write_text(text)
    with pytest.raises(InputError) as caught:
        save_schema(workspace, "shop/order", SCHEMA)
    message = str(caught.value)
    assert message.startswith("schemas/shop__order.json is there but did not load as the "
                              "schema of 'shop/order' (")
    assert "shop__order.json:3:" in message and message.endswith(": fix it or remove it first")
    assert broken.read_text() == text
    assert save_schema(workspace, "shop/other", SCHEMA).name == "shop__other.json"
    # another event's valid schema with the same file name: a free name beside it
    first = save_schema(workspace, "shop/a_b", SCHEMA)
    second = save_schema(workspace, "shop/a:b", SCHEMA)
    assert (first.name, second.name) == ("shop__a_b.json", "shop__a_b-2.json")
    library = load_library(workspace)
    assert library.entry_for("shop/a_b") is not None and library.entry_for("shop/a:b")
    assert save_schema(workspace, "shop/a:b", SCHEMA) == second  # replaced where it is


def test_import_copies_and_names_the_schema(workspace: Path, tmp_path: Path) -> None:
    source = tmp_path / "downloaded.json"
    source.write_text(json.dumps({"x-event-name": "old/name", **SCHEMA}))
    path = import_schema(source, workspace, "shop/order.paid")
    assert path.name == "shop__order.paid.json"
    saved = json.loads(path.read_text())
    assert saved["x-event-name"] == "shop/order.paid"
    assert saved["properties"] == SCHEMA["properties"]
    assert load_library(workspace).names() == ["shop/order.paid"]


def test_import_reports_broken_and_unreadable_sources(workspace: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "type": "object"\n  "required": []\n}')
    with pytest.raises(InputError) as caught:
        import_schema(broken, workspace, "a/b")
    assert str(caught.value) == f"{broken}:3:3: Expected ',' or '}}' after object member"
    with pytest.raises(InputError) as caught:
        import_schema(tmp_path / "missing.json", workspace, "a/b")
    missing = tmp_path / "missing.json"
    assert str(caught.value) == f"{missing}: cannot read: No such file or directory"
    assert list((workspace / "schemas").iterdir()) == []


def test_an_unchanged_file_is_not_checked_again_and_a_changed_one_is(workspace: Path) -> None:
    """A schema dialog's open and save each loaded the whole folder again, checking
    every schema against its metaschema (4 s each, on the window's thread, beside a
    schema of 10,000 properties)."""
    folder = workspace / "schemas"
    folder.mkdir(exist_ok=True)
    big = folder / "big.json"
    big.write_text(json.dumps({"x-event-name": "gen/big", "properties": {
        f"p{i}": {"type": "string"} for i in range(2000)}}))
    first = load_schema_dir(folder).entry_for("gen/big")
    assert first is not None and load_schema_dir(folder).entry_for("gen/big") is first
    big.write_text(json.dumps({"x-event-name": "gen/big", "required": ["p0"]}))
    changed = load_schema_dir(folder).entry_for("gen/big")
    assert changed is not None and changed is not first
    assert changed.schema == {"x-event-name": "gen/big", "required": ["p0"]}
