"""Keys never appear in full anywhere a user or a file could see them."""

from __future__ import annotations

import re

# `/e/<key>`, also as `/E/`, `/%65/` (e), `/%45/` (E) or `/e%2F`: each kept a key in a
# saved origin (and printed it) when only `/e/` was looked for
_EVENT_PATH = re.compile(r"(/(?:e|%[46]5)(?:/|%2f))([^/?#\s]+)", re.IGNORECASE)

# What the console (like Inngest's SDKs in dev mode) sends to a server that takes any key,
# the Dev Server or the inbox, when none is set. Not a secret: shown as is, so a URL in an
# error reads /e/NO_EVENT_KEY_SET, not /e/****_SET (which looks like a key was set).
PLACEHOLDER_KEY = "NO_EVENT_KEY_SET"


def mask_key(key: str) -> str:
    """`****` plus the last 4 characters (fewer for very short keys); the placeholder
    sent when no key is set stays as it is."""
    if key == PLACEHOLDER_KEY:
        return key
    tail = key[-4:] if len(key) > 8 else key[-2:] if len(key) > 4 else ""
    return "****" + tail


def key_problem(key: str) -> str | None:
    """Why `key` cannot be an Inngest key, or None. A key goes as it is into a URL path
    (event keys) or an Authorization header (signing keys, ASCII only there): printable
    ASCII, one word. Said without the key, by the place of what is wrong."""
    for place, ch in enumerate(key, 1):
        if ch.isspace():
            what = "a line break" if ch in "\r\n\v\f\x85\u2028\u2029" else "a space or a tab"
            return (f"the key holds {what} (character {place}): a key is one word; paste "
                    "it again, whole")
        if not " " < ch < "\x7f":
            return (f"the key holds a character that is not printable ASCII (character "
                    f"{place}): Inngest keys are letters, digits and a few marks")
    if "/" in key:  # Inngest's event URL pasted whole: every send went to /e/https%3A%2F…
        return (f"the key holds a \"/\" (character {key.index('/') + 1}): give the key alone, "
                "not a URL such as https://inn.gs/e/<key>")
    return None


def mask_url(url: str) -> str:
    """An event URL with its key masked: `/e/****abcd` (a key masked already stays so)."""
    return _EVENT_PATH.sub(lambda m: m.group(1) + (
        m.group(2) if m.group(2).startswith("****") else mask_key(m.group(2))), url)


def has_event_key(url: str) -> bool:
    """Whether `url` carries an event key in its path (`…/e/<key>`), as Inngest shows the
    event URL of a key."""
    return _EVENT_PATH.search(url) is not None


def scrub(text: str, secrets: list[str]) -> str:
    """Replace any occurrence of the given secrets in free text (errors from libraries,
    servers' answers), in any case: a server may echo a path lower-cased."""
    for secret in secrets:
        if secret and secret.casefold() in text.casefold():
            masked = mask_key(secret).replace("\\", "\\\\")  # a template: \ is literal
            text = re.sub(re.escape(secret), masked, text, flags=re.IGNORECASE)
    return text
