import dataclasses
import json

import pytest

from console.core.errors import UserError
from console.services.environments import (
    CLOUD_EVENT_ORIGIN,
    DEV_PLACEHOLDER_KEY,
    Environment,
    EnvironmentStore,
    cloud,
    from_sdk_variables,
    health_origin,
    origin_problem,
    shown_origin,
)
from console.services.paths import app_paths
from tests.support.writes import writes_fail


def test_first_start_offers_dev_server_and_inbox(app_home):
    store = EnvironmentStore.load(app_paths(), environ={})
    assert [e.name for e in store.all()] == ["Dev Server", "Inbox"]
    assert store.default().event_origin == "http://127.0.0.1:8288"
    assert store.get("inbox").event_limit == 3 * 1024 * 1024


def test_saved_environments_round_trip_and_hold_no_keys(app_home):
    paths = app_paths().ensure()
    store = EnvironmentStore.load(paths, environ={})
    store.put(cloud("Prod", branch="feature-x"))
    store.selected = "Prod"
    store.save()
    text = paths.environments_file.read_text()
    assert text.endswith("\n") and "key" not in text.replace("event_limit", "")
    again = EnvironmentStore.load(paths, environ={})
    prod = again.get("Prod")
    assert (prod.event_origin, prod.rest_origin, prod.branch) == (
        "https://inn.gs", "https://api.inngest.com", "feature-x")
    assert prod.event_limit == 256 * 1024 and prod.request_limit == 524_288
    assert again.default().name == "Prod"


@pytest.mark.parametrize(("text", "where"), [
    # the place as `validate` and the editor give it: it had quoted Python's JSON message
    # ("Expecting property name enclosed in double quotes: line 2 column 16 (char 34)")
    ('{"environments": [\n  {"name": "x",}\n]}\n',
     ":2:15: Trailing comma: remove the ',' before '}'"),
    (b"\xff{}", ": not UTF-8 text (byte 0xff at offset 0)"),
])
def test_broken_file_is_kept_aside_with_a_message(app_home, text, where):
    paths = app_paths().ensure()
    if isinstance(text, bytes):
        paths.environments_file.write_bytes(text)
    else:
        paths.environments_file.write_text(text)
    store = EnvironmentStore.load(paths, environ={})
    assert store.notice == (f"{paths.environments_file}{where}. Starting with the default "
                            "environments; the broken file was kept as "
                            "environments.json.broken.")
    assert [e.name for e in store.all()] == ["Dev Server", "Inbox"]
    kept = paths.environments_file.with_name("environments.json.broken")
    assert kept.read_bytes() == (text if isinstance(text, bytes) else text.encode())
    # a second broken file is kept beside the first (it replaced it)
    paths.environments_file.write_text("{")
    again = EnvironmentStore.load(paths, environ={})
    assert str(again.notice).endswith("the broken file was kept as environments.json-2.broken.")
    assert kept.read_bytes() == (text if isinstance(text, bytes) else text.encode())
    assert kept.with_name("environments.json-2.broken").read_text() == "{"


def test_hostile_entries_are_not_used_and_said(app_home):
    paths = app_paths().ensure()
    paths.environments_file.write_text(json.dumps({"environments": [
        {"name": ""}, {"name": "ok", "kind": "bogus"}, 5,
        {"name": "Good", "event_limit": -3, "event_origin": "http://10.0.0.9:8288"}]}))
    store = EnvironmentStore.load(paths, environ={})
    assert [e.name for e in store.saved] == ["Good"]
    assert store.saved[0].event_limit == 3 * 1024 * 1024
    assert store.notice is not None
    for said in ("an environment needs a non-empty name (not used, kept in the file)",
                 "'ok': unknown kind \"bogus\"", "an entry that is 5, not an object",
                 "'Good': event_limit -3 is not a positive whole number of bytes: the "
                 "default is used"):
        assert said in store.notice, said


