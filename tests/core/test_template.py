"""Placeholders: JSON types kept, every helper, seeds reproduce, the sandbox holds."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.errors import InputError
from console.core.ids import ulid_millis
from console.core.scenario import as_literal_text
from console.core.template import MAX_TEXT, TemplateEngine, TemplateError
from console.core.template_scope import RenderRun, iso_millis, render_text

NOW = 1_700_000_000_123
ENGINE = TemplateEngine()


def run(seed: int = 7, now: int = NOW) -> RenderRun:
    return RenderRun(ENGINE, seed=seed, clock=lambda: now)


def render(value, **scope):
    return run().render_event(value, **scope)


def error(value, **scope) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        render(value, **scope)
    return info.value


# -- types --------------------------------------------------------------------------------
def test_a_single_placeholder_keeps_the_json_type_of_its_value():
    variables = {"n": 3, "f": 1.5, "b": True, "z": None, "o": {"k": [1, "x"]}, "s": "007"}
    out = render({k: f"{{{{ vars.{k} }}}}" for k in variables}, vars=variables)
    assert out == variables
    assert render("{{ now_ms() }}") == NOW
    assert render("{{ seq }}") == 1
    assert render("{{ vars.s | int }}", vars={"s": "42"}) == 42


def test_text_around_placeholders_makes_a_string_with_values_as_json():
    out = render("n={{ vars.n }} b={{ vars.b }} z={{ vars.z }} o={{ vars.o }} s={{ vars.s }}",
                 vars={"n": 3, "b": False, "z": None, "o": {"a": [1]}, "s": "x"})
    assert out == 'n=3 b=false z=null o={"a":[1]} s=x'
    assert render("  {{ seq }}") == "  1"  # not exactly one placeholder: a string


def test_strings_without_placeholders_and_other_values_are_unchanged():
    value = {"a": "plain } { text", "b": [1, 2.5, None, True], "c": {"d": "x"}}
    assert render(value) == value


def test_statements_render_as_a_whole_template():
    assert render("{% for i in range(3) %}{{ i }},{% endfor %}") == "0,1,2,"
    assert render("{% if vars.on %}yes{% else %}no{% endif %}", vars={"on": False}) == "no"
    assert render("{# a comment #}x") == "x"


def test_dates_from_faker_become_iso_text():
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", render("{{ fake.date_of_birth() }}"))


# -- helpers ------------------------------------------------------------------------------
def test_every_helper():
    out = render({
        "uuid": "{{ uuid() }}", "ulid": "{{ ulid() }}", "now": "{{ now() }}",
        "now_ms": "{{ now_ms() }}", "seq": "{{ seq }}", "var": "{{ vars.who }}",
        "row": "{{ row.city }}", "row_item": "{{ row['first name'] }}",
        "fake": "{{ fake.name() }}", "step": "{{ steps.create.ids[0] }}",
        "step_status": "{{ steps.create.status }}",
    }, vars={"who": "qa"}, row={"city": "Oslo", "first name": "Ada"},
        steps={"create": {"ids": ["01J0000000000000000000000A"], "status": 200}})
    assert uuid.UUID(out["uuid"]).version == 4
    assert ulid_millis(out["ulid"]) == NOW
    assert out["now"] == "2023-11-14T22:13:20.123Z" == iso_millis(NOW)
    assert out["now_ms"] == NOW and out["seq"] == 1
    assert (out["var"], out["row"], out["row_item"]) == ("qa", "Oslo", "Ada")
    assert isinstance(out["fake"], str) and out["fake"]
    assert out["step"] == "01J0000000000000000000000A" and out["step_status"] == 200


def test_seq_counts_events_within_a_run_and_is_shared_by_one_events_strings():
    r = run()
    first = r.render_event({"a": "{{ seq }}", "b": "n{{ seq }}"})
    second = r.render_event({"a": "{{ seq }}"})
    assert first == {"a": 1, "b": "n1"} and second == {"a": 2}


def test_an_array_in_the_editor_renders_seq_per_event_as_a_run_does():
    """The editor's array was one render: every event got seq 1, so `order-{{ seq }}` ids
    repeated and Inngest ran functions for the first event only."""
    text = json.dumps([{"name": "a", "id": "order-{{ seq }}"},
                       {"name": "a", "id": "order-{{ seq }}", "data": {"n": "{{ seq }}"}}])
    rendered, error = render_text(text, TemplateEngine())
    assert error is None and rendered is not None
    assert [e["id"] for e in json.loads(rendered)] == ["order-1", "order-2"]
    assert json.loads(rendered)[1]["data"] == {"n": 2}
    _, error = render_text('[{"name": "a"}, {"name": "b", "data": {"x": "{{ nope }}"}}]',
                           TemplateEngine())
    assert error is not None and error.startswith("1:46: ")  # at its {{, in the second event


def test_a_key_named_like_a_dict_method_is_not_shadowed():
    assert render("{{ vars.items }}-{{ vars.keys }}", vars={"items": 3, "keys": "k"}) == "3-k"


# -- seeds --------------------------------------------------------------------------------
TEMPLATE = {"u": "{{ uuid() }}", "l": "{{ ulid() }}", "n": "{{ fake.name() }}",
            "e": "{{ fake.email() }}", "i": "{{ fake.random_int(1, 10**6) }}"}


def test_the_same_seed_reproduces_a_run_and_another_seed_does_not():
    def three(seed):
        r = run(seed=seed)
        return [r.render_event(TEMPLATE) for _ in range(3)]

    assert three(99) == three(99)
    assert three(99) != three(100)


def test_without_a_seed_each_run_picks_one_and_reports_it():
    first = RenderRun(ENGINE)
    assert isinstance(first.seed, int)
    again = RenderRun(ENGINE, seed=first.seed, clock=first.clock)
    clock_free = {k: v for k, v in TEMPLATE.items() if k != "l"}
    assert first.render_event(clock_free) == again.render_event(clock_free)


# -- errors and positions -----------------------------------------------------------------
def test_unknown_names_are_errors_with_the_placeholder_offset():
    exc = error({"data": {"x": "ab {{ nope }}"}})
    assert exc.message.startswith("unknown variable 'nope' (known: uuid, ulid, now")
    assert (exc.pointer, exc.offset) == ("/data/x", 3)


def test_missing_vars_row_and_steps_say_what_exists():
    assert error("x {{ vars.nope }}", vars={"a": 1, "b": 2}).message == (
        "unknown variable: vars has no 'nope' (it has: a, b)")
    exc = error("{{ row.city }}")
    assert exc.message == "unknown variable: row has no 'city' (the row is empty)"
    assert error("{{ vars.prefix }}").message == (
        "unknown variable: vars has no 'prefix' (no vars are set)")
    # step 1 (as "order") failed to render: it read "no earlier step has an "as" name"
    assert error("{{ steps.order.ids[0] }}", steps={}).message == (
        "unknown variable: steps has no 'order' (no earlier step with an \"as\" name has "
        "succeeded)")
    assert error("{{ steps.pay.ids[0] }}", steps={"order": {"ids": []}}).message == (
        "unknown variable: steps has no 'pay' (it has: order)")
    assert error("{{ steps.order.idz }}", steps={"order": {"ids": []}}).message == (
        "unknown variable: steps.order has no 'idz' (it has: ids)")
    # inside a step's events: jinja's own words were "'dict object' has no attribute 'data'"
    steps = {"order": {"ids": ["01J"], "events": [{"name": "other/x"}]}}
    assert error("{{ steps.order.events[0].data.orderId }}", steps=steps).message == (
        "unknown variable: the object has no 'data' (it has: name)")
    assert error("{{ steps.order.events[3].name }}", steps=steps).message == (
        "unknown variable: the list has no item [3] (it has 1 item)")
    assert error("{{ fake.no_such_provider() }}").message == (
        "unknown variable: fake has no 'no_such_provider' (use Faker providers such as "
        "fake.name())")


def test_syntax_errors_name_the_problem_and_where():
    exc = error({"a": "ok {{ 1 + }}"})
    assert exc.message.startswith("template syntax: ") and exc.offset == 3
    exc = error({"a": "line one\n{% if %}"})
    assert exc.message.startswith("template syntax: ") and exc.line == 2


def test_runtime_errors_are_template_errors():
    # in words, not Python's class names ("ZeroDivisionError", "RenderRun.uuid() takes 1
    # positional argument but 2 were given": uuid() takes none), nor "unknown variable"
    # for an attribute a value lacks
    assert error("{{ 1 / 0 }}").message == (
        "division by zero in {{1 / 0}}: a number cannot be divided by 0")
    assert error("{{ uuid(5) }}").message == (
        "wrong arguments in {{uuid(5)}}: uuid() takes no arguments, not 1")
    assert error("{{ (10**400) | float }}").message == (
        "a number too large in {{(10**400) | float}}: int too large to convert to float")
    assert error("{{ seq.x }}").message == "no such attribute: a number has no 'x'"
    assert error("{{ 'x'.foo() }}").message == "no such attribute: a text has no 'foo'"
    # Jinja folds "nan" | float into the Python name `nan` as it compiles: a NameError
    assert error('{{ "nan" | float }}').message == (
        'NaN or Infinity in {{"nan" | float}}: JSON cannot hold it')


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__['os'] }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ vars.__class__ }}",
    "{{ fake._instance() }}",
    "{{ [].append(1) }}",
    "{{ {}.update(a=1) }}",
    "{{ range.__self__ }}",
    "x {{ ''.__class__.__base__.__subclasses__() }}",
    "{% for c in ''.__class__.__mro__ %}{{ c }}{% endfor %}",
])
def test_sandbox_escapes_are_refused_with_a_clear_message(source):
    exc = error(source)
    assert exc.message.startswith(("refused by the template sandbox: ", "unknown variable:"))
    assert "unsafe" in exc.message or "has no" in exc.message


@pytest.mark.parametrize("source", ["{{ 'a' * 10**8 }}", "{{ [0] * 10**8 }}",
                                    "{{ 10 ** 100000000 }}",
                                    # squaring: one more level tripled a 160 s render
                                    "{{ (3**20000) * (3**20000) * (3**20000) * 3**20000 }}"])
def test_runaway_expressions_are_refused(source):
    assert error(source).message.startswith("refused by the template sandbox: ")


# each asked for gigabytes in one call: the memory was gone before the rendered text's cap
WIDE = 3_000_000_000


@pytest.mark.parametrize("source", [
    f"{{{{ 'x' | center({WIDE}) }}}}",
    f"{{{{ 'a\\nb' | indent({WIDE}) }}}}",
    "{{ ('x' * 1000000) | replace('x', 'yy') }}",
    "{{ (['ab'] * 1000) | join('x' * 1000000) }}",
    f"{{{{ '%{WIDE}d' | format(1) }}}}",
    f"{{{{ '%.{WIDE}f' % 1.0 }}}}",
    "{{ '%*d' % (5, 1) }}",
    "{{ ('x' * 1000) | wordwrap(1, wrapstring='y' * 10000) }}",
    f"{{{{ [1] | batch({WIDE}, 0) | list }}}}",
    f"{{{{ [1] | slice({WIDE}) | list }}}}",
    f"{{{{ 'x'.ljust({WIDE}) }}}}",
    f"{{{{ 'x'.rjust({WIDE}) }}}}",
    f"{{{{ 'x'.center({WIDE}) }}}}",
    f"{{{{ 'x'.zfill({WIDE}) }}}}",
    f"{{{{ ('\\t' * 1000).expandtabs({WIDE}) }}}}",
    "{{ ('x' * 1000000).replace('x', 'yy') }}",
    "{{ ('x' * 1000000).join(['a', 'b', 'c']) }}",
    f"{{{{ '{{:>{WIDE}}}'.format(1) }}}}",
    "{{ '{:{}}'.format(1, 10**9) }}",
    f"{{{{ '{{n:.{WIDE}f}}'.format_map({{'n': 1.0}}) }}}}",
])
def test_operations_that_would_build_gigabytes_are_refused_before_they_do(source):
    assert error(source).message == ("refused by the template sandbox: " + (
        "a width or precision taken from the arguments (*)" if "%*d" in source else
        "a width or precision taken from the arguments ({...})" if "{:{}}" in source else
        f"result longer than {MAX_TEXT:,} characters"))


def test_the_same_operations_at_ordinary_sizes_still_work():
    assert render({
        "center": "{{ 'ab' | center(6) }}", "indent": "{{ 'a\nb' | indent(2) }}",
        "replace": "{{ 'a-b' | replace('-', '+') }}", "join": "{{ [1, 2] | join(', ') }}",
        "format": "{{ '%05d' | format(42) }}", "percent": "{{ '%.2f' % 3.14159 }}",
        "wrap": "{{ 'aaa bbb' | wordwrap(3) }}", "batch": "{{ [1, 2, 3] | batch(2, 0) | list }}",
        "slice": "{{ [1, 2, 3] | slice(2) | list }}", "ljust": "{{ 'x'.ljust(3, '.') }}",
        "zfill": "{{ '7'.zfill(3) }}", "tabs": "{{ 'a\tb'.expandtabs(4) }}",
        "str_replace": "{{ 'a.b'.replace('.', '/') }}", "str_join": "{{ '-'.join(['a', 'b']) }}",
        "str_format": "{{ '{:>4}|{n:03d}'.format('x', n=7) }}",
    }) == {
        "center": "  ab  ", "indent": "a\n  b", "replace": "a+b", "join": "1, 2",
        "format": "00042", "percent": "3.14", "wrap": "aaa\nbbb",
        "batch": [[1, 2], [3, 0]], "slice": [[1, 2], [3]], "ljust": "x..", "zfill": "007",
        "tabs": "a   b", "str_replace": "a/b", "str_join": "a-b", "str_format": "   x|007",
    }


def test_rendered_text_is_capped():
    assert error("{% for i in range(20000) %}" + "x" * 60 + "{% endfor %}").message == (
        f"rendered text is longer than {MAX_TEXT:,} characters")


def test_a_loop_inside_a_loop_is_stopped_and_a_macro_calling_itself_too(monkeypatch):
    """Two nested loops over range(100000) would run for hours (a preview in the window
    would freeze it): the render stops at its time limit with a message instead."""
    monkeypatch.setattr("console.core.template.RENDER_SECONDS", 0.2)
    nested = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    assert error(nested).message == (
        "the template ran for over 0.2 s and was stopped (a loop inside a loop?)")
    assert error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").message == (
        "the template calls itself without end (a macro that calls itself?)")
    assert render("{% for i in range(3) %}x{% endfor %}") == "xxx"  # loops still work


def test_non_json_values_are_refused():
    assert error("{{ vars.n / 0.0 if false else (1e308 * 10) }}", vars={"n": 1}).message == (
        "inf is not a JSON number")


def test_deep_values_render_without_recursion():
    value = cur = {}
    for _ in range(5000):
        cur["a"] = {}
        cur = cur["a"]
    cur["x"] = "{{ seq }}"
    out = render(value)
    for _ in range(5000):
        out = out["a"]
    assert out == {"x": 1}


def test_templates_are_compiled_once():
    engine = TemplateEngine()
    r = RenderRun(engine, seed=1, clock=lambda: NOW)
    for _ in range(50):
        r.render_event({"a": "{{ seq }}", "b": "x{{ seq }}"})
    info = engine.compile.cache_info()
    assert info.misses == 2 and info.hits == 98


def test_check_value_reports_every_error_and_the_steps_referenced():
    errors, refs = ENGINE.check_value(
        {"a": "{{ nope }}", "b": ["{{ 1 + }}"], "c": "{{ steps.order.ids[0] }}",
         "d": "{{ steps['pay'].status }}"}, pointer="/event")
    assert [(e.pointer, e.message.split(":")[0]) for e in errors] == [
        ("/event/a", "unknown variable 'nope' (known"), ("/event/b/0", "template syntax")]
    assert refs == [("/event/c", "order"), ("/event/d", "pay")]


# -- properties ---------------------------------------------------------------------------
plain_text = st.text().filter(lambda s: not any(m in s for m in ("{{", "{%", "{#")))
brace_free = st.text().filter(lambda s: "{" not in s and "}" not in s)
# strings without template markers only: "{%" alone is a template (with a syntax error)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(
    allow_nan=False, allow_infinity=False) | plain_text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children,
                                                                      max_size=4),
    max_leaves=20,
)


@settings(max_examples=80, deadline=None)
@given(json_values)
def test_values_without_placeholders_render_to_themselves(value):
    assert render(value) == value


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), json_values,
                       min_size=1, max_size=5))
def test_one_placeholder_per_string_gives_back_each_value_exactly(variables):
    template = {name: f"{{{{ vars.{name} }}}}" for name in variables}
    assert render(template, vars=variables) == variables


@settings(max_examples=80, deadline=None)
@given(st.lists(brace_free | st.sampled_from(["{{ vars.a }}", "{{ seq }}", "{{ vars.b }}"]),
                min_size=2, max_size=6))
def test_mixed_strings_equal_the_concatenation_of_their_parts(parts):
    variables = {"a": "A", "b": [1, {"k": None}]}
    source = "".join(parts)
    expected_parts = {"{{ vars.a }}": "A", "{{ seq }}": "1",
                      "{{ vars.b }}": json.dumps(variables["b"], separators=(",", ":"))}
    expected = "".join(expected_parts.get(p, p) for p in parts)
    result = render(source, vars=variables)
    if [p for p in parts if p] in (["{{ seq }}"], ["{{ vars.b }}"]):
        return  # exactly one placeholder and nothing else keeps its type (tested above)
    assert result == expected


def test_line_breaks_and_a_trailing_newline_are_kept_exactly():
    assert render("a\r\nb {{ seq }}\r\n") == "a\r\nb 1\r\n"
    assert render("x\r{{ seq }}\n") == "x\r1\n"
    exc = error("a\r\n\r\nb {{ nope }}")
    assert exc.offset == 7


# -- fake.* limits (each of these ran for minutes, or reached Faker's internals) -----------
@pytest.mark.parametrize(("source", "message"), [
    ("{{ fake.text(max_nb_chars=10**9) | length }}", "fake.text: max_nb_chars is over 100,000"),
    ("{{ fake.text(10**6) | length }}", "fake.text: max_nb_chars is over 100,000"),
    ("{{ fake.pystr(max_chars=10**9) }}", "fake.pystr: max_chars is over 100,000"),
    ("{{ fake.password(length=10**8) }}", "fake.password: length is over 100,000"),
    ("{{ fake.paragraphs(nb=10**6) }}", "fake.paragraphs: nb is over 1,000"),
    ("{{ fake.hostname(levels=10**4) }}", "fake.hostname: levels is over 100"),
    ("{{ fake.pyint(max_value=10**5000) }}",
     "fake.pyint: max_value is over 1,000,000,000,000,000,000"),
    ("{{ fake.numerify('#' * 200000) }}", "fake.numerify: text is longer than 100,000 characters"),
    ("{{ fake.fixed_width(data_columns=[(10**7, 'name')]) }}",
     "fake.fixed_width: data_columns is over 100,000"),
    ("{{ fake.json(cls=namespace) }}", "fake.json: cls is a type (fake.* takes text, numbers, "
                                       "true/false, none, lists and objects)"),
    # sizes that are each allowed, but not together, nor through the providers called by name
    ("{{ fake.texts(nb_texts=1000, max_nb_chars=100000) }}",
     "fake.texts is asked for too much (over 500,000 characters or items in all)"),
    ("{{ fake.json(data_columns=[('x', 'text', {'max_nb_chars': 100000})], num_rows=1000) }}",
     "fake.json is asked for too much (over 500,000 characters or items in all)"),
    ("{{ fake.pylist(nb_elements=1000, value_types=['pystruct']) }}",
     "fake.pylist is asked for too much (over 500,000 characters or items in all)"),
    # Faker's look-up by name reached what fake.NAME cannot
    ("{{ fake.pystr_format('{{seed_instance}}') }}",
     "fake.pystr_format may not use 'seed_instance'"),
    ("{{ fake.pylist(value_types=['binary']) }}", "fake.pylist may not use 'binary'"),
])
def test_fake_calls_that_ask_for_too_much_are_refused_before_they_run(source, message):
    assert error(source).message == "refused by the template sandbox: " + message


@pytest.mark.parametrize("name", ["format", "parse", "get_formatter", "set_formatter", "seed",
                                  "seed_instance", "seed_locale", "add_provider", "binary",
                                  "zip", "random", "items", "set_arguments"])
def test_fake_has_only_providers(name):
    assert error(f"{{{{ fake.{name}('seed_instance', 5) }}}}").message == (
        f"unknown variable: fake has no {name!r} (use Faker providers such as fake.name())")
    assert error(f"{{{{ fake.unique.{name}() }}}}").message.startswith(
        f"unknown variable: fake has no {name!r}")


def test_fake_calls_of_ordinary_sizes_still_work_and_stay_seeded():
    source = {"text": "{{ fake.text(max_nb_chars=5000) }}", "pw": "{{ fake.password(length=40) }}",
              "str": "{{ fake.pystr(min_chars=50, max_chars=50) }}",
              "int": "{{ fake.random_int(1, 10**6) }}", "big": "{{ fake.pyint(max_value=10**15) }}",
              "list": "{{ fake.pylist(nb_elements=5, value_types=['int']) }}",
              "words": "{{ fake.words(nb=3) }}", "json": "{{ fake.json(num_rows=2) }}",
              "fmt": "{{ fake.pystr_format('{{name}}-##') }}", "host": "{{ fake.hostname(2) }}",
              "date": "{{ fake.date_between(start_date='-30d', end_date='today') }}"}
    out = render(source)
    assert len(out["text"]) <= 5000 and len(out["pw"]) == 40 and len(out["str"]) == 50
    assert 1 <= out["int"] <= 10**6 and 0 <= out["big"] <= 10**15
    assert isinstance(out["list"], list) and len(out["words"]) == 3
    assert len(json.loads(out["json"])) == 2 and out["host"].count(".") == 3
    assert render(source) == out


def test_a_provider_that_fails_is_a_template_error_naming_it():
    # an AssertionError inside Faker: it crashed a run after events were sent
    assert error("{{ fake.password(length=1) }}").message == (
        "fake.password failed: AssertionError: Required length is shorter than required "
        "characters")
    assert error("{% if true %}{{ fake.password(length=1) }}{% endif %}").message.startswith(
        "fake.password failed: ")
    exc = error({"x": "id-{{ fake.password(length=1) }}"})
    assert (exc.pointer, exc.offset) == ("/x", 3)


def test_fake_unique_running_out_of_values_is_a_template_error():
    r = run()
    assert {r.render_event("{{ fake.unique.boolean() }}") for _ in range(2)} == {True, False}
    with pytest.raises(TemplateError) as info:
        r.render_event("{{ fake.unique.boolean() }}")
    assert info.value.message == (
        "fake.unique.boolean gave no new value in 1,000 tries (it has given 2 different ones)")
    assert r.render_event("{{ fake.unique.clear() }}{{ fake.unique.boolean() }}") in (
        "nulltrue", "nullfalse")


@pytest.mark.parametrize(("source", "length"), [
    ("{{ fake.pystr(min_chars=400, max_chars=400) | length }}", 400),
    ("{{ fake.json(num_rows=500) | length > 1000 }}", True),
    ("{{ fake.csv(num_rows=1000) | length > 1000 }}", True),
])
def test_lengths_are_not_multiplied_and_counts_up_to_1000_work(source, length):
    """pystr(min_chars=400, max_chars=400) was refused as 160,000 characters, and
    json(num_rows=500) ran out of its budget: the README allows both."""
    assert run().render_event(source) == length


def test_fake_unique_retries_share_one_budget():
    r = run()
    source = "{{ fake.unique.dga(year=2020, month=1, day=1, tld='com', length=40000) | length }}"
    assert r.render_event(source) == 40004
    with pytest.raises(TemplateError) as info:
        r.render_event(source)  # the same value each time: 1,000 tries would take a minute
    assert info.value.message == ("refused by the template sandbox: fake.unique.dga is asked "
                                  "for too much (over 500,000 characters or items in all)")


def test_a_loop_of_slow_calls_is_stopped_on_time(monkeypatch):
    """The clock is read every few thousand template lines *or calls*: a loop whose every
    line runs Faker for 20 ms is stopped too."""
    monkeypatch.setattr("console.core.template.RENDER_SECONDS", 0.2)
    assert error("{% for i in range(99999) %}{% set x = fake.text(max_nb_chars=100000) %}"
                 "{% endfor %}").message == (
        "the template ran for over 0.2 s and was stopped (a loop inside a loop?)")


# -- the output cap holds for every kind of string -----------------------------------------
@pytest.mark.parametrize(("source", "message"), [
    ("{{ ('a'*999999) ~ ('a'*999999) ~ ('b'*999999) }}",
     "refused by the template sandbox: result longer than 1,000,000 characters"),
    ("{% set ns = namespace(s='a'*999999) %}{% set ns.s = ns.s ~ ns.s %}{{ ns.s|length }}",
     "refused by the template sandbox: result longer than 1,000,000 characters"),
    ("{{ ['a'*999999] * 3 }}", "refused by the template sandbox: result longer than "
                               "1,000,000 items"),
    ("{{ [['a'*999999]] * 999999 }}", "refused by the template sandbox: result longer than "
                                      "1,000,000 items"),
    ("{{ 'a'*999999 + 'b'*999999 }}",
     "refused by the template sandbox: result longer than 1,000,000 characters"),
    ("{% set ns = namespace(l=['a'*999999]) %}{% for i in range(30) %}"
     "{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}",
     "refused by the template sandbox: result longer than 1,000,000 characters"),
    ("{{ range(99999)|map('center', 999)|list|length }}",
     "refused by the template sandbox: result longer than 1,000,000 characters"),
    ("{{ vars.big }}", "rendered text is longer than 1,000,000 characters"),
    ("{{ [vars.big] }}", "rendered value is longer than 1,000,000 characters"),
    # a list holding the same list twice, 40 levels deep: 2**40 items as JSON
    ("{% set ns = namespace(a=[1]) %}{% for i in range(40) %}{% set ns.a = [ns.a, ns.a] %}"
     "{% endfor %}{{ ns.a ~ '' }}",
     "refused by the template sandbox: result longer than 1,000,000 characters"),
    ("{{ 10**4400 }}", "a number longer than 4,000 digits cannot be put in JSON"),
])
def test_values_over_the_cap_are_refused_whatever_builds_them(source, message):
    assert error(source, vars={"big": "x" * (MAX_TEXT + 1)}).message == message


def test_concatenation_and_addition_at_ordinary_sizes_still_work():
    assert render({"concat": "{{ 'a' ~ 1 ~ none ~ [1, 2] }}", "add": "{{ [1, 2] + [3] }}",
                   "text": "{{ 'a' + 'b' }}", "sum": "{{ 1 + 2.5 }}",
                   "repeat": "{{ [[1, 2]] * 2 }}", "map": "{{ [1, 22]|map('center', 4)|list }}",
                   "ns": "{% set ns = namespace(s='a') %}{% set ns.s = ns.s ~ ns.s %}{{ ns.s }}",
                   "max": "{{ ('a' * 999999) ~ 'b' }}"}) == {
        "concat": "a1None[1, 2]", "add": [1, 2, 3], "text": "ab", "sum": 3.5,
        "repeat": [[1, 2], [1, 2]], "map": [" 1  ", " 22 "], "ns": "aa",
        "max": "a" * 999999 + "b"}


@pytest.mark.parametrize("text", [
    "Hi {{ name }}", "50{% off", "{# not a comment #}", "L1\r\nTotal {{ 1 + 1 }}\r\n",
    "a\rb {% y", "\r{{ a }}\r", "{{ a }}\n", "plain\r\n", "{{{{ }}}} {%% %%}"])
def test_text_kept_literal_renders_back_exactly(text):
    """Captured or sent text saved as a template (or in a scenario, or opened with a
    placeholder beside it) must render back as it was; Jinja made "\\r\\n" into "\\n"."""
    assert TemplateEngine().render_value(as_literal_text(text), {}) == text


def test_text_holding_endraw_and_a_placeholder_cannot_be_kept_and_says_why():
    with pytest.raises(InputError, match="a template cannot keep as text beside placeholders"):
        as_literal_text("{{ x }} endraw")


@pytest.mark.parametrize("source", [
    "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
    "{% for a in [1] %}" * 25 + "x" + "{% endfor %}" * 25,  # too many statically nested
    "{{ 1" + "|abs" * 5000 + " }}",
])
def test_a_template_too_complex_to_compile_is_a_template_error(source):
    """RecursionError or SyntaxError escaped: `run` ended in a traceback, and a workspace
    holding such a template (used or not) kept the window from opening."""
    assert error(source).message == "template too deeply nested or too complex to compile"


def test_a_string_with_too_many_placeholders_is_refused_before_it_is_compiled():
    """200,000 placeholders in a 1 MB template took 80 s and 660 MB at every load."""
    said = "over 5,000 placeholders and statements in one string"
    assert error("{{1}}" * 200_000).message.startswith(said)
    # statements too: 60,000 {% if %} blocks took 12.8 s and 310 MB to compile
    assert error("{%if 1%}{%endif%}" * 3_000).message.startswith(said)
    assert ENGINE.render_string("{{1}}" * 5_000, {}) == "1" * 5_000
