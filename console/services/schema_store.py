"""Event schema files in the workspace's `schemas/` folder: read, import, save.

The folder is shared through git and edited by hand, so anything can be in it: a file
too big, binary, not UTF-8, a FIFO, a symlink loop. Each becomes a `FileProblem` next to
the schemas that did load, never a crash or a hang. Saved schemas are pretty two-space
JSON with a trailing newline, written atomically, with `x-event-name` (and
`x-event-version`) first so the file says what it describes (see `console.core.schemas`
for the naming convention).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from console.core.errors import InputError
from console.core.problems import FileProblem, Problem
from console.core.schemas import (
    DRAFT_2020_12,
    SchemaLibrary,
    load_schema_text,
    schema_file_name,
)
from console.core.serialize import pretty
from console.services.atomic import free_path, write_text_atomic
from console.services.text_files import outside_link, read_problem, read_text_file

MAX_SCHEMA_BYTES = 5 * 1024 * 1024
SCHEMAS_DIR = "schemas"


def read_schema_file(path: Path, *, within: Path | None = None) -> str:
    """Text of a regular UTF-8 file of sane size; anything else is an `InputError`."""
    return read_text_file(path, max_bytes=MAX_SCHEMA_BYTES, kind="a schema file",
                          not_binary="not a JSON schema", within=within)


def load_schema_dir(folder: Path) -> SchemaLibrary:
    """Every `*.json` in `folder` (missing folder: an empty library)."""
    files: list[tuple[str, str]] = []
    unreadable: list[FileProblem] = []
    try:
        paths = sorted(p for p in folder.iterdir()
                       if p.name.lower().endswith(".json") and not p.name.startswith("."))
    except FileNotFoundError:
        return SchemaLibrary()
    except OSError as exc:
        return SchemaLibrary(problems=[FileProblem(str(folder), Problem(
            f"cannot list the schemas folder: {exc.strerror or exc}"))])
    for path in paths:
        try:
            files.append((str(path), read_schema_file(path, within=folder)))
        except InputError as exc:
            unreadable.append(FileProblem(str(path), read_problem(exc)))
    library = SchemaLibrary.from_files(files)
    library.problems[:0] = unreadable
    library.problems.sort(key=lambda p: p.file)
    return library


def load_library(workspace: Path) -> SchemaLibrary:
    """The schemas of a workspace folder."""
    return load_schema_dir(workspace / SCHEMAS_DIR)


def _ordered(schema: dict[str, Any], event_name: str, version: str | None) -> dict[str, Any]:
    head: dict[str, Any] = {"$schema": schema.get("$schema", DRAFT_2020_12),
                            "x-event-name": event_name}
    if version:
        head["x-event-version"] = version
    rest = {k: v for k, v in schema.items()
            if k not in ("$schema", "x-event-name", "x-event-version")}
    return {**head, **rest}


def _existing_file(loaded: SchemaLibrary, event_name: str, version: str | None) -> Path | None:
    for entry in loaded.entries:
        if entry.name == event_name and entry.version == version:
            return Path(entry.file)
    return None


def schema_on_disk(workspace: Path, event_name: str,
                   version: str | None = None) -> tuple[Path, bytes] | None:
    """The file that holds the schema of `event_name` now and its bytes (None: no file,
    or one that cannot be read): what `save_schema` would replace."""
    target = _existing_file(load_schema_dir(workspace / SCHEMAS_DIR), event_name, version)
    if target is None:
        return None
    try:
        return target, target.read_bytes()
    except OSError:
        return None


def save_schema(workspace: Path, event_name: str, schema: dict[str, Any], *,
                version: str | None = None) -> Path:
    """Write (or replace) the schema for `event_name`; refuses a schema that would not load."""
    if not event_name.strip():
        raise InputError("a schema needs the event name it describes")
    document = _ordered(schema, event_name, version)
    text = pretty(document)
    folder = workspace / SCHEMAS_DIR
    loaded = load_schema_dir(folder)  # read once: which file is whose
    target = _existing_file(loaded, event_name, version)
    if target is None:
        target = folder / schema_file_name(event_name, version)
        if target.exists() or target.is_symlink():  # there, but not this event's schema
            if any(Path(entry.file).name == target.name for entry in loaded.entries):
                # another event's schema whose name makes the same file name (shop/a_b and
                # shop/a:b): this one takes a free name beside it ("x-event-name" says whose)
                target = free_path(target)
            else:  # a hand-written file with a syntax error was replaced by an inferred one
                why = next((f" ({p})" for p in loaded.problems
                            if Path(p.file).name == target.name), "")
                raise InputError(
                    f"{SCHEMAS_DIR}/{target.name} is there but did not load as the schema "
                    f"of {event_name!r}{why}: fix it or remove it first")
    _, problems = load_schema_text(str(target), text)
    if problems:
        raise InputError(str(problems[0]))
    outside = outside_link(target, workspace, done="written")
    if outside is not None:  # a `schemas` link to another folder
        raise InputError(f"{target} {outside}")
    write_text_atomic(target, text)
    return target


def import_schema(src_path: Path, workspace: Path, event_name: str, *,
                  version: str | None = None) -> Path:
    """Copy a schema file into the workspace as the schema of `event_name`."""
    try:
        text = read_schema_file(src_path)
    except InputError as exc:
        raise InputError(f"{src_path}: {exc}") from None
    entry, problems = load_schema_text(str(src_path), text, event_name=event_name,
                                       version=version)
    if entry is None:
        raise InputError(str(problems[0]))
    return save_schema(workspace, event_name, entry.schema, version=version)
