import pytest
from keyring.backends import fail

from console.core.errors import UserError
from console.services.environments import EnvironmentStore, cloud
from console.services.paths import app_paths
from console.services.secrets import KeyringUnavailable, SecretStore
from console.services.targets import resolve_target
from tests.support.keyrings import store_bytes


def test_round_trip_on_the_real_secret_service(keyring_backend, app_home):
    import keyring

    secrets = SecretStore(service="event-console-test")
    secrets.set("Prod", "event", "evt-key-0001")
    secrets.set("Prod", "signing", "signkey-prod-0002")
    assert type(keyring.get_keyring()).__module__ == "keyring.backends.SecretService"
    assert SecretStore(service="event-console-test").get("Prod", "event") == "evt-key-0001"
    assert keyring.get_password("event-console-test", "Prod/signing") == "signkey-prod-0002"
    secrets.rename("Prod", "Production")
    assert secrets.get("Prod", "event") is None
    assert secrets.get("Production", "event") == "evt-key-0001"
    secrets.delete("Production", "event")
    secrets.delete("Production", "signing")
    assert secrets.get("Production", "event") is None


@pytest.fixture
def no_keyring():
    import keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_no_backend_says_so_and_how_to_fix(no_keyring, app_home):
    secrets = SecretStore()
    assert "no keyring backend" in secrets.backend_problem()
    with pytest.raises(KeyringUnavailable) as info:
        secrets.set("Prod", "event", "k-123456789")
    message = str(info.value)
    assert message.startswith("No usable keyring")
    assert "INNGEST_EVENT_KEY" in message and "Secret Service" in message
    assert "k-123456789" not in message


def test_session_only_keys_work_without_a_keyring(no_keyring, app_home):
    secrets = SecretStore()
    secrets.set("Prod", "event", "k-session-0001", session_only=True)
    assert secrets.get("Prod", "event") == "k-session-0001"


def test_target_key_order(no_keyring, app_home):
    from console.services.environments import cloud

    store = EnvironmentStore.load(app_paths(), environ={})
    store.put(cloud("Prod"))
    secrets = SecretStore()
    # Dev Server works with the SDK's placeholder key when nothing is stored
    dev = resolve_target(store.get("Dev Server"), store, secrets, environ={})
    assert (dev.target.event_key, dev.key_source) == ("NO_EVENT_KEY_SET", "placeholder")
    # Cloud without any key: the keyring problem is the message, in the words
    # backend_problem uses (not keyring's paragraph about PyPI packages)
    with pytest.raises(KeyringUnavailable) as info:
        resolve_target(store.get("Prod"), store, secrets, environ={})
    assert str(info.value).startswith(
        "No usable keyring: no keyring backend is installed or none is running. Install")
    assert "pypi" not in str(info.value).lower() and ".." not in str(info.value)
    from_env = resolve_target(store.get("Prod"), store, secrets,
                              environ={"INNGEST_EVENT_KEY": "ek"})
    assert (from_env.target.event_key, from_env.key_source) == ("ek", "INNGEST_EVENT_KEY")
    secrets.set("Prod", "event", "k-session-0001", session_only=True)
    session = resolve_target(store.get("Prod"), store, secrets, environ={})
    assert (session.target.event_key, session.key_source) == ("k-session-0001", "session")


def test_missing_cloud_key_says_how_to_set_it(keyring_backend, app_home):
    from console.services.environments import cloud

    store = EnvironmentStore.load(app_paths(), environ={})
    store.put(cloud("Prod Unset Key"))
    with pytest.raises(UserError, match="event-console env set-key"):
        resolve_target(store.get("Prod Unset Key"), store,
                       SecretStore(service="event-console-test"), environ={})


