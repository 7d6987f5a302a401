"""Managing environments and keys in the window (real widgets, real Secret Service)."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QMessageBox

from console.services.environments import Environment, EnvironmentStore
from console.services.paths import app_paths
from console.services.secrets import SecretStore
from console.ui.context import AppContext
from console.ui.environments_dialog import EnvironmentsDialog
from tests.ui.conftest import wait_until


@contextlib.contextmanager
def answering(button):
    """QMessageBox.question answered with `button`, and what it asked."""
    asked: list[str] = []
    real = QMessageBox.question
    QMessageBox.question = lambda _parent, _title, text, *a, **k: asked.append(text) or button
    try:
        yield asked
    finally:
        QMessageBox.question = real


def make_dialog(qtbot, secrets=None):
    context = AppContext.create(app_paths())
    if secrets is not None:
        context.secrets = secrets
    dialog = EnvironmentsDialog(context)
    qtbot.addWidget(dialog)
    return context, dialog


def test_add_cloud_set_key_save_and_nothing_secret_on_disk(qtbot, app_home, keyring_backend):
    key = "evt-dialog-key-5678abcd"
    context, dialog = make_dialog(qtbot, SecretStore(service="event-console-test"))
    cloud_button = next(b for b in dialog.findChildren(type(dialog.remove_button))
                    if b.text() == "Add Inngest Cloud")
    cloud_button.click()
    assert dialog.name.text() == "Inngest Cloud"
    assert dialog.event_limit.value() == 262_144
    dialog.paid.setChecked(True)
    assert dialog.event_limit.value() == 3 * 1024 * 1024
    dialog.branch.setText("feature-x")
    dialog.event_key.setText(key)
    dialog._save()
    assert "Saved 'Inngest Cloud'" in dialog.status.text()
    assert context.secrets.get("Inngest Cloud", "event") == key
    saved = json.loads(app_paths().environments_file.read_text())
    cloud = next(e for e in saved["environments"] if e["name"] == "Inngest Cloud")
    assert cloud["branch"] == "feature-x" and cloud["paid_plan"] is True
    assert key not in app_paths().environments_file.read_text()
    dialog._select("Inngest Cloud")
    assert dialog.event_key.text() == ""
    assert dialog.event_key.placeholderText() == "set (****abcd); type to replace"
    # rename moves the key with it
    dialog.name.setText("Prod")
    dialog._save()
    assert context.secrets.get("Prod", "event") == key
    assert context.secrets.get("Inngest Cloud", "event") is None
    context.secrets.delete_all("Prod")


def test_bad_origin_and_duplicate_names_are_refused_plainly(qtbot, app_home):
    _context, dialog = make_dialog(qtbot)
    dialog._select("Dev Server")
    dialog.name.setText("Inbox")
    dialog._save()
    assert "Not saved: an environment named 'Inbox' already exists" in dialog.status.text()


@pytest.fixture
def no_keyring():
    import keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_without_a_keyring_it_says_so_and_keeps_keys_for_the_session(qtbot, app_home, no_keyring):
    context, dialog = make_dialog(qtbot)
    assert dialog.keyring_note.text().startswith(
        "No usable keyring: no keyring backend is installed or none is running. Keys saved "
        "here now stay in memory for this session only. Install")
    # what to do, without the CLI's shell variable: the box above is the window's way
    assert dialog.keyring_note.text().endswith("Install and unlock a Secret Service (GNOME "
                                               "Keyring or KeePassXC on Linux; the system "
                                               "keychain on macOS and Windows).")
    assert dialog.session_only.isChecked()
    dialog._select("Dev Server")
    dialog.event_key.setText("session-only-key-0001")
    dialog._save()
    assert "this session's memory" in dialog.status.text()
    assert context.secrets.get("Dev Server", "event") == "session-only-key-0001"
    assert "session-only-key-0001" not in app_paths().environments_file.read_text()
    # renaming keeps working without a keyring, and the session's key follows the name
    dialog.name.setText("Local dev")
    dialog._save()
    assert dialog.status.text() == "Saved 'Local dev'; keys go to this session's memory."
    names = [e.name for e in context.environments.saved]
    assert "Local dev" in names and "Dev Server" not in names
    assert context.secrets.get("Local dev", "event") == "session-only-key-0001"
    assert ("Dev Server", "event") not in context.secrets.session
    # asked for the keyring anyway: the environment is saved, the key is not, and says so
    dialog.session_only.setChecked(False)
    assert "now cannot be kept: tick the box above" in dialog.keyring_note.text()
    dialog.rest_origin.setText("http://127.0.0.1:8299")
    dialog.event_key.setText("for-the-keyring-0002")
    dialog._save()
    assert dialog.status.text().startswith(
        "<span style='color:#c62828'>Saved 'Local dev', but the event key was not saved: "
        "No usable keyring: no keyring backend")
    assert dialog.event_key.text() == "for-the-keyring-0002"  # typed, not lost
    assert EnvironmentStore.load(app_paths()).get("Local dev").rest_origin == (
        "http://127.0.0.1:8299")
    assert context.secrets.get("Local dev", "event") == "session-only-key-0001"


def test_test_connection_reports_reachability(qtbot, app_home, run_async):
    from tests.support.inbox_thread import running_inbox

    _context, dialog = make_dialog(qtbot)
    with running_inbox() as inbox:
        dialog._select("Inbox")
        dialog.rest_origin.setText(inbox.url)

        async def check():
            dialog._test()
            await wait_until(lambda: "reachable" in dialog.status.text(), message="reachable")
            assert dialog.status.text() == f"reachable ({inbox.url}/health)"
            dialog.rest_origin.setText("http://127.0.0.1:9")
            dialog._test()
            await wait_until(lambda: "not reachable (" in dialog.status.text(),
                             message="unreachable")
            # why, in the error colour, in words (it said "All connection attempts failed")
            assert dialog.status.text().startswith("<span style=")
            assert ("not reachable (http://127.0.0.1:9/health): connection refused: nothing "
                    "listens") in (
                dialog.status.text())

        run_async(check())


def test_closing_the_dialog_cancels_a_test_connection_still_waiting(qtbot, app_home,
                                                                    run_async):
    """The window deletes the dialog once closed: an answer coming after (a server that
    takes its 2 s) would be written to a label that is gone."""
    import socket

    silent = socket.socket()  # accepts the connection, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        _context, dialog = make_dialog(qtbot)
        dialog._select("Inbox")
        dialog.rest_origin.setText(f"http://127.0.0.1:{silent.getsockname()[1]}")

        async def close_while_testing() -> None:
            dialog._test()
            task = dialog._testing
            assert task is not None and not task.done()
            await asyncio.sleep(0.1)
            dialog.done(0)  # closed (reject() would first ask about the edited origin)
            await asyncio.wait([task], timeout=1)  # it unwinds (it would take 2 s otherwise)
            assert task.cancelled()
            assert "Checking" in dialog.status.text()  # nothing written after the close

        run_async(close_while_testing())
    finally:
        silent.close()


def test_test_connection_checks_the_origins_as_save_does_and_requests_nothing_bad(
        qtbot, app_home, run_async):
    """An unsaved origin holding a key was requested (the key left in the URL) and shown
    ("https://inn.gs/e/<key> did not answer"); a port over 65535 hung on "Checking…"."""
    from urllib.parse import urlsplit

    from tests.support.fault_server import FaultServer
    from tests.support.inbox_thread import running_inbox

    key = "evtkeySECRETone111111"
    _context, dialog = make_dialog(qtbot)
    with FaultServer() as server:
        dialog._select("Inbox")
        for field, text, said in [
            (dialog.rest_origin, f"{server.origin}/e/{key}", "REST origin: "),
            (dialog.rest_origin, f"http://user:{key}@127.0.0.1:{urlsplit(server.origin).port}",
             "REST origin: "),
            (dialog.event_origin, f"{server.origin}/e/{key}", "event origin: "),
            (dialog.rest_origin, "http://127.0.0.1:99999", "REST origin: "),
        ]:
            dialog.event_origin.setText(server.origin)
            dialog.rest_origin.setText(server.origin)
            field.setText(text)
            dialog._test()
            shown = dialog.status.text()
            assert f"Not tested: {said}" in shown, shown
            assert key not in shown
        assert server.requests == []  # nothing was asked of any of them
    with running_inbox() as inbox:

        async def no_rest_api() -> None:  # the event API's server is checked instead
            dialog.event_origin.setText(inbox.url)
            dialog.rest_origin.setText("")
            dialog._test()
            await wait_until(lambda: "reachable" in dialog.status.text(), message="reachable")
            assert dialog.status.text() == f"reachable ({inbox.url}/health)"

        run_async(no_rest_api())


def test_a_locked_keyring_is_said_at_select_and_at_remove(qtbot, app_home):
    """A locked keyring read as "not set" and Remove said nothing (its message was cleared
    by the selection that followed), so a new environment of that name got the old keys."""
    from console.services.environments import cloud
    from tests.support.keyrings import LockedKeyring, using

    with using(LockedKeyring()):
        context, dialog = make_dialog(qtbot)
        # it looks usable until read: the first selection reads it, at the dialog's open
        assert dialog.session_only.isChecked()
        context.environments.put(cloud("Prod"))
        dialog._refresh("Prod")
        assert dialog.event_key.placeholderText() == "unknown: the keyring cannot be read"
        assert dialog.keyring_note.text().startswith(
            "No usable keyring: the keyring is locked and could not be unlocked")
        assert dialog.session_only.isChecked()
        with answering(QMessageBox.StandardButton.Yes):
            dialog._remove()
        assert "Prod" not in context.environments.names()
        assert dialog.status.text() == (
            "<span style='color:#c62828'>Removed 'Prod', but its keys are still in the "
            "keyring (a new environment named 'Prod' would use them): No usable keyring: the "
            "keyring is locked and could not be unlocked (no unlock prompt was answered). "
            "Install and unlock a Secret Service (GNOME Keyring or KeePassXC on Linux; the "
            "system keychain on macOS and Windows), or keep the key in memory for this "
            "session only (Environments…, \"Keep keys in memory for this session only\")."
            "</span>")


def test_with_a_locked_keyring_a_new_environment_is_renamed_without_a_false_alarm(qtbot,
                                                                                 app_home):
    """Add custom, a name and a key, Save: it said (in red) that the keys of 'New
    environment' stayed in the keyring, though it never had any."""
    from tests.support.keyrings import LockedKeyring, using

    with using(LockedKeyring()):
        context, dialog = make_dialog(qtbot)
        dialog._add(Environment("New environment", "custom"))  # as Add custom does
        assert dialog.name.text() == "New environment"
        dialog.name.setText("Prod")
        dialog.event_key.setText("evt-session-key-0001")
        dialog._save()
        assert dialog.status.text() == "Saved 'Prod'; keys go to this session's memory."
        assert context.secrets.get("Prod", "event") == "evt-session-key-0001"


