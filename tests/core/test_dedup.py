"""The dedup ledger: what Inngest will do with each event's id, predicted before sending."""

from __future__ import annotations

from console.core.dedup import (
    DEDUP_WINDOW_MS,
    NO_ID_MESSAGE,
    DedupLedger,
    Outcome,
    OutcomeKind,
    PriorSend,
    Verdict,
    dedup_id_of,
    duplicate_indexes,
    format_time,
    name_of,
    summary_line,
)

T0 = 1_700_000_000_000
DAY = DEDUP_WINDOW_MS


def ledger(*prior: PriorSend, env: str = "dev") -> DedupLedger:
    return DedupLedger(prior, env=env)


def test_new_duplicate_and_no_id():
    book = ledger(PriorSend("order-1", "dev", T0, "01PRIOR", "shop/order.placed"))
    got = book.classify([
        {"name": "shop/order.placed", "id": "order-1"},
        {"name": "shop/order.placed", "id": "order-2"},
        {"name": "shop/order.placed"},
    ], T0 + 1000)
    assert [p.verdict for p in got] == [Verdict.DUPLICATE, Verdict.NEW, Verdict.NO_ID]
    assert got[0].message == (
        f"duplicate of 01PRIOR sent at {format_time(T0)}: Inngest will accept it and start "
        "no runs"
    )
    assert got[0].first_internal_id == "01PRIOR" and got[0].first_time_ms == T0
    assert got[2].message == NO_ID_MESSAGE == "no dedup id: a repeat or retry runs functions again"
    assert duplicate_indexes(got) == [0]


def test_window_is_24h_from_the_first_event_end_exclusive():
    book = ledger(PriorSend("x", "dev", T0, "01FIRST"))
    assert book.classify_ids(["x"], T0)[0].verdict is Verdict.DUPLICATE
    assert book.classify_ids(["x"], T0 + DAY - 1)[0].verdict is Verdict.DUPLICATE
    assert book.classify_ids(["x"], T0 + DAY)[0].verdict is Verdict.NEW
    assert book.classify_ids(["x"], T0 + DAY + 1)[0].verdict is Verdict.NEW
    assert book.classify_ids(["x"], T0 - 1)[0].verdict is Verdict.NEW  # before it was sent