def test_entries_that_cannot_be_used_stay_in_the_file_across_saves(app_home):
    """A hand-edited file: a kind in the wrong case, an origin that is not text, a second
    entry of one name. They were dropped from the file at the next save (an `env add`,
    or closing the window), and the window never said so."""
    paths = app_paths().ensure()
    unusable = [
        {"name": "Prod", "kind": "Cloud", "note": "typo in the kind"},
        {"name": "Self", "kind": "custom", "event_origin": ["https://events.example.com"]},
        {"name": "Staging", "kind": "custom", "event_origin": "https://other.example.com"},
    ]
    paths.environments_file.write_text(json.dumps({"selected": "Staging", "environments": [
        {"name": "Staging", "kind": "custom", "event_origin": "https://stage.example.com"},
        *unusable]}))
    store = EnvironmentStore.load(paths, environ={})
    assert [e.name for e in store.saved] == ["Staging"]
    assert store.get("Staging").event_origin == "https://stage.example.com"
    assert store.notice is not None
    for said in ("'Prod': unknown kind \"Cloud\"",
                 "'Self': event_origin is [\"https://events.example.com\"], not a URL in quotes",
                 "a second environment named 'Staging' (not used, kept in the file)"):
        assert said in store.notice, said
    store.put(Environment("Local", "custom", event_origin="http://127.0.0.1:9999",
                          rest_origin="http://127.0.0.1:9999"))
    store.save()
    written = json.loads(paths.environments_file.read_text())["environments"]
    assert [e["name"] for e in written] == ["Staging", "Local", "Prod", "Self", "Staging"]
    assert written[2:] == unusable  # as they were, to be mended by hand
    again = EnvironmentStore.load(paths, environ={})
    assert [e.name for e in again.saved] == ["Staging", "Local"]


def test_a_hand_written_branch_or_name_env_add_refuses_is_not_used_and_said(app_home):
    """Checked as `env add` checks them: a branch with a line break split `env list`'s
    line, and every send to it (and to a blank or non-ASCII branch) ended in "Illegal
    header value" from the HTTP library; without its branch a branch environment's
    events would go to the environment itself, so such an entry is not used at all."""
    paths = app_paths().ensure()
    origin = "https://stage.example.com"
    hand = [{"name": "Ctl", "kind": "custom", "event_origin": origin, "branch": "a\nb"},
            {"name": "Blank", "kind": "custom", "event_origin": origin, "branch": "   "},
            {"name": "Accent", "kind": "custom", "event_origin": origin, "branch": "café"},
            {"name": "Two\nlines", "kind": "custom", "event_origin": origin}]
    paths.environments_file.write_text(json.dumps({"environments": [
        {"name": "Fine", "kind": "custom", "event_origin": origin, "branch": "feature/x"},
        {"name": "Empty", "kind": "custom", "event_origin": origin, "branch": ""}, *hand]}))
    store = EnvironmentStore.load(paths, environ={})
    assert [(e.name, e.branch) for e in store.saved] == [("Fine", "feature/x"), ("Empty", None)]
    for said in ("'Ctl': the branch 'a\\nb' holds a control character",
                 "'Blank': the branch is blank", "'Accent': the branch 'café' holds a "
                 "character that is not ASCII", "'Two\\nlines': the name 'Two\\nlines' holds"):
        assert said in str(store.notice), said
    store.save()
    assert json.loads(paths.environments_file.read_text())["environments"][2:] == hand


def test_an_entry_without_origins_gets_its_kind_s_never_the_dev_server_s(app_home):
    """An entry written without `rest_origin` (a hand-written file, an older console) got
    the Dev Server's, so its signing key went to whatever listened on 127.0.0.1:8288; a
    cloud entry without origins sent its events there too."""
    paths = app_paths().ensure()
    paths.environments_file.write_text(json.dumps({"environments": [
        {"name": "Self", "kind": "custom", "event_origin": "http://127.0.0.1:18399"},
        {"name": "Cloud", "kind": "cloud"},
        {"name": "Mine", "kind": "inbox"},
        {"name": "Nowhere", "kind": "custom"}]}))
    store = EnvironmentStore.load(paths, environ={})
    origins = {e.name: (e.event_origin, e.rest_origin) for e in store.saved}
    assert origins == {
        "Self": ("http://127.0.0.1:18399", "http://127.0.0.1:18399"),
        "Cloud": ("https://inn.gs", "https://api.inngest.com"),
        "Mine": ("http://127.0.0.1:8289", "http://127.0.0.1:8289"),
    }
    assert "'Nowhere': no event_origin (where its events go)" in str(store.notice)


