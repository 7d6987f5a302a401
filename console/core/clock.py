"""Times as this machine's clock shows them, for people to read.

`local_time` never fails: a time zone Python cannot take (glibc accepts `TZ=XYZ24`, an
offset of a whole day, which `astimezone` refuses) gives UTC. It had raised inside the
history writer's thread, and a `send` of a duplicate id waited forever for it.
"""

from __future__ import annotations

from datetime import UTC, datetime


def local_time(ms: int) -> datetime:
    """An aware datetime of a Unix millisecond timestamp in the local zone (else UTC)."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    try:
        return moment.astimezone()
    except (ValueError, OverflowError, OSError):
        return moment


def shown_time(ms: int) -> str:
    """`2026-12-07 17:11:53 +05:30` (`… UTC` at no offset): text kept in the history and
    read later, in another zone maybe, so it says its own."""
    moment = local_time(ms)
    offset = moment.utcoffset()
    if not offset:
        return f"{moment:%Y-%m-%d %H:%M:%S} UTC"
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("-", -minutes) if minutes < 0 else ("+", minutes)
    return f"{moment:%Y-%m-%d %H:%M:%S} {sign}{minutes // 60:02d}:{minutes % 60:02d}"


def iso_local(ms: int) -> str:
    """ISO 8601 with milliseconds and the offset (JSON output, the detail pane)."""
    return local_time(ms).isoformat(timespec="milliseconds")
