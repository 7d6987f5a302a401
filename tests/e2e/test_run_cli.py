"""`event-console run` as a subprocess against a real inbox: lines, exit codes, files."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
from pathlib import Path

import pytest
from lxml import etree

from tests.support.inbox_thread import running_inbox

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
XSD = Path(__file__).resolve().parents[1] / "support" / "junit.xsd"
KEY = {"INNGEST_EVENT_KEY": "ci-key-0123456789"}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "qa"
    shutil.copytree(EXAMPLES, folder)
    (folder / "schemas").mkdir()
    return folder


def lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def write_scenario(workspace: Path, name: str, steps: list, **extra) -> Path:
    path = workspace / "scenarios" / f"{name}.json"
    doc = {"format": "event-console/scenario@1", "name": name, "steps": steps, **extra}
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def test_the_example_scenario_passes_against_the_inbox(cli, workspace, tmp_path):
    junit = tmp_path / "out" / "junit.xml"
    report = tmp_path / "report.json"
    with running_inbox() as inbox:
        proc = cli("run", str(workspace / "scenarios" / "checkout.json"), "--url", inbox.url,
                   "--seed", "11", "--junit", str(junit), "--report", str(report),
                   "--verify-window", "0.6", env=KEY)
        captured = inbox.events()
    assert proc.returncode == 0, proc.stderr
    results = lines(proc.stdout)
    assert [(r["name"], r["state"]) for r in results] == [
        ("order", "passed"), ("wait 2", "passed"), ("payment", "passed"),
        ("order_again", "passed")]
    assert results[0]["ids"] == [captured[0].internal_id]
    assert results[0]["dedup"] == [{"verdict": "new", "message": results[0]["dedup"][0]
                                    ["message"]}]
    assert [r["runs"][0]["outcome"] for r in (results[0], results[2])] == ["ran", "ran"]
    assert results[1]["kind"] == "wait" and "runs" not in results[1]
    assert results[3]["dedup"][0]["verdict"] == "duplicate"
    assert results[3]["runs"][0]["outcome"] == "deduplicated"
    assert results[3]["runs"][0]["detail"].startswith(
        f"deduplicated: no runs (first seen as {captured[0].internal_id} at ")
    assert captured[2].event["id"] == captured[0].event["id"]
    assert captured[1].event["data"]["orderEventId"] == captured[0].internal_id
    err = proc.stderr.splitlines()
    assert err[-1] == ("event-console: checkout: 4 passed (seed 11); "
                       "events: 3 accepted · 1 deduplicated · 2 ran")
    assert err[0].startswith("event-console: event #1: ")  # the ledger warns before sending
    history = lines(cli("history", "--json").stdout)
    assert len(history) == 3
    assert {(h["scenario"], h["step"]) for h in history} == {
        ("checkout", "order"), ("checkout", "payment"), ("checkout", "order_again")}
    assert etree.XMLSchema(etree.parse(str(XSD))).validate(etree.parse(str(junit)))
    saved = json.loads(report.read_text())
    assert saved["passed"] and saved["seed"] == 11 and len(saved["results"]) == 4
    assert KEY["INNGEST_EVENT_KEY"] not in proc.stdout + proc.stderr + report.read_text()
    assert KEY["INNGEST_EVENT_KEY"] not in junit.read_text()


def test_every_send_step_is_verified_unless_no_verify(cli, workspace):
    write_scenario(workspace, "plain", [{"send": {"name": "qa/plain", "data": {}}}])
    run = ("run", "plain", "--workspace", str(workspace), "--verify-window", "0.6")
    with running_inbox() as inbox:
        verified = cli(*run, "--url", inbox.url, env=KEY)
        skipped = cli(*run, "--url", inbox.url, "--no-verify", env=KEY)
        bare = cli(*run, "--url", inbox.url, "--no-history", env=KEY)
        captured = inbox.events()
    assert [p.returncode for p in (verified, skipped, bare)] == [0, 0, 0], skipped.stderr
    (line,) = lines(verified.stdout)
    assert line["dedup"][0]["verdict"] == "no dedup id"
    assert line["runs"] == [{"outcome": "ran", "runs": 1, "detail": "ran: 1 run"}]
    (line,) = lines(skipped.stdout)
    assert line["dedup"][0]["verdict"] == "no dedup id" and line["runs"] is None
    summary = r"event-console: plain: 1 passed \(seed \d+\)"
    assert re.fullmatch(summary + "; events: 1 accepted · 1 ran",
                        verified.stderr.splitlines()[-1])
    assert re.fullmatch(summary, skipped.stderr.splitlines()[-1])  # nothing looked up
    (line,) = lines(bare.stdout)
    assert line["dedup"] is None  # no ledger without a history
    assert line["runs"] == [{"outcome": "ran", "runs": 1, "detail": "ran: 1 run"}]
    history = lines(cli("history", "--json").stdout)
    by_id = {h["internal_id"]: h for h in history}
    assert len(captured) == 3 and set(by_id) == {e.internal_id for e in captured[:2]}
    assert by_id[captured[0].internal_id]["outcome"] == "ran"
    assert by_id[captured[1].internal_id]["outcome"] == "accepted"  # never polled


def test_runs_entries_have_the_same_keys_with_and_without_history(cli, workspace):
    """`--no-history` printed `{"outcome": "ran"}` where the history printed `outcome`,
    `runs` and `detail`: a CI script reading `detail` broke on the other mode."""
    write_scenario(workspace, "rep", [{"send": {"name": "r/x", "id": "rep-fixed3"},
                                       "repeat": 3, "expect": {"dedup": "deduplicated"}}])
    run = ("run", "rep", "--workspace", str(workspace), "--verify-window", "1")
    with running_inbox() as inbox:  # each its own inbox: both see the id for the first time
        recorded = cli(*run, "--url", inbox.url, env=KEY)
    with running_inbox() as inbox:
        bare = cli(*run, "--url", inbox.url, "--no-history", env=KEY)
    for proc in (recorded, bare):
        assert proc.returncode == 1, proc.stderr  # the first send runs: not deduplicated
        results = lines(proc.stdout)
        assert [r["state"] for r in results] == ["failed", "passed", "passed"]
    expected = [{"outcome": "ran", "runs": 1, "detail": "ran: 1 run"},
                {"outcome": "deduplicated", "runs": 0},
                {"outcome": "deduplicated", "runs": 0}]
    for proc in (recorded, bare):
        runs = [r["runs"][0] for r in lines(proc.stdout)]
        assert [{k: v for k, v in r.items() if k != "detail" or v.startswith("ran")}
                for r in runs] == expected
        assert all(r["detail"].startswith("deduplicated: no runs") for r in runs[1:])


def test_a_dry_run_sends_nothing(cli, workspace):
    with running_inbox() as inbox:
        proc = cli("run", "checkout", "--workspace", str(workspace), "--url", inbox.url,
                   "--dry-run", "--var", "amount=7")
        assert inbox.events() == []
    assert proc.returncode == 0, proc.stderr
    results = lines(proc.stdout)
    assert [r["state"] for r in results] == ["dry-run"] * 4
    assert proc.stderr.startswith("event-console: checkout: 4 dry-run (seed ")


def test_data_rows_vars_and_a_seed(cli, workspace, tmp_path):
    write_scenario(workspace, "rows", [{"send": {"template": "order-created"}, "as": "o"}],
                   vars={"order_prefix": "p", "amount": "1"})
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"n": 1}\n{"n": 2}\n{"n": 3}\n')
    with running_inbox() as inbox:
        proc = cli("run", str(workspace / "scenarios" / "rows.json"), "--url", inbox.url,
                   "--data", str(rows), "--seed", "5", "--var", "amount=99",
                   "--verify-window", "0.6", env=KEY)
        payloads = [e.event["data"] for e in inbox.events()]
    assert proc.returncode == 0, proc.stderr
    assert [r["row"] for r in lines(proc.stdout)] == [1, 2, 3]
    assert [d["amount"] for d in payloads] == [99, 99, 99]
    assert [d["orderId"] for d in payloads] == ["p-1", "p-2", "p-3"]
    # the seed fixes Faker: the same names as a dry run with that seed renders
    assert payloads[0]["customer"]["name"] == _dry_name(cli, workspace, rows)


def _dry_name(cli, workspace, rows):
    proc = cli("run", "rows", "--workspace", str(workspace), "--dry-run", "--data", str(rows),
               "--seed", "5", "--report", str(rows.with_suffix(".report.json")))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(rows.with_suffix(".report.json").read_text())
    return report["results"][0]["sent"][0]["data"]["customer"]["name"]


def test_a_failed_expectation_exits_1(cli, workspace):
    write_scenario(workspace, "fails", [
        {"send": {"name": "a/b", "data": {}}, "expect": {"status": 400}},
        {"send": {"name": "a/c", "data": {}}},
    ])
    with running_inbox() as inbox:
        proc = cli("run", "fails", "--workspace", str(workspace), "--url", inbox.url,
                   "--no-verify", env=KEY)
        assert len(inbox.events()) == 2
    assert proc.returncode == 1
    first, second = lines(proc.stdout)
    assert (first["state"], first["reason"]) == ("failed", "expected status 400, got 200")
    assert second["state"] == "passed"
    assert "1 passed, 1 failed" in proc.stderr


def test_invalid_scenarios_exit_2_with_positions_and_send_nothing(cli, workspace):
    write_scenario(workspace, "bad", [{"send": {"template": "missing"}},
                                      {"jump": "1s"}])
    write_scenario(workspace, "refs", [{"send": {"template": "missing"}}])
    write_scenario(workspace, "render", [{"send": {"name": "a", "data": {"x": "{{ row.x }}"}}}])
    with running_inbox() as inbox:
        bad = cli("run", "scenarios/bad.json", "--workspace", str(workspace), "--url",
                  inbox.url, env=KEY)
        refs = cli("run", "refs", "--workspace", str(workspace), "--url", inbox.url, env=KEY)
        render = cli("run", "render", "--workspace", str(workspace), "--url", inbox.url,
                     env=KEY)
        assert inbox.events() == []
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.splitlines() == [
        "scenarios/bad.json:10:5: unknown step kind: a step has exactly one of \"send\" or "
        "\"wait\" (keys found: 'jump')",
        "event-console: nothing sent: 1 problem(s) in scenarios/bad.json",
    ]
    # bad.json did not load: the runs of the other scenarios say so first, as the window does
    skipped = bad.stderr.splitlines()[0]
    assert refs.returncode == 2
    assert refs.stderr.splitlines()[:3] == [
        skipped,
        "event-console: 1 workspace file(s) skipped, listed above; running 'refs' from "
        "scenarios/refs.json",
        "scenarios/refs.json:7:21: no template named 'missing' (templates: order-created)"]
    assert render.returncode == 2
    assert render.stderr.splitlines() == [
        skipped,
        "event-console: 1 workspace file(s) skipped, listed above; running 'render' from "
        "scenarios/render.json",
        "scenarios/render.json:9:17: unknown variable: row has no 'x' (the row is empty)",
        "event-console: nothing sent: 1 problem(s) rendering 'render'",
    ]


def test_a_name_used_twice_and_a_broken_file_are_reported_before_the_run(cli, workspace):
    """A second "checkout" sorting first (aaa-dup.json) ran instead of checkout.json, and
    neither it nor a broken file was mentioned: the run says which file it runs and lists
    what the window lists as skipped, at FILE:LINE:COL."""
    scenarios = workspace / "scenarios"
    (scenarios / "aaa-dup.json").write_text(json.dumps(
        {"format": "event-console/scenario@1", "name": "checkout",
         "steps": [{"send": {"name": "dup/x"}}]}))
    (scenarios / "broken.json").write_text("{broken")
    proc = cli("run", "checkout", "--workspace", str(workspace), "--url",
               "http://127.0.0.1:9", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert len(lines(proc.stdout)) == 1  # the file that is used: the first by file name
    assert proc.stderr.splitlines()[:3] == [
        "scenarios/broken.json:1:2: Property names must be strings in double quotes",
        "scenarios/checkout.json:3:11: scenario name 'checkout' is also used by "
        "scenarios/aaa-dup.json, which is used (it comes first by file name); this file is "
        "ignored",
        "event-console: 2 workspace file(s) skipped, listed above; running 'checkout' from "
        "scenarios/aaa-dup.json",
    ]
    # the file given by its path runs, and is not called skipped
    proc = cli("run", str(scenarios / "checkout.json"), "--url", "http://127.0.0.1:9",
               "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert len(lines(proc.stdout)) == 4
    assert proc.stderr.splitlines()[:2] == [
        "scenarios/broken.json:1:2: Property names must be strings in double quotes",
        "event-console: 1 workspace file(s) skipped, listed above; running 'checkout' from "
        "scenarios/checkout.json"]


def test_link_loops_and_links_out_of_the_workspace_are_skipped_not_fatal(cli, workspace,
                                                                         tmp_path):
    """A link loop in templates/ ended `run` with RuntimeError (Path.resolve); a link to a
    file outside had its first word quoted in the parse error, printed to the CI log."""
    templates = workspace / "templates"
    (templates / "loop1.json").symlink_to(templates / "loop2.json")
    (templates / "loop2.json").symlink_to(templates / "loop1.json")
    secret = tmp_path / "secret.txt"
    secret.write_text("ghp_AbCdEf0123456789SuperSecretTokenValueXYZ")
    (templates / "tok.json").symlink_to(secret)
    proc = cli("run", "checkout", "--workspace", str(workspace), "--url",
               "http://127.0.0.1:9", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "SuperSecret" not in proc.stderr + proc.stdout
    assert proc.stderr.splitlines()[:4] == [
        "templates/loop1.json:1:1: cannot read: Too many levels of symbolic links",
        "templates/loop2.json:1:1: cannot read: Too many levels of symbolic links",
        f"templates/tok.json:1:1: leads through a link to {os.path.realpath(secret)}, outside "
        f"{os.path.realpath(workspace)}: not read",
        "event-console: 3 workspace file(s) skipped, listed above; running 'checkout' from "
        "scenarios/checkout.json"]


def test_a_scenario_given_by_its_path_may_not_lead_out_of_its_workspace(cli, workspace,
                                                                        tmp_path):
    """By name such a link was refused; by path it was read, and the first word of the
    file it leads to was quoted in the parse error a CI log shows."""
    secret = tmp_path / "token.txt"
    secret.write_text("SUPERSECRETTOKEN_12345 more\n")
    (workspace / "scenarios" / "leak.json").symlink_to(secret)
    for path in (str(workspace / "scenarios" / "leak.json"), "scenarios/leak.json"):
        proc = cli("run", path, "--dry-run", cwd=workspace)
        assert proc.returncode == 2, proc.stderr
        assert "SUPERSECRET" not in proc.stderr + proc.stdout
        assert proc.stderr == (f"event-console: {path}: leads through a link to "
                               f"{os.path.realpath(secret)}, outside "
                               f"{os.path.realpath(workspace)}: not read\n")
    # a file outside any workspace, given by its path, is read: the user named it
    elsewhere = tmp_path / "mine.json"
    shutil.copy(workspace / "scenarios" / "checkout.json", elsewhere)
    proc = cli("run", str(elsewhere), "--dry-run", "--workspace", str(workspace))
    assert proc.returncode == 0, proc.stderr


def test_a_data_file_or_scenario_linked_out_of_the_checkout_is_not_read(cli, workspace,
                                                                          tmp_path):
    """A `--data` file committed as a link to ~/.aws/credentials had its lines sent as
    events and written to the --report file; a scenario given by a relative path outside
    the workspace (ci/smoke.json) that linked to a token had the token quoted."""
    secret = tmp_path / "credentials"
    secret.write_text("[default]\naws_secret_access_key = wJalrXUtnFEMI-K7MDENG-SECRET\n")
    (workspace / "data").mkdir()
    (workspace / "data" / "orders.csv").symlink_to(secret)
    (workspace / "ci").mkdir()
    (workspace / "ci" / "smoke.json").symlink_to(secret)
    report = tmp_path / "report.json"
    for args in (["run", "checkout", "--workspace", str(workspace), "--data", "data/orders.csv",
                  "--report", str(report)],
                 ["run", "ci/smoke.json", "--workspace", str(workspace)]):
        proc = cli(*args, "--dry-run", cwd=workspace)
        assert proc.returncode == 2, proc.stderr
        assert "SECRET" not in proc.stderr + proc.stdout
        assert f"leads through a link to {os.path.realpath(secret)}, outside " in proc.stderr
        assert not report.exists()
    # a file the user names by its absolute path, or by `..` out of the folder, is theirs to
    # name, link or not (a plain ../rows.csv had been refused as "leads through a link")
    rows = tmp_path / "rows.csv"
    rows.write_text("order\nA-1\n")
    (tmp_path / "linked.csv").symlink_to(rows)
    for data in (str(tmp_path / "linked.csv"), os.path.relpath(rows, workspace)):
        proc = cli("run", "checkout", "--workspace", ".", "--data", data, "--dry-run",
                   cwd=workspace)
        assert proc.returncode == 0, (data, proc.stderr)


def test_a_template_file_that_did_not_load_is_named_where_its_template_is_missing(
        cli, workspace):
    """A broken order-created.json read "no template named 'order-created' (templates: none
    in this workspace)": the file is there; it did not load."""
    (workspace / "templates" / "order-created.json").write_text('{"format": "event-console')
    proc = cli("run", "checkout", "--workspace", str(workspace), "--dry-run")
    assert proc.returncode == 2
    assert ("no template named 'order-created' (templates: none in this workspace; 1 "
            "template file(s) did not load, and one may be it: templates/order-created.json)"
            ) in proc.stderr, proc.stderr


