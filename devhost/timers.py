"""A clock thread that calls back at given UTC times: durable timers and timer triggers use it."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Hashable
from datetime import UTC, datetime

log = logging.getLogger("devhost")


class TimerService:
    """Calls each scheduled callback once its time has come, on the service's own thread.

    Callbacks should hand work off quickly; a key scheduled again replaces its earlier entry.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Hashable]] = []
        self._entries: dict[Hashable, tuple[int, Callable[[], None]]] = {}
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="timers", daemon=True)

    def start(self) -> None:
        """Start the clock thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the clock thread; pending callbacks are dropped."""
        with self._wake:
            self._stopped = True
            self._wake.notify()

    def schedule(self, key: Hashable, fire_at: datetime, callback: Callable[[], None]) -> None:
        """Call `callback` at `fire_at` (UTC), replacing what `key` had scheduled."""
        with self._wake:
            order = next(self._order)
            self._entries[key] = (order, callback)
            heapq.heappush(self._heap, (fire_at, order, key))
            self._wake.notify()

    def cancel(self, key: Hashable) -> None:
        """Drop what `key` had scheduled, if anything."""
        with self._wake:
            self._entries.pop(key, None)

    def _loop(self) -> None:
        while True:
            with self._wake:
                callback = self._next_due()
                if callback is None:
                    return
            try:
                callback()
            except Exception:
                log.exception("a timer callback failed")

    def _next_due(self) -> Callable[[], None] | None:
        """Wait (holding the condition) until an entry is due; None once stopped."""
        while not self._stopped:
            if not self._heap:
                self._wake.wait()
                continue
            fire_at, order, key = self._heap[0]
            entry = self._entries.get(key)
            if entry is None or entry[0] != order:
                heapq.heappop(self._heap)
                continue
            wait = (fire_at - datetime.now(UTC)).total_seconds()
            if wait > 0:
                self._wake.wait(wait)
                continue
            heapq.heappop(self._heap)
            del self._entries[key]
            return entry[1]
        return None
