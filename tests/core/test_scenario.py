"""Template and scenario documents: model, FILE:LINE:COL problems, expectations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from console.core.expect import Observed, Verdict, check_expect
from console.core.scenario import (
    Expect,
    InlineEvent,
    SendStep,
    TemplateRef,
    WaitStep,
    check_scenario,
    parse_scenario,
    parse_template,
    parse_wait,
)
from console.core.serialize import pretty
from console.core.template import TemplateEngine

ENGINE = TemplateEngine()

TEMPLATE = {
    "format": "event-console/template@1", "name": "order", "description": "d", "tags": ["a"],
    "event": {"name": "shop/order.created", "data": {"n": "{{ seq }}"}, "id": "{{ uuid() }}"},
}


def scenario_doc(steps, **extra):
    return {"format": "event-console/scenario@1", "name": "s", "description": "",
            "vars": {}, "steps": steps, **extra}


def problems_of_scenario(doc_or_text, templates=None):
    text = doc_or_text if isinstance(doc_or_text, str) else pretty(doc_or_text)
    scenario, problems = parse_scenario(text, "scenarios/s.json")
    if scenario is not None and templates is not None:
        problems = check_scenario(scenario, templates, ENGINE)
    return [str(p) for p in problems]


def load_template(doc=TEMPLATE):
    template, problems = parse_template(pretty(doc), "templates/order.json", ENGINE)
    assert problems == []
    return template


def test_a_template_round_trips_byte_for_byte_in_model_order():
    shuffled = {"event": {"id": "x", "data": {}, "name": "a"}, "tags": [], "name": "t",
                "format": "event-console/template@1"}
    template, problems = parse_template(json.dumps(shuffled), "t.json", ENGINE)
    assert problems == []
    text = pretty(template.to_json())
    assert list(json.loads(text)) == ["format", "name", "description", "tags", "event"]
    assert list(json.loads(text)["event"]) == ["name", "data", "id"]
    again, _ = parse_template(text, "t.json", ENGINE)
    assert pretty(again.to_json()) == text and text.endswith("}\n")


def test_a_scenario_parses_into_steps():
    doc = scenario_doc([
        {"send": {"template": "order", "with": {"data": {"x": 1}}}, "as": "order",
         "repeat": 2, "expect": {"status": 200, "accepted": 1}},
        {"wait": "250ms"},
        {"send": [{"name": "a/b", "data": {}}, {"template": "order"}]},
    ], vars={"k": "v"})
    scenario, problems = parse_scenario(pretty(doc), "s.json")
    assert problems == []
    first, wait, third = scenario.steps
    assert isinstance(first, SendStep) and first.name == "order" and first.repeat == 2
    assert first.items == [TemplateRef("order", {"data": {"x": 1}}, "/steps/0/send")]
    assert first.expect == Expect(200, 1)
    assert isinstance(wait, WaitStep) and wait.millis == 250
    assert [type(i) for i in third.items] == [InlineEvent, TemplateRef]
    assert scenario.vars == {"k": "v"} and scenario.templates_used() == {"order"}
    assert pretty(scenario.to_json()) == pretty(doc)


@pytest.mark.parametrize(("text", "millis"), [
    ("250ms", 250), ("2s", 2000), ("1.5s", 1500), ("1m", 60000), (" 3s ", 3000),
    ("2", None), ("-1s", None), ("1h", None), ("ms", None),
    # digits of other scripts: the schema's [0-9] refuses them, and so does the runner now
    ("\u0661\u0660s", None), ("\uff11s", None),
])
def test_wait_durations(text, millis):
    assert parse_wait(text) == millis


def test_half_a_utf16_pair_in_a_name_is_a_problem_of_its_file():
    """It could not be stored in the history (the run ended with UnicodeEncodeError), and
    the window listed the scenario under a name Run could not find."""
    doc = scenario_doc([{"wait": "1s"}])
    doc["name"] = "bad \ud800 name"
    [problem] = problems_of_scenario(doc)
    assert problem.startswith("scenarios/s.json:3:11: 'name': An unpaired surrogate escape "
                              "(\\ud800) is not valid Unicode")


def test_a_wait_too_long_for_a_float_is_a_problem_of_its_file():
    """400 digits raised OverflowError out of the workspace's load: the window never
    opened (it reopens the last workspace) and every `run` there failed."""
    doc = scenario_doc([{"wait": "1" * 400 + "ms"}])
    assert problems_of_scenario(doc) == [
        "scenarios/s.json:8:15: a wait may last at most 1 hour"]


def test_syntax_errors_point_at_the_character():
    assert problems_of_scenario('{\n  "format": "event-console/scenario@1",\n  "steps": [,]\n}') \
        == ["scenarios/s.json:3:13: Unexpected ',': expected a value"]


def test_format_tags_are_checked():
    doc = scenario_doc([{"wait": "1s"}])
    doc["format"] = "event-console/scenario@2"
    assert problems_of_scenario(doc) == [
        "scenarios/s.json:2:13: unsupported format 'event-console/scenario@2': this console "
        "reads 'event-console/scenario@1'"]
    del doc["format"]
    assert problems_of_scenario(doc) == [
        "scenarios/s.json:1:1: missing \"format\": 'event-console/scenario@1'"]
    doc["format"] = "event-console/template@1"
    assert problems_of_scenario(doc)[0].endswith(
        "format is 'event-console/template@1', expected 'event-console/scenario@1'")


def test_every_step_problem_is_listed_with_its_position():
    doc = scenario_doc([
        {"sned": {"name": "a"}},
        {"send": {"name": "a"}, "wait": "1s"},
        {"wait": "soon"},
        {"send": {"name": "a"}, "as": "1st", "repeat": 0, "expect": {"status": 2000,
                                                                       "dedup": "maybe"}},
        {"send": {"data": []}, "as": "x"},
        {"send": {"template": "", "with": 3}, "as": "x", "extra": 1},
        "wait 1s",
    ])
    assert problems_of_scenario(doc) == [
        "scenarios/s.json:7:5: unknown step kind: a step has exactly one of \"send\" or "
        "\"wait\" (keys found: 'sned')",
        "scenarios/s.json:12:5: unknown step kind: a step has exactly one of \"send\" or "
        "\"wait\" (keys found: 'send', 'wait')",
        "scenarios/s.json:19:15: a wait is a duration such as \"250ms\", \"2s\" or \"1m\"",
        "scenarios/s.json:25:13: \"as\" must be a name of letters, digits and _ (not starting "
        "with a digit), so `steps.NAME` can refer to it",
        "scenarios/s.json:26:17: \"repeat\" must be a whole number from 1 to 10000",
        "scenarios/s.json:28:19: \"status\" must be an HTTP status such as 200 or 400",
        "scenarios/s.json:29:18: \"dedup\" must be one of 'ran', 'deduplicated', 'no runs', "
        "'unverified'",
        "scenarios/s.json:33:15: an event needs a non-empty \"name\"",
        "scenarios/s.json:34:17: \"data\" must be a JSON object",
        "scenarios/s.json:40:21: \"template\" must name a template",
        "scenarios/s.json:43:13: step name 'x' is used twice",
        "scenarios/s.json:44:7: unknown key 'extra' in a send step (allowed: send, as, repeat, "
        "expect)",
        "scenarios/s.json:46:5: a step must be a JSON object: {\"send\": ...} or {\"wait\": ...}",
    ]


def test_missing_templates_and_forward_step_references_fail_before_sending():
    doc = scenario_doc([
        {"send": {"name": "a", "data": {"ref": "{{ steps.later.ids[0] }}"}}},
        {"send": {"template": "nope"}},
        {"send": {"template": "order"}, "as": "later"},
    ])
    assert problems_of_scenario(doc, {"order": load_template()}) == [
        "scenarios/s.json:11:18: steps.later does not name an earlier step (use \"as\" on a "
        "step before this one)",
        "scenarios/s.json:17:21: no template named 'nope' (templates: order)",
    ]


def test_a_placeholder_error_points_into_the_string_past_escapes():
    text = ('{"format": "event-console/scenario@1", "name": "s", "steps": [\n'
            '  {"send": {"name": "a", "data": {"k": "\\"q\\" \\u00e9 {{ nope }}"}}}\n]}')
    assert problems_of_scenario(text, {}) == [
        "scenarios/s.json:2:54: unknown variable 'nope' (known: uuid, ulid, now, now_ms, seq, "
        "vars, row, fake, steps)"]


def test_template_problems_are_found_when_the_template_is_loaded():
    doc = dict(TEMPLATE, event={"name": "a", "data": {"x": "{{ 1 + }}"}, "ts": 5, "extra": 1})
    template, problems = parse_template(pretty(doc), "templates/t.json", ENGINE)
    assert template is None
    assert [str(p) for p in problems] == [
        "templates/t.json:11:13: template syntax: unexpected 'end of template'",
        "templates/t.json:14:5: unknown key 'extra' in an event (allowed: name, data, id, ts, "
        "v, user)",
    ]
    template, problems = parse_template("[]", "templates/t.json", ENGINE)
    assert [str(p) for p in problems] == ["templates/t.json:1:1: expected a JSON object"]


# -- expectations -------------------------------------------------------------------------
def seen(status=200, events=1, accepted=1, error=None, dedup=None):
    return Observed(status, events, accepted, error, dedup)


@pytest.mark.parametrize(("expect", "observed", "verdict"), [
    (None, seen(), (True, "1/1 accepted")),
    (None, seen(400, 2, 1, "event name is empty"),
     (False, "status 400, 1/2 accepted: event name is empty")),
    (None, seen(None, 1, 0, "could not connect"), (False, "send failed: could not connect")),
    (Expect(status=400), seen(400, 1, 0, "bad"), (True, "status 400")),
    (Expect(status=200), seen(401, 1, 0, "Event key not found"),
     (False, "expected status 200, got 401 (Event key not found)")),
    (Expect(accepted=2), seen(400, 3, 2), (True, "2 accepted")),
    (Expect(status=200, accepted=2), seen(200, 1, 1),
     (False, "expected 2 accepted, got 1 of 1")),
    (Expect(dedup="deduplicated"), seen(dedup=["deduplicated"]),
     (True, "1/1 accepted, dedup deduplicated")),
    (Expect(dedup="deduplicated"), seen(dedup=["ran"]),
     (False, "expected dedup 'deduplicated', got event 1: ran")),
    (Expect(dedup="ran"), seen(), (False, "expected dedup 'ran', but no outcome is available")),
])
def test_expectations(expect, observed, verdict):
    result = check_expect(expect, observed)
    assert (result.passed, result.reason) == verdict


# -- the shipped file-format schemas and examples -----------------------------------------
RESOURCES = Path(__file__).resolve().parents[2] / "resources"


@pytest.mark.parametrize(("kind", "example"), [
    ("template", "templates/order-created.json"), ("scenario", "scenarios/checkout.json")])
def test_the_examples_follow_the_schemas_and_the_model(kind, example):
    schema = json.loads((RESOURCES / f"{kind}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    text = (RESOURCES / "examples" / example).read_text()
    assert list(Draft202012Validator(schema).iter_errors(json.loads(text))) == []
    parse = parse_template if kind == "template" else parse_scenario
    value, problems = parse(text, example) if kind == "scenario" else parse(text, example, ENGINE)
    assert problems == [] and pretty(value.to_json()) == text


@pytest.mark.parametrize("steps", [
    [{"sned": {"name": "a"}}], [{"wait": "soon"}], [{"send": {"name": "a"}, "repeat": 0}],
    [{"send": {"name": "a"}, "as": "1x"}], [{"send": {"template": "t", "extra": 1}}],
    [{"send": {"name": "a"}, "expect": {"dedup": "maybe"}}], [],
])
def test_the_schema_and_the_model_reject_the_same_scenarios(steps):
    schema = json.loads((RESOURCES / "scenario.schema.json").read_text())
    doc = scenario_doc(steps)
    assert list(Draft202012Validator(schema).iter_errors(doc)) != []
    assert problems_of_scenario(doc) != []


def test_the_schema_and_the_model_accept_the_same_whole_numbers():
    """`"repeat": 2.0` and `"status": 200.0` passed the published schema (2020-12's
    "integer" holds 2.0) and `run` refused them."""
    schema = json.loads((RESOURCES / "scenario.schema.json").read_text())
    doc = scenario_doc([{"send": {"name": "a"}, "repeat": 2.0,
                         "expect": {"status": 200.0, "accepted": 1.0}}])
    assert list(Draft202012Validator(schema).iter_errors(doc)) == []
    assert problems_of_scenario(doc) == []
    scenario, _ = parse_scenario(json.dumps(doc), "scenarios/s.json")
    assert scenario is not None
    [step] = scenario.steps
    assert (step.repeat, step.expect.status, step.expect.accepted) == (2, 200, 1)
    assert all(type(n) is int for n in (step.repeat, step.expect.status, step.expect.accepted))
    doc["steps"][0]["repeat"] = 2.5
    assert list(Draft202012Validator(schema).iter_errors(doc)) != []
    assert problems_of_scenario(doc) != []


def test_a_key_given_twice_in_a_file_is_a_problem_at_the_second():
    """A merge that kept both sides: the last value was used without a word (`validate`
    warns of the same thing in an event file)."""
    text = ('{"format": "event-console/scenario@1", "name": "x",\n'
            ' "steps": [{"wait": "1s"}],\n'
            ' "name": "y"}')
    scenario, problems = parse_scenario(text, "scenarios/s.json")
    assert scenario is None
    assert [str(p) for p in problems] == [
        "scenarios/s.json:3:2: the key 'name' is given twice here: give it once"]
    template = ('{"format": "event-console/template@1", "name": "t",\n'
                ' "event": {"name": "a/b", "data": {"n": 1, "n": 2}}}')
    loaded, said = parse_template(template, "templates/t.json")
    assert loaded is None
    assert [str(p) for p in said] == [
        "templates/t.json:2:44: the key 'n' is given twice here: give it once"]


def test_a_step_expecting_nothing_passes_on_any_2xx_that_took_every_event():
    """A proxy's 201 naming every id failed the step: "status 201, 1/1 accepted"."""
    assert check_expect(None, Observed(201, 1, 1, None, None)) == Verdict(True, "1/1 accepted")
    assert not check_expect(None, Observed(201, 2, 1, None, None)).passed
    assert not check_expect(None, Observed(302, 1, 1, None, None)).passed


def test_a_dedup_expectation_names_events_by_their_place_in_the_step():
    """Event 1 was not accepted; "got event 1: no runs" named the wrong event (the
    outcomes of the accepted ones were numbered alone)."""
    seen = Observed(200, 3, 2, None, ["not accepted", "no runs (none within 2 s)", "ran"])
    verdict = check_expect(Expect(status=200, accepted=2, dedup="ran"), seen)
    assert verdict == Verdict(False, "expected dedup 'ran', got event 2: no runs (none "
                                     "within 2 s)")
    nothing = Observed(500, 1, 0, "boom", ["not accepted"])
    assert check_expect(Expect(status=500, accepted=0, dedup="ran"), nothing) == Verdict(
        False, "expected dedup 'ran', got no events")
