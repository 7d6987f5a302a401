"""`event-console history` options that take a value from a fixed set or range: a value
outside it is a usage error (exit 2) that says what is valid, never an empty listing or a
setting quietly changed to something else."""

from __future__ import annotations

import pytest

OUTCOMES = ("pending", "unknown", "accepted", "not accepted", "ran", "deduplicated",
            "no runs", "unverified", "received")


def test_an_unknown_outcome_is_a_usage_error_listing_the_valid_ones(cli):
    proc = cli("history", "--outcome", "bogus")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "no events in the history match" not in proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last.startswith("event-console history: error: argument --outcome: invalid "
                           "choice: 'bogus'")
    assert all(repr(outcome) in last for outcome in OUTCOMES)


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_documented_outcome_is_accepted(cli, outcome):
    proc = cli("history", "--outcome", outcome)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "event-console: no events in the history match\n"


@pytest.mark.parametrize("days", ["99999999999", "3651", "-1"])
def test_a_retention_out_of_range_is_refused_and_nothing_changes(cli, days):
    proc = cli("history", "--set-retention", days)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"event-console: --set-retention {days}: keep history from 1 to "
                           "3650 days, or 0 to keep everything\n")
    shown = cli("history", "--set-payload-cap", "64")
    assert shown.stdout.endswith("events are kept 90 days\n")  # the default, untouched


@pytest.mark.parametrize(("days", "kept"), [("0", "forever"), ("1", "1 day"),
                                            ("3650", "3650 days")])
def test_a_retention_in_range_is_kept(cli, days, kept):
    proc = cli("history", "--set-retention", days)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith(f"events are kept {kept}\n")
