"""A pair's baseline: what both sides held for each mapped field after the last successful sync.

The merge compares each side's current values with it: a value equal to the baseline is no
change, which is why a run never sends back what it wrote (no echoes). `recent` remembers, newest
last, what the last RECENT_RUNS runs that changed the baseline wrote for the pair, one letter each:
WROTE_TO_CDS, WROTE_TO_SOURCE, WROTE_BOTH or WROTE_NOTHING. A pair whose last LOOP_RUNS letters
alternate between the two directions is in a loop the baseline did not catch (a system that
changes what it is given, say), and the circuit breaker holds it back (`is_looping`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

from shared.twoway.values import Stored

LINKED, UNLINKED = "linked", "unlinked"
PairState = Literal["linked", "unlinked"]
"""`unlinked`: one side's record was deleted under `deletes: ignore`; every later run leaves the pair alone."""

RECENT_RUNS = 8
LOOP_RUNS = 4
"""This many writes in alternating directions, one per run, make a loop the circuit breaker holds."""
WROTE_TO_CDS, WROTE_TO_SOURCE, WROTE_BOTH, WROTE_NOTHING = "S", "C", "B", "-"


@dataclass(frozen=True)
class Baseline:
    """One pair's baseline; `identity` is its identity text (shared/twoway/identity.py).

    `source` and `cds` hold each tracked field's value (shared/twoway/values.py `stored`) by
    field name; `cds_key` and `source_key` each side's business key as last seen; `ids` each
    side's record id, where the side has ids (to recognise a deletion change tracking reports).
    """

    identity: str
    cds_key: dict[str, Any] = field(default_factory=dict)
    source_key: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Stored] = field(default_factory=dict)
    cds: dict[str, Stored] = field(default_factory=dict)
    ids: dict[str, str | None] = field(default_factory=lambda: {"source": None, "cds": None})
    state: PairState = LINKED
    recent: str = ""
    run_id: str = ""
    updated_at: str = ""

    def to_json(self) -> dict[str, Any]:
        """The baseline as a JSON document (the columns of its table row, nested ones as objects)."""
        return {"identity": self.identity, "cdsKey": self.cds_key, "sourceKey": self.source_key,
                "source": self.source, "cds": self.cds, "ids": self.ids, "state": self.state,
                "recent": self.recent, "runId": self.run_id, "updatedAt": self.updated_at}

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Baseline:
        """The baseline `to_json` gave `document` for; columns it does not know are ignored."""
        return cls(identity=document["identity"], cds_key=document.get("cdsKey") or {},
                   source_key=document.get("sourceKey") or {}, source=document.get("source") or {},
                   cds=document.get("cds") or {}, ids=document.get("ids") or {"source": None, "cds": None},
                   state=document.get("state") or LINKED, recent=document.get("recent") or "",
                   run_id=document.get("runId") or "", updated_at=document.get("updatedAt") or "")

    def same_pair_state(self, other: Baseline) -> bool:
        """Whether `other` holds the same values, keys, ids and state: saving it would change nothing but history."""
        return (self.source, self.cds, self.cds_key, self.source_key, self.ids, self.state) == (
            other.source, other.cds, other.cds_key, other.source_key, other.ids, other.state)


def run_letter(to_cds: bool, to_source: bool) -> str:
    """The letter `recent` records for a run that wrote to CDS, to the source, both or neither."""
    if to_cds and to_source:
        return WROTE_BOTH
    return WROTE_TO_CDS if to_cds else WROTE_TO_SOURCE if to_source else WROTE_NOTHING


def with_run(recent: str, letter: str) -> str:
    """`recent` with one more run's letter, keeping the last RECENT_RUNS."""
    return (recent + letter)[-RECENT_RUNS:]


def is_looping(recent: str) -> bool:
    """Whether the last LOOP_RUNS runs each wrote one way, alternating: another write would bounce again."""
    last = recent[-LOOP_RUNS:]
    if len(last) < LOOP_RUNS or any(letter not in (WROTE_TO_CDS, WROTE_TO_SOURCE) for letter in last):
        return False
    return all(first != second for first, second in pairwise(last))