def test_a_key_in_a_hand_edited_origin_is_masked_in_the_dialog(qtbot, app_home):
    """environments.json edited by hand with the event URL Inngest shows: the dialog's
    origin field showed the whole key (the toolbar, `env list` and send masked it)."""
    key = "QAFILEKEY0123456789"
    config = app_paths().environments_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"environments": [
        {"name": "Hand", "kind": "cloud", "event_origin": f"https://inn.gs/e/{key}",
         "rest_origin": "https://api.inngest.com"}]}))
    _context, dialog = make_dialog(qtbot)
    dialog._select("Hand")
    assert dialog.event_origin.text() == "https://inn.gs/e/****6789"
    assert key not in dialog.status.text()
    assert "holds an event key" in dialog.status.text()
    assert "Fix it, then Save." in dialog.status.text()
    dialog._save()  # the masked origin is refused in turn: the user gives the origin alone
    assert "Not saved" in dialog.status.text()
    assert key in config.read_text()  # left as it was until then
    dialog.event_origin.setText("https://inn.gs")
    dialog._save()
    assert key not in config.read_text()


def test_remove_asks_first_and_no_keeps_the_environment_and_its_keys(qtbot, app_home,
                                                                     keyring_backend):
    """One click on Remove deleted the environment's keys from the keyring for good."""
    from console.services.environments import cloud

    context, dialog = make_dialog(qtbot)
    context.environments.put(cloud("Prod"))
    context.secrets.set("Prod", "event", "evt-prod-key-1234")
    dialog._refresh("Prod")
    with answering(QMessageBox.StandardButton.No) as asked:
        dialog._remove()
    assert asked == ["Remove 'Prod' and delete its event and signing keys from the keyring? "
                     "This cannot be undone."]
    assert "Prod" in context.environments.names()
    assert context.secrets.get("Prod", "event") == "evt-prod-key-1234"
    with answering(QMessageBox.StandardButton.Yes):
        dialog._remove()
    assert "Prod" not in context.environments.names()
    assert context.secrets.get("Prod", "event") is None


