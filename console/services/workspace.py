"""The workspace: a folder of templates, scenarios and schemas that a team keeps in git.

Why these rules: the files are reviewed in pull requests, so they are pretty JSON in one
stable key order with a trailing newline (re-saving an unchanged file changes no byte);
writes are atomic (temp file + fsync + rename: a crash leaves the old file or the new one);
they never hold a secret (environments are named, keys stay in the keyring). A broken
file must not hide the others: it is listed as `FILE:LINE:COL: message` and the rest
loads. Files can change under us (git pull, an editor): `reload_if_changed` compares
each file's identity (inode, size, mtime) and re-reads only what changed. Hostile entries
(huge files, binary files, FIFOs, symlink loops) become problems, never hangs or crashes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.core.errors import UserError
from console.core.problems import FileProblem, Problem
from console.core.scenario import (
    EventTemplate,
    Scenario,
    check_scenario,
    parse_scenario,
    parse_template,
)
from console.core.serialize import pretty
from console.core.template import TemplateEngine
from console.services.atomic import free_path, write_bytes_atomic, write_text_atomic
from console.services.paths import app_paths
from console.services.text_files import outside_link, read_problem, read_text_file

MAX_FILE_BYTES = 5 * 1024 * 1024
KINDS = ("templates", "scenarios", "schemas")
MAX_RECENT = 10
SLUG_LENGTH = 100  # characters of a name kept in its file's name

Stamp = tuple[int, int, int, int]  # inode, size, mtime_ns, ctime_ns


def slug(name: str) -> str:
    """A file name for a template or scenario name: `Order created` -> `order-created`."""
    text = re.sub(r"[^a-z0-9._-]+", "-", name.strip().lower()).strip("-.")
    # a file name holds 255 bytes at most ("File name too long" for a long template name)
    return text[:SLUG_LENGTH].rstrip("-.") or "untitled"


def read_workspace_file(path: Path, *, within: Path | None = None) -> str:
    """The text of a regular file, refusing what is not one (FIFO, device), too big or binary
    (or, `within` a workspace, one that leads out of it through a link)."""
    return read_text_file(path, max_bytes=MAX_FILE_BYTES, kind="a workspace file",
                          not_binary="not JSON text", within=within)


@dataclass
class WorkspaceChange:
    """What `reload_if_changed` found; falsy when nothing changed."""

    templates: bool = False
    scenarios: bool = False
    schemas: bool = False

    def __bool__(self) -> bool:
        return self.templates or self.scenarios or self.schemas


@dataclass
class _Entry:
    path: Path
    stamp: Stamp
    value: EventTemplate | Scenario | None
    problems: list[FileProblem] = field(default_factory=list)


class Workspace:
    """Templates and scenarios of one folder, keyed by their names."""

    def __init__(self, folder: Path, *, engine: TemplateEngine | None = None) -> None:
        self.folder = folder
        self.engine = engine or TemplateEngine()
        self._entries: dict[str, dict[Path, _Entry]] = {"templates": {}, "scenarios": {}}
        self._schema_stamps: dict[Path, Stamp] = {}

    @classmethod
    def open(cls, folder: Path | None = None, *, create: bool = True) -> Workspace:
        folder = Path(folder) if folder is not None else app_paths().default_workspace
        if create:
            for kind in KINDS:
                (folder / kind).mkdir(parents=True, exist_ok=True)
        elif not folder.is_dir():
            raise UserError(f"{folder}: no such workspace folder")
        workspace = cls(folder)
        workspace.reload_if_changed()
        return workspace

    def dir(self, kind: str) -> Path:
        return self.folder / kind

    @property
    def schemas_dir(self) -> Path:
        return self.folder / "schemas"

    # -- reading ---------------------------------------------------------------------------
    def _scan(self, kind: str) -> dict[Path, Stamp]:
        found: dict[Path, Stamp] = {}
        try:
            entries = list(os.scandir(self.dir(kind)))
        except OSError:
            return found
        for entry in entries:
            if not entry.name.endswith(".json") or entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                info = entry.stat()  # follows symlinks; a loop raises ELOOP
            except OSError as exc:
                found[path] = (-1, -1, -1, exc.errno or 0)
                continue
            found[path] = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        return found

    def _load(self, kind: str, path: Path, stamp: Stamp) -> _Entry:
        label = self.display(path)
        try:
            if stamp[0] == -1:
                raise UserError(f"cannot read: {os.strerror(stamp[3]) if stamp[3] else 'error'}")
            text = read_workspace_file(path, within=self.folder)
        except UserError as exc:
            return _Entry(path, stamp, None, [FileProblem(label, read_problem(exc))])
        value: EventTemplate | Scenario | None
        if kind == "templates":
            value, problems = parse_template(text, label, self.engine)
        else:
            value, problems = parse_scenario(text, label)
        return _Entry(path, stamp, value, problems)

    def reload_if_changed(self) -> WorkspaceChange:
        """Re-read files that appeared, changed or went away since the last look."""
        change = WorkspaceChange()
        for kind, entries in self._entries.items():
            current = self._scan(kind)
            for path in [p for p in entries if p not in current]:
                del entries[path]
                setattr(change, kind, True)
            for path, stamp in sorted(current.items()):
                old = entries.get(path)
                if old is None or old.stamp != stamp:
                    entries[path] = self._load(kind, path, stamp)
                    setattr(change, kind, True)
        schemas = self._scan("schemas")
        if schemas != self._schema_stamps:
            self._schema_stamps = schemas
            change.schemas = True
        return change

    def display(self, path: Path) -> str:
        """How a file is named in messages: relative to the workspace folder."""
        try:
            return str(path.relative_to(self.folder))
        except ValueError:
            return str(path)

    @property
    def problems(self) -> list[FileProblem]:
        """Problems of every malformed file, and names used by more than one file.

        The one rule for a name used twice, which the window's tabs and `run` both show:
        the file that sorts first by file name is used, each later one is ignored and
        named here, at its `"name"`, with the file that is used."""
        out: list[FileProblem] = []
        for kind, entries in self._entries.items():
            seen: dict[str, Path] = {}
            for path, entry in sorted(entries.items()):
                out.extend(entry.problems)
                if entry.value is None:
                    continue
                name = entry.value.name
                if name not in seen:
                    seen[name] = path
                    continue
                message = (f"{kind[:-1]} name {name!r} is also used by "
                           f"{self.display(seen[name])}, which is used (it comes first by "
                           "file name); this file is ignored")
                source = entry.value.source
                out.append(source.problem("/name", message) if source is not None
                           else FileProblem(self.display(path), Problem(message)))
        return out

    def unloaded(self, kind: str) -> list[Path]:
        """The files of one kind that did not load (broken), in file name order."""
        return [path for path, entry in sorted(self._entries[kind].items())
                if entry.value is None]

    def problems_in(self, kind: str) -> list[FileProblem]:
        """`problems` of the files of one kind ("templates", "scenarios")."""
        return [p for p in self.problems if p.file.startswith(kind)]

    def _values(self, kind: str) -> Iterable[tuple[Path, EventTemplate | Scenario]]:
        names: set[str] = set()
        for path, entry in sorted(self._entries[kind].items()):
            if entry.value is not None and entry.value.name not in names:
                names.add(entry.value.name)
                yield path, entry.value

    @property
    def templates(self) -> dict[str, EventTemplate]:
        return {v.name: v for _, v in self._values("templates") if isinstance(v, EventTemplate)}

    @property
    def scenarios(self) -> dict[str, Scenario]:
        return {v.name: v for _, v in self._values("scenarios") if isinstance(v, Scenario)}

    def path_of(self, kind: str, name: str) -> Path | None:
        return next((p for p, v in self._values(kind) if v.name == name), None)

    def template(self, name: str) -> EventTemplate:
        found = self.templates.get(name)
        if found is None:
            raise UserError(f"no template named {name!r} in {self.folder}")
        return found

    def scenario(self, name_or_path: str) -> Scenario:
        """A scenario by its name, or by its file (path or file name in scenarios/)."""
        found = self.scenarios.get(name_or_path)
        if found is not None:
            return found
        wanted = Path(name_or_path)
        for path, value in self._values("scenarios"):
            if isinstance(value, Scenario) and (
                path.name in (wanted.name, f"{name_or_path}.json") and
                (wanted.parent == Path() or path.resolve() == wanted.resolve())
            ):
                return value
        message = f"no scenario named {name_or_path!r} in {self.folder}"
        unloaded = [self.display(path) for path in self.unloaded("scenarios")]
        if unloaded:  # one of them may be it: its name cannot be read
            message += (f"; {len(unloaded)} scenario file(s) did not load, and one may be it: "
                        f"{', '.join(unloaded)}")
        raise UserError(message)

    # -- writing ---------------------------------------------------------------------------
    def _write(self, kind: str, name: str, document: dict[str, object] | str,
               replacing: str | None = None) -> Path:
        """Write `document` (or its text, already made) to the file of `replacing` or its
        name, else to a new file; a write that fails is a UserError naming the folder."""
        path = self.path_of(kind, replacing or name)
        if path is None:
            path = self._free_path(kind, name)
        self._refuse_outside([path])
        try:
            write_text_atomic(path, document if isinstance(document, str) else pretty(document))
        except OSError as exc:
            raise UserError(not_written(exc, [path])) from None
        self.reload_if_changed()
        return path

    def _refuse_outside(self, paths: Iterable[Path]) -> None:
        """Every write and removal, whichever path it takes (a save, the Templates tab's
        undoable steps): a folder linked out of the workspace is never written to. Save
        as Template had written through a `templates` link and said it saved here."""
        for path in paths:
            outside = outside_link(path, self.folder, done="written")
            if outside is not None:
                raise UserError(f"{path} {outside}")

    def _free_path(self, kind: str, name: str) -> Path:
        return free_path(self.dir(kind) / f"{slug(name)}.json")

    def save_template(self, template: EventTemplate, *, replacing: str | None = None) -> Path:
        """Write a template (a new file, or over the file of `replacing`/its own name)."""
        if replacing != template.name and template.name in self.templates:
            raise UserError(f"a template named {template.name!r} already exists")
        return self._write("templates", template.name, self._template_text(template),
                           replacing)

    def _template_text(self, template: EventTemplate) -> str:
        """The template's file text, when it loads back as saved (within MAX_FILE_BYTES,
        valid, its placeholders compiling); a UserError with the first reason otherwise.
        A template with `{{ uuid( }}` was saved, said so, and never listed."""
        text = _file_text(template.to_json(), "the template")
        loaded, problems = parse_template(text, "the template", self.engine)
        if loaded is None or problems:
            first = problems[0].problem if problems else None
            where = f" (at {first.pointer.removeprefix('/event') or 'the event'})" if first else ""
            raise UserError(f"{first.message if first else 'it would not load'}{where}")
        return text

    def save_scenario(self, scenario: Scenario, *, replacing: str | None = None) -> Path:
        if replacing != scenario.name and scenario.name in self.scenarios:
            raise UserError(f"a scenario named {scenario.name!r} already exists")
        return self._write("scenarios", scenario.name, scenario.to_json(), replacing)

    def save_scenario_document(self, document: dict[str, Any], *,
                               replacing: str | None = None) -> tuple[Scenario, Path]:
        """Write a new scenario file from its document only when it loads back as saved:
        within MAX_FILE_BYTES, valid, its placeholders compiling (`check`). A UserError
        with the first reason otherwise, and nothing written."""
        text = _file_text(document, "the scenario",
                          " (send a file that big with `event-console send FILE`)")
        scenario, problems = parse_scenario(text, "the scenario")
        if scenario is not None:
            problems = self.check(scenario)
        if scenario is None or problems:
            raise UserError(str(problems[0]))
        if replacing != scenario.name and scenario.name in self.scenarios:
            raise UserError(f"a scenario named {scenario.name!r} already exists")
        return scenario, self._write("scenarios", scenario.name, text, replacing)

    def delete(self, kind: str, name: str) -> tuple[Path, bytes]:
        """Remove a file; returns its path and bytes so the deletion can be undone."""
        path = self.path_of(kind, name)
        if path is None:
            raise UserError(f"no {kind[:-1]} named {name!r}")
        data = path.read_bytes()
        path.unlink()
        self.reload_if_changed()
        return path, data

    def snapshot(self, paths: Iterable[Path]) -> dict[Path, bytes | None]:
        """The current bytes of these files (None: absent), to undo a change later."""
        out: dict[Path, bytes | None] = {}
        for path in paths:
            try:
                out[path] = path.read_bytes() if path.is_file() else None
            except OSError:
                out[path] = None
        return out

    def apply(self, files: Mapping[Path, bytes | None], *,
              expected: Mapping[Path, bytes | None] | None = None) -> None:
        """Write (atomically) or remove each file, then re-read: the undo/redo primitive.

        A write that fails (a folder made read-only, a full disk) puts back what was
        already changed and is a UserError naming the folder: a rename is two files.
        `expected`: what the files must hold now (what the step being undone or redone
        left); a file changed since (another editor, another window) is a UserError and
        nothing is written: an undo had deleted a template edited elsewhere meanwhile."""
        self._refuse_outside(files)
        before = self.snapshot(files)
        if expected is not None:
            changed = [p for p, data in expected.items() if before.get(p, data) != data]
            if changed:
                names = ", ".join(p.name for p in changed)
                raise UserError(f"{names} changed on disk since (another program or window "
                                "wrote it): left as it is now")
        try:
            _put(files)
        except OSError as exc:
            with contextlib.suppress(OSError):
                _put(before)
            self.reload_if_changed()
            raise UserError(not_written(exc, files)) from None
        self.reload_if_changed()

    def check(self, scenario: Scenario) -> list[FileProblem]:
        """Cross-file problems of a scenario: missing templates, bad placeholders."""
        return check_scenario(scenario, self.templates, self.engine,
                              unloaded=[self.display(p) for p in self.unloaded("templates")])

    def template_file(self, template: EventTemplate, *, replacing: str | None = None
                      ) -> tuple[Path, bytes]:
        """Where `save_template` would write and what (for undoable saves)."""
        text = self._template_text(template)
        path = self.path_of("templates", replacing or template.name)
        if path is None:
            path = self._free_path("templates", template.name)
        return path, text.encode("utf-8")

    def unique_name(self, kind: str, base: str) -> str:
        names = set(self.templates if kind == "templates" else self.scenarios)
        if base not in names:
            return base
        n = 2
        while f"{base} ({n})" in names:
            n += 1
        return f"{base} ({n})"


def _file_text(document: Mapping[str, Any], what: str, hint: str = "") -> str:
    """A workspace file's text, when it is within MAX_FILE_BYTES (the most a workspace
    file may take when it is read back); a UserError saying how big it is otherwise."""
    text = pretty(document)
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise UserError(f"{what} would take {size / 2**20:.1f} MiB, and workspace files may "
                        f"take {MAX_FILE_BYTES // 2**20} MiB{hint}")
    return text


def _put(files: Mapping[Path, bytes | None]) -> None:
    for path, data in files.items():
        if data is None:
            path.unlink(missing_ok=True)
        else:
            write_bytes_atomic(path, data)


def not_written(exc: OSError, files: Iterable[Path]) -> str:
    """An OSError from writing workspace files, as a user reads it: the reason and the
    folder (the file named in it, if any, is a temporary one)."""
    folders = sorted({str(path.parent) for path in files})
    return f"not written: {exc.strerror or exc} in {', '.join(folders)}"


class RecentWorkspaces:
    """The folders opened lately, newest first, in `<config>/recent.json`."""

    def __init__(self, file: Path | None = None) -> None:
        self.file = file or app_paths().config / "recent.json"

    def folders(self) -> list[Path]:
        try:
            raw = json.loads(read_workspace_file(self.file))
        except (UserError, ValueError):
            return []
        folders = raw.get("workspaces", []) if isinstance(raw, dict) else []
        return [Path(f) for f in folders if isinstance(f, str)][:MAX_RECENT]

    def add(self, folder: Path) -> list[Path]:
        folder = folder.resolve()
        folders = [folder] + [f for f in self.folders() if f != folder]
        return self._write(folders[:MAX_RECENT])

    def remove(self, folder: Path) -> list[Path]:
        """Forget a folder (one that is gone)."""
        return self._write([f for f in self.folders() if f != folder])

    def _write(self, folders: list[Path]) -> list[Path]:
        write_text_atomic(self.file, pretty({"workspaces": [str(f) for f in folders]}))
        return folders