def test_deduplicated_events_do_not_extend_the_window_and_windows_chain():
    book = ledger(
        PriorSend("x", "dev", T0, "01FIRST"),
        PriorSend("x", "dev", T0 + DAY // 2, "01DUP"),  # deduplicated inside the window
        PriorSend("x", "dev", T0 + DAY + 5, "01SECOND"),  # opens the next window
    )
    at_edge = book.classify_ids(["x"], T0 + DAY)[0]
    assert at_edge.verdict is Verdict.NEW  # the mid-window duplicate did not extend it
    later = book.classify_ids(["x"], T0 + DAY + 10)[0]
    assert later.verdict is Verdict.DUPLICATE and later.first_internal_id == "01SECOND"


def test_ids_are_shared_across_event_names():
    book = ledger(PriorSend("item-9", "dev", T0, "01IMPORT", "store/item.imported"))
    got = book.classify([{"name": "store/item.deleted", "id": "item-9"}], T0 + 5)[0]
    assert got.verdict is Verdict.DUPLICATE
    assert "(as store/item.imported: ids are shared across event names)" in got.message


def test_ledger_is_per_environment():
    book = ledger(PriorSend("x", "cloud", T0, "01OTHER"))
    assert book.classify_ids(["x"], T0 + 5)[0].verdict is Verdict.NEW
    tuples = DedupLedger([("x", "dev", T0, "01TUPLE")], env="dev")  # plain tuples work too
    assert tuples.classify_ids(["x"], T0 + 5)[0].first_internal_id == "01TUPLE"


def test_duplicates_within_one_batch():
    got = ledger().classify([
        {"name": "a", "id": "k"}, {"name": "b", "id": "k"}, {"name": "c", "id": "k"},
        {"name": "d", "id": ""}, {"name": "e", "id": 7},
    ], T0)
    assert [p.verdict for p in got] == [
        Verdict.NEW, Verdict.DUPLICATE_IN_BATCH, Verdict.DUPLICATE_IN_BATCH,
        Verdict.NO_ID, Verdict.NO_ID,
    ]
    assert got[1].message == (
        "duplicate of event #1 in this batch: Inngest will accept it and start no runs"
    )
    assert got[2].first_index == 0 and got[2].first_name == "a"
    assert duplicate_indexes(got) == [1, 2]


def test_prior_with_unknown_outcome_is_a_maybe():
    book = ledger(PriorSend("x", "dev", T0, None, "a"))
    got = book.classify([{"name": "a", "id": "x"}, {"name": "a", "id": "x"}], T0 + 5)
    assert got[0].verdict is Verdict.MAYBE_DUPLICATE
    assert got[0].message.startswith(
        f"maybe a duplicate: an event with this id was sent at {format_time(T0)} but its "
        "outcome is unknown")
    assert got[1].verdict is Verdict.DUPLICATE_IN_BATCH  # certainly a duplicate of #1


def test_dedup_id_of():
    assert dedup_id_of({"id": "a"}) == "a"
    assert dedup_id_of({"id": ""}) is None
    assert dedup_id_of({"id": 3}) is None
    assert dedup_id_of(["not", "an", "event"]) is None
    # the server reads field names in any case, and of two the last: so does the ledger
    assert dedup_id_of({"name": "a/b", "ID": "upper"}) == "upper"
    assert dedup_id_of({"id": "first", "Id": "last"}) == "last"
    assert name_of({"NAME": "a/b"}) == "a/b"


def test_outcome_texts():
    assert Outcome(OutcomeKind.RAN, runs=1).text == "ran: 1 run"
    assert Outcome(OutcomeKind.RAN, runs=3).text == "ran: 3 runs"
    assert Outcome(OutcomeKind.DEDUPLICATED, first_internal_id="01A",
                   first_time_ms=T0).text == (
        f"deduplicated: no runs (first seen as 01A at {format_time(T0)})")
    assert Outcome(OutcomeKind.DEDUPLICATED).text == "deduplicated: no runs"
    assert Outcome(OutcomeKind.NO_RUNS).text == "no runs"
    assert Outcome(OutcomeKind.NO_RUNS, reason="none within 10 s").text == (
        "no runs (none within 10 s)")
    assert Outcome(OutcomeKind.UNVERIFIED, reason="no signing key for Cloud").text == (
        "unverified: no signing key for Cloud")
    assert Outcome(OutcomeKind.UNKNOWN, reason="x").text == "outcome unknown: x"


def test_summary_line():
    ran = Outcome(OutcomeKind.RAN, runs=1)
    outcomes = [ran, ran, Outcome(OutcomeKind.DEDUPLICATED)]
    assert summary_line(outcomes) == "3 accepted · 1 deduplicated · 2 ran"
    assert summary_line([OutcomeKind.ACCEPTED, OutcomeKind.NOT_ACCEPTED]) == (
        "1 accepted · 1 not accepted")
    assert summary_line([]) == "0 accepted"
    assert summary_line([OutcomeKind.NOT_ACCEPTED]) == "1 not accepted"  # no "0 accepted ·"
    assert summary_line([Outcome(OutcomeKind.NO_RUNS), Outcome(OutcomeKind.UNVERIFIED)]) == (
        "2 accepted · 1 no runs · 1 unverified")


def test_some_events_of_a_batch_are_classified_at_their_own_positions():
    """The CLI looks a batch up request by request: predictions carry batch indexes."""
    book = ledger(PriorSend("a", "dev", T0, "01A", "shop/x"))
    got = book.classify_ids(["a", "b", "b", None], T0 + 1000, ["shop/y", "n1", "n2", None],
                            positions=[40, 41, 47, 52])
    assert [(p.index, p.verdict) for p in got] == [
        (40, Verdict.DUPLICATE), (41, Verdict.NEW), (47, Verdict.DUPLICATE_IN_BATCH),
        (52, Verdict.NO_ID)]
    assert (got[2].first_index, got[2].first_name) == (41, "n1")
    assert got[2].message.startswith("duplicate of event #42 in this batch")
    assert "(as shop/x: ids are shared across event names)" in got[0].message

