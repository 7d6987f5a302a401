"""The window over an environments file a user edited by hand."""

from __future__ import annotations

import json

from console.services.paths import app_paths
from tests.ui.test_main_window import open_window


def _write(content: object) -> None:
    paths = app_paths().ensure()
    paths.environments_file.write_text(json.dumps(content))


def test_the_window_names_entries_it_cannot_use(qtbot, app_home):
    """It said "Ready" over a file whose entries it had skipped (and would drop)."""
    _write({"environments": [
        {"name": "Inbox", "kind": "inbox"},
        {"name": "Prod", "kind": "Cloud"}]})
    _context, window = open_window(qtbot)
    window.inbox_started()  # shows the start's notices, as the app does once it is up
    message = window.statusBar().currentMessage()
    assert "environments.json: 'Prod': unknown kind \"Cloud\" (not used, kept in the file)" \
        in message, message
    assert [window.env_combo.itemText(i) for i in range(window.env_combo.count())] == ["Inbox"]


def test_the_window_validates_with_no_environment_at_all(qtbot, app_home):
    """With none, the editor's checks failed on an attribute only an environment set:
    "Validation failed: an internal error (see the log)" at every keystroke."""
    _write({"environments": []})
    _context, window = open_window(qtbot)
    said: list[str] = []
    window.editor.status_message.connect(said.append)
    window.editor.setPlainText('{"name": "app/x", "data": [1]}')
    window.editor.validate_now()
    assert not any("Validation failed" in text for text in said), said
    assert [p.message for p in window.editor.problems()] == [
        "Event data must be a JSON object, not an array"]


def test_a_selected_entry_that_is_not_loaded_stays_selected_in_the_file(qtbot, app_home):
    """Its branch held a line break: the window picked the first environment and wrote
    that as the selection (a plain `send` then went there, without the branch)."""
    origin = "http://127.0.0.1:9"
    _write({"selected": "Staging", "environments": [
        {"name": "Production", "kind": "custom", "event_origin": origin},
        {"name": "Staging", "kind": "custom", "event_origin": origin,
         "branch": "feature-x\n"}]})
    context, window = open_window(qtbot)
    assert window.env_combo.currentData() == "Production"  # what the window can use
    window.close()
    context.environments.save()  # as closing the app does
    assert json.loads(app_paths().environments_file.read_text())["selected"] == "Staging"
    context, window = open_window(qtbot)
    window.env_combo.activated.emit(window.env_combo.currentIndex())  # picked, as shown
    context.environments.save()
    assert json.loads(app_paths().environments_file.read_text())["selected"] == "Production"
