"""The team's event schemas: one JSON Schema per event name (optionally per version).

File convention (the workspace's `schemas/` folder, one schema per `*.json` file):

* `"x-event-name"` in the schema says which event it describes, and the optional
  `"x-event-version"` which `v`. They are authoritative, because event names hold
  characters a file name cannot (`app/user.created`).
* Without them the file name decides: `<name>[@<version>].json`, with `__` standing for
  `/` (`app__user.created@2.json` -> name `app/user.created`, version `2`).
  `schema_file_name` builds that name; saved and imported schemas get both the file name
  and the `x-event-*` keys, so renaming a file never changes what it describes.
* `$schema` may name draft 2020-12 (the default when absent), 2019-09, draft-07, -06 or
  -04; anything else is reported, as is a schema the metaschema rejects (a `pattern`
  that is not a regular expression included).
* Patterns match with a time limit (console.core.patterns): a schema that makes them
  backtrack for ever costs a value a message, not a frozen window.

A broken file is a `FileProblem` (file name, line, column) and the others still load.
Data that breaks an event's schema gives WARNINGs, never errors: QA sends invalid data on
purpose, so the user is asked to "Send anyway" rather than stopped.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from jsonschema_specifications import REGISTRY as SPECIFICATIONS
from referencing.exceptions import Unresolvable

from console.core import patterns
from console.core.errors import InputError
from console.core.positions import (
    escape_token,
    nesting_depth,
    parse_with_positions,
    pointer_tokens,
)
from console.core.problems import FileProblem, Problem, Severity

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
MAX_DATA_ERRORS = 200
# data shallower than this cannot exhaust the stack of a validator: a schema that loops can
DEEP_DATA = 50
_UNSAFE = re.compile(r'[\\:*?"<>|\x00-\x1f]')



@dataclass(frozen=True)
class SchemaEntry:
    name: str
    version: str | None
    file: str
    schema: dict[str, Any]
    validator: Validator = field(repr=False, compare=False)


@dataclass(frozen=True)
class DataError:
    """One schema violation inside `data`: pointer relative to data, and the message."""

    pointer: str
    message: str


FILE_NAME_BYTES = 150  # of a schema file's name from its event name (a system allows 255)
# what a schema's "type" may name
SCHEMA_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")


def schema_file_name(event_name: str, version: str | None = None) -> str:
    """The file name; a long event name is cut (its schema says whose it is in
    "x-event-name"): a 300-character name made saving fail with "File name too long"."""
    stem = _UNSAFE.sub("_", event_name.replace("/", "__")).strip(". ") or "event"
    if version:
        stem += "@" + _UNSAFE.sub("_", version.replace("/", "_"))
    if len(stem.encode()) > FILE_NAME_BYTES:
        stem = stem.encode()[:FILE_NAME_BYTES].decode("utf-8", "ignore").rstrip(". ")
    return stem + ".json"


def _name_from_file(file: str) -> tuple[str, str | None]:
    stem = file.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem[:-5] if stem.lower().endswith(".json") else stem
    name, _, version = stem.partition("@")
    return name.replace("__", "/"), version or None


def validator_class(schema: Any) -> type[Validator] | str:
    """The jsonschema class for `schema`'s `$schema`, or a message when it is unknown.

    Its pattern keywords match with a time limit (console.core.patterns)."""
    if isinstance(schema, dict) and "$schema" in schema:
        if not isinstance(schema["$schema"], str):
            return "$schema must be a string (the URI of a JSON Schema draft)"
        cls: type[Validator] | None = validator_for(schema, default=None)
        if cls is None or cls.__name__ == "Draft3Validator":  # draft-03: `required: true`
            return (f"Unknown $schema {json.dumps(schema['$schema'])}: use {DRAFT_2020_12} "
                    "or http://json-schema.org/draft-07/schema#")
        return _bounded(cls)
    return _bounded(Draft202012Validator)


_BOUNDED: dict[Any, type[Validator]] = {}


def _bounded(cls: type[Validator]) -> type[Validator]:
    extended = _BOUNDED.get(cls)
    if extended is None:
        patterns.bound_library_patterns()
        keywords = dict(patterns.KEYWORDS)
        original = cls.VALIDATORS.get("unevaluatedProperties")
        if original is not None:
            keywords["unevaluatedProperties"] = _naming_unevaluated(original)
        extended = _BOUNDED[cls] = validators.extend(cls, keywords)
        extended.__name__ = extended.__qualname__ = cls.__name__  # "Draft7Validator"
        extended.descend = _placing_false(extended.descend)
    return extended


Keyword = Callable[[Any, Any, Any, Any], Iterable[ValidationError]]


def _placing_false(descend: Callable[..., Iterator[ValidationError]]
                   ) -> Callable[..., Iterator[ValidationError]]:
    """jsonschema's `descend`, whose error for a `false` subschema (`"legacy": false`)
    carries its path: it left it out, and the warning sat on the whole `data` object."""
    def placed(self: Any, instance: Any, schema: Any, path: Any = None,
               schema_path: Any = None, resolver: Any = None) -> Iterator[ValidationError]:
        for error in descend(self, instance, schema, path, schema_path, resolver):
            if schema is False and not error.path and not error.schema_path:  # (unless a
                if path is not None:  # later jsonschema gives them)
                    error.path.appendleft(path)
                if schema_path is not None:
                    error.schema_path.appendleft(schema_path)
            yield error

    return placed


def _naming_unevaluated(original: Keyword) -> Keyword:
    """jsonschema's `unevaluatedProperties`, each error naming its keys (`unevaluated`):
    those that no applicator evaluated and the keyword's schema refuses. Without them the
    editor marked keys outside this object's own `properties` (a key an `allOf` or a
    `$ref` declares, as valid as any) "not allowed". The keys are found with jsonschema's
    own search for evaluated keys, of the module that defines this draft's keyword."""
    find = getattr(sys.modules.get(original.__module__), "find_evaluated_property_keys_by_schema",
                   None)

    def keyword(validator: Any, value: Any, instance: Any,
                schema: Any) -> Iterator[ValidationError]:
        for error in original(validator, value, instance, schema):
            if find is not None and isinstance(instance, dict):
                evaluated = set(find(validator, instance, schema))
                error.unevaluated = [
                    key for key in instance if key not in evaluated
                    and next(iter(validator.descend(instance[key], value, path=key)), None)
                    is not None]
            yield error

    return keyword


