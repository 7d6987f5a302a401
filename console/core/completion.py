"""Completion, hover help and skeletons for the event editor, from the event schemas.

While the user types, the text around the cursor is almost never valid JSON, so this
module does not parse: a lenient token walk (an unclosed string ends at the line end,
stray tokens are tolerated) finds the JSON path of the cursor, whether a key or a value
goes there, the keys its object already has, and the `name`/`v` of the enclosing event
(also when they come after the cursor). The path is then looked up in the envelope
schema, with `data` swapped for the event's own schema (`$ref`, `allOf`/`anyOf`/`oneOf`
followed, a bounded number of hops).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from console.core import patterns
from console.core.envelope import ENVELOPE_SCHEMA, as_read
from console.core.positions import pointer_tokens
from console.core.schemas import SchemaLibrary, human_path

_LEX = re.compile(r'"(?:[^"\\\n\r]|\\.)*("?)|[{}\[\]:,]|[^\s{}\[\]:,"]+')
_MAX_BRANCHES = 32  # $ref hops / combinator branches followed per lookup
_MAX_SKELETON_DEPTH = 16
_MAX_SKELETON_VALUES = 2_000
_PLACEHOLDERS: dict[str, Any] = {
    "string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "null": None,
}


class CandidateKind(StrEnum):
    PROPERTY = "property"
    EVENT = "event"
    ENUM = "enum"
    VALUE = "value"
    KEYWORD = "keyword"


@dataclass(frozen=True)
class Candidate:
    """One suggestion; `insert_text` replaces the string or word at the cursor."""

    label: str
    insert_text: str
    kind: CandidateKind
    detail: str = ""  # the type, e.g. "string | null"
    documentation: str = ""


class _Frame:
    __slots__ = ("expecting", "index", "key", "keys", "kind", "scalars", "token")

    def __init__(self, kind: str, token: str | int | None) -> None:
        self.kind, self.token = kind, token
        self.expecting = "key" if kind == "{" else "value"  # key, colon, value, comma
        self.key: str | None = None
        self.index = 0
        self.keys: list[str] = []
        self.scalars: dict[str, str] = {}


@dataclass
class _Context:
    path: list[str | int]  # event-relative path of the container at the cursor
    role: str  # "key", "value" or "" (nothing goes here)
    key: str | int | None = None  # member key / element index of the value at the cursor
    prefix: str = ""  # typed so far in the string or word at the cursor
    hit: bool = False  # the cursor is on a token
    has_colon: bool = False  # the key at the cursor is already followed by ':'
    current: str | None = None  # the key token at the cursor
    siblings: list[str] = field(default_factory=list)
    event: dict[str, str] | None = None  # name/v of the enclosing event object

    @property
    def value_path(self) -> list[str | int]:
        return [*self.path, self.key] if self.key is not None else list(self.path)


def _decode(token: str) -> str:
    closed = len(token) > 1 and token.endswith('"') and not token.endswith('\\"')
    try:
        value = json.loads(token if closed else token + '"')
    except ValueError:
        return token.strip('"')
    return value if isinstance(value, str) else token


def _snapshot(stack: list[_Frame], text: str, offset: int, m: re.Match[str] | None,
              hit: bool) -> tuple[_Context, _Frame | None]:
    frame = stack[-1] if stack else None
    in_array_root = bool(stack) and stack[0].kind == "["
    path = [f.token for f in stack if f.token is not None]
    event = stack[1] if in_array_root and len(stack) > 1 else (stack[0] if stack else None)
    ctx = _Context(path[1:] if in_array_root else path, "")
    if frame is not None:
        if frame.kind == "{":
            ctx.role = {"key": "key", "comma": "key", "value": "value"}.get(frame.expecting, "")
            ctx.key = frame.key if ctx.role == "value" else None
        elif not (in_array_root and len(stack) == 1):
            ctx.role, ctx.key = "value", frame.index
    if m is not None and hit:
        tok = m.group()
        ctx.hit = True
        ctx.prefix = text[m.start() + (tok[0] == '"'):offset]
        if ctx.role == "key":
            ctx.current = _decode(tok)
            ctx.has_colon = text[m.end():m.end() + 200].lstrip().startswith(":")
    if event is None or event.kind != "{":
        event = None
    return ctx, event


def _scan(text: str, offset: int, *, hover: bool = False) -> _Context | None:
    """Walk tokens to `offset`, then on until the cursor's event (or object) closes."""
    stack: list[_Frame] = []
    ctx: _Context | None = None
    cursor: _Frame | None = None
    event: _Frame | None = None
    for m in _LEX.finditer(text):
        start, end = m.span()
        tok = m.group()
        c = tok[0]
        if ctx is None and c not in "{}[]:,":
            hit = start <= offset < end if hover else (
                start < offset < end or (offset == end and not (c == '"' and m.group(1))))
            if hit or start >= offset:
                if hover and not hit:
                    return None
                ctx, event = _snapshot(stack, text, offset, m, hit)
                cursor = stack[-1] if stack else None
        elif ctx is None and start >= offset:
            if hover:
                return None
            ctx, event = _snapshot(stack, text, offset, None, False)
            cursor = stack[-1] if stack else None
        frame = stack[-1] if stack else None
        if c in "{[":
            token: str | int | None = None
            if frame is not None:
                token = frame.key if frame.kind == "{" else frame.index
                frame.expecting = "comma"
            stack.append(_Frame(c, token))
        elif c in "}]":
            if stack:
                closed = stack.pop()
                if ctx is not None and (closed is event or (event is None and closed is cursor)):
                    break
        elif frame is None:
            continue
        elif c == ":":
            frame.expecting = "value"
        elif c == ",":
            if frame.kind == "{":
                frame.expecting, frame.key = "key", None
            else:
                frame.expecting, frame.index = "value", frame.index + 1
        elif frame.kind == "{" and frame.expecting in ("key", "comma"):
            frame.key = _decode(tok)
            frame.keys.append(frame.key)
            frame.expecting = "colon"
        else:
            if (frame.kind == "{" and frame.key is not None and c == '"'
                    and frame.key.casefold() in ("name", "v")):  # "NAME" too, as read
                frame.scalars[frame.key] = _decode(tok)
            frame.expecting = "comma"
    if ctx is None:
        if hover:
            return None
        ctx, event = _snapshot(stack, text, offset, None, False)
        cursor = stack[-1] if stack else None
    ctx.event = event.scalars if event is not None else None
    if cursor is not None and cursor.kind == "{":
        siblings = list(cursor.keys)
        if ctx.current in siblings:
            siblings.remove(ctx.current)
        ctx.siblings = siblings
    return ctx