def test_the_signing_key_variable_goes_only_where_a_signing_key_is_asked_for(no_keyring,
                                                                            app_home):
    """INNGEST_SIGNING_KEY went as a bearer token to the runs lookup of any server: a Dev
    Server, the inbox, a `--url` host."""
    from console.services.environments import cloud
    from console.services.targets import adhoc_environment

    store = EnvironmentStore.load(app_paths(), environ={})
    store.put(cloud("Prod"))
    environ = {"INNGEST_EVENT_KEY": "ek", "INNGEST_SIGNING_KEY": "signkey-prod-0001"}
    secrets = SecretStore()
    for env in (store.get("Dev Server"), store.get("Inbox"),
                adhoc_environment("http://127.0.0.1:9102")):
        assert resolve_target(env, store, secrets, environ=environ).signing_key is None
    assert resolve_target(store.get("Prod"), store, secrets,
                          environ=environ).signing_key == "signkey-prod-0001"
    # one kept for the Dev Server on purpose is used
    secrets.set("Dev Server", "signing", "signkey-dev-0002", session_only=True)
    assert resolve_target(store.get("Dev Server"), store, secrets,
                          environ=environ).signing_key == "signkey-dev-0002"


def test_a_locked_keyring_still_drops_both_session_keys_of_a_removed_environment(app_home):
    """The signing key stayed in memory (the event key's delete raised first) and was sent
    to a new environment of the same name."""
    from tests.support.keyrings import LockedKeyring, using

    secrets = SecretStore()
    secrets.set("Prod", "event", "evt-session-0001", session_only=True)
    secrets.set("Prod", "signing", "signkey-session-0002", session_only=True)
    with using(LockedKeyring()), pytest.raises(KeyringUnavailable, match="locked"):
        secrets.delete_all("Prod")
    assert secrets.session == {}


def test_a_backend_that_quotes_the_key_in_its_error_is_masked(app_home):
    from tests.support.keyrings import QuotingKeyring, using

    with using(QuotingKeyring()), pytest.raises(KeyringUnavailable) as info:
        SecretStore().set("Prod", "event", "evtkey_SECRET0000ET42")
    assert "SECRET" not in str(info.value)
    assert "could not encode secret '****ET42' for Prod/event" in str(info.value)


@pytest.mark.parametrize(("key", "said"), [
    ("QAPASTE-line1\nQAPASTE-line2", "the key holds a line break (character 14)"),
    ("abc def-tail", "the key holds a space or a tab (character 4)"),
    ("sign-ключ-tail", "the key holds a character that is not printable ASCII (character 6)"),
    ("ctrl\x01tail", "the key holds a character that is not printable ASCII (character 5)"),
    ("https://inn.gs/e/QAKEY-tail", 'the key holds a "/" (character 7): give the key alone'),
])
def test_a_key_that_cannot_be_one_is_refused_and_not_stored(keyring_backend, app_home,
                                                            key, said):
    """A pasted key with a line in it, a space (its /e/ path was masked only up to the
    space in a redirect), a character an Authorization header cannot hold (the runs
    lookup raised after the send): each was stored and failed later."""
    secrets = SecretStore(service="event-console-test")
    for session_only in (False, True):
        with pytest.raises(UserError) as refused:
            secrets.set("Odd", "signing", key, session_only=session_only)
        assert str(refused.value).startswith(said)
        assert key not in str(refused.value) and "tail" not in str(refused.value)
    assert secrets.get("Odd", "signing") is None
    secrets.set("Odd", "signing", "signkey-prod-0a1b~._")
    assert secrets.get("Odd", "signing") == "signkey-prod-0a1b~._"
    secrets.delete("Odd", "signing")