def test_leaving_an_entry_with_unsaved_edits_asks_and_loses_nothing(qtbot, app_home,
                                                                    keyring_backend):
    """A key pasted into Dev Server, then a click on Inbox in the list: the key was
    dropped without a word (and so were name, origin and limit edits)."""
    key = "evt-pasted-key-9876"
    context, dialog = make_dialog(qtbot)
    names = context.environments.names()
    dialog._refresh("Dev Server")
    dialog.event_key.setText(key)
    with answering(QMessageBox.StandardButton.Cancel) as asked:
        dialog.list.setCurrentRow(names.index("Inbox"))
    assert asked == ["Save the changes to 'Dev Server'?"]
    assert dialog.current == "Dev Server" and dialog.name.text() == "Dev Server"
    assert dialog.list.currentItem().text() == "Dev Server"
    assert dialog.event_key.text() == key
    with answering(QMessageBox.StandardButton.Save):
        dialog.list.setCurrentRow(names.index("Inbox"))
    assert dialog.current == "Inbox" and dialog.list.currentItem().text() == "Inbox"
    assert context.secrets.get("Dev Server", "event") == key
    assert dialog.event_key.text() == ""
    # nothing edited: no question
    with answering(QMessageBox.StandardButton.Cancel) as asked:
        dialog.list.setCurrentRow(names.index("Dev Server"))
    assert asked == [] and dialog.current == "Dev Server"
    # Discard drops the edit; the file keeps what was saved
    dialog.request_limit.setValue(1000)
    with answering(QMessageBox.StandardButton.Discard):
        dialog.list.setCurrentRow(names.index("Inbox"))
    assert dialog.current == "Inbox"
    assert context.environments.get("Dev Server").request_limit != 1000
    context.secrets.delete_all("Dev Server")