def test_fields_of_the_wrong_type_are_named_not_silently_replaced(app_home):
    paths = app_paths().ensure()
    paths.environments_file.write_text(json.dumps({"environments": [
        {"name": "Staging", "kind": "cloud", "branch": 7, "request_limit": "100000",
         "event_limit": None, "paid_plan": "true"}]}))
    store = EnvironmentStore.load(paths, environ={})
    env = store.get("Staging")
    assert (env.branch, env.request_limit, env.event_limit, env.paid_plan) == (
        None, 524_288, 256 * 1024, False)
    notice = str(store.notice)
    assert "'Staging': branch 7 is not text: none is used" in notice
    assert "'Staging': request_limit \"100000\" is not a positive whole number of bytes" in notice
    assert "'Staging': paid_plan \"true\" is not true or false: false is used" in notice
    assert "event_limit" not in notice  # null: the default, as a file may say


def test_a_file_that_cannot_be_read_is_left_alone_and_never_saved_over(app_home):
    """A permission error (a file left by `sudo event-console`) or a folder in its place
    is not a damaged file: it was renamed to .broken, even by `env list`, and the next
    save wrote the defaults in its place."""
    paths = app_paths().ensure()
    paths.environments_file.mkdir()
    store = EnvironmentStore.load(paths, environ={})
    assert [e.name for e in store.saved] == ["Dev Server", "Inbox"]
    assert store.notice is not None and "cannot be read (Is a directory)" in store.notice
    assert "nothing is saved over it" in store.notice
    assert paths.environments_file.is_dir()
    assert not paths.environments_file.with_name("environments.json.broken").exists()
    store.put(Environment("Local", "custom", event_origin="http://127.0.0.1:9999"))
    with pytest.raises(UserError, match=r"not saved: .*environments\.json cannot be read "
                                        r"\(Is a directory\)"):
        store.save()
    assert paths.environments_file.is_dir()


@pytest.mark.parametrize("text", ['{"environments": {"Prod": {}}}', '[1, 2]', '"x"'])
def test_a_file_of_another_shape_is_kept_as_broken_and_said(app_home, text):
    """`"environments": {...}` had read as no environments, without a word, and the next
    save replaced the file with the new entry alone."""
    paths = app_paths().ensure()
    paths.environments_file.write_text(text)
    store = EnvironmentStore.load(paths, environ={})
    assert [e.name for e in store.saved] == ["Dev Server", "Inbox"]
    assert "it holds no list of environments" in str(store.notice)
    assert paths.environments_file.with_name("environments.json.broken").read_text() == text


def test_unknown_environment_message_lists_known(app_home):
    store = EnvironmentStore.load(app_paths(), environ={})
    known = "no environment named 'nope' \\(known: Dev Server, Inbox\\)"
    with pytest.raises(UserError, match=known):
        store.get("nope")


def test_an_exact_name_wins_over_one_in_another_case(app_home):
    paths = app_paths().ensure()
    store = EnvironmentStore.load(paths, environ={})
    store.put(cloud("Prod"))
    with pytest.raises(UserError, match="an environment named 'Prod' already exists: names "
                                        "must differ in more than case"):
        store.put(cloud("prod"))
    assert store.get("PROD").name == "Prod"  # one in any case: it is meant
    # a file an older version wrote with both: the exact one, never a guess
    store.save()
    data = json.loads(paths.environments_file.read_text())
    data["environments"].append(dict(data["environments"][-1], name="prod",
                                     event_origin="http://127.0.0.1:9102"))
    paths.environments_file.write_text(json.dumps(data))
    both = EnvironmentStore.load(paths, environ={})
    assert both.get("prod").event_origin == "http://127.0.0.1:9102"
    assert both.get("Prod").event_origin == "https://inn.gs"
    with pytest.raises(UserError, match="'PROD' could be any of 'Prod', 'prod': give the name "
                                        "exactly"):
        both.get("PROD")
    both.put(dataclasses.replace(both.get("prod"), branch="b"), replacing="prod")  # itself
    assert both.get("prod").branch == "b" and both.get("Prod").branch is None


