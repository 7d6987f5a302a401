"""Keys never appear in full anywhere a user or a file could see them."""

from __future__ import annotations

import re

_EVENT_PATH = re.compile(r"(/e/)([^/?#\s]+)")


def mask_key(key: str) -> str:
    """`****` plus the last 4 characters (fewer for very short keys)."""
    tail = key[-4:] if len(key) > 8 else key[-2:] if len(key) > 4 else ""
    return "****" + tail


def mask_url(url: str) -> str:
    """An event URL with its key masked: `/e/****abcd`."""
    return _EVENT_PATH.sub(lambda m: m.group(1) + mask_key(m.group(2)), url)


def scrub(text: str, secrets: list[str]) -> str:
    """Replace any occurrence of the given secrets in free text (errors from libraries)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask_key(secret))
    return text