def test_a_save_that_fails_while_leaving_keeps_the_entry_and_says_why(qtbot, app_home):
    context, dialog = make_dialog(qtbot)
    names = context.environments.names()
    dialog._refresh("Dev Server")
    dialog.name.setText("Inbox")  # taken
    with answering(QMessageBox.StandardButton.Save):
        dialog.list.setCurrentRow(names.index("Inbox"))
    assert dialog.current == "Dev Server" and dialog.name.text() == "Inbox"
    assert dialog.list.currentItem().text() == "Dev Server"
    assert "Not saved: an environment named 'Inbox' already exists" in dialog.status.text()


def test_close_and_add_ask_about_unsaved_edits_first(qtbot, app_home):
    context, dialog = make_dialog(qtbot)
    dialog.show()
    dialog._refresh("Dev Server")
    dialog.branch.setText("feature-y")
    with answering(QMessageBox.StandardButton.Cancel) as asked:
        dialog.reject()  # Close, Esc
    assert asked == ["Save the changes to 'Dev Server'?"] and dialog.isVisible()
    with answering(QMessageBox.StandardButton.Cancel):
        next(b for b in dialog.findChildren(type(dialog.remove_button))
             if b.text() == "Add custom").click()
    assert dialog.current == "Dev Server" and dialog.branch.text() == "feature-y"
    assert "New environment" not in context.environments.names()
    with answering(QMessageBox.StandardButton.Save):
        dialog.reject()
    assert not dialog.isVisible()
    assert EnvironmentStore.load(app_paths()).get("Dev Server").branch == "feature-y"


