"""Service protection and the other knobs: request window, concurrency cap, latency, cost, faults.

The sliding window counts the requests admitted in the last `window_s` seconds; once it
holds `requests_per_window`, requests get 429 with `Retry-After` (whole seconds) until the
oldest request leaves the window. A request sent while told to wait is refused and pushes
the end of the wait back by the window's share of one request (`window_s /
requests_per_window`), so a client that ignores Retry-After waits longer. The concurrency
cap refuses a request while `max_concurrency` others are in flight (Retry-After: 1).
`throttle_rate` refuses that fraction of requests at random (Retry-After: 1), the way the
service's execution-time limit strikes a busy client: a throttling storm on demand.
A limit of 0 is off. Faults and random throttling are drawn from a seeded generator: a
fault is a 503 before the work is done, or a dropped connection after it is done.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Knobs:
    """The tunable behaviour; JSON names are the command-line flags in snake_case."""

    latency_ms: float = 0.0
    record_cost_ms: float = 0.0
    max_concurrency: int = 0
    requests_per_window: int = 0
    window_s: float = 300.0
    fault_rate: float = 0.0
    throttle_rate: float = 0.0

    def updated(self, changes: Mapping[str, Any]) -> Knobs:
        """A copy with `changes` applied; ValueError names an unknown or invalid knob."""
        types = {f.name: f.type for f in fields(self)}
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in types:
                raise ValueError(f"unknown knob {name!r}; known: {', '.join(types)}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"knob {name!r} needs a non-negative number")
            values[name] = int(value) if types[name] == "int" else float(value)
        knobs = replace(self, **values)
        for name in ("fault_rate", "throttle_rate"):
            if getattr(knobs, name) > 1:
                raise ValueError(f"knob {name!r} is a fraction between 0 and 1")
        if knobs.requests_per_window and knobs.window_s <= 0:
            raise ValueError("knob 'window_s' must be positive when requests_per_window is set")
        return knobs

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Rejection:
    """Why a request was refused and how long the client should wait."""

    reason: str
    limit: int
    retry_after: int


class Protection:
    """Admission control for one server; called on the event loop only."""

    def __init__(self, knobs: Knobs, seed: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._random = random.Random(seed)
        self._in_flight = 0
        self.configure(knobs)

    @property
    def knobs(self) -> Knobs:
        return self._knobs

    def configure(self, knobs: Knobs) -> None:
        """New knobs; the request window and any wait start afresh."""
        self._knobs = knobs
        self._admitted: deque[float] = deque()
        self._blocked_until = 0.0

    def admit(self) -> Rejection | None:
        """Let a request in (the caller must `release` it), or say why not."""
        knobs, now = self._knobs, self._clock()
        if knobs.requests_per_window:
            if now < self._blocked_until:
                self._blocked_until += knobs.window_s / knobs.requests_per_window
                return self._wait("requests", knobs.requests_per_window, now)
            while self._admitted and self._admitted[0] <= now - knobs.window_s:
                self._admitted.popleft()
            if len(self._admitted) >= knobs.requests_per_window:
                self._blocked_until = self._admitted[0] + knobs.window_s
                return self._wait("requests", knobs.requests_per_window, now)
        if knobs.max_concurrency and self._in_flight >= knobs.max_concurrency:
            return Rejection("concurrency", knobs.max_concurrency, 1)
        if knobs.throttle_rate and self._random.random() < knobs.throttle_rate:
            return Rejection("execution time", 0, 1)
        if knobs.requests_per_window:
            self._admitted.append(now)
        self._in_flight += 1
        return None

    def _wait(self, reason: str, limit: int, now: float) -> Rejection:
        return Rejection(reason, limit, max(1, math.ceil(self._blocked_until - now)))

    def release(self) -> None:
        self._in_flight -= 1

    def draw_fault(self) -> str | None:
        """None, "unavailable" (answer 503, do nothing) or "drop" (do the work, cut the connection)."""
        rate = self._knobs.fault_rate
        if rate <= 0 or self._random.random() >= rate:
            return None
        return "drop" if self._random.random() < 0.5 else "unavailable"


@dataclass
class Stats:
    """What the server has seen, for `GET /_sandbox/stats`."""

    requests: int = 0
    throttled: int = 0
    faults: int = 0
    records_written: int = 0

    def __post_init__(self) -> None:
        self.by_route: dict[str, dict[str, int]] = {}

    def count(self, route: str, *, throttled: bool = False, fault: bool = False, written: int = 0) -> None:
        self.requests += 1
        self.throttled += int(throttled)
        self.faults += int(fault)
        self.records_written += written
        entry = self.by_route.setdefault(route, {"requests": 0, "throttled": 0, "faults": 0, "records_written": 0})
        entry["requests"] += 1
        entry["throttled"] += int(throttled)
        entry["faults"] += int(fault)
        entry["records_written"] += written

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "throttled": self.throttled,
            "faults": self.faults,
            "records_written": self.records_written,
            "by_route": {route: dict(entry) for route, entry in sorted(self.by_route.items())},
        }
