"""One pooled `requests.Session` per connector, and the retry loop every HTTP call goes through.

A response is classified once, here:

- 429, 502, 503, 504 and dropped or refused connections are transient: wait (honouring
  `Retry-After`, else exponential backoff with full jitter) and try again, within the
  request's budget and the running step's (shared/budgets.py). While one caller is told to
  wait, every caller sharing the same `Throttle` waits too, because sending more to a
  throttled service only extends the wait.
- 401 and 403 are fatal `AuthenticationError`s: retrying cannot help.
- Every other response goes back to the caller, which knows whether it is a per-record
  failure (400, 404, 409, 412) or success.
- A client confined to an origin (scheme, host, port: its connection's) sends nothing anywhere
  else: a URL or a redirect to another origin is `ForeignOriginRefused` before any byte leaves,
  so a link a system hands back (`@odata.nextLink`, a delta link) can never carry the
  connection's token to another host. Redirects are never followed.
- A transient failure that outlives the budget becomes `SystemUnavailable` (a
  `RetryableError`), naming the system, the request and the last answer, so Durable's
  activity retry can take over and, when the system stays down, the run says why it failed.
  Unless the service was only throttling, the client's `Circuit` then opens: the other
  requests to that system fail at once with the same reason until it is asked again.

Requests in flight are bounded by the client's `Slots`: a semaphore of the process, or
slots leased from storage so that a budget holds for the whole app (shared/slots.py).
"""

from __future__ import annotations

import email.utils
import http.client
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from pydantic_core import from_json, to_json
from requests.adapters import HTTPAdapter

from shared.budgets import Budgets, step_deadline
from shared.errors import AuthenticationError, ForeignOriginRefused, SystemUnavailable, request_path

TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
MAX_IN_FLIGHT = 48
"""Requests in flight to one Dataverse user at most: under its 52 concurrent requests."""
TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def origin_of(url: str) -> str:
    """`scheme://host:port` of `url`, lower-cased, with the scheme's default port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = None
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


def new_session(pool_size: int = 64) -> requests.Session:
    """A session with a connection pool large enough for the connector's concurrency and no hidden retries."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@dataclass
class RetryPolicy:
    """How one request is retried: attempts, backoff, and the time all its attempts and waits may take."""

    max_attempts: int = 12
    budget_s: float = 100.0
    """All attempts and waits of one request (the running step's deadline may cut it shorter)."""
    base_delay_s: float = 0.5
    max_delay_s: float = 60.0
    timeout_s: float = 100.0
    """One attempt's wait for an answer, at most."""
    min_attempt_s: float = 0.5
    """An attempt is not started with less time than this left."""
    circuit_open_s: float = 100.0

    @classmethod
    def from_budgets(cls, budgets: Budgets) -> RetryPolicy:
        """The policy that keeps a request within `budgets` (derived from functionTimeout)."""
        return cls(
            budget_s=budgets.request_s, timeout_s=budgets.attempt_timeout_s,
            max_delay_s=min(60.0, budgets.request_s / 2), min_attempt_s=min(0.5, budgets.request_s / 10),
            circuit_open_s=budgets.circuit_open_s,
        )

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: anywhere between 0 and the exponential ceiling."""
        return rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))


@dataclass
class Throttle:
    """Shared by every caller of one service: when one is told to wait, all wait."""

    clock: Callable[[], float] = time.monotonic
    _resume_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._resume_at = max(self._resume_at, self.clock() + seconds)

    def holding(self) -> bool:
        with self._lock:
            return self._resume_at > self.clock()

    def wait(self, sleep: Callable[[float], None] = time.sleep, until: float | None = None) -> bool:
        """Sleep until the service said it takes requests again, also when the wait is extended meanwhile.

        Returns False, without sleeping, when that is later than `until`.
        """
        waited_for = 0.0
        while True:
            with self._lock:
                target = self._resume_at
            if target <= waited_for:
                return True
            if until is not None and target > until:
                return False
            waited_for = target
            remaining = target - self.clock()
            if remaining > 0:
                sleep(remaining)


@dataclass
class Circuit:
    """Whether a system just spent a whole request budget failing; while it is open, requests fail at once."""

    clock: Callable[[], float] = time.monotonic
    _open_until: float = 0.0
    _failure: SystemUnavailable | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, failure: SystemUnavailable, seconds: float) -> None:
        with self._lock:
            self._open_until = max(self._open_until, self.clock() + seconds)
            self._failure = failure

    def failure(self) -> SystemUnavailable | None:
        """The failure that opened the circuit while it is open, else None."""
        with self._lock:
            return self._failure if self._open_until > self.clock() else None


class Slots(Protocol):
    """A bound on the requests in flight: a slot is held for each one."""

    def slot(self, until: float) -> AbstractContextManager[bool]:
        """Hold a slot while within; yields False when none came free before `until` (`time.monotonic()`)."""
        ...


@dataclass
class LocalSlots:
    """Slots of this process only: right for a service whose limits are per client, or for one process alone."""

    size: int = MAX_IN_FLIGHT

    def __post_init__(self) -> None:
        self._free = threading.BoundedSemaphore(self.size)

    @contextmanager
    def slot(self, until: float) -> Iterator[bool]:
        if not self._free.acquire(timeout=max(0.0, until - time.monotonic())):
            yield False
            return
        try:
            yield True
        finally:
            self._free.release()


def json_body(response: requests.Response) -> Any:
    """The response's JSON body, parsed straight from its bytes (a page of 5,000 records parses ~1.5x
    faster than through `response.json()`); a body that is not JSON raises ValueError as that does."""
    return from_json(response.content)


def read_body(response: requests.Response) -> None:
    """Read a streamed response's whole body in one call, where `Response.content` reads 10 KB chunks.

    Each chunk has to take the GIL back, and while other threads parse, map and stage pages it
    waits its turn every time: a 4 MB page took up to 20 times longer to arrive in chunks.
    """
    try:
        body = response.raw.read(decode_content=True)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.Timeout(str(exc)) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from exc
    response._content = body  # what `Response.content` fills in
    response._content_consumed = True


def retry_after_seconds(response: requests.Response) -> float | None:
    """`Retry-After` as seconds, from either of its two forms."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