# -- schema lookups ---------------------------------------------------------------------
def _resolve(ref: str, root: Any) -> Any:
    """The subschema `ref` names inside `root`, as validation finds it: a JSON pointer
    (`#/$defs/a`), an `$anchor` (`#a`), or either after the `$id` (`id` in draft-04) of
    the root or of a schema in it (`https://example.com/s.json#/$defs/a`, `item`). An
    anchor had been read as an empty pointer, the root: Insert Skeleton nested it in
    itself 17 levels deep. None when nothing is found (nothing is ever fetched)."""
    base, _, fragment = ref.partition("#")
    node = root if not base else _with_id(base, root)
    if node is None:
        return None
    if fragment and not fragment.startswith("/"):
        return _anchors(node).get(fragment)
    for token in pointer_tokens(fragment):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def _subschemas(root: Any, limit: int = 10_000) -> Iterator[dict[str, Any]]:
    """The objects of `root`, itself first (after at most `limit` values looked at: a
    schema is data a workspace gives, of any size, and an enum of a million values)."""
    stack, seen = [root], 0
    while stack and seen < limit:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            yield node
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node[:limit]))


_ANCHORS: dict[int, tuple[Any, dict[str, dict[str, Any]]]] = {}  # id(root) -> root, index


def _anchors(root: Any) -> dict[str, dict[str, Any]]:
    """The `$anchor`s (and `$dynamicAnchor`s) of `root` by name, found once per schema:
    looked for at each ref, 2,000 refs to one anchor took 4.5 s."""
    kept = _ANCHORS.get(id(root))
    if kept is not None and kept[0] is root:
        return kept[1]
    index: dict[str, dict[str, Any]] = {}
    for node in _subschemas(root):
        for key in ("$anchor", "$dynamicAnchor"):
            name = node.get(key)
            if isinstance(name, str):
                index.setdefault(name, node)
    if len(_ANCHORS) >= 64:
        _ANCHORS.clear()
    _ANCHORS[id(root)] = (root, index)  # the root kept with it: its id is not reused
    return index


