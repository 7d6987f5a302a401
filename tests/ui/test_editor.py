"""The JSON editor as a user drives it: real widgets, real keys, the real validator.

Keys go through QTest (so auto-close, auto-indent and the debounce see what a user's
typing produces); validation is console.core.validation.validate_text, wired the way the
main window wires it.
"""

from __future__ import annotations

import html
import json
import threading

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPalette, QTextCharFormat, QTextFormat
from PySide6.QtWidgets import QApplication, QSplitter, QToolTip

from console.core.problems import Problem, Severity
from console.core.schemas import SchemaLibrary
from console.core.serialize import event_bytes, pretty
from console.core.validation import validate_text
from console.ui.editor import (
    DARK,
    LIGHT,
    CoreCompletionProvider,
    JsonEditor,
    ProblemsView,
    scheduler,
)
from console.ui.editor.gutter import Gutter

EVENT_LIMIT = 256 * 1024
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def validator(text: str) -> list[Problem]:
    return validate_text(text, event_limit=EVENT_LIMIT).problems


@pytest.fixture
def editor(qtbot):
    ed = JsonEditor(theme=LIGHT)
    qtbot.addWidget(ed)
    ed.resize(700, 420)
    ed.show()
    qtbot.waitExposed(ed)
    ed.setFocus()
    return ed


@pytest.fixture
def statuses(editor):
    seen: list[str] = []
    editor.status_message.connect(seen.append)
    return seen


def put_cursor(editor: JsonEditor, position: int) -> None:
    cursor = editor.textCursor()
    cursor.setPosition(position)
    editor.setTextCursor(cursor)


def wavy(editor: JsonEditor) -> list[tuple[int, int, str, QColor]]:
    """(start, end, selected text, colour) of every wavy underline the editor shows."""
    out = []
    for sel in editor.extraSelections():
        fmt = sel.format
        if fmt.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline:
            c = sel.cursor
            out.append((c.selectionStart(), c.selectionEnd(), c.selectedText(),
                        fmt.underlineColor()))
    return out


def backgrounds(editor: JsonEditor, color: str) -> list[int]:
    """Start positions of the extra selections painted with this background colour."""
    return sorted(
        sel.cursor.selectionStart()
        for sel in editor.extraSelections()
        if sel.format.background().color() == QColor(color)
        and not sel.format.property(QTextFormat.Property.FullWidthSelection)
    )