@pytest.mark.parametrize("variable", ["INNGEST_EVENT_KEY", "INNGEST_SIGNING_KEY"])
def test_a_key_from_a_variable_is_checked_as_a_stored_one(no_keyring, app_home, variable):
    """'ab cd' went out as /e/ab%20cd; a signing key with an é made the runs lookup say
    the server "did not answer", though nothing was asked."""
    store = EnvironmentStore.load(app_paths(), environ={})
    store.put(cloud("Cloud"))
    environ = {"INNGEST_EVENT_KEY": "evt-ok-1234", variable: "ab cd-tail"}
    with pytest.raises(UserError) as refused:
        resolve_target(store.get("Cloud"), store, SecretStore(), environ=environ)
    assert str(refused.value) == (f"{variable}: the key holds a space or a tab (character 3): "
                                  "a key is one word; paste it again, whole")
    if variable == "INNGEST_SIGNING_KEY":  # a Dev Server is never sent one: no matter
        resolve_target(store.get("Dev Server"), store, SecretStore(), environ=environ)
    sdk = EnvironmentStore.load(app_paths(), environ=environ)  # the From environment target
    with pytest.raises(UserError, match=rf"^{variable}: the key holds a space"):
        resolve_target(sdk.default(), sdk, SecretStore(), environ=environ)


@pytest.mark.parametrize(("kind", "stored", "said"), [
    ("event", "evtkey-with-newline-9999\n", "the key holds a line break (character 25)"),
    ("event", "evtkey with-space-9999", "the key holds a space or a tab (character 7)"),
    ("signing", "signkey-prod-ü-9999", "the key holds a character that is not printable"),
])
def test_a_key_another_tool_stored_is_checked_before_it_is_sent(keyring_backend, app_home,
                                                                kind, stored, said):
    """`secret-tool store` (or a script) kept a key with a trailing line break: it went
    into the URL (/e/<key>%0A) and all the user saw was the server's 401 "Event key not
    found"."""
    import keyring

    store = EnvironmentStore.load(app_paths(), environ={})
    store.put(cloud("Self"))
    secrets = SecretStore(service="event-console-test")
    secrets.set("Self", "event", "evtkey-good-0001")
    keyring.set_password("event-console-test", f"Self/{kind}", stored)
    try:
        with pytest.raises(UserError) as refused:
            resolve_target(store.get("Self"), store, secrets, environ={})
    finally:
        secrets.delete_all("Self")
    message = str(refused.value)
    assert message.startswith(f"the {kind} key kept for 'Self' cannot be used: {said}"), message
    assert message.endswith(f"(set it again with `event-console env set-key Self"
                            f"{' --signing' if kind == 'signing' else ''}`, or in "
                            "Environments…)")
    assert stored.strip() not in message and "9999" not in message


def test_a_key_that_is_not_text_is_said_as_such_not_as_no_keyring(keyring_backend, app_home):
    """Bytes that are not UTF-8 read as "No usable keyring: UnicodeDecodeError …", with
    advice to install a Secret Service that was running."""
    store_bytes("event-console-test", "Self/event", b"\xff\xfe-not-text")
    store = EnvironmentStore.load(app_paths(), environ={})
    store.put(cloud("Self"))
    secrets = SecretStore(service="event-console-test")
    try:
        with pytest.raises(UserError) as refused:
            resolve_target(store.get("Self"), store, secrets, environ={})
    finally:
        secrets.delete_all("Self")
    assert not isinstance(refused.value, KeyringUnavailable)
    assert str(refused.value) == (
        "the event key kept for 'Self' in the keyring is not text (not UTF-8): set it again"
        " with `event-console env set-key Self`, or in Environments…")


def test_keyrings_null_backend_is_named_when_a_key_is_wanted(app_home):
    """PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring: `send` said "no event key: set
    one with env set-key", which then refused: the null backend keeps nothing."""
    import keyring
    from keyring.backends import null

    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    try:
        store = EnvironmentStore.load(app_paths(), environ={})
        store.put(cloud("Cloud"))
        with pytest.raises(KeyringUnavailable, match="null backend"):
            resolve_target(store.get("Cloud"), store, SecretStore(), environ={})
        # a key from the environment still works, and the Dev Server needs none
        resolve_target(store.get("Cloud"), store, SecretStore(),
                       environ={"INNGEST_EVENT_KEY": "evt-ok-1234"})
        resolve_target(store.get("Dev Server"), store, SecretStore(), environ={})
    finally:
        keyring.set_keyring(previous)