def _with_id(base: str, root: Any) -> Any:
    """The schema in `root` whose `$id` (or draft-04 `id`) is `base`, or ends with it as
    a relative reference does (`item` for `https://example.com/item`)."""
    for node in _subschemas(root):
        found = node.get("$id", node.get("id"))
        if isinstance(found, str):
            found = found.partition("#")[0]
            if found == base or found.endswith("/" + base):
                return node
    return None


def _branches(schemas: Iterable[Any], root: Any) -> list[dict[str, Any]]:
    """The schemas with `$ref` followed and combinators flattened (bounded, no recursion)."""
    out: list[dict[str, Any]] = []
    todo = list(schemas)
    while todo and len(out) < _MAX_BRANCHES:
        schema = todo.pop(0)
        if not isinstance(schema, dict):
            continue
        out.append(schema)
        if isinstance(schema.get("$ref"), str):
            todo.append(_resolve(schema["$ref"], root))
        for key in ("allOf", "anyOf", "oneOf"):
            if isinstance(schema.get(key), list):
                todo.extend(schema[key])
    return out


def _children(branches: list[dict[str, Any]], token: str | int) -> list[Any]:
    found: list[Any] = []
    for schema in branches:
        if isinstance(token, str):
            props = schema.get("properties")
            if isinstance(props, dict) and token in props:
                found.append(props[token])
                continue
            patterns = schema.get("patternProperties")
            matched = [sub for pattern, sub in (patterns or {}).items()
                       if isinstance(patterns, dict) and _search(pattern, token)]
            extra = schema.get("additionalProperties")
            found.extend(matched or ([extra] if isinstance(extra, dict) else []))
        else:
            prefix, items = schema.get("prefixItems"), schema.get("items")
            if isinstance(prefix, list) and token < len(prefix):
                found.append(prefix[token])
            elif isinstance(items, list):
                found.append(items[token] if token < len(items)
                             else schema.get("additionalItems"))
            elif isinstance(items, dict):
                found.append(items)
    return found


def _search(pattern: str, text: str) -> bool:
    """Whether a `patternProperties` key covers `text` (no when it cannot tell)."""
    try:
        return patterns.search(pattern, text)
    except (patterns.SlowPattern, patterns.PatternError):
        return False


def _schema_at(path: list[str | int], event_schema: dict[str, Any] | None
               ) -> list[dict[str, Any]]:
    if event_schema is not None and path and _is_data(path[0]):
        root: dict[str, Any] = event_schema
        path = path[1:]
    else:
        root = ENVELOPE_SCHEMA
    branches = _branches([root], root)
    for token in path:
        branches = _branches(_children(branches, token), root)
        if not branches:
            break
    return branches


def _types(branches: list[dict[str, Any]]) -> list[str]:
    types: list[str] = []
    for schema in branches:
        declared = schema.get("type")
        for name in declared if isinstance(declared, list) else [declared]:
            if isinstance(name, str) and name not in types:
                types.append(name)
    if not types and any("properties" in s for s in branches):
        types.append("object")
    return types


def _describe(branches: list[dict[str, Any]]) -> tuple[str, str]:
    """(type detail, documentation) of a property."""
    detail = " | ".join(_types(branches))
    enums = [v for s in branches if isinstance(s.get("enum"), list) for v in s["enum"]]
    if enums and not detail:
        detail = "one of " + ", ".join(json.dumps(v, ensure_ascii=False) for v in enums[:8])
    formats = [s["format"] for s in branches if isinstance(s.get("format"), str)]
    if formats:
        detail += f" ({formats[0]})"
    doc = next((s[k] for s in branches for k in ("description", "title")
                if isinstance(s.get(k), str)), "")
    return detail, doc


