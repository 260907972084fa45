"""Request slots that hold for the whole app: leased from storage, then used locally.

A process leases slots (rows of shared/store/slot_leases.py) as its requests need them and
counts its requests against what it holds, so storage is not called per request: only
when it needs more slots than it holds, and once a `round_s` to renew the slots it still
needs and give back the rest. A process holds at most its share of the slots (the budget
over the processes holding or wanting slots), so a busy process cannot starve a newcomer
for longer than a round. A lease outlives a round by `lease_s - round_s`: a process that
dies frees its slots within `lease_s`.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from shared.store.slot_leases import Partition, SlotLease, SlotLeaseRepository

LEASE_S = 60.0
ROUND_S = 15.0
POLL_S = 0.25
"""How often a process with every slot it holds busy looks for a free one."""


class LeasedSlots:
    """The slots of one identity's app-wide budget that this process holds (shared/http.py's `Slots`)."""

    def __init__(
        self, leases: SlotLeaseRepository, identity: str, size: int, *, lease_s: float = LEASE_S,
        round_s: float = ROUND_S, poll_s: float = POLL_S, holder: str | None = None,
        clock: Callable[[], float] = time.monotonic, now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._leases = leases
        self._identity = identity
        self.size = size
        self._lease_s = lease_s
        self._round_s = round_s
        self._poll_s = poll_s
        self.holder = holder or uuid.uuid4().hex
        self._clock = clock
        self._now = now
        self._held: dict[int, SlotLease] = {}
        self._in_use = 0
        self._waiting = 0
        self._next_round = 0.0
        self._next_look = 0.0
        self._changed = threading.Condition()
        self.storage_calls = 0

    @property
    def held(self) -> int:
        """Slots this process holds now."""
        with self._changed:
            return len(self._held)

    @contextmanager
    def slot(self, until: float) -> Iterator[bool]:
        """Hold one of the app's slots while within; False when none came free before `until`."""
        with self._changed:
            self._waiting += 1
            try:
                got = self._wait_for_slot(until)
            finally:
                self._waiting -= 1
            if got:
                self._in_use += 1
        if not got:
            yield False
            return
        try:
            yield True
        finally:
            with self._changed:
                self._in_use -= 1
                self._changed.notify()

    def close(self) -> None:
        """Give back every slot held (a process that ends without this frees them when the leases end)."""
        with self._changed:
            for lease in list(self._held.values()):
                self._leases.give_back(self._identity, lease, self._now())
            self._held.clear()

    def _wait_for_slot(self, until: float) -> bool:
        while True:
            if self._clock() >= self._next_round:
                self._round()
            if self._in_use < len(self._held):
                return True
            now = self._clock()
            if now >= until:
                return False
            if now >= self._next_look:
                self._next_look = now + self._poll_s
                if self._take(self._leases.read(self._identity), wanted=self._in_use + self._waiting):
                    continue
                self._leases.want(self._identity, self.holder, self._now() + timedelta(seconds=self._lease_s))
                self.storage_calls += 2
            self._changed.wait(min(self._poll_s, max(0.0, until - now)))

    def _round(self) -> None:
        """Renew the slots still needed, within this process's share, and give back the others."""
        self._next_round = self._clock() + self._round_s
        partition = self._leases.read(self._identity)
        self.storage_calls += 1
        keep = min(self._share(partition), max(self._in_use + self._waiting, self._in_use))
        now = self._now()
        until = now + timedelta(seconds=self._lease_s)
        for slot, lease in sorted(self._held.items(), key=lambda item: item[0]):
            self.storage_calls += 1
            if keep > 0 or len(self._held) <= self._in_use:
                renewed = self._leases.take(self._identity, slot, self.holder, until, lease.etag)
                if renewed is None:
                    del self._held[slot]
                else:
                    self._held[slot] = renewed
                    keep -= 1
            else:
                self._leases.give_back(self._identity, lease, now)
                del self._held[slot]

    def _take(self, partition: Partition, wanted: int) -> bool:
        """Take free slots up to `wanted` (within this process's share); whether any was taken."""
        self.storage_calls += 1
        now = self._now()
        room = min(wanted, self._share(partition)) - len(self._held)
        until = now + timedelta(seconds=self._lease_s)
        taken = False
        for slot in range(self.size):
            if room <= 0:
                break
            if slot in self._held:
                continue
            found = partition.slots.get(slot)
            if found is not None and not found.free_at(now):
                continue
            self.storage_calls += 1
            lease = self._leases.take(self._identity, slot, self.holder, until, found.etag if found else None)
            if lease is not None:
                self._held[slot] = lease
                room -= 1
                taken = True
        return taken

    def _share(self, partition: Partition) -> int:
        """The most slots this process should hold: the budget over the processes holding or wanting slots."""
        now = self._now()
        others = {lease.holder for lease in partition.slots.values() if not lease.free_at(now)}
        others |= {holder for holder, until in partition.wanting.items() if until > now}
        others.discard(self.holder)
        return math.ceil(self.size / (len(others) + 1))
