"""The Event API client: send event bodies to Inngest exactly as the official SDKs do.

Why it is shaped like this:
- The bytes counted by the size meter are the bytes that go out: `send` takes a finished
  body and never re-serializes it.
- One seed per send call, reused unchanged on every retry, so a retried request yields the
  same internal ids (see ../shared/inngest-event-api.md).
- Every HTTP or network failure becomes a `SendResult` with a plain message; only
  cancellation escapes. The event key sits in the URL path, so every message built here
  is scrubbed of it; a `Target`'s repr hides it too.
- Retries follow the SDKs: network errors, 5xx and 429 (honouring Retry-After, capped),
  exponential backoff with jitter. A response whose status line arrived but whose body
  broke off is NOT retried unless the status itself is retryable: the server has already
  acted on the request, and a retry would run functions again for events without an `id`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote

import httpx

from console import __version__
from console.core.expect import is_2xx
from console.core.ids import IdSeed
from console.core.redact import mask_key, mask_url, scrub
from console.core.terminal import one_line, utf8_safe
from console.services.environments import is_loopback_host
from console.services.outcomes import HOLDING
from console.services.trust import trust_context

Sleep = Callable[[float], Awaitable[None]]

HEALTH_TIMEOUT = 2.0
# What is read of an answer: the Event API's is at most 5,000 ids (~150 KB) or an error,
# a REST lookup's one event's runs. A server streaming without end was read until memory
# ran out (2 GB in 8 s).
MAX_ANSWER = 1024 * 1024
MAX_REST_ANSWER = 16 * 1024 * 1024


class _MaskEventKeys(logging.Filter):
    """httpx logs every request URL at INFO; the key is in the path, so mask it there."""

    def filter(self, record: logging.LogRecord) -> bool:
        masked = mask_url(record.getMessage())
        if masked != record.getMessage():
            record.msg, record.args = masked, None
        return True


logging.getLogger("httpx").addFilter(_MaskEventKeys())
_SNIPPET = 120


@dataclass(frozen=True)
class Target:
    """Where events go. The key is excluded from repr so a logged Target leaks nothing."""

    event_origin: str
    event_key: str = field(repr=False)
    branch: str | None = None

    def url(self) -> str:
        """`{origin}/e/{key}`; the key is percent-encoded (a no-op for real Inngest keys)."""
        return f"{self.event_origin.rstrip('/')}/e/{quote(self.event_key, safe='')}"

    def display_url(self) -> str:
        return f"{self.event_origin.rstrip('/')}/e/{mask_key(self.event_key)}"

    def secrets(self) -> list[str]:
        """Every form of the key that could show up in a library's message."""
        return sorted({self.event_key, quote(self.event_key, safe="")}, key=len, reverse=True)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 5.0
    max_retry_after: float = 30.0


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    attempt: float = 30.0


@dataclass
class SendResult:
    """What one send call came to. `latency_ms` spans the whole call, retries included."""

    status: int | None
    ids: list[str]
    events: int
    accepted: int
    error: str | None
    attempts: int
    latency_ms: float
    request_bytes: int
    seed: str
    # the server may have acted on it though no ids came back (a 200 whose body broke off,
    # no answer after the request went out): its events' outcome is unknown, not refused
    uncertain: bool = False

    @property
    def ok(self) -> bool:
        return is_2xx(self.status) and self.accepted == self.events


@dataclass
class _Attempt:
    status: int | None = None
    ids: list[str] = field(default_factory=list)
    error: str | None = None
    retry: bool = False
    retry_after: float | None = None
    uncertain: bool = False  # the request may have arrived and been acted on


