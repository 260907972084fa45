"""A bidirectional accounts task and helpers that merge a pair and carry out the outcome's writes, as a run would."""

from __future__ import annotations

from typing import Any

from shared.models import Task
from shared.twoway.mapping import TwoWayMapping, compile_twoway
from shared.twoway.merge import Resolutions, merge
from shared.twoway.outcome import Outcome, Pair, Write

ID = '["a-1"]'
NOW = "2026-11-30T10:00:00Z"


def accounts(unmapped: str = "passthrough", **options: Any) -> Task:
    """Items of every kind: the key and a name both ways, a country through value maps each way (`unmapped`
    says what the way to CDS does with a country it has no entry for), a phone to CDS only, a status to the
    source only, a Concat display name and a constant origin."""
    return Task.model_validate({
        "name": "Accounts", "direction": "bidirectional", **options,
        "source": {"entity": "accounts", "key": ["no"]},
        "cds": {"entity": "accounts", "key": ["accountnumber"]},
        "sourceToCds": [
            {"source": "no", "target": "accountnumber"},
            {"source": "name", "target": "name"},
            {"source": "country", "target": "address1_country",
             "transforms": [{"transformType": "ValueMap", "valueMap": {"usa": "US", "deu": "DE"}, "onUnmapped": unmapped}],
             "reverseTransforms": [{"transformType": "ValueMap", "valueMap": {"US": "usa", "DE": "deu"}}]},
            {"source": "phone", "target": "telephone1", "direction": "toTarget"},
            {"source": "status", "target": "statuscode", "direction": "toSource"},
            {"target": "display", "transforms": [{"transformType": "Concat", "separator": " / ",
                                                  "parts": [{"field": "name"}, {"field": "no"}]}]},
            {"target": "origin", "transforms": [{"transformType": "Constant", "value": "sync"}]},
        ],
    })


def run(pair: Pair, mapping: TwoWayMapping | None = None, policy: str = "manual", deletes: str = "ignore",
        resolutions: Resolutions | None = None, run_id: str = "r2") -> Outcome:
    return merge(pair, mapping or compile_twoway(accounts()), policy, deletes, resolutions or {},  # type: ignore[arg-type]
                 run_id=run_id, now=NOW)


def applied(record: dict[str, Any] | None, write: Write | None, delete: dict[str, Any] | None = None
            ) -> dict[str, Any] | None:
    """A side's record once the outcome's write or delete went through."""
    if delete is not None:
        return None
    if write is None:
        return record
    return dict(write.values) if write.create else {**(record or {}), **write.values}


def after(pair: Pair, outcome: Outcome) -> Pair:
    """The pair as the next run finds it, every write of `outcome` having succeeded."""
    baseline = None if outcome.remove else outcome.save or pair.baseline
    return Pair(pair.identity, applied(pair.source, outcome.to_source, outcome.delete_source),
                applied(pair.cds, outcome.to_cds, outcome.delete_cds), baseline)


def linked(source: dict[str, Any], mapping: TwoWayMapping | None = None) -> Pair:
    """A pair created in CDS from `source` by an earlier run."""
    first = Pair(ID, source, None)
    return after(first, run(first, mapping, run_id="r1"))