def load_schema_text(file: str, text: str, *, event_name: str | None = None,
                     version: str | None = None) -> tuple[SchemaEntry | None, list[FileProblem]]:
    """One schema file -> its entry, or the problems that keep it out (with positions)."""
    doc = parse_with_positions(text)

    def problem(message: str, pointer: str = "") -> tuple[None, list[FileProblem]]:
        found = doc.nearest(pointer) if doc.error is None else None
        start, end = found[1] if found else (0, 0)
        return None, [FileProblem(file, doc.problem(message, start, end, pointer=pointer))]

    if doc.error is not None:
        return None, [FileProblem(file, doc.error)]
    schema = doc.value
    if not isinstance(schema, dict):
        return problem("A schema file must hold a JSON object (a JSON Schema)")
    fallback_name, fallback_version = _name_from_file(file)
    name = event_name or schema.get("x-event-name", fallback_name)
    if not isinstance(name, str) or not name.strip():
        return problem('"x-event-name" must be a non-empty string (the event name)',
                       "/x-event-name")
    # "x-event-name" outranks the file name, version and all: the saved schema of
    # "billing/invoice@paid" (a file billing__invoice@paid.json) had read as version "paid"
    by_file = None if "x-event-name" in schema else fallback_version
    version = version or schema.get("x-event-version", by_file)
    if version is not None and not isinstance(version, str):
        return problem('"x-event-version" must be a string (the event\'s "v")',
                       "/x-event-version")
    cls = validator_class(schema)
    if isinstance(cls, str):
        return problem(cls, "/$schema")
    try:
        error = best_match(cls(cls.META_SCHEMA, format_checker=patterns.PATTERN_SYNTAX)
                           .iter_errors(schema))
    except RecursionError:
        return problem("The schema is nested too deeply to check")
    if error is not None:
        where = "".join("/" + escape_token(str(p)) for p in error.absolute_path)
        if error.validator == "format" and isinstance(error.instance, str):
            return problem(f"Invalid schema: {json.dumps(error.instance)} is not a regular "
                           f"expression ({patterns.pattern_error(error.instance)})", where)
        if error.validator == "anyOf" and list(error.schema_path)[-2:] == ["type", "anyOf"]:
            # the meta-schema's own words: "'strin' is not valid under any of the given schemas"
            return problem(f"Invalid schema: {json.dumps(error.instance)} is not a type: use "
                           f"{', '.join(SCHEMA_TYPES[:-1])} or {SCHEMA_TYPES[-1]} (or a list "
                           "of them)", where)
        return problem(f"Invalid schema: {error.message}", where)
    id_key = "id" if cls.__name__ == "Draft4Validator" else "$id"  # draft-04 spells it `id`
    refs, ids = _based_refs(schema, id_key)
    for pointer, ref, base in refs:
        if _fetched(ref, base, ids):
            return problem(f"$ref {json.dumps(ref)} points outside this schema: schemas are "
                           "never fetched from files or the network; put the definition in "
                           "this schema's $defs and refer to it as #/$defs/…",
                           pointer + "/$ref")
    # the metaschemas, and nothing fetched: jsonschema's default registry still reads
    # any http(s) URL a $ref names (with no time limit), a hostile workspace's included
    validator = cls(schema, format_checker=_format_checker(cls), registry=SPECIFICATIONS)
    return SchemaEntry(name, version or None, file, schema, validator), []