def test_a_template_name_used_twice_is_reported_before_what_it_breaks(cli, workspace):
    (workspace / "templates" / "000.json").write_text(json.dumps(
        {"format": "event-console/template@1", "name": "order-created",
         "event": {"name": "other/x"}}))
    proc = cli("run", "checkout", "--workspace", str(workspace), "--url",
               "http://127.0.0.1:9", "--dry-run")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines()[:3] == [
        "templates/order-created.json:3:11: template name 'order-created' is also used by "
        "templates/000.json, which is used (it comes first by file name); this file is "
        "ignored",
        "event-console: 1 workspace file(s) skipped, listed above; running 'checkout' from "
        "scenarios/checkout.json",
        "scenarios/checkout.json:27:23: unknown variable: the object has no 'data' (it has: "
        "name)"]


def test_a_scenario_not_found_lists_the_scenario_files_that_did_not_load(cli, workspace):
    (workspace / "scenarios" / "checkout.json").write_text('{"format": "event-console/'
                                                           'scenario@1", "name": checkout}')
    proc = cli("run", "checkout", "--workspace", str(workspace), "--dry-run")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "scenarios/checkout.json:1:48: Unexpected word 'checkout': strings must be in "
        "double quotes",
        f"event-console: no scenario named 'checkout' in {workspace}; 1 scenario file(s) did "
        "not load, and one may be it: scenarios/checkout.json"]