def _name_and_version(ctx: _Context) -> tuple[str | None, str | None]:
    """The event's name and `v` as the server reads them: `"NAME"` too, as validation
    reads it (the skeleton said "No schema for this event" while validation used one)."""
    if not ctx.event:
        return None, None
    fields, _ = as_read(ctx.event)
    return fields.get("name"), fields.get("v")


def _event_schema(ctx: _Context, library: SchemaLibrary | None) -> dict[str, Any] | None:
    name, version = _name_and_version(ctx)
    if library is None or name is None:
        return None
    return library.for_event(name, version)


def _is_data(token: str | int) -> bool:
    """Whether a top-level key is the event's data as the server reads it (`Data` too)."""
    return isinstance(token, str) and token.casefold() == "data"


# -- completion -------------------------------------------------------------------------
def _property_candidates(ctx: _Context, schema: dict[str, Any] | None) -> list[Candidate]:
    branches = _schema_at(ctx.path, schema)
    required = {n for s in branches for n in s.get("required", []) if isinstance(n, str)}
    props: dict[str, list[Any]] = {}
    for s in branches:
        for name, sub in (s.get("properties") or {}).items():
            props.setdefault(name, []).append(sub)
    root = schema if schema is not None and ctx.path and _is_data(ctx.path[0]) else ENVELOPE_SCHEMA
    out = []
    for name in sorted(props, key=lambda n: n not in required):
        if name in ctx.siblings:
            continue
        sub = _branches(props[name], root)
        detail, doc = _describe(sub)
        if name in required:
            doc = f"{doc}\nRequired." if doc else "Required."
        key = json.dumps(name, ensure_ascii=False)
        insert = key if ctx.has_colon else key + ": " + ('""' if _types(sub) == ["string"] else "")
        out.append(Candidate(name, insert, CandidateKind.PROPERTY, detail, doc))
    return out


def _value_candidates(ctx: _Context, library: SchemaLibrary | None,
                      event_names: Iterable[str]) -> list[Candidate]:
    path = ctx.value_path
    if path == ["name"]:
        known = set(library.names()) if library else set()
        out = []
        for name in sorted(known | set(event_names)):
            schema = library.for_event(name) if library else None
            doc = _describe(_branches([schema], schema))[1] if schema else ""
            out.append(Candidate(name, json.dumps(name, ensure_ascii=False), CandidateKind.EVENT,
                                 "event (schema)" if name in known else "event", doc))
        return out
    event_name = _name_and_version(ctx)[0]
    if path == ["v"] and library and event_name is not None:
        return [Candidate(e.version, json.dumps(e.version), CandidateKind.VALUE, "version",
                          f"Schema {e.file}") for e in library.entries
                if e.name == event_name and e.version]
    branches = _schema_at(path, _event_schema(ctx, library))
    out, seen = [], set()
    doc = _describe(branches)[1]  # once: it reads the whole enum (300,000 values: 2 min)

    def add(value: Any, kind: CandidateKind, detail: str) -> None:
        text = json.dumps(value, ensure_ascii=False)
        if text not in seen:
            seen.add(text)
            out.append(Candidate(text, text, kind, detail, doc))

    for s in branches:
        for value in s.get("enum", []) if isinstance(s.get("enum"), list) else []:
            add(value, CandidateKind.ENUM, "enum")
        if "const" in s:
            add(s["const"], CandidateKind.ENUM, "const")
        if "default" in s:
            add(s["default"], CandidateKind.VALUE, "default")
        for value in s.get("examples", []) if isinstance(s.get("examples"), list) else []:
            add(value, CandidateKind.VALUE, "example")
    types = _types(branches)
    if not out or "boolean" in types:
        if "boolean" in types or not types:
            add(True, CandidateKind.KEYWORD, "boolean")
            add(False, CandidateKind.KEYWORD, "boolean")
        if "null" in types or not types:
            add(None, CandidateKind.KEYWORD, "null")
    return out