def test_the_dev_server_hint_is_for_a_local_dev_server_that_does_not_answer(app_home):
    """`send --url https://inn.gs` offline, a certificate refused, a proxy down: each had
    been told to start a Dev Server."""
    from console.services.client import THROUGH_PROXY
    from console.services.environments import Environment
    from console.services.targets import not_running_hint

    local = Environment("Dev", "dev", "http://127.0.0.1:8288", "http://127.0.0.1:8288")
    remote = Environment("https://inn.gs", "dev", "https://inn.gs", "https://inn.gs")
    refused = ("could not connect to http://127.0.0.1:8288/e/****: connection refused: "
               "nothing listens there (gave up after 5 attempts)")
    assert not_running_hint(local, refused, window=False) is not None
    assert not_running_hint(remote, refused.replace("http://127.0.0.1:8288", "https://inn.gs"),
                            window=False) is None
    cert = ("could not connect to https://127.0.0.1:8288/e/****: [SSL: "
            "CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    assert not_running_hint(local, cert, window=False) is None
    proxied = refused.replace(": connection", f" {THROUGH_PROXY}: connection")
    assert not_running_hint(local, proxied, window=False) is None
    # the Inbox environment with no inbox running: said how to start one (it said nothing)
    inbox = Environment("Inbox", "inbox", "http://127.0.0.1:8289", "http://127.0.0.1:8289")
    to_inbox = refused.replace("8288", "8289")
    assert not_running_hint(inbox, to_inbox, window=False) == (
        "nothing answers at http://127.0.0.1:8289: the built-in inbox listens while the "
        "window is open, or run `event-console inbox --port 8289` in another terminal")
    assert not_running_hint(inbox, to_inbox, window=True) is None  # the window's own moves
    # a Dev Server on another port: the commands name it
    elsewhere = Environment("Dev", "dev", "http://127.0.0.1:9999", "http://127.0.0.1:9999")
    hint = not_running_hint(elsewhere, refused.replace("8288", "9999"), window=False)
    assert hint is not None and "`npx inngest-cli@latest dev --port 9999`" in hint
    assert "`event-console inbox --port 9999`" in hint


def test_the_set_key_command_in_the_message_can_be_pasted(keyring_backend, app_home):
    """`event-console env set-key My Env` was "unrecognized arguments: Env"."""
    import keyring

    store = EnvironmentStore.load(app_paths(), environ={})
    store.put(cloud("My Env"))
    keyring.set_password("event-console-test", "My Env/signing", "signkey-ok\n")
    secrets = SecretStore(service="event-console-test")
    secrets.set("My Env", "event", "evtkey-good-0001")
    try:
        with pytest.raises(UserError) as refused:
            resolve_target(store.get("My Env"), store, secrets, environ={})
    finally:
        secrets.delete_all("My Env")
    assert "(set it again with `event-console env set-key 'My Env' --signing`, or in " \
        "Environments…)" in str(refused.value)


def test_a_rename_moves_the_keys_it_can_read_and_says_what_became_of_the_other(
        keyring_backend, app_home):
    """A signing key that is not text stopped the rename half way: the event key moved,
    the message said every key stayed under the old name, and named a command for it."""
    secrets = SecretStore(service="event-console-test")
    secrets.set("Old", "event", "evtkey-good-0001")
    store_bytes("event-console-test", "Old/signing", b"\xff\xfe-not-text")
    try:
        with pytest.raises(UserError) as said:
            secrets.rename("Old", "New")
        assert str(said.value) == (
            "the signing key kept for 'Old' was not text (not UTF-8), so it was removed: set "
            "one for 'New' with `event-console env set-key New --signing`")
        assert secrets.get("New", "event") == "evtkey-good-0001"
        assert secrets.get("Old", "event") is None and secrets.get("Old", "signing") is None
    finally:
        secrets.delete_all("Old")
        secrets.delete_all("New")