@pytest.mark.parametrize(("args", "message"), [
    (["--var", "novalue"], "event-console: --var 'novalue': expected NAME=VALUE"),
    (["--data", "/nonexistent/rows.csv"],
     "event-console: /nonexistent/rows.csv: cannot read: No such file or directory"),
    (["--junit", "/"], "event-console: --junit /: that is a folder; give a file name"),
    # these gave a traceback once the run had sent everything
    (["--junit", "/dev/null/x.xml"], "event-console: --junit /dev/null/x.xml: /dev/null is "
     "not a folder"),
    (["--report", "/dev/null/more/r.json"], "event-console: --report /dev/null/more/r.json: "
     "/dev/null is not a folder"),
    (["--report", "/proc/version"], "event-console: --report /proc/version: cannot write "
     "there (No such file or directory)"),
    (["--url", ""], "event-console: --url: empty (is the variable it comes from set?)"),
])
def test_bad_options_exit_2(cli, workspace, args, message):
    proc = cli("run", "checkout", "--workspace", str(workspace), "--dry-run", *args)
    assert proc.returncode == 2
    assert proc.stderr.strip() == message


def test_a_seed_is_ascii_digits_as_in_the_window(cli, workspace):
    """int() read "١٢" as 12, which the Scenarios tab's Seed field refuses."""
    for seed in ("\u0661\u0662", "9" * 5000):
        proc = cli("run", "checkout", "--workspace", str(workspace), "--dry-run", "--seed", seed)
        assert proc.returncode == 2
        assert proc.stderr.splitlines()[-1].startswith(
            "event-console run: error: argument --seed: not a whole number: ")


