"""What the merge decides for one record pair: the writes to each side, the conflicts, the new baseline,
and how each side's record counts in the run (shared/twoway/merge.py decides; a run step carries it out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from shared.twoway.baseline import Baseline

IN_SYNC = "in-sync"
"""Nothing of this side's record had to be written: unchanged since the last sync, or already equal."""
CONFLICT = "conflict"
"""This side's change lost a conflict, or waits in one for a person (`manual`)."""
LOOP_HELD = "loop-held"
"""The circuit breaker held the pair: it was written in alternating directions run after run."""
UNLINKED = "unlinked"
"""The pair was unlinked (a record deleted under `deletes: ignore`): no run touches it again."""
DELETED_IN_SOURCE = "deleted-in-source"
"""The source record was deleted, so this CDS record is deleted too (`deletes: propagate`)."""
DELETED_IN_CDS = "deleted-in-cds"
"""The CDS record was deleted, so this source record is deleted too (`deletes: propagate`)."""
PAIR_FAILED = "pair-failed"
"""The other side's record could not be mapped, so nothing of the pair was written."""


@dataclass(frozen=True)
class Pair:
    """One identity's records as a run found them: `source`/`cds` None where that side has no record (never had one,
    or it was deleted: the baseline tells which). `source_id`/`cds_id` are the records' own ids, where known."""

    identity: str
    source: dict[str, Any] | None
    cds: dict[str, Any] | None
    baseline: Baseline | None = None
    source_id: str | None = None
    cds_id: str | None = None
    given_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    """With a key map, the key each side's record has or gets when created ("source"/"cds": field -> id)."""


@dataclass(frozen=True)
class Write:
    """A partial record for one side: its business key fields plus the fields that change (`create`: every field
    flowing that way, for a record the side does not have)."""

    values: dict[str, Any]
    create: bool = False


@dataclass(frozen=True)
class FieldConflict:
    """A field changed on both sides to different values: `winner` is the side the policy or a person chose, None
    while it waits for a person (`manual`). `baseline` is the CDS value at the last sync (None when unknown or only
    its hash was kept); `source` and `cds` each side's current value."""

    cds_field: str
    source_field: str
    baseline: Any
    source: Any
    cds: Any
    winner: Literal["source", "cds"] | None


@dataclass(frozen=True)
class Verdict:
    """How a record read on one side counts on the leg named after the way it flows out.

    `write`: written when the write it caused succeeds (failed otherwise); `skip`: skipped for `reason`;
    `fail`: a transform refused its value for `field` (`reason` holds the message).
    """

    action: Literal["write", "skip", "fail"]
    reason: str = ""
    field: str | None = None


WRITE = Verdict("write")


def skip(reason: str) -> Verdict:
    return Verdict("skip", reason)


@dataclass(frozen=True)
class Outcome:
    """The merge's decision for one pair.

    Writes go to each side (`to_cds`, `to_source`, `delete_cds`/`delete_source` holding the business key of the
    record to delete). Only when every one of them succeeds is the baseline changed: `save` upserted, or the
    baseline removed (`remove`); neither: it stays as it is. `applied` names the CDS fields whose waiting
    resolution this merge used up. `source`/`cds` say how each side's record counts (None: the side had none).
    """

    to_cds: Write | None = None
    to_source: Write | None = None
    delete_cds: dict[str, Any] | None = None
    delete_source: dict[str, Any] | None = None
    conflicts: tuple[FieldConflict, ...] = ()
    applied: tuple[str, ...] = ()
    save: Baseline | None = None
    remove: bool = False
    source: Verdict | None = None
    cds: Verdict | None = None

    @property
    def open_conflicts(self) -> tuple[FieldConflict, ...]:
        """The conflicts waiting for a person."""
        return tuple(conflict for conflict in self.conflicts if conflict.winner is None)