def _filter(candidates: list[Candidate], prefix: str) -> list[Candidate]:
    wanted = prefix.lower()
    if not wanted:
        return candidates
    scored = [(c.label.strip('"').lower().find(wanted), i, c) for i, c in enumerate(candidates)]
    return [c for pos, _, c in sorted((s for s in scored if s[0] >= 0),
                                      key=lambda s: (s[0] != 0, s[1]))]


def complete(text: str, offset: int, *, schemas: SchemaLibrary | None = None,
             event_names: Iterable[str] = ()) -> list[Candidate]:
    """Suggestions at `offset` (a str offset) of possibly invalid JSON text."""
    ctx = _scan(text, offset)
    if ctx is None or not ctx.role:
        return []
    if ctx.role == "key":
        found = _property_candidates(ctx, _event_schema(ctx, schemas))
    else:
        found = _value_candidates(ctx, schemas, event_names)
    return _filter(found, ctx.prefix)


def hover(text: str, offset: int, *, schemas: SchemaLibrary | None = None) -> str | None:
    """Type and description of the property (or event name) under the character at `offset`."""
    ctx = _scan(text, offset, hover=True)
    if ctx is None or not ctx.role:
        return None
    path = [*ctx.path, ctx.current] if ctx.role == "key" and ctx.current is not None \
        else ctx.value_path
    schema = _event_schema(ctx, schemas)
    name, version = _name_and_version(ctx)
    if path == ["name"] and ctx.role == "value" and schemas and name is not None:
        entry = schemas.entry_for(name, version)
        if entry is not None:
            doc = _describe(_branches([entry.schema], entry.schema))[1]
            return "\n".join(filter(None, [f"Event {entry.name} (schema {entry.file})", doc]))
    detail, doc = _describe(_schema_at(path, schema))
    if not detail and not doc:
        return None
    where = human_path(path[1:], str(path[0])) if path else "event"
    return "\n".join(filter(None, [f"{where}: {detail}" if detail else where, doc]))


# -- skeletons --------------------------------------------------------------------------
def _placeholder(branches: list[dict[str, Any]]) -> tuple[Any, bool]:
    """(value, is_object_to_fill) for a property: default, example, const, enum or type."""
    for key in ("default", "const"):
        for s in branches:
            if key in s:
                return copy.deepcopy(s[key]), False
    for key in ("examples", "enum"):
        for s in branches:
            if isinstance(s.get(key), list) and s[key]:
                return copy.deepcopy(s[key][0]), False
    types = [t for t in _types(branches) if t != "null"] or _types(branches)
    if not types or types[0] == "object":
        return {}, True
    return copy.deepcopy(_PLACEHOLDERS.get(types[0])), False


def skeleton(schema: dict[str, Any]) -> dict[str, Any]:
    """The required properties of `schema`, filled in (nested objects too; no recursion;
    at most `_MAX_SKELETON_VALUES` of them: a schema whose three required properties each
    refer back to it made 3^16 values, on the window's thread)."""
    result: dict[str, Any] = {}
    todo: list[tuple[list[dict[str, Any]], dict[str, Any], int]] = [
        (_branches([schema], schema), result, 0)]
    made = 0
    while todo:
        branches, target, depth = todo.pop(0)  # level by level: the top ones come first
        required = [n for s in branches for n in s.get("required", []) if isinstance(n, str)]
        for name in dict.fromkeys(required):
            made += 1
            if made > _MAX_SKELETON_VALUES:
                return result
            sub = _branches(_children(branches, name), schema)
            value, fill = _placeholder(sub)
            target[name] = value
            if fill and depth < _MAX_SKELETON_DEPTH:
                todo.append((sub, value, depth + 1))
    return result


def skeleton_for(text: str, offset: int, *,
                 schemas: SchemaLibrary | None = None) -> dict[str, Any] | None:
    """The `data` skeleton for the event at `offset`, or None without a schema for it."""
    ctx = _scan(text, offset)
    if ctx is None:
        return None
    schema = _event_schema(ctx, schemas)
    return skeleton(schema) if schema is not None else None