def test_a_scenario_named_as_a_file_in_the_current_folder_is_the_scenario(cli, workspace,
                                                                          tmp_path):
    """`run checkout` beside a shell script named checkout read the script as JSON."""
    (tmp_path / "checkout").write_text("#!/bin/sh\n")
    proc = cli("run", "checkout", "--workspace", str(workspace), "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert lines(proc.stdout)[0]["name"] == "order"
    # a path, or a name with .json, is still the file
    mine = cli("run", "./checkout", "--workspace", str(workspace), "--dry-run", cwd=tmp_path)
    assert mine.returncode == 2 and mine.stderr.startswith("./checkout:1:1: "), mine.stderr


def test_an_unknown_scenario_exits_2(cli, workspace):
    proc = cli("run", "nope", "--workspace", str(workspace), "--dry-run")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"event-console: no scenario named 'nope' in {workspace}"


def test_the_key_comes_from_the_keyring(cli, workspace, keyring_backend):
    key = "keyring-key-9876abcd"
    with running_inbox(event_key=key) as inbox:
        assert cli("env", "add", "QA", "--kind", "custom", "--event-origin",
                   inbox.url).returncode == 0
        assert cli("env", "set-key", "QA", input=key + "\n").returncode == 0
        write_scenario(workspace, "one", [{"send": {"name": "qa/ping", "data": {}}}])
        proc = cli("run", "one", "--workspace", str(workspace), "--env", "QA", "--no-history")
        assert [e.name for e in inbox.events()] == ["qa/ping"]
    assert proc.returncode == 0, proc.stderr
    assert key not in proc.stdout + proc.stderr
    keyring_backend.delete_password("event-console", "QA/event")


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                                   (signal.SIGHUP, 129)],
                         ids=["ctrl-c", "sigterm", "sighup"])