@pytest.mark.parametrize(("environ", "event_origin", "rest_origin", "key"), [
    ({"INNGEST_EVENT_KEY": "k"}, CLOUD_EVENT_ORIGIN, "https://api.inngest.com", "k"),
    ({"INNGEST_DEV": "1"}, "http://127.0.0.1:8288", "http://127.0.0.1:8288", DEV_PLACEHOLDER_KEY),
    # a word is dev mode at the default Dev Server (the target had been http://yes)
    ({"INNGEST_DEV": "yes"}, "http://127.0.0.1:8288", "http://127.0.0.1:8288",
     DEV_PLACEHOLDER_KEY),
    ({"INNGEST_DEV": "On"}, "http://127.0.0.1:8288", "http://127.0.0.1:8288",
     DEV_PLACEHOLDER_KEY),
    ({"INNGEST_DEV": "localhost:9999"}, "http://localhost:9999", "http://localhost:9999",
     DEV_PLACEHOLDER_KEY),
    ({"INNGEST_DEV": "off", "INNGEST_EVENT_KEY": "k"}, CLOUD_EVENT_ORIGIN,
     "https://api.inngest.com", "k"),
    ({"INNGEST_DEV": "http://localhost:9999/"}, "http://localhost:9999", "http://localhost:9999",
     DEV_PLACEHOLDER_KEY),
    ({"INNGEST_DEV": "1", "INNGEST_BASE_URL": "http://127.0.0.1:7000"},
     "http://127.0.0.1:7000", "http://127.0.0.1:7000", DEV_PLACEHOLDER_KEY),
    ({"INNGEST_BASE_URL": "https://self.example", "INNGEST_EVENT_API_BASE_URL": "https://ev.example",
      "INNGEST_EVENT_KEY": "k"}, "https://ev.example", "https://self.example", "k"),
    ({"INNGEST_DEV": "0", "INNGEST_EVENT_KEY": "k", "INNGEST_API_BASE_URL": "https://api.x"},
     CLOUD_EVENT_ORIGIN, "https://api.x", "k"),
])
def test_sdk_variables_like_the_sdks(environ, event_origin, rest_origin, key):
    sdk = from_sdk_variables(environ)
    assert sdk is not None
    assert (sdk.environment.event_origin, sdk.environment.rest_origin, sdk.event_key) == (
        event_origin, rest_origin, key)


def test_sdk_target_wins_and_carries_branch_and_signing_key(app_home):
    environ = {"INNGEST_EVENT_KEY": "k", "INNGEST_ENV": "pr-12", "INNGEST_SIGNING_KEY": "signkey"}
    store = EnvironmentStore.load(app_paths(), environ=environ)
    env = store.default()
    assert env.name == "From environment" and env.branch == "pr-12"
    assert store.sdk.signing_key == "signkey"
    assert from_sdk_variables({"INNGEST_SIGNING_KEY": "x", "INNGEST_ENV": "b"}) is None
    # the history keeps its sends under where the variables point (each server's ids apart)
    assert env.history_name == "From environment (https://inn.gs, branch pr-12)"
    assert store.get(env.history_name) is env  # History's "Send again" to "its environment"
    assert store.get("Dev Server").history_name == "Dev Server"
    with pytest.raises(UserError):
        store.get("From environment (http://127.0.0.1:9999)")  # the variables moved on


