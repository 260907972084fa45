"""Leases of request slots, shared by every process of the app: a partition per connection identity.

A service limit that holds per user of a system (Dataverse: 52 concurrent requests per
user) must hold for the whole app, whatever its worker processes and instances. Each slot
is one row (`RowKey` = slot number) holding its holder and when the lease ends. A slot is
taken with a create (row missing) or an update conditional on the ETag just read (row free
or its lease ended), so of two racing processes exactly one wins; a holder renews and
gives back its rows under the same conditions. A holder that dies simply stops renewing.
Demand from a process that found no free slot is a `want` row, so holders can see it and
keep no more than their share.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

FREE = ""
_WANT = "want-"


@dataclass(frozen=True)
class SlotLease:
    """One slot's row as read: who holds it until when (`holder` FREE when nobody does)."""

    slot: int
    holder: str
    until: datetime
    etag: str

    def free_at(self, now: datetime) -> bool:
        return self.holder == FREE or self.until <= now


@dataclass(frozen=True)
class Partition:
    """Every slot row of one identity, and the holders that said they want slots until when."""

    slots: dict[int, SlotLease]
    wanting: dict[str, datetime]


class SlotLeaseRepository:
    """Slot leases per connection identity, with ETag conditions on every change."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def read(self, identity: str) -> Partition:
        """All the rows of `identity`, in one query."""
        slots: dict[int, SlotLease] = {}
        wanting: dict[str, datetime] = {}
        for row in self._table.query_entities("PartitionKey eq @pk", parameters={"pk": partition_key(identity)}):
            if row["RowKey"].startswith(_WANT):
                wanting[row["RowKey"].removeprefix(_WANT)] = row["Until"]
            else:
                slot = int(row["RowKey"])
                slots[slot] = SlotLease(slot, row["Holder"], row["Until"], row.metadata["etag"])
        return Partition(slots, wanting)

    def take(self, identity: str, slot: int, holder: str, until: datetime, etag: str | None) -> SlotLease | None:
        """Hold `slot` until `until`: create its row (`etag` None) or change the version `etag`; None if it lost."""
        entity = {"PartitionKey": partition_key(identity), "RowKey": f"{slot:04d}", "Holder": holder, "Until": until}
        try:
            if etag is None:
                written = self._table.create_entity(entity)
            else:
                written = self._table.update_entity(
                    entity, mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
                )
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
            return None
        return SlotLease(slot, holder, until, written["etag"])

    def give_back(self, identity: str, lease: SlotLease, now: datetime) -> None:
        """Free a slot this holder holds (nothing happens when the lease was lost meanwhile)."""
        self.take(identity, lease.slot, FREE, now, lease.etag)

    def want(self, identity: str, holder: str, until: datetime) -> None:
        """Say that `holder` waits for slots until `until`."""
        entity = {"PartitionKey": partition_key(identity), "RowKey": _WANT + holder, "Holder": holder, "Until": until}
        self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)


def partition_key(identity: str) -> str:
    """A key-safe, fixed-length partition per identity (it holds a URL, which keys cannot)."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:40]