def test_ctrl_c_stops_the_run_and_still_writes_the_report_and_junit(workspace, app_home,
                                                                     tmp_path, signum,
                                                                     exit_code):
    """SIGINT used to end the run with a traceback-free 130 but no line for the step in
    flight, no summary, and neither --junit nor --report written; SIGTERM (a CI job's
    timeout) still ended it at once with none of them."""
    import os

    from tests.support.interrupt import interrupted_run

    write_scenario(workspace, "three", [{"send": {"name": f"c/{i}", "data": {}}}
                                        for i in range(3)])
    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), **KEY)
    code, out, err = interrupted_run(lambda origin: [
        "run", "three", "--workspace", str(workspace), "--url", origin, "--no-verify",
        "--junit", str(junit), "--report", str(report)], environ, signum)
    assert code == exit_code, err
    first, second = lines(out)
    assert first["state"] == "passed"
    assert (second["state"], second["reason"]) == ("cancelled", "stopped")
    assert "interrupted: the step in flight was stopped" in err
    assert "three: 1 passed, 1 stopped (seed " in err  # the word the window uses too
    suite = etree.parse(str(junit)).getroot()
    # the stopped step, and one case for the step never started (it was not listed: a
    # CI page read "2 tests, 0 failures")
    skipped = suite.findall(".//testcase/skipped")
    assert [s.get("message") for s in skipped] == [
        "stopped", "stopped before 1 more send step(s) started"]
    assert suite.find("testsuite").get("tests") == "3"
    assert etree.XMLSchema(etree.parse(str(XSD))).validate(etree.parse(str(junit)))
    saved = json.loads(report.read_text())
    assert saved["cancelled"] is True and saved["not_run"] == 1


def test_ctrl_c_is_heard_while_a_locked_history_is_waited_for(cli, workspace, app_home,
                                                             tmp_path):
    """Another program held the history's write lock as a step opened it: the run waited
    its 5 s for the lock before it heard Ctrl+C."""
    from tests.support.history_lock import interrupted_while_locked

    db = app_home / "data" / "history.sqlite3"
    assert cli("history").returncode == 0  # the file exists before the run
    write_scenario(workspace, "one", [{"send": {"name": "lock/x", "data": {}}}])
    junit = tmp_path / "j.xml"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), **KEY)
    seen = interrupted_while_locked(db, lambda origin: [
        "run", "one", "--workspace", str(workspace), "--url", origin, "--no-verify",
        "--junit", str(junit)], environ)
    assert seen.code == 130, seen.err
    assert seen.heard_in < 3.0  # not after the rest of the 5 s wait
    assert seen.posts == 0
    assert "Traceback" not in seen.err
    [step] = lines(seen.out)
    assert step["state"] == "cancelled"
    assert [s.get("message") for s in etree.parse(str(junit)).getroot().findall(
        ".//testcase/skipped")] == ["stopped"]


def test_a_second_ctrl_c_quits_at_once_without_a_traceback(workspace, app_home):
    """It ended in a CancelledError traceback, with exit 1."""
    from tests.support.interrupt import interrupted_run

    write_scenario(workspace, "three", [{"send": {"name": f"c/{i}", "data": {}}}
                                        for i in range(3)])
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), **KEY)
    code, out, err = interrupted_run(lambda origin: [
        "run", "three", "--workspace", str(workspace), "--url", origin, "--no-verify"],
        environ, signal.SIGINT, again=signal.SIGINT)
    assert code == 130, err
    assert "Traceback" not in err and "CancelledError" not in err, err
    # the step before; and the stopped step, when the first Ctrl+C had stopped it before the
    # second came (a race between the two signals: CI saw both orders)
    assert [line["state"] for line in lines(out)] in (["passed"], ["passed", "cancelled"])


@pytest.mark.parametrize(("dry_run", "bad_first"), [(False, False), (True, False),
                                                     (False, True)],
                         ids=["run", "dry-run", "bad-rows-first"])