class EventApiClient:
    """One shared httpx.AsyncClient; safe to use from many tasks on one loop."""

    def __init__(
        self,
        *,
        retry: RetryPolicy = RetryPolicy(),
        timeouts: Timeouts = Timeouts(),
        sdk_version: str = __version__,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
        tls: bool = True,
    ) -> None:
        """`tls=False`: the caller will only ever talk to http:// origins (a local Dev
        Server or inbox), so the CA bundle is not loaded (~100 ms at start-up). An https
        request then fails certificate checks: it never goes out unverified."""
        self._retry = retry
        self._timeouts = timeouts
        self._sleep = sleep
        self.sdk_header = f"event-console:v{sdk_version}"
        self._http, self.environment_problem = _http_client(
            transport=transport,
            timeout=httpx.Timeout(timeouts.attempt, connect=timeouts.connect),
            headers={"user-agent": self.sdk_header, "x-inngest-sdk": self.sdk_header},
            follow_redirects=False,
            tls=tls,
        )

    async def send(
        self, target: Target, body: bytes, events: int, *, seed: IdSeed | None = None
    ) -> SendResult:
        """POST `body` unchanged; retried per the policy with the same seed every time."""
        seed = seed if seed is not None else IdSeed.fresh()
        headers = {"content-type": "application/json", "x-inngest-event-id-seed": seed.header}
        if target.branch:
            headers["x-inngest-env"] = target.branch
        started = time.perf_counter()
        attempts = 0
        uncertain = False  # once any attempt may have arrived, a later failure cannot undo it
        while True:
            attempts += 1
            outcome = await self._attempt(target, body, events, headers)
            uncertain = uncertain or outcome.uncertain
            if not outcome.retry or attempts >= self._retry.max_attempts:
                break
            await self._sleep(self._delay(attempts, outcome.retry_after))
        error = outcome.error
        if error is not None:
            if outcome.retry and attempts > 1:
                error += f" (gave up after {attempts} attempts)"
            # masked first: folding whitespace could split a key with two spaces in it
            error = one_line(scrub(error, target.secrets()))
        return SendResult(
            status=outcome.status,
            ids=outcome.ids,
            events=events,
            accepted=len(outcome.ids),
            error=error,
            attempts=attempts,
            latency_ms=(time.perf_counter() - started) * 1000,
            request_bytes=len(body),
            seed=seed.header,
            uncertain=uncertain and len(outcome.ids) < events,
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt `attempt + 1`."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self._retry.max_retry_after)
        ceiling = min(self._retry.max_delay, self._retry.base_delay * 2 ** (attempt - 1))
        return float(ceiling * (0.5 + random.random() / 2))  # "equal jitter": [ceiling/2, ceiling)

    async def _attempt(
        self, target: Target, body: bytes, events: int, headers: dict[str, str]
    ) -> _Attempt:
        where = target.display_url()
        try:
            request = self._http.build_request("POST", target.url(), content=body,
                                               headers=headers)
        except httpx.InvalidURL:
            return _Attempt(error=f"cannot send to {where}: the event API origin is not a "
                                  "valid URL")
        except UnicodeEncodeError:  # headers are ASCII: the branch is the one we set freely
            return _Attempt(error=f"cannot send to {where}: the branch name (sent in the "
                                  "x-inngest-env header) may hold only ASCII characters")
        bare = where
        if self._proxied(request.url):  # a refused connection was the proxy's, not the server's
            where += f" {THROUGH_PROXY}"
        response: httpx.Response | None = None
        try:
            async with asyncio.timeout(self._timeouts.attempt):
                response = await self._http.send(request, stream=True)
                try:
                    read = await self._read(response, events, target.secrets())
                finally:
                    await response.aclose()
                if response.status_code == 413 and read.error:  # what to do about it
                    read.error += TOO_LARGE
                return read
        except httpx.ConnectTimeout:
            return _Attempt(error=f"could not connect to {where} within "
                                  f"{_secs(self._timeouts.connect)}", retry=True)
        except httpx.PoolTimeout:  # never left: no connection was free
            return _Attempt(error=self._no_answer(where), retry=True)
        except (TimeoutError, httpx.TimeoutException):
            if response is None:  # it went out, or part of it: it may have been acted on
                return _Attempt(error=self._no_answer(where), retry=True, uncertain=True)
            # the status line came, the body stalled: the server has acted on the request
            status = response.status_code
            return _Attempt(
                status=status, retry=_retryable(status), uncertain=is_2xx(status),
                error=f"server answered {status} but the rest of its answer did not arrive "
                      f"within {_secs(self._timeouts.attempt)}",
            )
        except httpx.UnsupportedProtocol:
            return _Attempt(error=f"cannot send to {where}: the event API origin must be an "
                                  "http:// or https:// URL with a host")
        except httpx.ConnectError as exc:
            if _caused_by(exc, ssl.SSLCertVerificationError):  # retrying won't change it
                return _Attempt(error=f"could not connect to {where}: {network_words(exc)}"
                                      f"{CA_HINT}")
            return _Attempt(error=f"could not connect to {where}: {network_words(exc)}",
                            retry=True)
        except httpx.ProxyError as exc:  # the proxy refused the tunnel: nothing reached the server
            variable = "HTTPS_PROXY" if request.url.scheme == "https" else "HTTP_PROXY"
            return _Attempt(error=f"the proxy (from the environment's {variable} or ALL_PROXY)"
                                  f" did not connect to {bare}: {_detail(exc)}",
                            retry=_proxy_retryable(exc))
        except httpx.RemoteProtocolError:
            return _Attempt(error=f"{where} closed the connection without answering",
                            retry=True, uncertain=True)
        except httpx.NetworkError as exc:
            return _Attempt(error=f"the connection to {where} broke: {network_words(exc)}",
                            retry=True, uncertain=True)
        except httpx.HTTPError as exc:  # LocalProtocolError and the like: retrying won't help
            return _Attempt(error=f"cannot send to {where}: {_detail(exc)}")

    def _proxied(self, url: httpx.URL) -> bool:
        """Whether a request to `url` goes through a proxy from the environment."""
        try:
            return self._http._transport_for_url(url) is not self._http._transport
        except AttributeError:  # an httpx that keeps its transports otherwise: not said
            return False

    def _no_answer(self, where: str) -> str:
        return f"no answer from {where} within {_secs(self._timeouts.attempt)}"

    @staticmethod
    async def _read(response: httpx.Response, events: int, secrets: list[str]) -> _Attempt:
        status = response.status_code
        retry = _retryable(status)
        # a success status whose body cannot be read: the server has acted on the request
        outcome = _Attempt(status=status, retry=retry, uncertain=is_2xx(status),
                           retry_after=_retry_after(response) if retry else None)
        if 300 <= status < 400:  # never followed: the key goes only to the origin set
            # decoded first: /x/evtkey%5FSECRET is the key, written another way; the key
            # itself masked before the /e/ path is (a key with a space or a / in it would
            # be masked only up to that, and then no longer found whole)
            where = mask_url(scrub(unquote(response.headers.get("location", "")), secrets))
            to = f" to {_snip(where.encode(), secrets)}" if where else ""  # _snip masks
            outcome.error = (f"server answered {status}, a redirect{to}, which is not "
                             "followed: set the environment's origin to where it points")
            outcome.uncertain = False
            return outcome
        chunks: list[bytes] = []
        got = 0
        try:
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                got += len(chunk)
                if got > MAX_ANSWER:
                    outcome.error = (f"server answered {status} with a body over "
                                     f"{MAX_ANSWER // 1024:,} KiB, not read further")
                    return outcome
        except httpx.DecodingError:  # the answer came, its content-encoding is broken
            coding = response.headers.get("content-encoding", "")[:40]  # send() folds it
            outcome.error = (f"server answered {status} with a body that could not be "
                             f"decoded (content-encoding {coding!r})")
            return outcome
        except (httpx.RemoteProtocolError, httpx.ReadError):
            announced = response.headers.get("content-length")
            of = f" of {announced}" if announced else ""
            outcome.error = (f"server answered {status} with a truncated body (the connection "
                             f"closed after {got}{of} bytes)")
            return outcome
        raw = b"".join(chunks)
        if not raw.strip():
            outcome.error = f"server answered {status} with an empty body"
            return outcome
        try:
            parsed = json.loads(raw)
        except ValueError:
            outcome.error = (f"server answered {status} with a body that is not JSON: "
                             f"{_snip(raw, secrets)}")
            return outcome
        if not isinstance(parsed, dict):
            outcome.error = (f"server answered {status} with JSON that is not an object: "
                             f"{_snip(raw, secrets)}")
            return outcome
        ids = parsed.get("ids")
        if is_2xx(status) and not isinstance(ids, list):  # taken, but which ids?
            outcome.error = f"server answered {status} without a list of ids"
            return outcome
        # ids go to events by place, up to the first that is not one: the real Dev Server
        # answers `"ids": [""]` when nothing was accepted
        listed = ids if isinstance(ids, list) else []
        taken = next((n for n, i in enumerate(listed) if not (isinstance(i, str) and i)),
                     len(listed))
        outcome.ids = [utf8_safe(i) for i in listed[:taken]]  # data: never rewritten
        outcome.error = _server_error(status, parsed, len(outcome.ids), events)
        # a 4xx says what it took; a 200 that names fewer ids than events took the
        # request, and may have taken the events it gave no id (a resend could be a repeat)
        outcome.uncertain = is_2xx(status) and len(outcome.ids) < events
        if any(isinstance(i, str) and i for i in listed[taken:]):  # ["01A", "", "01C"]
            outcome.error = (f"server answered {status} with ids that leave out event "
                             f"#{taken + 1} and name later ones")
            outcome.uncertain = True  # which of the later events it took is unclear
        elif taken < len(listed) and listed[taken] != "":  # [1]: it had read as "0 ids"
            shown = scrub(json.dumps(listed[taken], ensure_ascii=False), secrets)
            outcome.error = (f"server answered {status} with an id that is not text for event "
                             f"#{taken + 1}: {shown[:40]}{'…' if len(shown) > 40 else ''}")
            outcome.uncertain = is_2xx(status)
        return outcome

    async def health(self, origin: str) -> bool:
        """True when `GET {origin}/health` answers 200 within 2 s; never raises but on cancel."""
        return await self.health_problem(origin) is None

    async def health_problem(self, origin: str) -> str | None:
        """Why `GET {origin}/health` did not answer 200 within 2 s ("certificate verify
        failed", "connection refused", "answered 404"), or None when it did. A bare "not
        reachable" left a self-hosted server's TLS or proxy trouble to be guessed."""
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                response = await self._http.get(f"{origin.rstrip('/')}/health",
                                                timeout=HEALTH_TIMEOUT)
        except (TimeoutError, httpx.TimeoutException):
            return f"no answer within {_secs(HEALTH_TIMEOUT)}{self._through(origin)}"
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            return one_line(network_words(exc)) + self._through(origin)
        return None if response.status_code == 200 else f"{ANSWERED}{response.status_code}"

    def _through(self, origin: str) -> str:
        """" (through the proxy …)" when a request to `origin` goes through one."""
        try:
            proxied = self._proxied(httpx.URL(origin))
        except (httpx.InvalidURL, ValueError):
            return ""
        return f" {THROUGH_PROXY}" if proxied else ""

    async def get_json(
        self, url: str, *, bearer: str | None = None, branch: str | None = None,
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        """One GET for REST lookups (runs of an event, ...): `(status, parsed JSON or None)`;
        for a 429 or 503 a `RestAnswer`, which also says what Retry-After asked for.

        A network failure or timeout returns `(0, None)` rather than raising: callers poll
        (runs appear asynchronously) and treat "no answer" like "not yet", so an exception
        would only force every caller to write the same try/except. A body that is not JSON
        gives `(status, None)`, and so does one over `MAX_REST_ANSWER`. No retries here:
        polling callers already retry. `timeout` shortens the attempt's (a poll's budget).
        """
        headers = {"accept": "application/json"}
        if bearer:
            headers["authorization"] = f"Bearer {bearer}"
        if branch:
            headers["x-inngest-env"] = branch
        limit = self._timeouts.attempt if timeout is None else min(
            max(timeout, 0.0), self._timeouts.attempt)
        body = bytearray()
        try:
            async with asyncio.timeout(limit), self._http.stream(
                    "GET", url, headers=headers) as response:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_REST_ANSWER:
                        return response.status_code, None
        except (httpx.HTTPError, httpx.InvalidURL, TimeoutError, OSError,
                UnicodeEncodeError):  # a header (the key, a branch) that is not ASCII
            return 0, None
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if response.status_code in HOLDING:  # a lookup's rate limit: how long to wait
            return RestAnswer(response.status_code, parsed, _retry_after(response))
        return response.status_code, parsed

    async def aclose(self) -> None:
        await self._http.aclose()


def _server_error(status: int, parsed: dict[str, Any], accepted: int, events: int) -> str | None:
    """The server's own words when it has any; a plain sentence otherwise."""
    for key in ("error", "message"):
        text = parsed.get(key)
        if isinstance(text, str) and text.strip() and (not is_2xx(status) or key == "error"):
            return text
    if is_2xx(status):  # a 201 or 202 (a proxy's) that names every id took them all
        if accepted != events:
            ids = "id" if accepted == 1 else "ids"
            return f"server answered {status} with {accepted} {ids} for {events} events"
        return None
    return f"server answered {status}"


class RestAnswer(tuple[int, Any]):
    """`(status, body)` of a REST lookup, with the seconds its Retry-After asked for (None
    when it asked for none): a pair wherever a pair is read."""

    retry_after: float | None

    def __new__(cls, status: int, body: Any, retry_after: float | None) -> RestAnswer:
        answer = super().__new__(cls, (status, body))
        answer.retry_after = retry_after
        return answer


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP-date), None when absent or invalid."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(seconds, 0.0)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


class _Client(httpx.AsyncClient):
    """A proxy from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) is never used for
    the loopback (localhost, 127.0.0.0/8, ::1), as Go's net/http (the Dev Server's) does
    not: a local Dev Server or the inbox behind a corporate proxy got the proxy's 502, and
    the event key went to it in clear text."""

    def _transport_for_url(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        if is_loopback_host(url.host):
            return self._transport
        return super()._transport_for_url(url)


ENVIRONMENT_SETTINGS = "HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY, SSL_CERT_FILE, SSL_CERT_DIR"
THROUGH_PROXY = "(through the proxy set in HTTP_PROXY, HTTPS_PROXY or ALL_PROXY)"
CA_HINT = (" (a server whose certificate comes from a private CA: install that CA in the"
           " system's certificates, or set SSL_CERT_FILE to its PEM file)")
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def _proxy_credentials() -> bool:
    """Whether a proxy variable holds a user or password (an `@`), in any case of name."""
    return any("@" in value for name, value in os.environ.items()
               if name.upper() in _PROXY_VARIABLES)


def _http_client(*, tls: bool, **options: Any) -> tuple[httpx.AsyncClient, str | None]:
    """The shared client, and what is wrong with this environment's proxy and certificate
    settings when they cannot be used (None when they can). Such settings are ignored then,
    with that said: a socks4:// proxy in ALL_PROXY, `[::1]` in NO_PROXY or an SSL_CERT_FILE
    that is not there had stopped the window from opening and every command with a
    traceback. (A socks5:// or socks5h:// proxy is used, as http:// and https:// ones are.)

    `tls`: trust the CAs of `trust.trust_context`; otherwise none (see EventApiClient)."""
    try:
        verify = trust_context() if tls else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return _Client(**options, verify=verify), None
    except ImportError:  # socksio, which httpx imports for a socks5:// proxy only
        problem = "a SOCKS proxy needs the socksio package, which is missing"
    except OSError as exc:  # ssl.SSLError is one too
        problem = f"a certificate setting cannot be read: {_detail(exc)}"
    except (ValueError, httpx.InvalidURL) as exc:
        # httpx's message may quote a piece of a proxy URL's password ("Invalid port:
        # 'Sup3r'" of http://alice:Sup3r/x@proxy:8080): no detail when one holds a password
        problem = ("a proxy setting cannot be read" if _proxy_credentials()
                   else _detail(exc))
        if "Unknown scheme for proxy URL" in problem:  # socks4://, ftp://, ...
            problem = ("a proxy URL must start with http://, https://, socks5:// or"
                       " socks5h://")
    verify = (trust_context(environment=False) if tls
              else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    return (_Client(**options, verify=verify, trust_env=False),
            f"the proxy and certificate settings of the environment ({ENVIRONMENT_SETTINGS})"
            f" are ignored: {one_line(problem)}")


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(cause, kind) for cause in _chain(exc))


def _proxy_retryable(exc: httpx.ProxyError) -> bool:
    """Whether the proxy's refusal may pass ("502 Bad Gateway": the host was down); "407
    Proxy Authentication Required" or "403 Forbidden" will not."""
    code = _detail(exc).split(" ", 1)[0]
    return code.isdigit() and _retryable(int(code))


def _detail(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


TOO_LARGE = ("; the server takes smaller requests: lower the request limit (--request-limit, "
             "or the environment's) and batches are split smaller")
ANSWERED = "answered "  # how health_problem begins when the server did answer


def health_words(origin: str, problem: str | None) -> str:
    """`GET {origin}/health` in words: reachable, reachable but not healthy (a server that
    answered 404 had read "not reachable: answered 404"), or not reachable."""
    if problem is None:
        return f"reachable ({origin}/health)"
    if problem.startswith(ANSWERED):
        return (f"reachable, but {origin}/health {problem}, not 200 (is this the origin of "
                "an Inngest event API?)")
    return f"not reachable ({origin}/health): {problem}"


REFUSED = "connection refused: nothing listens there"
NOT_TLS = "the TLS handshake failed: is it an http:// server, not https://?"
_NOT_TLS_REASONS = {"WRONG_VERSION_NUMBER", "UNEXPECTED_EOF_WHILE_READING", "HTTP_REQUEST",
                    "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"}


def network_words(exc: BaseException) -> str:
    """What went wrong on the way to a server, in words: not httpx's class names
    ("ConnectError", "ReadError": its message is often empty), `[Errno -2]` or OpenSSL's
    `(_ssl.c:1006)`. The cause that says most is looked for down the chain."""
    chain = _chain(exc)
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            why = cause.verify_message or cause.reason or "not trusted"
            return f"certificate verify failed: {why}"
        if isinstance(cause, ssl.SSLError):
            if (cause.reason or "") in _NOT_TLS_REASONS:
                return NOT_TLS
            return f"the TLS handshake failed ({(cause.reason or 'TLS error').lower()})"
        if isinstance(cause, socket.gaierror):
            return f"the host name was not found ({cause.strerror or 'no address'})"
        if isinstance(cause, ConnectionRefusedError):
            return REFUSED
        if isinstance(cause, ConnectionResetError):
            return "the server reset the connection"
        if isinstance(cause, (BrokenPipeError, ConnectionAbortedError)):
            return "the server closed the connection"
    for cause in chain:  # "Network is unreachable", "No route to host": said plainly
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    text = str(exc).strip()
    if text:
        return text
    return ("the answer could not be read" if isinstance(exc, httpx.ReadError) else
            "the request could not be written" if isinstance(exc, httpx.WriteError) else
            "the connection failed")


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what caused it, ten deep at most."""
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(out) < 10:
        out.append(seen)
        seen = seen.__cause__ or seen.__context__
    return out


def _secs(value: float) -> str:
    return f"{value:g} s"


def _snip(raw: bytes, secrets: list[str]) -> str:
    """The start of a body, on one line; keys are masked first, before the whitespace is
    folded and the text cut (either could split a key so that it is no longer found)."""
    text = " ".join(scrub(raw.decode("utf-8", errors="replace"), secrets).split())
    return repr(text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…")
