"""Times for people to read: with their offset, and never an error for an odd TZ."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from console.core.clock import iso_local, shown_time
from console.core.dedup import format_time

T0 = 1_796_644_313_000  # 2026-12-07 11:51:53 UTC


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()
        format_time.cache_clear()

    yield use
    monkeypatch.undo()
    time.tzset()
    format_time.cache_clear()


@pytest.mark.parametrize(("name", "shown", "iso"), [
    ("UTC", "2026-12-07 11:51:53 UTC", "2026-12-07T11:51:53.000+00:00"),
    ("Asia/Kolkata", "2026-12-07 17:21:53 +05:30", "2026-12-07T17:21:53.000+05:30"),
    ("America/St_Johns", "2026-12-07 08:21:53 -03:30", "2026-12-07T08:21:53.000-03:30"),
    ("Pacific/Chatham", "2026-12-08 01:36:53 +13:45", "2026-12-08T01:36:53.000+13:45"),
    # glibc takes a whole day's offset; Python's astimezone refuses it: UTC then
    ("XYZ24", "2026-12-07 11:51:53 UTC", "2026-12-07T11:51:53.000+00:00"),
])
def test_times_say_their_offset_in_every_zone(zone, name, shown, iso) -> None:
    """The dedup message "first seen … at T" is kept in the history: read in another zone
    it had said a time 5½ hours after its own row's, with no offset to tell."""
    zone(name)
    assert shown_time(T0) == shown
    assert format_time(T0) == shown
    assert iso_local(T0) == iso
