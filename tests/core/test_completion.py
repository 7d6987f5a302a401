"""Completion, hover and skeletons at given cursor positions, in half-typed JSON."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.completion import CandidateKind, complete, hover, skeleton, skeleton_for
from console.core.schemas import SchemaLibrary

SCHEMA: dict[str, Any] = {
    "x-event-name": "app/user.created",
    "description": "A user signed up",
    "type": "object",
    "required": ["email", "plan", "address"],
    "properties": {
        "email": {"type": "string", "format": "email", "description": "Where we write"},
        "plan": {"enum": ["free", "pro"], "description": "Billing plan"},
        "age": {"type": ["integer", "null"]},
        "active": {"type": "boolean", "default": True},
        "address": {"$ref": "#/$defs/address"},
        "items": {"type": "array", "items": {"type": "object", "required": ["sku"],
                                             "properties": {"sku": {"type": "string"},
                                                            "qty": {"type": "integer"}}}},
    },
    "$defs": {"address": {"type": "object", "required": ["city"], "properties": {
        "city": {"type": "string", "examples": ["Berlin"]}, "zip": {"type": "string"}}}},
}
V2 = {"x-event-name": "app/user.created", "x-event-version": "2", "type": "object",
      "properties": {"handle": {"type": "string", "description": "v2 only"}}}
LIBRARY = SchemaLibrary.from_files([("user.json", json.dumps(SCHEMA)),
                                    ("user@2.json", json.dumps(V2))])
EVENT = '"name": "app/user.created"'


def at(marked: str, **kwargs: Any) -> list[tuple[str, str, str, str]]:
    """Candidates at the `|` of `marked` as (label, insert_text, kind, detail)."""
    offset = marked.index("|")
    text = marked.replace("|", "", 1)
    kwargs.setdefault("schemas", LIBRARY)
    return [(c.label, c.insert_text, c.kind.value, c.detail)
            for c in complete(text, offset, **kwargs)]


def labels(marked: str, **kwargs: Any) -> list[str]:
    return [row[0] for row in at(marked, **kwargs)]


def test_envelope_keys_in_an_empty_event() -> None:
    assert at("{|}") == [
        ("name", '"name": ""', "property", "string"),
        ("data", '"data": ', "property", "object"),
        ("user", '"user": ', "property", "object"),
        ("id", '"id": ""', "property", "string"),
        ("ts", '"ts": ', "property", "integer"),
        ("v", '"v": ""', "property", "string"),
    ]
    assert labels('{"name": "x", |}') == ["data", "user", "id", "ts", "v"]


def test_data_keys_from_the_event_schema_required_first() -> None:
    assert at("{" + EVENT + ', "data": {|}}') == [
        ("email", '"email": ""', "property", "string (email)"),
        ("plan", '"plan": ', "property", 'one of "free", "pro"'),
        ("address", '"address": ', "property", "object"),
        ("age", '"age": ', "property", "integer | null"),
        ("active", '"active": ', "property", "boolean"),
        ("items", '"items": ', "property", "array"),
    ]
    candidates = complete("{" + EVENT + ', "data": {}}', len(EVENT) + 12, schemas=LIBRARY)
    assert candidates[0].documentation == "Where we write\nRequired."
    assert candidates[0].kind is CandidateKind.PROPERTY


def test_name_after_the_cursor_still_selects_the_schema() -> None:
    assert labels('{"data": {"address": {|}}, "name": "app/user.created"}') == ["city", "zip"]


def test_version_picks_the_versioned_schema() -> None:
    assert labels('{"name": "app/user.created", "v": "2", "data": {|}}') == ["handle"]


def test_partial_key_is_filtered_and_replaced_whole() -> None:
    assert at("{" + EVENT + ', "data": {"em|}}') == [
        ("email", '"email": ""', "property", "string (email)"),  # prefix matches first
        ("items", '"items": ', "property", "array"),  # then the ones that contain it
    ]
    # an existing key followed by ':' is replaced by the name alone
    assert at("{" + EVENT + ', "data": {"email": "x", "pl|": 1}}') == [
        ("plan", '"plan"', "property", 'one of "free", "pro"')]
    assert labels("{" + EVENT + ', "data": {"email": "x", |}}') == [
        "plan", "address", "age", "active", "items"]


def test_keys_on_a_new_line_after_a_member_without_comma() -> None:
    assert labels("{" + EVENT + ',\n "data": {\n  "email": "a@b.c"\n  |\n }\n}')[:2] == [
        "plan", "address"]


def test_nested_paths_through_ref_and_arrays() -> None:
    assert labels("{" + EVENT + ', "data": {"items": [{"sku": "a", |') == ["qty"]
    assert labels("{" + EVENT + ', "data": {"items": [{"sku": "a"}, {|') == ["sku", "qty"]
    assert labels("{" + EVENT + ', "data": {"items": [{|') == ["sku", "qty"]
    assert at("{" + EVENT + ', "data": {"address": {"city": |') == [
        ('"Berlin"', '"Berlin"', "value", "example")]


def test_enum_and_keyword_values() -> None:
    assert at("{" + EVENT + ', "data": {"plan": |}}') == [
        ('"free"', '"free"', "enum", "enum"), ('"pro"', '"pro"', "enum", "enum")]
    assert labels("{" + EVENT + ', "data": {"plan": "p|"}}') == ['"pro"']
    assert labels("{" + EVENT + ', "data": {"active": |}}') == ["true", "false"]
    assert labels("{" + EVENT + ', "data": {"active": f|}}') == ["false"]
    assert labels("{" + EVENT + ', "data": {"age": |') == ["null"]
    assert labels("{" + EVENT + ', "data": {"email": |') == []  # a string: nothing to offer
    assert labels('{"name": "unknown/event", "data": {"x": |}}') == ["true", "false", "null"]


def test_event_names_from_schemas_and_history() -> None:
    history = ["shop/order.paid", "app/user.created"]
    assert at('{"name": |}', event_names=history) == [
        ("app/user.created", '"app/user.created"', "event", "event (schema)"),
        ("shop/order.paid", '"shop/order.paid"', "event", "event"),
    ]
    assert labels('{"name": "sh|"}', event_names=history) == ["shop/order.paid"]
    assert labels('[{"name": "ap|', event_names=history) == ["app/user.created"]
    assert labels('{"name": "x", "data": {"name": |}}', event_names=history) == [
        "true", "false", "null"]  # only the event's own name field lists events
    [candidate] = complete('{"name": ""}', 10, schemas=LIBRARY)
    assert candidate.documentation == "A user signed up"


def test_versions_for_the_v_field() -> None:
    assert at('{"name": "app/user.created", "v": |}') == [("2", '"2"', "value", "version")]


def test_nothing_to_offer_outside_events_and_between_key_and_colon() -> None:
    assert at("|") == []
    assert at("[|]") == []
    assert at('{"name" |: 1}') == []
    assert at("{}|") == []


def test_no_schema_library_still_completes_the_envelope() -> None:
    assert labels("{|}", schemas=None) == ["name", "data", "user", "id", "ts", "v"]
    assert labels('{"name": "app/user.created", "data": {|}}', schemas=None) == []


def test_hover_shows_type_and_description() -> None:
    text = ('{"name": "app/user.created", "data": {"email": "x", "plan": "free", '
            '"address": {"city": "B"}}, "ts": 1}')

    def hover_at(word: str) -> str | None:
        return hover(text, text.index(word) + 1, schemas=LIBRARY)

    assert hover_at('"email"') == "data.email: string (email)\nWhere we write"
    assert hover_at('"x"') == "data.email: string (email)\nWhere we write"
    assert hover_at('"plan"') == 'data.plan: one of "free", "pro"\nBilling plan'
    assert hover_at('"city"') == "data.address.city: string"
    assert hover_at('"ts"') == ("ts: integer\nTimestamp in Unix epoch milliseconds; 0 or missing "
                                "means the time the server receives it.")
    assert hover_at('"app/') == "Event app/user.created (schema user.json)\nA user signed up"
    assert hover(text, text.index(", ") + 1, schemas=LIBRARY) is None  # on whitespace
    assert hover('{"data": {"zz": 1}}', 11, schemas=LIBRARY) is None


def test_skeleton_fills_required_properties() -> None:
    assert skeleton(SCHEMA) == {"email": "", "plan": "free", "address": {"city": "Berlin"}}
    assert skeleton({"required": ["a", "b", "c", "d"], "properties": {
        "a": {"type": "integer", "default": 7}, "b": {"type": ["null", "boolean"]},
        "c": {"const": "x"}, "d": {"type": "array"}}}) == {"a": 7, "b": False, "c": "x", "d": []}


def test_skeleton_of_a_recursive_schema_stops() -> None:
    tree = {"$defs": {"node": {"type": "object", "required": ["child"],
                               "properties": {"child": {"$ref": "#/$defs/node"}}}},
            "$ref": "#/$defs/node"}
    result = skeleton(tree)
    depth = 0
    while result:
        result = result["child"]
        depth += 1
    assert depth == 17  # bounded, no RecursionError


def test_anchors_and_ids_are_followed_as_validation_follows_them() -> None:
    """`"$ref": "#dee"` (an `$anchor`) was read as the root: the skeleton nested the root
    in itself 17 levels deep, and completion offered the root's keys; refs through an
    `$id` (the root's, or one in it) gave nothing."""
    anchored = {"x-event-name": "a/b", "required": ["d"], "properties": {
        "c": {"type": "string"}, "d": {"$ref": "#dee"}, "e": {"type": "integer"}},
        "$defs": {"d": {"$anchor": "dee", "required": ["n"],
                        "properties": {"n": {"type": "integer", "default": 7}}}}}
    assert skeleton(anchored) == {"d": {"n": 7}}
    by_id = {"$id": "https://example.com/s2.json", "x-event-name": "a/c",
             "required": ["c", "i"], "properties": {
                 "c": {"$ref": "https://example.com/s2.json#/$defs/cust"},
                 "i": {"$ref": "item"}},
             "$defs": {"cust": {"required": ["email"],
                                "properties": {"email": {"type": "string"}}},
                       "it": {"$id": "https://example.com/item", "required": ["sku"],
                              "properties": {"sku": {"type": "string"}}}}}
    assert skeleton(by_id) == {"c": {"email": ""}, "i": {"sku": ""}}
    library = SchemaLibrary.from_files([("a.json", json.dumps(anchored)),
                                        ("c.json", json.dumps(by_id))])
    assert library.entry_for("a/b") is not None and library.entry_for("a/c") is not None
    assert labels('{"name": "a/b", "data": {"d": {|}}}', schemas=library) == ["n"]
    assert labels('{"name": "a/c", "data": {"c": {|}}}', schemas=library) == ["email"]
    assert labels('{"name": "a/c", "data": {"i": {|}}}', schemas=library) == ["sku"]


def test_skeleton_of_a_schema_that_branches_back_to_itself_stays_small() -> None:
    """Three required properties that each refer back to the schema: 3^16 values were
    made, on the window's thread (still running after 100 s)."""
    schema = {"$anchor": "r", "type": "object", "required": ["k0", "k1", "k2"],
              "properties": {k: {"$ref": "#r"} for k in ("k0", "k1", "k2")}}
    result = skeleton(schema)

    def count(value: Any) -> int:
        return 1 + sum(map(count, value.values())) if isinstance(value, dict) else 1

    assert set(result) == {"k0", "k1", "k2"} and set(result["k0"]) == {"k0", "k1", "k2"}
    assert count(result) <= 2_001


def test_skeleton_for_the_event_at_the_cursor() -> None:
    text = '[{"name": "other"}, {"data": {}, "name": "app/user.created"}]'
    assert skeleton_for(text, text.index("data"), schemas=LIBRARY) == skeleton(SCHEMA)
    assert skeleton_for(text, 3, schemas=LIBRARY) is None  # no schema for "other"
    assert skeleton_for(text, 0, schemas=None) is None
    # "NAME" and "Data" as the server reads them (and validation): there was no schema
    upper = '{"NAME": "app/user.created", "V": "2", "Data": {|}}'
    plain = upper.replace("|", "")
    assert skeleton_for(plain, plain.index("Data"), schemas=LIBRARY) == skeleton(V2)
    assert labels(upper) == ["handle"]


@settings(max_examples=200)
@given(st.text(alphabet='{}[]:,"\\ \nabe01tnul', max_size=40), st.integers(0, 45))
def test_never_raises_on_half_typed_text(text: str, offset: int) -> None:
    offset = min(offset, len(text))
    complete(text, offset, schemas=LIBRARY, event_names=["a/b"])
    hover(text, offset, schemas=LIBRARY)
    skeleton_for(text, offset, schemas=LIBRARY)


def test_a_long_enum_is_described_once_not_once_per_value(monkeypatch) -> None:
    """Each candidate carries the field's description, which reads the whole enum; worked
    out per candidate, a 300,000-value enum took over 2 minutes to complete."""
    import console.core.completion as completion

    values = [f"code-{i:05d}" for i in range(20_000)]
    lib = SchemaLibrary.from_files([("c.json", json.dumps(
        {"x-event-name": "c/x",
         "properties": {"code": {"enum": values, "description": "Order code"}}}))])
    calls: list[int] = []
    describe = completion._describe
    monkeypatch.setattr(completion, "_describe",
                        lambda branches: calls.append(1) or describe(branches))
    text = '{"name": "c/x", "data": {"code": '
    found = complete(text, len(text), schemas=lib)
    assert [c.label for c in found] == [json.dumps(v) for v in values]
    assert {c.documentation for c in found} == {"Order code"}
    assert len(calls) == 1