@dataclass
class HttpClient:
    """Sends requests to one system through one session with auth headers, a client request id, and retries.

    `system` names the system in failures (`connection 'cds' (dataverse)`); `origin` (set by
    `confine_to`) confines every request to the connection's origin; `clock` and `sleep` are
    the time the budgets are kept in.
    """

    session: requests.Session
    headers: Callable[[], dict[str, str]]
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    system: str = "the service"
    slots: Slots = field(default_factory=LocalSlots)
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    origin: str | None = None
    throttle: Throttle = field(init=False)
    circuit: Circuit = field(init=False)

    def __post_init__(self) -> None:
        self.throttle = Throttle(self.clock)
        self.circuit = Circuit(self.clock)

    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send with retries; a `json` body is encoded once, whatever the number of attempts."""
        self._confine(url)
        extra_headers = kwargs.pop("headers", {})
        if "json" in kwargs:
            kwargs["data"] = to_json(kwargs.pop("json"))
            extra_headers = {"Content-Type": "application/json", **extra_headers}
        started = self.clock()
        own_end = started + self.policy.budget_s
        step_end = step_deadline()
        end = own_end if step_end is None else min(own_end, step_end)
        attempts = 0
        answer, only_throttled = "", True
        for attempt in range(self.policy.max_attempts):
            refused = self.circuit.failure()
            if refused is not None:
                raise self._failure(refused.answer, method, url, attempts, started,
                                    f" (not sent: the system failed a whole request budget just before: {refused})")
            if not self.throttle.wait(self.sleep, until=end):
                answer = answer or "429 Too Many Requests"
                break
            remaining = end - self.clock()
            if remaining < self.policy.min_attempt_s:
                break
            headers = {**self.headers(), "x-ms-client-request-id": str(uuid.uuid4()), **extra_headers}
            with self.slots.slot(self.clock() + remaining) as held:
                if not held:
                    answer = answer or "no request slot came free"
                    break
                attempts += 1
                try:
                    response = self.session.request(
                        method, url, headers=headers, timeout=min(self.policy.timeout_s, remaining), stream=True,
                        allow_redirects=False, **kwargs,
                    )
                    if response.status_code not in TRANSIENT_STATUS:
                        read_body(response)
                except TRANSIENT_ERRORS as exc:
                    answer, only_throttled = network_problem(exc), False
                    delay = self.policy.backoff(attempt, self.rng)
                    response = None
            if response is not None:
                if response.is_redirect:
                    self._confine(urljoin(url, response.headers["Location"]))
                if response.status_code in (401, 403):
                    raise AuthenticationError(
                        f"{response.status_code} from {request_path(url)}: {_short(response.text)}")
                if response.status_code not in TRANSIENT_STATUS:
                    return response
                answer = status_line(response)
                only_throttled = only_throttled and response.status_code == 429
                told = retry_after_seconds(response)
                delay = told if told is not None else self.policy.backoff(attempt, self.rng)
                response.close()
                if response.status_code == 429:
                    self.throttle.hold(delay)
            if self.clock() + delay > end:
                break
            if not self.throttle.holding():
                self.sleep(delay)
        failure = self._failure(answer or "no attempt", method, url, attempts, started,
                                "" if end == own_end else " (the step's time is spent)")
        if not only_throttled and end == own_end:
            self.circuit.open(failure, self.policy.circuit_open_s)
        raise failure

    def confine_to(self, url: str) -> None:
        """From now on, refuse every request outside the origin of `url` (a connection's URL)."""
        origin = origin_of(url)
        if self.origin is not None and self.origin != origin:
            raise ValueError(f"this client is confined to {self.origin}, not {origin}")
        self.origin = origin

    def _confine(self, url: str) -> None:
        if self.origin is not None and origin_of(url) != self.origin:
            raise ForeignOriginRefused(self.system, self.origin, origin_of(url))

    def _failure(self, answer: str, method: str, url: str, attempts: int, started: float,
                 note: str) -> SystemUnavailable:
        return SystemUnavailable(answer.strip(), self.system, method, url, attempts, self.clock() - started, note)


def status_line(response: requests.Response) -> str:
    """`503 Service Unavailable`: the status and its reason phrase."""
    reason = response.reason or http.client.responses.get(response.status_code, "")
    return f"{response.status_code} {reason}".strip()


def network_problem(error: Exception) -> str:
    """What went wrong on the wire, in a few words (never the request's headers or query)."""
    if isinstance(error, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(error, requests.Timeout):
        return "no answer in time"
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "connection dropped mid-answer"
    text = str(error)
    for words, problem in (("Connection refused", "connection refused"), ("Connection reset", "connection reset"),
                           ("RemoteDisconnected", "connection closed without an answer"),
                           ("Name or service not known", "host name not found"),
                           ("nodename nor servname", "host name not found")):
        if words in text:
            return problem
    return "connection failed"


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