_CHECKERS: dict[Any, FormatChecker] = {}


def _format_checker(cls: type[Validator]) -> FormatChecker:
    """`cls`'s format checks, with a "regex" check that says "not a valid regex" for
    any string the patterns' engine cannot compile: jsonschema's (Python's `re`) let
    OverflowError (`x{4294967296}`) and RecursionError (3,000 nested groups) out of the
    whole check."""
    checker = _CHECKERS.get(cls)
    if checker is None:
        checker = _CHECKERS[cls] = FormatChecker(formats=())
        checker.checkers = dict(cls.FORMAT_CHECKER.checkers)
        if "regex" in checker.checkers:
            checker.checkers["regex"] = (_compiles, ())
    return checker


def _compiles(instance: object) -> bool:
    """With the engine the schema's own patterns use (`\\p{L}`, named groups)."""
    return not isinstance(instance, str) or patterns.pattern_error(instance) is None


def _based_refs(schema: Any, id_key: str) -> tuple[list[tuple[str, str, str]], set[str]]:
    """Every `$ref` of the schema as (pointer of its object, its value, the base URI it is
    read against: its nearest `$id`, each resolved against the one around it), and the
    URIs of every `$id`, resolved the same way."""
    refs: list[tuple[str, str, str]] = []
    ids: set[str] = set()
    stack: list[tuple[str, Any, str]] = [("", schema, "")]
    while stack:
        pointer, node, base = stack.pop()
        if isinstance(node, dict):
            found = node.get(id_key)
            if isinstance(found, str):
                base = urljoin(base, found.split("#", 1)[0])
                ids.add(base)
            ref = node.get("$ref")
            if isinstance(ref, str):
                refs.append((pointer, ref, base))
            stack.extend((f"{pointer}/{escape_token(str(k))}", v, base)
                         for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((f"{pointer}/{i}", v, base)
                         for i, v in reversed(list(enumerate(node))))
    return refs, ids  # in document order


def _fetched(ref: str, base: str, ids: set[str]) -> bool:
    """A $ref that only a file or network read could resolve (a URL, a file: URI, a path
    to another file, a bare name such as "money" or "common#/$defs/x"), not one to the
    metaschemas or to an $id inside the schema (read against `base`, as validation reads
    it). A bare name had passed: the schema loaded, and each event then read "has a $ref
    that cannot be resolved; data not checked"."""
    target = ref.split("#", 1)[0]
    resolved = urljoin(base, target)
    known = (target in SPECIFICATIONS or resolved in SPECIFICATIONS or target in ids
             or resolved in ids)
    return bool(target) and not known


Loaded = tuple[SchemaEntry | None, list[FileProblem]]
_LOADED: OrderedDict[str, tuple[str, Loaded]] = OrderedDict()  # file -> its latest text's
_LOADED_LOCK = threading.Lock()
LOADED_KEPT = 256  # files
LOADED_TEXT_MAX = 4_000_000  # characters of a file kept


def _loaded(file: str, text: str) -> Loaded:
    """`load_schema_text(file, text)`, the same while the file's text is the same: a
    schema dialog's open and its save each loaded the whole folder again, checking every
    schema against its metaschema on the window's thread (4 s for one of 10,000
    properties, at each). One text per file is kept, the latest. What it returns is never
    changed by its users."""
    with _LOADED_LOCK:
        kept = _LOADED.get(file)
        if kept is not None and kept[0] == text:
            _LOADED.move_to_end(file)
            return kept[1]
    found = load_schema_text(file, text)
    with _LOADED_LOCK:
        _LOADED.pop(file, None)
        if len(text) <= LOADED_TEXT_MAX:
            _LOADED[file] = (text, found)
            while len(_LOADED) > LOADED_KEPT:
                _LOADED.popitem(last=False)
    return found


class SchemaLibrary:
    """Schemas by (event name, version); pure: built from already-read files."""

    def __init__(self, entries: Iterable[SchemaEntry] = (),
                 problems: Iterable[FileProblem] = ()) -> None:
        self._entries: dict[tuple[str, str | None], SchemaEntry] = {}
        self.problems: list[FileProblem] = list(problems)
        for entry in entries:
            self.add(entry)

    @classmethod
    def from_files(cls, files: Iterable[tuple[str, str]]) -> SchemaLibrary:
        """(file name, text) pairs, loaded in file-name order; broken files -> `problems`."""
        library = cls()
        for file, text in sorted(files):
            entry, problems = _loaded(file, text)
            library.problems.extend(problems)
            if entry is not None:
                library.add(entry)
        return library

    def add(self, entry: SchemaEntry) -> None:
        key = (entry.name, entry.version)
        first = self._entries.get(key)
        if first is None:
            self._entries[key] = entry
            return
        what = entry.name + (f' (v "{entry.version}")' if entry.version else "")
        self.problems.append(FileProblem(entry.file, Problem(
            f"Another schema for {what} was loaded from {first.file}; this file is ignored",
            Severity.WARNING)))

    @property
    def entries(self) -> list[SchemaEntry]:
        return sorted(self._entries.values(), key=lambda e: (e.name, e.version or ""))

    def names(self) -> list[str]:
        return sorted({name for name, _ in self._entries})

    def entry_for(self, name: str, v: str | None = None) -> SchemaEntry | None:
        """The schema for `v`, else the unversioned one; None when neither exists."""
        return self._entries.get((name, v)) or self._entries.get((name, None))

    def for_event(self, name: str, v: str | None = None) -> dict[str, Any] | None:
        entry = self.entry_for(name, v)
        return entry.schema if entry else None

    def __len__(self) -> int:
        return len(self._entries)


def human_path(tokens: Sequence[str | int], root: str = "data") -> str:
    """`data.items[2].price` for tokens ("items", 2, "price")."""
    out = root
    for token in tokens:
        if isinstance(token, int):
            out += f"[{token}]"
        elif re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", token):
            out += "." + token
        else:
            out += "[" + json.dumps(token, ensure_ascii=False) + "]"
    return out


MAX_MESSAGE = 300  # characters of one warning: the library's quote a whole subschema (500 KB)


def _show(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _exclusive(error: ValidationError, bound: str) -> bool:
    """Whether a draft-04 schema made this `minimum`/`maximum` exclusive."""
    return isinstance(error.schema, dict) and error.schema.get(f"exclusive{bound}") is True


def _describe(error: ValidationError, *,
              as_key: bool = False) -> list[tuple[list[str | int], str]]:
    """(extra path tokens, message) for one error; `required` and extras yield several.
    `as_key`: the error of a key `propertyNames` checked, said as of any value."""
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if isinstance(error, patterns.SlowPatternError):
        return [([], error.message)]
    if not as_key and _of_a_key(error):  # checked on each key, placed on the object
        return [([instance], f"the key {_show(instance)}: {_describe_in(error, as_key=True)}")]
    if kind is None and error.schema is False:
        return [([], f"the schema allows nothing here (false); got {_show(instance)}")]
    if kind == "oneOf" and not error.context:  # no choice failed: several matched
        return [([], f"matches more than one of the oneOf choices; got {_show(instance)}")]
    if kind in ("dependentRequired", "dependencies") and isinstance(instance, dict):
        needs = [(name, dep) for name, deps in (expected or {}).items()
                 if name in instance and isinstance(deps, list)
                 for dep in deps if dep not in instance]
        if needs:
            return [([], f'required property "{dep}" is missing (it goes with "{name}")')
                    for name, dep in needs]
    if kind in ("anyOf", "oneOf") and error.context:
        # the closest choice is one of the instance's type (a null choice beside an
        # object's said "expected null", not what the object lacks)
        typed = [e for e in error.context if not (e.validator == "type" and not e.path)]
        closest = best_match(typed or error.context)
        where = human_path(list(closest.relative_path), root="")
        inner = f"{where.lstrip('.')}: " if where else ""
        return [([], f"matches none of the {kind} choices (closest: {inner}"
                     f"{_describe_in(closest)}); got {_show(instance)}")]
    if kind == "required" and isinstance(instance, dict):
        return [([name], f'required property "{name}" is missing')
                for name in expected if name not in instance]
    if kind in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, dict):
        extras = getattr(error, "unevaluated", None)  # see _naming_unevaluated
        if extras is None:
            extras = patterns.additional(instance, error.schema)
        if extras and expected is False:
            return [([key], f'property "{key}" is not allowed by the schema') for key in extras]
        if extras:
            return [([key], f'property "{key}" does not match the schema\'s '
                     '"unevaluatedProperties"') for key in extras]
    if kind == "type":
        types = expected if isinstance(expected, list) else [expected]
        got = {bool: "boolean", int: "integer", float: "number", str: "string",
               list: "array", dict: "object"}.get(type(instance), "null")
        return [([], f"expected {' or '.join(types)}, got {got} {_show(instance, 40)}")]
    messages: dict[str, Callable[[], str]] = {
        "enum": lambda: "must be one of " + ", ".join(_show(v, 30) for v in expected[:10])
        + (", …" if len(expected) > 10 else "") + f"; got {_show(instance)}",
        "const": lambda: f"must be {_show(expected)}; got {_show(instance)}",
        # draft-04 writes "exclusiveMinimum": true beside "minimum" (">= 5; got 5" read
        # as a contradiction)
        "minimum": lambda: f"must be {'>' if _exclusive(error, 'Minimum') else '>='} "
                           f"{expected}; got {instance}",
        "maximum": lambda: f"must be {'<' if _exclusive(error, 'Maximum') else '<='} "
                           f"{expected}; got {instance}",
        "exclusiveMinimum": lambda: f"must be > {expected}; got {instance}",
        "exclusiveMaximum": lambda: f"must be < {expected}; got {instance}",
        "minLength": lambda: f"must be at least {expected} characters long",
        "maxLength": lambda: f"must be at most {expected} characters long",
        "pattern": lambda: f"must match the pattern {expected}; got {_show(instance)}",
        "format": lambda: f"is not a valid {expected}: {_show(instance)}",
        "minItems": lambda: f"must have at least {expected} items",
        "maxItems": lambda: f"must have at most {expected} items",
        "uniqueItems": lambda: "items must be unique",
        "not": lambda: f"must not match the schema under \"not\"; got {_show(instance)}",
        "contains": lambda: "has no item that matches the schema under \"contains\"",
        "minContains": lambda: f"has fewer than {expected} items that match \"contains\"",
        "maxContains": lambda: f"has more than {expected} items that match \"contains\"",
        "minProperties": lambda: f"must have at least {expected} properties",
        "maxProperties": lambda: f"must have at most {expected} properties",
        "multipleOf": lambda: f"must be a multiple of {expected}; got {instance}",
    }
    maker = messages.get(str(kind))
    return [([], maker() if maker else error.message)]


_NAMING = frozenset({"properties", "patternProperties", "$defs", "definitions",
                     "dependentSchemas", "dependencies"})  # keywords whose keys are names


def _of_a_key(error: ValidationError) -> bool:
    """Whether `error` is of a key `propertyNames` checked (not of a property that is
    named "propertyNames")."""
    tokens = list(error.relative_schema_path)
    return isinstance(error.instance, str) and any(
        token == "propertyNames" and (i == 0 or tokens[i - 1] not in _NAMING)
        for i, token in enumerate(tokens))


def _describe_in(error: ValidationError, *, as_key: bool = False) -> str:
    """One message for `error`, to quote inside another's."""
    described = _describe(error, as_key=as_key)
    return described[0][1] if described else error.message


def data_errors(entry: SchemaEntry, data: Any, *,
                limit: int = MAX_DATA_ERRORS) -> list[DataError]:
    """Where `data` breaks `entry`'s schema, sorted by path; never raises."""
    found: dict[tuple[str, str], None] = {}
    try:
        with patterns.budget():
            _collect(entry, data, found, limit)
    except Unresolvable as exc:  # its text quotes the whole schema (989 KB for one enum)
        ref = str(getattr(exc, "ref", "") or "?")
        shown = ref if len(ref) <= 120 else ref[:119] + "…"
        return [DataError("", f"Schema {entry.file} has a $ref that cannot be resolved "
                              f"({shown!r}); data not checked")]
    except RecursionError:
        if nesting_depth(data) < DEEP_DATA:  # {} blamed for `"$ref": "#"` (a loop)
            return [DataError("", f"Schema {entry.file} refers to itself without end (a "
                                  "$ref loop such as \"$ref\": \"#\"); data not checked")]
        return [DataError("", "data is nested too deeply to check against the schema")]
    except Exception as exc:  # a check of the library's that raised (re.compile of a
        # "format": "regex" value's `x{4294967296}`): what was found, and that it stopped;
        # it had taken every problem and Send with it
        reason = f"{type(exc).__name__}: {exc}"
        found[("", f"the check against schema {entry.file} stopped ({reason[:MAX_MESSAGE]});"
                   " the rest of the data was not checked")] = None
    return [DataError(p, m) for p, m in sorted(found, key=lambda item: pointer_tokens(item[0]))]


def _collect(entry: SchemaEntry, data: Any, found: dict[tuple[str, str], None],
             limit: int) -> None:
    """`data_errors`' work: (pointer, message) of each error into `found`, up to `limit`."""
    for error in entry.validator.iter_errors(data):
        path = list(error.absolute_path)
        try:
            described = _describe(error)
        except Exception:  # a keyword's value it did not expect: the library's words
            described = [([], error.message)]
        for extra, message in described:
            pointer = "".join("/" + escape_token(str(t)) for t in [*path, *extra])
            line = f"{human_path(path)}: {message}"
            found[(pointer, line if len(line) <= MAX_MESSAGE else line[:MAX_MESSAGE] + "…")] = None
            if len(found) >= limit:
                return


def infer_schema(payloads: Iterable[Any], *, event_name: str | None = None,
                 version: str | None = None) -> dict[str, Any]:
    """A draft 2020-12 schema that every payload satisfies (genson), ready to edit."""
    from genson import SchemaBuilder  # imported here: only inference needs it

    builder = SchemaBuilder(schema_uri=DRAFT_2020_12)
    count = 0
    try:
        for payload in payloads:
            builder.add_object(payload)
            count += 1
    except RecursionError:
        raise InputError("The payload is nested too deeply to infer a schema") from None
    inferred: dict[str, Any] = builder.to_schema()
    head: dict[str, Any] = {"$schema": DRAFT_2020_12}
    if event_name:
        head["x-event-name"] = event_name
    if version:
        head["x-event-version"] = version
    if not count:
        head["type"] = "object"
    return {**head, **{k: v for k, v in inferred.items() if k != "$schema"}}