@pytest.mark.parametrize(("environ", "limit"), [
    ({"INNGEST_EVENT_KEY": "k"}, 256 * 1024),  # Cloud
    ({"INNGEST_EVENT_KEY": "k", "INNGEST_BASE_URL": "https://inn.gs"}, 256 * 1024),
    ({"INNGEST_EVENT_KEY": "k", "INNGEST_EVENT_API_BASE_URL": "https://INN.GS/"}, 256 * 1024),
    ({"INNGEST_EVENT_KEY": "k", "INNGEST_BASE_URL": "https://api.inngest.com"}, 256 * 1024),
    # a self-hosted server: 3 MiB, as when it is saved as an environment (it was Cloud's)
    ({"INNGEST_EVENT_KEY": "k", "INNGEST_BASE_URL": "https://inngest.internal.example.com"},
     3 * 1024 * 1024),
    ({"INNGEST_EVENT_KEY": "k", "INNGEST_EVENT_API_BASE_URL": "http://10.0.0.5:8288"},
     3 * 1024 * 1024),
    ({"INNGEST_EVENT_KEY": "k", "INNGEST_BASE_URL": "https://inn.gs.example.org"},
     3 * 1024 * 1024),
    ({"INNGEST_DEV": "1"}, 3 * 1024 * 1024),
])
def test_the_variables_per_event_limit_is_cloud_s_for_cloud_alone(environ, limit):
    sdk = from_sdk_variables(environ)
    assert sdk is not None and sdk.environment.event_limit == limit


def test_the_signing_key_from_the_variables_never_goes_to_a_dev_server():
    """INNGEST_DEV with INNGEST_SIGNING_KEY: the runs lookup sent the production signing
    key as a bearer token to the Dev Server (a saved Dev Server never gets one)."""
    dev = from_sdk_variables({"INNGEST_DEV": "http://127.0.0.1:9",
                              "INNGEST_SIGNING_KEY": "signkey-prod-1"})
    assert dev is not None and dev.signing_key is None
    for base in ("http://127.0.0.1:8288", "127.0.0.1:8288", "HTTP://127.0.0.1:8288",
                 "http://[::1]:8288", "http://localhost:8288"):
        local = from_sdk_variables({"INNGEST_BASE_URL": base,
                                    "INNGEST_SIGNING_KEY": "signkey-prod-1"})
        assert local is not None and local.signing_key is None, base
        assert local.event_key == DEV_PLACEHOLDER_KEY, base  # taken for a Dev Server
    cloud_sdk = from_sdk_variables({"INNGEST_EVENT_KEY": "k",
                                    "INNGEST_SIGNING_KEY": "signkey-prod-1"})
    assert cloud_sdk is not None and cloud_sdk.signing_key == "signkey-prod-1"


def test_an_origin_urlsplit_cannot_split_is_shown_and_refused_not_raised(app_home):
    assert shown_origin("http://u:pw@[::1") == "http://****@[::1"
    store = EnvironmentStore.load(app_paths(), environ={"INNGEST_BASE_URL": "http://[::1"})
    env = store.default()  # the window's start had raised ValueError here
    with pytest.raises(UserError, match=r"is not a URL"):
        health_origin(env)


@pytest.mark.parametrize("origin", ["http://[::1]]:80", "http://[::1]x:80",
                                    "http://[::1]:80]", "http://[not-ip]:80"])
def test_an_origin_whose_brackets_hold_more_or_less_than_an_ipv6_address_is_refused(origin):
    """urlsplit reads host ::1 in `http://[::1]]:80`: the origin was saved, and each send
    then failed with "not a valid URL"."""
    assert origin_problem(origin) is not None
    assert origin_problem("http://[::1]:8288") is None
    assert origin_problem("http://[::1]") is None


def test_a_cloud_environment_written_without_limits_gets_the_clouds(app_home):
    """A hand-written entry of kind cloud got the self-hosted 3 MiB event limit, and events
    Inngest Cloud's free plan refuses were planned as fine."""
    config = app_paths().environments_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"environments": [
        {"name": "Free", "kind": "cloud"},
        {"name": "Paid", "kind": "cloud", "paid_plan": True},
        {"name": "Mine", "kind": "cloud", "event_limit": 1000}]}))
    store = EnvironmentStore.load(app_paths())
    assert [store.get(n).event_limit for n in ("Free", "Paid", "Mine")] == [
        256 * 1024, 3 * 1024 * 1024, 1000]