def test_ctrl_c_while_many_rows_are_checked_stops_before_anything_is_sent(
        workspace, app_home, tmp_path, dry_run, bad_first):
    """The check before a run rendered every row without giving the loop a turn: Ctrl+C
    was not heard until it ended (19 s for 50,000 rows), and then the first step went out
    anyway, "cancelled" with a request, and an "outcome unknown" row in the history. A dry
    run stopped wrote neither --junit nor a summary."""
    import subprocess
    import sys
    import time

    from tests.support.fault_server import FaultServer

    write_scenario(workspace, "rowsy", [{"send": {"name": "r/x", "data": {
        "n": "{{ row.n }}", "who": "{{ fake.name() }}", "id": "{{ uuid() }}"}}}])
    rows = tmp_path / "rows.jsonl"
    bad = ["{}\n"] * 3 if bad_first else []  # no `n`: problems found before the Ctrl+C
    rows.write_text("".join(bad) + "".join(json.dumps({"n": n}) + "\n"
                                           for n in range(40_000)))
    junit = tmp_path / "j.xml"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), **KEY)
    with FaultServer() as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "console", "run", "rowsy", "--workspace", str(workspace),
             "--data", str(rows), "--url", server.origin, "--no-verify", "--junit",
             str(junit), *(["--dry-run"] if dry_run else [])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ)
        try:
            time.sleep(2)  # started, and checking rows (which takes 10 s or more)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        sent = len(server.requests)
    assert proc.returncode == 130, err
    assert sent == 0
    assert "stopping (Ctrl+C again to quit at once)" in err
    assert "rowsy: 1 stopped (seed " in err, err
    if not dry_run:
        [step] = lines(out)
        assert (step["state"], step["reason"], step["requests"]) == (
            "cancelled", "stopped before it started", 0)
        history = subprocess.run([sys.executable, "-m", "console", "history", "--json"],
                                 capture_output=True, text=True, env=environ, check=True)
        assert history.stdout == ""  # no "outcome unknown" row for a request never sent
    suite = etree.parse(str(junit)).getroot()
    assert [s.get("message") for s in suite.findall(".//testcase/skipped")][:1] == [
        "stopped before it started"]


def test_run_takes_timeout_and_attempts_and_refuses_an_endless_verify_window(
        cli, workspace):
    from tests.support.fault_server import FaultServer, Reply

    write_scenario(workspace, "hang", [{"send": {"name": "t/x", "data": {}}}])
    with FaultServer() as server:
        server.script(Reply.hang())
        done = cli("run", "hang", "--workspace", str(workspace), "--url", server.origin,
                   "--no-verify", "--timeout", "0.5", "--attempts", "1", env=KEY)
    assert done.returncode == 1, done.stderr
    [step] = lines(done.stdout)
    assert step["state"] == "error"
    assert step["error"] == f"no answer from {server.origin}/e/****6789 within 0.5 s"
    for value in ("nan", "inf", "-1"):  # NaN and inf made the runs lookup endless
        refused = cli("run", "hang", "--workspace", str(workspace), "--url", server.origin,
                      "--verify-window", value, env=KEY)
        assert refused.returncode == 2
        assert "argument --verify-window: " in refused.stderr
        assert "give seconds from 0 to 3,600" in refused.stderr


def test_a_reader_that_goes_away_leaves_the_run_going_to_its_end(workspace, app_home,
                                                                 tmp_path):
    """`run ... --junit j.xml --report r.json | head -c 10`: the BrokenPipeError of the
    second line stopped the run there (its last step never sent), with neither file nor
    summary written. Now the lines stop, the run goes on, and it ends 141 as `send` does."""
    import subprocess
    import sys

    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), **KEY)
    with running_inbox() as inbox:
        command = [sys.executable, "-m", "console", "run", "checkout", "--workspace",
                   str(workspace), "--url", inbox.url, "--seed", "3", "--verify-window",
                   "0.6", "--junit", str(junit), "--report", str(report)]
        # the first line reaches head, which leaves; the next comes after "wait 250ms"
        done = subprocess.run(["bash", "-c", '"$@" | head -c 10; exit "${PIPESTATUS[0]}"',
                               "-", *command], capture_output=True, text=True, env=environ,
                              cwd=Path(__file__).resolve().parents[2], timeout=60,
                              check=False)
        captured = inbox.events()
    assert done.returncode == 141, done.stderr
    assert done.stdout == '{"step": 1'
    assert len(captured) == 3  # the steps after the pipe closed were sent too
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        "event-console: checkout: 4 passed (seed 3); events: 3 accepted · 1 deduplicated · "
        "2 ran")
    saved = json.loads(report.read_text())
    assert saved["passed"] and len(saved["results"]) == 4
    assert etree.parse(str(junit)).getroot().find("testsuite").get("tests") == "3"


def test_the_summary_counts_every_accepted_event_when_some_steps_are_not_looked_up(
        cli, workspace):
    """With --no-verify only the step expecting "deduplicated" is looked up: the summary
    said "1 accepted · 1 deduplicated" of three accepted events (and "1 accepted · 1
    unverified" against a server with no runs API)."""
    from tests.support.fault_server import FaultServer

    run = ("run", "checkout", "--workspace", str(workspace), "--no-history", "--no-verify",
           "--verify-window", "0.6")
    with running_inbox() as inbox:
        done = cli(*run, "--url", inbox.url, env=KEY)
    assert done.returncode == 0, done.stderr
    assert [r["runs"] is None for r in lines(done.stdout) if r["kind"] == "send"] == [
        True, True, False]
    assert re.fullmatch(r"event-console: checkout: 4 passed \(seed \d+\); events: "
                        r"3 accepted · 1 deduplicated", done.stderr.splitlines()[-1])
    with FaultServer() as server:  # accepts every event; its runs API answers 400
        unverified = cli(*run, "--url", server.origin, env=KEY)
    assert unverified.returncode == 1, unverified.stderr  # not "deduplicated" as expected
    assert re.fullmatch(r"event-console: checkout: 3 passed, 1 failed \(seed \d+\); events: "
                        r"3 accepted · 1 unverified", unverified.stderr.splitlines()[-1])


