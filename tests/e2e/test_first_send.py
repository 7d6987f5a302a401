"""A new user's first send goes to the Dev Server (picked at first start), often not
running yet: the failure says what to do next."""

from __future__ import annotations

import socket


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_dev_server_that_is_not_running_gets_a_hint(cli, tmp_path):
    origin = f"http://127.0.0.1:{_closed_port()}"
    added = cli("env", "add", "Local Dev", "--kind", "dev", "--event-origin", origin)
    assert added.returncode == 0, added.stderr
    path = tmp_path / "e.json"
    path.write_text('{"name": "app/first", "data": {}}')
    done = cli("send", "--env", "Local Dev", "--no-history", str(path))
    assert done.returncode == 1
    port = origin.rsplit(":", 1)[1]  # not the Dev Server's 8288: the commands name it
    assert done.stderr.strip().endswith(
        f"event-console: nothing answers at {origin}: is the Dev Server running? Start it "
        f"with `npx inngest-cli@latest dev --port {port}`, or run `event-console inbox "
        f"--port {port}` in another "
        "terminal: it listens where the Dev Server would"), done.stderr


def test_a_server_that_answers_with_an_error_gets_no_such_hint(cli, tmp_path):
    from tests.support.fault_server import FaultServer, Reply

    path = tmp_path / "e.json"
    path.write_text('{"name": "app/first", "data": {}}')
    with FaultServer() as server:
        server.script(*[Reply(status=500)] * 5)
        added = cli("env", "add", "Local Dev", "--kind", "dev", "--event-origin", server.origin)
        assert added.returncode == 0, added.stderr
        done = cli("send", "--env", "Local Dev", "--no-history", str(path))
    assert done.returncode == 1
    assert "Dev Server running" not in done.stderr