def test_saves_from_several_processes_keep_each_others_changes(app_home):
    """The window saves its list when it closes: an `env add` made meanwhile in a terminal
    was gone, and an `env remove` came back (with its keys already deleted)."""
    from console.services.environments import Environment, EnvironmentStore

    first = EnvironmentStore.load(app_paths())
    first.put(Environment("Before", "custom", event_origin="http://10.0.0.5:8288"))
    first.save()
    window = EnvironmentStore.load(app_paths())  # open all along
    window.selected = "Inbox"
    terminal = EnvironmentStore.load(app_paths())
    terminal.put(cloud("Staging"))
    terminal.remove("Before")
    terminal.save()
    window.put(dataclasses.replace(window.get("Dev Server"), request_limit=1000),
               replacing="Dev Server")
    window.save()  # as at close
    again = EnvironmentStore.load(app_paths())
    assert again.names() == ["Dev Server", "Inbox", "Staging"]
    assert again.get("Dev Server").request_limit == 1000 and again.selected == "Inbox"
    assert window.names() == again.names()  # and the window now knows them
    # a rename here and an edit of the same entry there: the last save wins, no duplicate
    window.put(dataclasses.replace(window.get("Staging"), name="Stage"), replacing="Staging")
    terminal = EnvironmentStore.load(app_paths())
    terminal.put(dataclasses.replace(terminal.get("Staging"), branch="b1"), replacing="Staging")
    terminal.save()
    window.save()
    assert EnvironmentStore.load(app_paths()).names() == ["Dev Server", "Inbox", "Stage"]


def test_a_change_for_this_session_only_is_never_saved(app_home):
    """With port 8289 taken (a second window), the Inbox listened elsewhere and that port
    was saved: every later start used it, and an app pointed at 8289 found nothing."""
    store = EnvironmentStore.load(app_paths())
    inbox = store.get("Inbox")
    moved = dataclasses.replace(inbox, event_origin="http://127.0.0.1:35617",
                                rest_origin="http://127.0.0.1:35617")
    store.put(moved, replacing="Inbox", session_only=True)
    store.selected = "Inbox"
    store.save()
    assert store.get("Inbox").event_origin == "http://127.0.0.1:35617"  # this session
    saved = EnvironmentStore.load(app_paths())
    assert saved.get("Inbox").event_origin == inbox.event_origin and saved.selected == "Inbox"
    store.remove("Inbox")  # and a real change of it is saved
    store.save()
    assert "Inbox" not in EnvironmentStore.load(app_paths()).names()


def test_a_save_that_fails_changes_nothing_and_revert_drops_the_change(app_home):
    store = EnvironmentStore.load(app_paths())
    store.save()
    config = app_paths().environments_file
    before = config.read_bytes()
    store.put(cloud("Prod"))
    with writes_fail(), pytest.raises(OSError):  # a full disk, as the OS says it
        store.save()
    assert config.read_bytes() == before
    store.revert()
    assert "Prod" not in store.names()
    store.save()
    assert "Prod" not in EnvironmentStore.load(app_paths()).names()


def test_an_edit_of_the_inbox_on_a_port_for_the_session_keeps_the_saved_port(app_home):
    """A second window's Inbox listened on a port of its own; Save in its Environments
    dialog (a new request limit) wrote that port to the file for every later start."""
    store = EnvironmentStore.load(app_paths())
    usual = store.get("Inbox")
    moved = dataclasses.replace(usual, event_origin="http://127.0.0.1:35617",
                                rest_origin="http://127.0.0.1:35617")
    store.put(moved, replacing="Inbox", session_only=True)
    store.put(dataclasses.replace(moved, request_limit=1000), replacing="Inbox")  # the form
    store.save()
    saved = EnvironmentStore.load(app_paths()).get("Inbox")
    assert (saved.event_origin, saved.request_limit) == (usual.event_origin, 1000)
    assert store.get("Inbox").event_origin == "http://127.0.0.1:35617"  # still, here
    store.put(dataclasses.replace(moved, event_origin="http://127.0.0.1:9000",
                                  rest_origin="http://127.0.0.1:9000"), replacing="Inbox")
    store.save()  # an origin the user typed is theirs
    assert EnvironmentStore.load(app_paths()).get("Inbox").event_origin == (
        "http://127.0.0.1:9000")