def test_a_history_that_fails_mid_run_stops_it_and_the_files_are_still_written(
        cli, workspace, app_home, tmp_path):
    """Another program held the history's lock (or the disk filled) while step 1 was
    answered: the run ended with exit 2, no line for step 1 (which the server accepted),
    no summary and no JUnit file."""
    from tests.support.fault_server import FaultServer
    from tests.support.history_lock import LockAtFirstRequest

    write_scenario(workspace, "three", [{"send": {"name": f"c/{n}", "data": {}}}
                                        for n in (1, 2, 3)])
    db = app_home / "data" / "history.sqlite3"
    assert cli("history").returncode == 0  # the file exists before the run
    lock = LockAtFirstRequest(db)
    junit = tmp_path / "j.xml"
    with FaultServer(default=lock) as server:
        try:
            done = cli("run", "three", "--workspace", str(workspace), "--url", server.origin,
                       "--no-verify", "--junit", str(junit), env=KEY)
        finally:
            lock.release()
        posts = [r for r in server.requests if r.method == "POST"]
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and len(posts) == 1
    first, second = lines(done.stdout)
    assert (first["state"], first["status"], first["accepted"]) == ("error", 200, 1)
    assert "stayed locked by another program" in first["reason"]
    assert first["reason"].endswith("; nothing more was sent")
    assert second["state"] == "cancelled"
    assert "event-console: stopped: the history at " in done.stderr
    assert done.stderr.splitlines()[-1].startswith("event-console: three: 1 error, 1 stopped")
    suite = etree.parse(str(junit)).getroot().find("testsuite")
    assert suite.get("tests") == "3" and suite.get("errors") == "1"


def test_without_history_runs_are_looked_up_as_with_it(cli, workspace, keyring_backend):
    """`run --no-history` (and the window's run with the history off) looked runs up on its
    own: without a branch environment's header (its runs read "answered 404"), without
    auth where Inngest Cloud needs the signing key (an "answered 401" in place of "no
    signing key"), and 30 s per lookup of a REST API that does not answer, whatever
    --verify-window said."""
    import time

    from tests.support.fault_server import FaultServer, RecordedRequest, Reply, accept_all

    signing, hang = "signkey-branch-0123abcd", []

    def branch_cloud(request: RecordedRequest) -> Reply:
        if request.method == "POST":
            return accept_all(request)
        if hang:
            return Reply.hang()
        if (request.header("authorization") != f"Bearer {signing}"
                or request.header("x-inngest-env") != "feature/x"):
            return Reply.json(404, {"error": "event not found"})  # not in that environment
        return Reply.json(200, {"data": [{"run_id": "r1", "status": "Running"}]})

    write_scenario(workspace, "one", [{"send": {"name": "br/ping", "data": {}}}])
    run = ("run", "one", "--workspace", str(workspace), "--no-history")
    with FaultServer(default=branch_cloud) as server:
        for name, branch in (("Br", ["--branch", "feature/x"]), ("NoSig", [])):
            assert cli("env", "add", name, "--kind", "cloud", "--event-origin", server.origin,
                       "--rest-origin", server.origin, *branch).returncode == 0
            assert cli("env", "set-key", name, input="evt-key-0123abcd\n").returncode == 0
        assert cli("env", "set-key", "Br", "--signing", input=signing + "\n").returncode == 0
        done = cli(*run, "--env", "Br", "--verify-window", "3")
        assert done.returncode == 0, done.stderr
        [step] = lines(done.stdout)
        assert [r["outcome"] for r in step["runs"]] == ["ran"], step
        lookups = [r for r in server.requests if r.method == "GET"]
        assert lookups and {r.header("x-inngest-env") for r in lookups} == {"feature/x"}

        done = cli(*run, "--env", "NoSig", "--verify-window", "3")
        [step] = lines(done.stdout)
        assert [r["detail"] for r in step["runs"]] == [
            "unverified: no signing key for NoSig: add one to confirm runs"], step
        assert len([r for r in server.requests if r.method == "GET"]) == len(lookups)

        hang.append(True)
        began = time.monotonic()
        done = cli(*run, "--env", "Br", "--verify-window", "1")
        took = time.monotonic() - began
        [step] = lines(done.stdout)
        assert step["runs"][0]["outcome"] == "unverified", step
        assert took < 10, f"{took:.1f} s for a 1 s lookup window"
    for name in ("Br", "NoSig"):
        assert cli("env", "remove", name).returncode == 0
    assert signing not in done.stdout + done.stderr


def test_a_stop_is_heard_when_stderr_cannot_be_written(workspace, app_home, tmp_path):
    """`run ... 2>&1 | tee log` and a Ctrl+C that ended tee too (or a closed terminal):
    the "stopping" line could not be written, the error skipped the stop, and the run
    waited out the request in flight and sent the rest of the scenario."""
    import subprocess
    import sys
    import time

    from tests.support.fault_server import FaultServer, Reply
    from tests.support.interrupt import ONE_ID

    write_scenario(workspace, "three", [{"send": {"name": f"c/{i}", "data": {}}}
                                        for i in range(3)])
    junit = tmp_path / "j.xml"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), **KEY)
    with FaultServer() as server:
        server.script(Reply.json(200, ONE_ID), Reply.hang())
        reader, writer = os.pipe()
        proc = subprocess.Popen(
            [sys.executable, "-m", "console", "run", "three", "--workspace", str(workspace),
             "--url", server.origin, "--no-verify", "--junit", str(junit), "--timeout", "60",
             "--attempts", "1"], stdout=writer, stderr=writer, env=environ)
        os.close(writer)
        try:
            deadline = time.monotonic() + 30
            while len(server.requests) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)  # the second request hangs
            os.close(reader)  # nobody reads stdout or stderr any more
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=30)
        finally:
            proc.kill()
        posts = len(server.requests)
    assert code == 130
    assert posts == 2  # nothing after the Ctrl+C
    suite = etree.parse(str(junit)).getroot()
    assert next(s.get("message") for s in suite.findall(".//testcase/skipped")) == "stopped"


