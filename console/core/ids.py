"""Event ID seeds and the internal IDs the server derives from them.

The seed header `x-inngest-event-id-seed: <unix millis>,<base64 of 10 bytes>` makes the
server derive each event's internal ULID from the seed and the event's 1-based index, so
a retried request (same seed) yields the same IDs. See ../shared/inngest-event-api.md.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]


@dataclass(frozen=True, slots=True)
class IdSeed:
    """One send call's seed: reused unchanged by every retry of that call."""

    millis: int
    entropy: bytes

    @classmethod
    def fresh(cls, now_ms: int | None = None) -> IdSeed:
        millis = int(time.time() * 1000) if now_ms is None else now_ms
        return cls(millis, os.urandom(10))

    @property
    def header(self) -> str:
        return f"{self.millis},{base64.b64encode(self.entropy).decode('ascii')}"

    @classmethod
    def parse(cls, header: str) -> IdSeed | None:
        """The seed in a header value, or None when it is malformed (server uses random ids).

        The millis are read as the server's Go reads them (`strconv.ParseInt`): ASCII
        digits, after one optional `+`."""
        head, sep, tail = header.partition(",")
        digits = head[1:] if head.startswith("+") else head
        if not sep or not (digits.isascii() and digits.isdigit()):
            return None
        try:
            entropy = base64.b64decode(tail, validate=True)
        except ValueError:
            return None
        if len(entropy) != 10:
            return None
        return cls(int(digits), entropy)

    def event_id(self, index: int) -> str:
        """Internal id of the event at 0-based `index` in the request."""
        counter = (int.from_bytes(self.entropy[6:], "big") + index + 1) & 0xFFFFFFFF
        return ulid(self.millis, self.entropy[:6] + counter.to_bytes(4, "big"))


def ulid(millis: int, entropy: bytes) -> str:
    """Crockford base32 ULID of a 48-bit millisecond time and 10 entropy bytes."""
    value = ((millis & 0xFFFFFFFFFFFF) << 80) | int.from_bytes(entropy, "big")
    # 130 bits = 13 groups of 10 bits, each two base32 characters (4x faster than 5-bit steps)
    return "".join([_PAIRS[(value >> shift) & 0x3FF] for shift in range(120, -1, -10)])


def random_ulid(now_ms: int | None = None) -> str:
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    return ulid(millis, os.urandom(10))


def ulid_millis(value: str) -> int | None:
    """The millisecond timestamp of a ULID, or None when it is not one."""
    if len(value) != 26:
        return None
    acc = 0
    for ch in value.upper():
        pos = _CROCKFORD.find(ch)
        if pos < 0:
            return None
        acc = (acc << 5) | pos
    return acc >> 80
