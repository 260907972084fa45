"""The two sides of a two-way task as a run sees them: where each is read, what is read, how a record is known.

A side's records flow out through one of the task's legs and are written through the other:
the source is read by `sourceToCds` and written by `cdsToSource`, the CDS the other way round.
So a side reads what its outgoing leg maps plus what its incoming leg writes (the merge compares
both with the baseline), and its incremental state is saved under its outgoing leg's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from shared.errors import InvalidInput
from shared.sync.workspace import LegPlan, RunWorkspace
from shared.twoway.identity import IdentityReader, identity_reader

SOURCE, CDS = "source", "cds"
SIDES = (SOURCE, CDS)
OUTGOING = {SOURCE: "sourceToCds", CDS: "cdsToSource"}
"""The leg a side's records flow out through, whose name its counts and saved state carry."""
INCOMING = {SOURCE: "cdsToSource", CDS: "sourceToCds"}


@dataclass(frozen=True)
class Side:
    """One side of a two-way task: `reads` is the leg that reads it, `writes` the leg that writes it, `identity`
    gives the pair identity of one of its records."""

    name: str
    reads: LegPlan
    writes: LegPlan
    identity: IdentityReader

    @property
    def entity(self) -> str:
        return self.reads.leg.source.entity

    @property
    def key(self) -> list[str]:
        return self.reads.leg.source.key

    @property
    def key_mapped(self) -> bool:
        """Records are paired through the key map (each side's key is its records' id), not by a business key."""
        return self.reads.key_mapped

    @property
    def leg(self) -> str:
        return self.reads.leg.name

    @cached_property
    def primary_id(self) -> str | None:
        """The field holding a record's own id (how change tracking names a deleted record), if the side has one."""
        return self.reads.source.describe(self.entity).primary_id

    def record_id(self, record: dict[str, Any]) -> str | None:
        value = record.get(self.primary_id) if self.primary_id else None
        return None if value in (None, "") else str(value)

    def query(self) -> tuple[list[str] | None, dict[str, list[str]]]:
        """What to read of a record: what the outgoing leg maps, the fields the incoming leg writes, the id."""
        select, expand = self.reads.source_query()
        if select is None:
            return None, expand
        written = {m.target for m in self.writes.leg.mappings}
        if self.primary_id is not None:
            written.add(self.primary_id)
        return sorted(set(select) | written), expand


def side_of(workspace: RunWorkspace, task: str, side: str) -> Side:
    """The side `side` ("source" or "cds") of a two-way task of the run."""
    if side not in SIDES:
        raise InvalidInput(f"a two-way task has no side {side!r}", field="side")
    reads = workspace.leg(task, OUTGOING[side])
    # a source record's identity is the CDS key it maps to, with the values the CDS side's scope fixes
    return Side(side, reads, workspace.leg(task, INCOMING[side]),
                identity_reader(reads.task, side, reads.target.fixed_values))