@pytest.mark.parametrize("here", ["Staging", "staging"])
def test_a_name_saved_meanwhile_elsewhere_is_not_saved_twice(app_home, here):
    """`env add staging` in a terminal while the window added "Staging": both were saved,
    and `env remove STAGING` said "could be any of"; the same name exactly replaced the
    terminal's without a word."""
    window = EnvironmentStore.load(app_paths())
    terminal = EnvironmentStore.load(app_paths())
    terminal.put(cloud("staging"))
    terminal.save()
    window.put(dataclasses.replace(cloud(here), branch="mine"))
    window.selected = "Inbox"
    with pytest.raises(UserError, match="an environment named 'staging' was saved meanwhile"):
        window.save()
    saved = EnvironmentStore.load(app_paths())
    assert [n for n in saved.names() if n.casefold() == "staging"] == ["staging"]
    assert saved.get("staging").branch is None and saved.selected == "Inbox"
    assert window.names() == saved.names()  # the window holds what the file holds


def test_a_refused_rename_leaves_the_selection_and_the_inbox_port_as_they_were(app_home):
    """A rename refused at save (the name taken meanwhile) had moved the selection to the
    new name: the window then picked the first environment, and the file said "QA"; an
    Inbox on a port for this session was sent to the saved port. Editing only the Inbox's
    REST origin saved the session's event port."""
    window = EnvironmentStore.load(app_paths())
    window.put(cloud("Cloud Prod"))
    window.put(cloud("Staging"))
    window.selected = "Staging"
    window.save()
    usual = window.get("Inbox")
    moved = dataclasses.replace(usual, event_origin="http://127.0.0.1:45555",
                                rest_origin="http://127.0.0.1:45555")
    window.put(moved, replacing="Inbox", session_only=True)
    terminal = EnvironmentStore.load(app_paths())
    terminal.put(cloud("qa"))
    terminal.put(cloud("capture"))
    terminal.save()
    window.put(dataclasses.replace(window.get("Staging"), name="QA"), replacing="Staging")
    window.put(dataclasses.replace(moved, name="Capture"), replacing="Inbox")
    with pytest.raises(UserError, match=r"'qa' was saved meanwhile.*'capture' was saved"):
        window.save()
    assert window.selected == "Staging" and window.current_name("Staging") == "Staging"
    assert window.get("Inbox").event_origin == "http://127.0.0.1:45555"  # this session's
    on_disk = EnvironmentStore.load(app_paths())
    assert on_disk.selected == "Staging" and on_disk.get("Inbox").event_origin == (
        usual.event_origin)
    window.put(dataclasses.replace(window.get("Inbox"), rest_origin="http://127.0.0.1:7777"),
               replacing="Inbox")
    window.save()
    inbox = EnvironmentStore.load(app_paths()).get("Inbox")
    assert (inbox.event_origin, inbox.rest_origin) == (usual.event_origin,
                                                       "http://127.0.0.1:7777")
    assert window.get("Inbox").event_origin == "http://127.0.0.1:45555"


@pytest.mark.parametrize("change", ["remove", "rename"])
def test_a_second_entry_of_a_removed_or_renamed_name_does_not_take_its_place(app_home, change):
    """Two "Staging" entries: removing the one in use brought the other back (another
    origin, no key), and the selection, still "Staging", went to it."""
    paths = app_paths().ensure()
    paths.environments_file.write_text(json.dumps({"selected": "Staging", "environments": [
        {"name": "Staging", "kind": "custom", "event_origin": "https://staging.example.test"},
        {"name": "Staging", "kind": "custom", "event_origin": "https://old.example.test"},
        {"name": "Other", "kind": "Bogus"}]}))
    store = EnvironmentStore.load(paths, environ={})
    if change == "remove":
        store.remove("Staging")
    else:
        store.put(dataclasses.replace(store.get("Staging"), name="Stage"), replacing="Staging")
    store.save()
    written = json.loads(paths.environments_file.read_text())["environments"]
    assert [e["name"] for e in written] == (
        ["Other"] if change == "remove" else ["Stage", "Other"])
    again = EnvironmentStore.load(paths, environ={})
    assert "Staging" not in again.names()
    assert {"name": "Other", "kind": "Bogus"} in written  # what was not that name stays