def test_an_added_environment_is_a_draft_until_saved(qtbot, app_home, keyring_backend):
    """Add saved "New environment" at once: Add then Close left an environment nobody
    wanted in the picker, and the dialog said it edits a copy until Save."""
    context, dialog = make_dialog(qtbot)
    dialog.show()
    changes: list[int] = []
    dialog.changed.connect(lambda: changes.append(1))
    config = app_paths().environments_file

    def on_disk() -> bytes | None:
        return config.read_bytes() if config.exists() else None

    before = on_disk()
    buttons = {b.text(): b for b in dialog.findChildren(type(dialog.remove_button))}
    buttons["Add custom"].click()
    assert dialog.current == "New environment" and dialog.list.currentItem().font().italic()
    assert "New environment" not in context.environments.names() and changes == []
    assert on_disk() == before
    with answering(QMessageBox.StandardButton.Discard) as asked:
        dialog.reject()
    assert asked == ["Save the new environment 'New environment'?"]
    assert not dialog.isVisible() and "New environment" not in context.environments.names()

    dialog.show()
    buttons["Add Inngest Cloud"].click()
    buttons["Remove"].click()  # a draft goes without a question: nothing was saved
    assert "Inngest Cloud" not in [dialog.list.item(i).text() for i in range(dialog.list.count())]
    buttons["Add Inngest Cloud"].click()
    dialog.event_key.setText("evt-draft-key-4321")
    with answering(QMessageBox.StandardButton.Save):
        dialog.list.setCurrentRow(0)  # Dev Server
    assert dialog.current == "Dev Server"
    assert "Inngest Cloud" in context.environments.names() and changes == [1]
    assert context.secrets.get("Inngest Cloud", "event") == "evt-draft-key-4321"
    assert "Inngest Cloud" in EnvironmentStore.load(app_paths()).names()
    assert not any(dialog.list.item(i).font().italic() for i in range(dialog.list.count()))
    context.secrets.delete_all("Inngest Cloud")


def test_a_save_the_disk_refuses_says_not_saved_and_keeps_the_form(qtbot, app_home):
    """A full disk (or a folder in the file's place): Save and Remove raised out of the
    dialog (a bug dialog), and the change stayed in memory, to be written at close."""
    from tests.support.writes import writes_fail

    context, dialog = make_dialog(qtbot)
    dialog._refresh("Dev Server")
    dialog.branch.setText("feature-z")
    with writes_fail():
        assert dialog._save() is False
    assert dialog.status.text().startswith("<span style='color:#c62828'>Not saved: ")
    assert dialog.branch.text() == "feature-z"  # the form keeps it, to save again
    assert context.environments.get("Dev Server").branch is None
    with writes_fail(), answering(QMessageBox.StandardButton.Yes):
        dialog._remove()
    assert "Not removed: " in dialog.status.text()
    assert "Dev Server" in context.environments.names()
    context.environments.save()  # as the window does at close
    assert EnvironmentStore.load(app_paths()).get("Dev Server").branch is None