def test_every_repeat_is_checked_before_anything_is_sent_and_problems_name_their_row(
        cli, workspace, tmp_path):
    """The pre-check rendered each step once, whatever its repeat: the fourth repeat of
    three skus failed after three events went out (exit 1, not 2). And a problem of one
    data row among thousands did not say which."""
    write_scenario(workspace, "skus", [{"send": {
        "name": "shop/item.added", "data": {"sku": "{{ vars.skus[seq - 1] }}"}}, "repeat": 4}],
        vars={"skus": ["sku-1", "sku-2", "sku-3"]})
    write_scenario(workspace, "rows", [{"send": {"name": "shop/row", "data": {
        "a": "{{ row.a }}"}}}])
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"a": 1}, {"a": 2}, {"b": 3}, {"b": 4}]))
    with running_inbox() as inbox:
        skus = cli("run", "skus", "--workspace", str(workspace), "--url", inbox.url,
                   "--no-verify", env=KEY)
        by_row = cli("run", "rows", "--workspace", str(workspace), "--url", inbox.url,
                     "--data", str(rows), "--no-verify", env=KEY)
        assert inbox.events() == []
    assert skus.returncode == 2 and skus.stdout == ""
    assert skus.stderr.splitlines()[-2:] == [
        "scenarios/skus.json:9:19: unknown variable: the list has no item [3] (it has 3 "
        "items) (repeat 4 of 4)",
        "event-console: nothing sent: 1 problem(s) rendering 'skus'"]
    assert by_row.returncode == 2 and by_row.stdout == ""
    assert by_row.stderr.splitlines()[-2] == (
        "scenarios/rows.json:9:17: unknown variable: row has no 'a' (it has: b) (first in "
        "row 3; 1 more time)")


def test_a_scenario_var_may_use_a_value_given_with_var(cli, workspace, tmp_path):
    """`--var host=...` was rendered after the scenario's own vars: "https://{{ vars.host
    }}/x" said "vars has no 'host' (no vars are set)"."""
    write_scenario(workspace, "urls", [{"send": {"name": "t/a", "data": {
        "u": "{{ vars.url }}"}}}], vars={"url": "https://{{ vars.host }}/x"})
    report = tmp_path / "urls.report.json"
    proc = cli("run", "urls", "--workspace", str(workspace), "--dry-run", "--var",
               "host=example.com", "--report", str(report))
    assert proc.returncode == 0, proc.stderr
    sent = json.loads(report.read_text())["results"][0]["sent"]
    assert sent == [{"name": "t/a", "data": {"u": "https://example.com/x"}}]
    # a var cannot use a step: it is rendered before any step runs (it said "no earlier
    # step with an "as" name has succeeded" of a step that had not run)
    write_scenario(workspace, "early", [{"send": {"name": "t/a", "data": {}}, "as": "first"}],
                   vars={"ref": "{{ steps.first.ids[0] }}"})
    early = cli("run", "early", "--workspace", str(workspace), "--dry-run")
    assert early.returncode == 2
    assert ("unknown variable: steps has no 'first' (vars are rendered before any step runs: "
            "use steps.NAME in a step's event)") in early.stderr, early.stderr


def test_the_ids_a_split_step_had_taken_are_the_ones_seen_and_counted(cli, workspace):
    """A step split into two requests, the first refused: the first `accepted` events
    were taken for the accepted ones, so without a history a resend of the event that was
    taken read "no runs" where "deduplicated" was due; and, its runs not looked up, the
    summary left the refused event out."""
    from tests.support.fault_server import FaultServer, RecordedRequest, Reply, accept_all

    posts: list[int] = []

    def first_refused(request: RecordedRequest) -> Reply:
        if request.method != "POST":
            return Reply.json(200, {"data": []})  # no runs, for any event
        posts.append(1)
        if len(posts) == 1:
            return Reply.json(400, {"ids": [""], "status": 400, "error": "refused"})
        return accept_all(request)

    big = "x" * 300_000  # two such events do not fit one 512 KiB request
    write_scenario(workspace, "split", [
        {"send": [{"name": "t/big", "id": "m-1", "data": {"pad": big}},
                  {"name": "t/big", "id": "m-2", "data": {"pad": big}}],
         "expect": {"status": 400, "accepted": 1}},
        {"send": {"name": "t/again", "id": "m-2", "data": {}},
         "expect": {"dedup": "deduplicated"}},
    ])
    with FaultServer(default=first_refused) as server:
        proc = cli("run", "split", "--workspace", str(workspace), "--url", server.origin,
                   "--no-history", "--no-verify", "--verify-window", "2", env=KEY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first, again = lines(proc.stdout)
    assert (first["requests"], first["accepted"]) == (2, 1)
    assert [r["outcome"] for r in again["runs"]] == ["deduplicated"], again
    assert re.fullmatch(r"event-console: split: 2 passed \(seed \d+\); events: 2 accepted · "
                        r"1 not accepted · 1 deduplicated", proc.stderr.splitlines()[-1])