# -- the scenario ------------------------------------------------------------
def test_invalid_event_is_underlined_listed_jumped_to_and_cleared_when_fixed(qtbot):
    window = QSplitter(Qt.Orientation.Vertical)  # editor above its Problems list
    qtbot.addWidget(window)
    editor = JsonEditor(theme=LIGHT)
    view = ProblemsView()
    window.addWidget(editor)
    window.addWidget(view)
    window.resize(700, 500)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    editor.setFocus()
    view.attach(editor)
    editor.set_validator(validator)

    typed = '{"name": "app/user.signup", "data": 5}'
    qtbot.keyClicks(editor, typed)
    # Auto-close inserted each closer and typing the closer stepped over it.
    assert editor.toPlainText() == typed

    qtbot.waitUntil(lambda: bool(editor.problems()), timeout=3000)
    [problem] = editor.problems()
    five = typed.index("5")
    assert (problem.start, problem.end) == (five, five + 1)
    assert problem.severity is Severity.ERROR
    assert problem.message == "Event data must be a JSON object, not a number"
    assert wavy(editor) == [(five, five + 1, "5", QColor(LIGHT.error))]
    assert editor.problem_lines() == {0: Severity.ERROR}

    model = view.problems_model()
    assert model.rowCount() == 1
    assert model.index(0, 0).data() == problem.message
    assert model.index(0, 1).data() == f"1:{five + 1}"

    put_cursor(editor, 0)
    rect = view.visualRect(model.index(0, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert editor.textCursor().position() == five
    assert editor.hasFocus()

    # Fix it the way a user would: delete the 5, type an object.
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor, "{")
    assert editor.toPlainText() == '{"name": "app/user.signup", "data": {}}'
    qtbot.waitUntil(lambda: not editor.problems() and model.rowCount() == 0, timeout=3000)
    assert wavy(editor) == []
    assert editor.problem_lines() == {}


def test_underline_lands_on_the_exact_text_after_emoji(qtbot, editor):
    """Core counts code points, Qt counts UTF-16: the range must still match the text."""
    editor.set_validator(validator)
    text = '{\n  "name": "app/😀😀",\n  "data": {"n": "🎉"},\n  "ts": "soon"\n}'
    editor.setPlainText(text)
    qtbot.waitUntil(lambda: bool(editor.problems()), timeout=3000)
    [(_start, _end, selected, _color)] = wavy(editor)
    assert selected == '"soon"'
    assert [p.message for p in editor.problems()] == [
        "Event ts must be an integer number of milliseconds, not a string"]
    editor.reveal_problem(editor.problems()[0])
    cursor = editor.textCursor()
    assert (cursor.blockNumber(), cursor.block().text()[:4]) == (3, '  "t')


def test_validation_waits_for_a_pause_in_typing(qtbot, editor):
    calls: list[str] = []

    def counting(text: str) -> list[Problem]:
        calls.append(text)
        return validator(text)

    editor.set_validator(counting)
    qtbot.waitUntil(lambda: not editor.validation_pending(), timeout=3000)
    calls.clear()
    qtbot.keyClicks(editor, '{"name": "a/b"}')
    assert calls == []  # nothing ran on the keystroke path
    assert editor.validation_pending()
    qtbot.waitUntil(lambda: not editor.validation_pending(), timeout=3000)
    assert calls == ['{"name": "a/b"}']


def test_big_documents_validate_in_a_worker_thread(qtbot, editor, run_async, monkeypatch):
    from tests.ui.conftest import wait_until

    monkeypatch.setattr(scheduler, "OFF_LOOP_CHARS", 10)
    threads: list[str] = []

    def recording(text: str) -> list[Problem]:
        threads.append(threading.current_thread().name)
        return validator(text)

    editor.setPlainText('{"name": "", "data": {}}')
    editor.set_validator(recording)
    run_async(wait_until(lambda: bool(editor.problems()), message="problems"))
    assert threads and threads[-1] != threading.main_thread().name
    assert [(p.pointer, p.message) for p in editor.problems()] == [
        ("/name", "Event name is empty")]


def test_tooltip_shows_the_problem_under_the_mouse(qtbot, editor):
    editor.set_validator(validator)
    text = '{"name": "inngest/x", "data": {}}'
    editor.setPlainText(text)
    qtbot.waitUntil(lambda: bool(editor.problems()), timeout=3000)
    [problem] = editor.problems()
    inside = text.index("inngest/x")
    assert problem.message == (
        'Event name is reserved for internal use: names starting with "inngest/" belong to Inngest'
    )
    assert editor.tooltip_at(inside) == "<b>Error</b>: " + html.escape(problem.message)
    assert editor.tooltip_at(text.index('"data"')) is None

    put_cursor(editor, inside + 2)
    point = editor.cursorRect().center()
    help_event = QHelpEvent(QEvent.Type.ToolTip, point, editor.viewport().mapToGlobal(point))
    QApplication.sendEvent(editor.viewport(), help_event)
    assert QToolTip.isVisible()
    assert html.escape(problem.message) in QToolTip.text()
    QToolTip.hideText()


# -- typing aids ---------------------------------------------------------------------
def test_auto_close_pairs_skip_closers_and_delete_empty_pairs(qtbot, editor):
    qtbot.keyClicks(editor, "[")
    assert (editor.toPlainText(), editor.textCursor().position()) == ("[]", 1)
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert editor.toPlainText() == ""

    qtbot.keyClicks(editor, '"')
    assert (editor.toPlainText(), editor.textCursor().position()) == ('""', 1)
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert editor.toPlainText() == ""

    qtbot.keyClicks(editor, '{"a": "x\\"y", "b": [{}]}')
    assert editor.toPlainText() == '{"a": "x\\"y", "b": [{}]}'

    # No pair when typing right before a word; brackets inside strings are plain text.
    editor.setPlainText("abc")
    put_cursor(editor, 0)
    qtbot.keyClicks(editor, "[")
    assert editor.toPlainText() == "[abc"
    editor.setPlainText('""')
    put_cursor(editor, 1)
    qtbot.keyClicks(editor, "{")
    assert editor.toPlainText() == '"{"'

    # The quote that ends a string after an escaped backslash steps over the closer: a
    # second quote was added ("a\\"" is not JSON)
    editor.setPlainText('{"k": ""}')
    put_cursor(editor, 7)
    qtbot.keyClicks(editor, 'a\\\\"')
    assert editor.toPlainText() == '{"k": "a\\\\"}'
    assert json.loads(editor.toPlainText()) == {"k": "a\\"}

    # A selection gets wrapped.
    editor.setPlainText("word")
    editor.selectAll()
    qtbot.keyClicks(editor, '"')
    assert editor.toPlainText() == '"word"'


def test_enter_keeps_indent_and_opens_brackets(qtbot, editor):
    qtbot.keyClicks(editor, "{")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert editor.toPlainText() == "{\n  \n}"
    cursor = editor.textCursor()
    assert (cursor.blockNumber(), cursor.positionInBlock()) == (1, 2)

    qtbot.keyClicks(editor, '"a": [')
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "1,")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "2")
    assert editor.toPlainText() == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert json.loads(editor.toPlainText()) == {"a": [1, 2]}

    # Tab and Shift+Tab shift the selected lines by one level.
    editor.setPlainText('{\n"a": 1,\n"b": 2\n}')
    cursor = editor.textCursor()
    cursor.setPosition(3)
    cursor.setPosition(12, cursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == '{\n  "a": 1,\n  "b": 2\n}'
    qtbot.keyClick(editor, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert editor.toPlainText() == '{\n"a": 1,\n"b": 2\n}'
    # lines indented with tabs (a file opened from elsewhere) go out too: they stayed put
    editor.setPlainText('{\n\t"a": 1,\n\t\t"b": 2\n}')
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert editor.toPlainText() == '{\n"a": 1,\n\t"b": 2\n}'

    # A closer typed on an indented empty line goes one level out.
    editor.setPlainText('{\n  "a": 1\n  ')
    put_cursor(editor, len(editor.toPlainText()))
    qtbot.keyClicks(editor, "}")
    assert editor.toPlainText() == '{\n  "a": 1\n}'


# -- format and minify ---------------------------------------------------------------
def test_format_and_minify_use_the_wire_serializer(qtbot, editor, statuses):
    text = '{"name":"a/b",  "data":{"x":[1,2.50,1e3],"é":"😀"}}'
    value = json.loads(text)
    editor.setPlainText(text)
    put_cursor(editor, text.index("2.50") + 1)  # the caret stays in the same value
    qtbot.keyClick(editor, Qt.Key.Key_F, CTRL_SHIFT)
    formatted = editor.toPlainText()
    assert formatted == pretty(value).rstrip("\n")
    assert statuses[-1] == "Formatted."
    assert editor.textCursor().position() == formatted.index("2.5") + 1
    qtbot.keyClick(editor, Qt.Key.Key_M, CTRL_SHIFT)
    assert editor.toPlainText().encode() == event_bytes(value)
    assert statuses[-1] == f"Minified: {len(event_bytes(value)):,} bytes, as sent."
    editor.undo()
    assert editor.toPlainText() == pretty(value).rstrip("\n")


def test_format_refuses_what_it_cannot_rewrite_faithfully(editor, statuses):
    broken = '{"name": "a/b",\n  "data": {,}}'
    editor.setPlainText(broken)
    assert editor.format_document() is False
    assert editor.toPlainText() == broken
    assert statuses[-1] == (
        "Not formatted: the JSON is invalid at line 2, column 12 "
        "(Expecting property name enclosed in double quotes). Fix it first."
    )
    editor.setPlainText('{"a": 1, "a": 2}')
    assert editor.minify_document() is False
    assert statuses[-1] == 'Not minified: duplicate key "a" (one of its values would be lost).'
    editor.setPlainText('{"a": NaN}')
    assert editor.format_document() is False
    assert statuses[-1] == "Not formatted: NaN is not valid JSON."
    editor.setPlainText("  ")
    assert editor.format_document() is False
    assert statuses[-1] == "Nothing to format: the document is empty."
    # these raised out of the action (a bug dialog in the app), or rewrote the text wrongly:
    # 1e400 became Infinity, "\ud83d" (half a pair) vanished
    for text, verb, said in [
        ('{"n": 1e400}', "format", "a number is beyond what JSON can carry (over ±1.8e308)"),
        ('{"n": 1e400}', "minify", "a number is beyond what JSON can carry (over ±1.8e308)"),
        ('{"n": ' + "7" * 5000 + "}", "format",
         "a number has more digits than can be read (over 4,300)"),
        ('{"s": "\\ud83d"}', "format",
         "a string holds an unpaired surrogate escape, which is not valid Unicode"),
        ('{"s": "\\ud83d"}', "minify",
         "a string holds an unpaired surrogate escape, which is not valid Unicode"),
    ]:
        editor.setPlainText(text)
        done = editor.format_document() if verb == "format" else editor.minify_document()
        assert done is False and editor.toPlainText() == text, text
        assert statuses[-1] == f"Not {'formatted' if verb == 'format' else 'minified'}: {said}."
    editor.setPlainText('{"s": "\\ud83d\\ude00"}')  # a whole pair is a character
    assert editor.minify_document() and editor.toPlainText() == '{"s":"\U0001f600"}'


def test_the_text_is_kept_as_written_no_break_spaces_and_line_separators_too(editor):
    """Qt's toPlainText turned U+00A0 into a space (the data sent changed) and U+2028 in a
    string into a line break ("Unterminated string" in the window; `validate` said the same
    file was clean)."""
    text = '{"name": "app/x", "data": {"s": "a\u00a0b", "t": "x\u2028y"}}'
    editor.set_validator(validator)
    editor.setPlainText(text)
    assert editor.toPlainText() == text
    editor.validate_now()
    assert editor.problems() == [] == validator(text)
    editor.minify_document()
    assert json.loads(editor.toPlainText())["data"] == {"s": "a\u00a0b", "t": "x\u2028y"}


def test_a_paragraph_separator_in_a_string_stays_the_same_value(editor, qtbot):
    """Qt keeps U+2029 as a line break: a valid event opened, formatted, minified or pasted
    with one in a string read as "Unterminated string", and could not be sent."""
    from PySide6.QtCore import QMimeData

    value = {"name": "app/x", "data": {"p": "a\u2029b", "q": "\\\u2029", "r": "\ufdd0\ufdd1"}}
    editor.set_validator(validator)
    for text in (json.dumps(value, ensure_ascii=False), pretty(value)):  # raw, as a file has
        editor.setPlainText(text)
        assert "\\u2029" in editor.toPlainText()
        assert json.loads(editor.toPlainText()) == value
        editor.validate_now()
        assert editor.problems() == []
        for rewrite in (editor.format_document, editor.minify_document):
            assert rewrite()
            assert json.loads(editor.toPlainText()) == value
    editor.setPlainText('{"name": "app/x", "data": {}}')
    put_cursor(editor, editor.toPlainText().index("}"))
    pasted = QMimeData()
    pasted.setText('"p": "a\u2029b\ufdd0"')
    editor.insertFromMimeData(pasted)
    assert json.loads(editor.toPlainText())["data"] == {"p": "a\u2029b\ufdd0"}


def test_a_paragraph_separator_between_tokens_is_an_error_where_validate_says(editor):
    """Read back as a line break it was clean in the window and an error to `validate`."""
    text = '{"name": "app/x",\u2029"data": {}}'
    editor.set_validator(validator)
    editor.setPlainText(text)
    editor.validate_now()
    [found] = validator(text)
    assert [(p.line, p.column) for p in editor.problems()] == [(found.line, found.column)]


# -- brackets, gutter, theme ---------------------------------------------------------
def test_a_minified_line_of_megabytes_is_not_coloured_but_its_brackets_still_match(editor):
    """Colouring a one-line event of 2.7 MB took seconds per keystroke (hundreds of
    thousands of format ranges); such a line goes without, and keeps bracket matching."""
    from console.ui.editor.highlighter import LONG_LINE

    text = json.dumps({"name": "app/x", "data": {"s": "é}]" * (LONG_LINE // 3), "a": [1]}})
    assert len(text) > LONG_LINE and "\n" not in text
    editor.setPlainText(text)
    assert editor.document().firstBlock().layout().formats() == []  # no colours
    put_cursor(editor, 0)
    assert backgrounds(editor, LIGHT.bracket_match) == [0, len(text) - 1]
    opener = text.index("[1")
    put_cursor(editor, opener + 1)
    assert backgrounds(editor, LIGHT.bracket_match) == [opener, opener + 2]
    editor.setPlainText('{"s": "é}]", "a": [1]}')  # a short line is coloured
    assert editor.document().firstBlock().layout().formats() != []


def test_bracket_matching_pairs_across_lines_and_ignores_strings(editor):
    text = '{\n  "a": "}]",\n  "b": [1, {"c": 2}]\n}'
    editor.setPlainText(text)
    put_cursor(editor, 0)
    assert backgrounds(editor, LIGHT.bracket_match) == [0, len(text) - 1]
    inner = text.index("[1")
    put_cursor(editor, inner + 1)  # just after the `[`
    assert backgrounds(editor, LIGHT.bracket_match) == [inner, text.index("]\n}")]
    put_cursor(editor, text.index(" 2}") + 2)  # after `2`, before `}`
    assert backgrounds(editor, LIGHT.bracket_match) == [text.index('{"c'), text.rindex("}]")]

    editor.setPlainText('{"a": [1}')
    put_cursor(editor, 6)
    assert backgrounds(editor, LIGHT.bracket_mismatch) == [6]
    assert backgrounds(editor, LIGHT.bracket_match) == []


def test_gutter_grows_with_the_line_count(editor):
    gutter = editor.gutter()
    editor.setPlainText("{\n}")
    small = gutter.width()
    assert small == gutter.width_for(999) == editor.viewportMargins().left()
    editor.setPlainText("\n".join(["1,"] * 12_345))
    assert gutter.width() == gutter.width_for(12_345) > small
    assert editor.viewportMargins().left() == gutter.width()
    assert isinstance(gutter, Gutter)


def test_highlighting_follows_the_theme(editor):
    editor.setPlainText('{"key": "text", "n": -1.5e3, "t": true, "z": null}')

    def color_at(column: int) -> str:
        layout = editor.document().firstBlock().layout()
        for rng in layout.formats():
            if rng.start <= column < rng.start + rng.length:
                return rng.format.foreground().color().name()
        return ""

    text = editor.toPlainText()
    for theme in (LIGHT, DARK):
        editor.set_theme(theme)
        assert color_at(text.index('"key"')) == theme.key
        assert color_at(text.index('"text"')) == theme.string
        assert color_at(text.index("-1.5e3")) == theme.number
        assert color_at(text.index("true")) == theme.keyword
        assert color_at(text.index("null")) == theme.keyword
        assert color_at(text.index(":")) == theme.punctuation
        assert editor.palette().color(QPalette.ColorRole.Base).name() == theme.background


def test_editor_follows_the_desktop_between_light_and_dark(qtbot):
    app = QApplication.instance()
    original = QPalette(app.palette())
    editor = JsonEditor()  # no theme given: follow the system
    qtbot.addWidget(editor)
    try:
        dark = QPalette(original)
        dark.setColor(QPalette.ColorRole.Window, QColor("#202020"))
        app.setPalette(dark)
        qtbot.waitUntil(lambda: editor.theme() is DARK, timeout=2000)
        assert editor.palette().color(QPalette.ColorRole.Base).name() == DARK.background
        light = QPalette(original)
        light.setColor(QPalette.ColorRole.Window, QColor("#f0f0f0"))
        app.setPalette(light)
        qtbot.waitUntil(lambda: editor.theme() is LIGHT, timeout=2000)
    finally:
        app.setPalette(original)
    pinned = JsonEditor(theme=DARK)  # an explicit theme stays put
    qtbot.addWidget(pinned)
    app.setPalette(light)
    assert pinned.theme() is DARK
    app.setPalette(original)


def test_go_to_counts_columns_like_problems_do(editor):
    editor.setPlainText('{\n  "e": "😀x"\n}')
    editor.go_to(2, 10)  # 1-based code points: the x after the emoji
    cursor = editor.textCursor()
    assert cursor.blockNumber() == 1
    assert cursor.block().text()[: 9] + "|" == '  "e": "😀|'
    assert cursor.positionInBlock() == 10  # UTF-16: the emoji counts twice


# -- completion, hover, skeleton (console.core.completion with a real schema) --------
SIGNUP_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["plan", "seats"],
    "properties": {
        "plan": {"type": "string", "enum": ["free", "pro"],
                 "description": "Billing plan of the account."},
        "seats": {"type": "integer", "description": "Licensed seats.", "default": 1},
        "trial": {"type": "boolean"},
    },
}


@pytest.fixture
def provider():
    library = SchemaLibrary.from_files([("app__signup.json", json.dumps(SIGNUP_SCHEMA))])
    assert library.problems == []
    return CoreCompletionProvider(schemas=lambda: library, event_names=lambda: ["app/other"])


def shown(popup) -> list[tuple[str, str]]:
    return [(c.label, c.detail) for c in popup.candidates()]


def test_schema_warnings_are_amber_and_errors_red(qtbot, editor):
    library = SchemaLibrary.from_files([("app__signup.json", json.dumps(SIGNUP_SCHEMA))])
    editor.set_validator(
        lambda text: validate_text(text, event_limit=EVENT_LIMIT, schemas=library).problems
    )
    text = '{\n  "name": "app/signup",\n  "data": {"plan": "gold", "seats": 2},\n  "ts": -1\n}'
    editor.setPlainText(text)
    qtbot.waitUntil(lambda: len(editor.problems()) == 2, timeout=3000)
    assert [(p.severity, p.line) for p in editor.problems()] == [
        (Severity.WARNING, 3), (Severity.ERROR, 4)]
    assert [(selected, color) for _s, _e, selected, color in wavy(editor)] == [
        ('"gold"', QColor(LIGHT.warning)), ("-1", QColor(LIGHT.error))]
    assert editor.problem_lines() == {2: Severity.WARNING, 3: Severity.ERROR}


def test_completion_popup_follows_typing_and_inserts_the_choice(qtbot, editor, provider):
    editor.set_completion_provider(provider)
    popup = editor.completion_popup()
    qtbot.keyClicks(editor, '{"name": "app/signup", "data": {"')
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    assert editor.toPlainText() == '{"name": "app/signup", "data": {""}}'
    assert shown(popup) == [("plan", "string"), ("seats", "integer"), ("trial", "boolean")]
    assert popup.documentation_text() == "Billing plan of the account.\nRequired."

    qtbot.keyClicks(editor, "s")  # narrows the open list
    assert shown(popup) == [("seats", "integer")]
    assert popup.documentation_text() == "Licensed seats.\nRequired."
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert editor.toPlainText() == '{"name": "app/signup", "data": {"seats": }}'
    # The key is in: its values are offered next (here the schema default).
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    assert shown(popup) == [("1", "default")]
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == '{"name": "app/signup", "data": {"seats": 1}}'
    assert not popup.isVisible()


def test_a_long_enum_lists_its_first_thousand_and_typing_reaches_the_rest(qtbot, editor):
    """Every keystroke filtered and listed all 100,000 values of an enum: 0.3 s each."""
    schema = {"type": "object", "properties": {
        "a": {"enum": [f"value-{i:06d}" for i in range(100_000)]}}}
    library = SchemaLibrary.from_files([("app__big.json", json.dumps(schema))])
    editor.set_completion_provider(CoreCompletionProvider(schemas=lambda: library))
    popup = editor.completion_popup()
    editor.setPlainText('{"name": "app/big", "data": {"a": }}')
    put_cursor(editor, len('{"name": "app/big", "data": {"a": '))
    qtbot.keyClick(editor, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(popup.isVisible, timeout=5000)
    listed = [c.label for c in popup.candidates()]
    assert listed == [f'"value-{i:06d}"' for i in range(1000)]
    qtbot.keyClicks(editor, '"value-09999')  # a value far past the first thousand
    assert [c.label for c in popup.candidates()] == [f'"value-09999{d}"' for d in range(10)]
    popup.refilter("99999")  # none start with it: those that contain it
    assert [c.label for c in popup.candidates()] == ['"value-099999"']


def test_completion_of_enum_values_and_event_names(qtbot, editor, provider):
    editor.set_completion_provider(provider)
    popup = editor.completion_popup()
    editor.setPlainText('{"name": "app/signup", "data": {"plan": }}')
    put_cursor(editor, len('{"name": "app/signup", "data": {"plan": '))
    qtbot.keyClick(editor, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    assert shown(popup) == [('"free"', "enum"), ('"pro"', "enum")]
    qtbot.keyClick(editor, Qt.Key.Key_Down)
    assert popup.current().label == '"pro"'
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert editor.toPlainText() == '{"name": "app/signup", "data": {"plan": "pro"}}'

    editor.setPlainText('{"name": "", "data": {}}')
    put_cursor(editor, len('{"name": "'))
    qtbot.keyClick(editor, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    assert shown(popup) == [("app/other", "event"), ("app/signup", "event (schema)")]
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert not popup.isVisible()
    assert editor.toPlainText() == '{"name": "", "data": {}}'


def test_accepting_a_suggestion_keeps_the_json_valid(qtbot, editor, provider):
    """A key chosen after a member went in with no comma (`"pro""seats": `), one chosen
    before a member had none after it, and `true` chosen inside "" became the string
    "true"."""
    editor.set_completion_provider(provider)
    popup = editor.completion_popup()

    def choose(text: str, at: str, label: str) -> str:
        editor.setPlainText(text)
        put_cursor(editor, text.index(at) + len(at))
        qtbot.keyClick(editor, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
        assert popup.isVisible(), text
        while popup.current().label != label:
            qtbot.keyClick(editor, Qt.Key.Key_Down)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        popup.hide()
        return editor.toPlainText()

    after = choose('{"name": "app/signup", "data": {"plan": "pro"}}', '"pro"', "seats")
    assert after == '{"name": "app/signup", "data": {"plan": "pro", "seats": }}'
    assert editor.textCursor().position() == after.index('"seats": ') + len('"seats": ')
    before = choose('{"name": "app/signup", "data": {"plan": "pro"}}', '"data": {', "seats")
    assert before == '{"name": "app/signup", "data": {"seats": , "plan": "pro"}}'
    assert editor.textCursor().position() == before.index('"seats": ') + len('"seats": ')
    quoted = choose('{"name": "app/signup", "data": {"trial": ""}}', '"trial": "', "true")
    assert json.loads(quoted)["data"] == {"trial": True}


def test_no_suggestions_and_no_provider_say_so(qtbot, editor, provider, statuses):
    assert editor.trigger_completion() is False
    assert statuses[-1] == "No completion source is set for this editor."
    editor.set_completion_provider(provider)
    editor.setPlainText('{"name": "app/signup", "data": {"seats": 3}}')
    put_cursor(editor, len('{"name": "app/signup", "data": {"seats": 3'))
    assert editor.trigger_completion() is False
    assert statuses[-1] == "No suggestions here."
    assert not editor.completion_popup().isVisible()


def test_hover_docs_join_the_tooltip(editor, provider):
    editor.set_completion_provider(provider)
    text = '{"name": "app/signup", "data": {"plan": "pro"}}'
    editor.setPlainText(text)
    assert editor.tooltip_at(text.index("plan") + 1) == (
        "data.plan: string<br>Billing plan of the account."
    )
    assert editor.tooltip_at(0) is None


def test_insert_skeleton_adds_only_missing_properties(qtbot, editor, provider, statuses):
    editor.set_completion_provider(provider)
    editor.setPlainText('{\n  "name": "app/signup",\n  "data": {\n    "seats": 3\n  }\n}')
    put_cursor(editor, 5)
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL_SHIFT)
    assert editor.toPlainText() == (
        '{\n  "name": "app/signup",\n  "data": {\n    "seats": 3,\n    "plan": "free"\n  }\n}'
    )
    assert statuses[-1] == "Inserted plan."

    editor.setPlainText('{"name": "app/signup"}')
    put_cursor(editor, 1)
    assert editor.insert_skeleton() is True
    assert editor.toPlainText() == (
        '{"name": "app/signup", "data": {"plan": "free", "seats": 1}}'
    )
    assert statuses[-1] == "Inserted plan, seats."
    assert editor.insert_skeleton() is False
    assert statuses[-1] == "Nothing to insert: data already has every skeleton property."
    # "Data" is data to the server (any case): it is filled, not joined by a second "data"
    editor.setPlainText('{"name": "app/signup", "Data": {"seats": 2}}')
    put_cursor(editor, 1)
    assert editor.insert_skeleton() is True
    assert editor.toPlainText() == (
        '{"name": "app/signup", "Data": {"seats": 2, "plan": "free"}}')
    for before_or_after in (0, len('\n{"name": "app/signup"}\n')):  # outside the braces
        editor.setPlainText('\n{"name": "app/signup"}\n')  # it said "No schema"
        put_cursor(editor, before_or_after)
        assert editor.insert_skeleton() is True
        assert '"data": {"plan": "free", "seats": 1}' in editor.toPlainText()

    editor.setPlainText('[\n  {\n    "name": "app/signup",\n    "data": {}\n  }\n]')
    put_cursor(editor, 8)
    assert editor.insert_skeleton() is True
    assert editor.toPlainText() == (
        '[\n  {\n    "name": "app/signup",\n    "data": {\n      "plan": "free",\n'
        '      "seats": 1\n    }\n  }\n]'
    )

    editor.setPlainText('{"name": "app/unknown", "data": {}}')
    put_cursor(editor, 1)
    assert editor.insert_skeleton() is False
    assert statuses[-1] == "No schema for this event: nothing to insert."
    editor.setPlainText('[{"name": "app/signup", "data": {}}, ')
    put_cursor(editor, 3)
    assert editor.insert_skeleton() is False
    assert statuses[-1].startswith("Insert skeleton needs valid JSON first: ")
    # with the caret after the last brace (where opening or pasting leaves it) the invalid
    # text was called "no schema", though the event has one
    broken = '{"name": "app/signup", "data": {"x": 1,}}'
    editor.setPlainText(broken)
    put_cursor(editor, len(broken))
    assert editor.insert_skeleton() is False
    assert statuses[-1].startswith("Insert skeleton needs valid JSON first: ")