def test_a_name_taken_meanwhile_in_a_terminal_is_said_and_the_list_shows_it(qtbot, app_home):
    context, dialog = make_dialog(qtbot)
    terminal = EnvironmentStore.load(app_paths())
    terminal.put(Environment("staging", "custom", event_origin="http://10.0.0.9:8288",
                             rest_origin="http://10.0.0.9:8288"))
    terminal.save()
    dialog._add(Environment("New environment", "custom"))  # as Add custom does
    dialog.name.setText("Staging")
    assert dialog._save() is False
    assert "an environment named 'staging' was saved meanwhile" in dialog.status.text()
    shown = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert shown == ["Dev Server", "Inbox", "staging", "New environment"]
    assert dialog.name.text() == "Staging"  # what was typed stays, to be named again
    dialog.name.setText("Staging EU")
    assert dialog._save() is True
    assert EnvironmentStore.load(app_paths()).names() == [
        "Dev Server", "Inbox", "staging", "Staging EU"]
    assert context.environments.names() == EnvironmentStore.load(app_paths()).names()


def _dialog_over_a_bad_stored_key(qtbot, name: str):
    """The dialog on a saved Cloud environment `name` whose event key another tool stored
    with a line break."""
    import keyring

    from console.services.environments import EnvironmentStore, cloud

    store = EnvironmentStore.load(app_paths(), environ={})
    store.put(cloud(name))
    store.save()
    keyring.set_password("event-console-test", f"{name}/event", "evtkey-newline-9999\n")
    _context, dialog = make_dialog(qtbot, SecretStore(service="event-console-test"))
    dialog._select(name)
    return dialog


def test_a_stored_key_no_send_could_use_is_said_in_the_dialog(qtbot, app_home, keyring_backend):
    """A key another tool stored with a line break showed as "set (****9999)": fine to the
    eye, a 401 at every send."""
    import keyring

    dialog = _dialog_over_a_bad_stored_key(qtbot, "Self")
    try:
        assert dialog.event_key.placeholderText() == (
            "set, but not usable; type the key to replace it")
        assert "the event key kept for 'Self' cannot be used: the key holds a line break" \
            in dialog.status.text()
        assert "9999" not in dialog.status.text()
    finally:
        keyring.delete_password("event-console-test", "Self/event")


def test_renaming_an_environment_moves_a_stored_key_no_send_could_use(qtbot, app_home,
                                                                      keyring_backend):
    """Save of a rename raised out of the dialog (the bug dialog), the file already
    renamed and the key left under the old name."""
    import keyring

    dialog = _dialog_over_a_bad_stored_key(qtbot, "Staging")
    try:
        dialog.name.setText("Prod")
        dialog._save()
        assert dialog.status.text().startswith("Saved 'Prod'"), dialog.status.text()
        assert keyring.get_password("event-console-test", "Prod/event") == \
            "evtkey-newline-9999\n"
        assert keyring.get_password("event-console-test", "Staging/event") is None
    finally:
        for name in ("Prod", "Staging"):
            with contextlib.suppress(Exception):
                keyring.delete_password("event-console-test", f"{name}/event")


def test_remove_with_a_file_that_cannot_be_read_removes_nothing(qtbot, app_home, monkeypatch):
    """It raised out of the dialog, and the environment was gone from the window's list
    though not from the file."""
    from PySide6.QtWidgets import QMessageBox

    from console.ui.rich import shown

    config = app_paths().ensure().environments_file
    config.mkdir()
    context, dialog = make_dialog(qtbot)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog._select("Inbox")
    dialog._remove()
    said = shown(dialog.status.text())
    assert said.startswith("Not removed: not saved: "), said
    assert said.endswith("environments.json cannot be read (Is a directory)")
    assert [e.name for e in context.environments.saved] == ["Dev Server", "Inbox"]
