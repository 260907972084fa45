"""The merge step of a two-way task: merge the pairs of a range of buckets and write both ways.

The step gathers the range's pairs (shared/twoway/pairs.py), merges each (shared/twoway/merge.py,
pure) with the resolutions people gave, then, inside the fence of its run (a run told to stop
writes nothing more, baselines included), records the ids of records a key map pairs before
creating them (shared/twoway/key_map.py), then writes each side in bulk: partial records (key fields
and changed fields) with `write_batch`, deletions with `delete_by_keys`. Only a pair whose writes
all succeeded gets its new baseline (or loses it, when the merge removed it) and has its
resolutions marked applied; a pair with a failed write keeps its old baseline and is kept for a
retry, so the next run tries it again, also an incremental one that would not read it otherwise.
Open conflicts are recorded for a person, failed records as error records on the leg they are
counted on, one error page per leg and step. A step run again leaves the pairs this run already
settled alone (their staged records are older than their baselines). A dry run writes nothing
anywhere and counts what it would have written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from shared.connectors.base import WriteResult
from shared.mapping import path_getter
from shared.models import Conflict, ConflictSide, ErrorRecord, conflict_id
from shared.store import Store
from shared.store.baselines import bucket_of_identity
from shared.sync.fence import writing
from shared.sync.workspace import RunWorkspace
from shared.twoway.baseline import Baseline
from shared.twoway.key_map import record_created
from shared.twoway.mapping import compile_twoway
from shared.twoway.merge import merge
from shared.twoway.outcome import IN_SYNC, Outcome, Pair, skip
from shared.twoway.pairs import gather
from shared.twoway.sides import CDS, INCOMING, OUTGOING, SIDES, SOURCE, Side, side_of
from shared.twoway.tally import Tally
from shared.twoway.values import stored

WRITE_CHUNK = 1000
"""Records of one side handed to one `write_batch` (the connector cuts them into its own bulks)."""


@dataclass
class _Decided:
    pair: Pair
    outcome: Outcome
    results: dict[str, WriteResult | None]
    """The result of each write the outcome asked for, by side written (None: nothing written there)."""

    @property
    def succeeded(self) -> bool:
        return all(result is None or result.ok for result in self.results.values())


def merge_range(
    store: Store, workspace: RunWorkspace, project: str, task_name: str, first: int, last: int, buckets: int,
    mode: str, dry_run: bool, now: str,
) -> dict[str, Any]:
    """Merge buckets `first` to `last` (of `buckets`) of a two-way task; return their counts per leg
    (shared/twoway/tally.py)."""
    task = workspace.tasks[task_name]
    sides = {side: side_of(workspace, task_name, side) for side in SIDES}
    mapping = compile_twoway(task)
    tally = Tally()

    def in_range(identity: str) -> bool:
        return first <= bucket_of_identity(identity, buckets) <= last

    failed_before = {identity: keys for identity, keys in store.baselines.retries(project, task_name).items()
                     if in_range(identity)}
    settled = [c for c in store.conflicts.settled(project, task_name) if in_range(c.identity)]
    # a settled conflict is applied by the next run, also an incremental one that reads neither record
    retry = {**{c.identity: {"cdsKey": c.businessKey, "sourceKey": None} for c in settled}, **failed_before}
    open_conflicts = [c for c in store.conflicts.still_open(project, task_name) if in_range(c.identity)]
    pairs = gather(store, workspace.run_id, project, task_name, sides, first, last, buckets, mode, retry,
                   {c.identity for c in open_conflicts}, mapping, tally)
    resolutions = {(c.identity, c.field): c.resolution for c in settled if c.resolution is not None}
    still_open = {(c.identity, c.field): c.conflictId for c in open_conflicts} if not dry_run else {}
    decided = [_Decided(pair, _settled_before(pair) if _settled_by(pair, workspace.run_id) else
                        merge(pair, mapping, task.conflicts, task.deletes, resolutions, run_id=workspace.run_id,
                              now=now), {}) for pair in pairs]
    if dry_run or not decided:
        _count(sides, decided, tally, workspace.run_id, task_name)
        return tally.to_json()
    with writing(store, project, workspace.run_id, f"{task_name} buckets {first}-{last}"):
        if any(_writes(d.outcome) for d in decided):
            record_created(store, project, task_name, [_ids(sides, d.pair) for d in decided if _creates(d.outcome)
                                                        and d.pair.given_keys])
            for side in SIDES:
                _write(sides[side], decided)
            for side in SIDES:
                _read_back_created(sides[side], decided)
        errors = _count(sides, decided, tally, workspace.run_id, task_name)
        _keep(store, workspace.run_id, project, task_name, first, sides, decided, errors)
        _close_agreed(store, workspace.run_id, project, decided, still_open)
        failed = {d.pair.identity: _keys(sides, d) for d in decided if not d.succeeded}
        store.baselines.keep_retries(project, task_name, failed, [d.pair.identity for d in decided
                                                                 if d.succeeded and d.pair.identity in failed_before])
    return tally.to_json()


def _settled_by(pair: Pair, run_id: str) -> bool:
    """Whether an earlier attempt of this step saved the pair's baseline: its staged records are older than that."""
    return pair.baseline is not None and pair.baseline.run_id == run_id


def _settled_before(pair: Pair) -> Outcome:
    """Nothing more for a pair this run settled already: merging its staged records again would undo the writes."""
    return Outcome(source=None if pair.source is None else skip(IN_SYNC),
                   cds=None if pair.cds is None else skip(IN_SYNC))


def _writes(outcome: Outcome) -> bool:
    return any((outcome.to_cds, outcome.to_source, outcome.delete_cds, outcome.delete_source))


def _write(side: Side, decided: list[_Decided]) -> None:
    """Write and delete on `side` what the pairs ask, recording each pair's result."""
    fixed = side.writes.target.fixed_values
    upserts = [(d, {**_upsert(d.outcome, side.name).values, **fixed})  # type: ignore[union-attr]
               for d in decided if _upsert(d.outcome, side.name) is not None]
    for start in range(0, len(upserts), WRITE_CHUNK):
        chunk = upserts[start : start + WRITE_CHUNK]
        results = side.writes.target.write_batch(side.entity, side.key, [values for _, values in chunk])
        for (d, _), result in zip(chunk, results, strict=True):
            d.results[side.name] = result
    deletes = [(d, _delete(d.outcome, side.name)) for d in decided if _delete(d.outcome, side.name) is not None]
    if deletes:
        keys = [[{**key, **fixed}.get(f) for f in side.key] for _, key in deletes]  # type: ignore[union-attr]
        for (d, _), result in zip(deletes, side.writes.target.delete_by_keys(side.entity, side.key, keys),
                                  strict=True):
            d.results[side.name] = result


def _creates(outcome: Outcome) -> bool:
    return any(write is not None and write.create for write in (outcome.to_cds, outcome.to_source))


def _ids(sides: dict[str, Side], pair: Pair) -> tuple[str, str]:
    """A key-mapped pair's (source id, CDS id)."""
    return (str(pair.given_keys[SOURCE][sides[SOURCE].key[0]]), str(pair.given_keys[CDS][sides[CDS].key[0]]))


def _keys(sides: dict[str, Side], d: _Decided) -> dict[str, dict[str, Any]]:
    """Where each side holds (or is to hold) a pair: its business keys, for the run that tries it again."""
    found = {}
    for side, name in ((CDS, "cdsKey"), (SOURCE, "sourceKey")):
        write = _upsert(d.outcome, side)
        record = getattr(d.pair, side) or (write.values if write is not None else {})
        found[name] = {f: record.get(f) for f in sides[side].key}
    return found


def _read_back_created(side: Side, decided: list[_Decided]) -> None:
    """Put in the new baselines the records created on `side` as the side holds them, read back by key: their
    ids (a deletion change tracking reports later names the record by its id) and the values the side filled
    in itself (an empty text for a value not given), so that the next run sees no change in them."""
    created = [d for d in decided if d.succeeded and d.outcome.save is not None
               and (write := _upsert(d.outcome, side.name)) is not None and write.create]
    if not created:
        return
    fixed = side.writes.target.fixed_values
    keys = [[{**_side_key(d.outcome.save, side.name), **fixed}.get(f) for f in side.key]  # type: ignore[arg-type]
            for d in created]
    select, expand = side.query()
    for d, record in zip(created, side.writes.target.read_by_keys(side.entity, side.key, keys, select, expand),
                         strict=True):
        if record is not None:
            d.outcome = replace(d.outcome, save=_as_held(d.outcome.save, side.name, record,  # type: ignore[arg-type]
                                                         side.record_id(record)))


def _as_held(baseline: Baseline, side: str, record: dict[str, Any], record_id: str | None) -> Baseline:
    """`baseline` with `side`'s fields and id as `record` holds them."""
    kept = baseline.cds if side == CDS else baseline.source
    held = {name: stored(record[name] if name in record else path_getter(name)(record)) for name in kept}
    ids = {**baseline.ids, side: record_id}
    return replace(baseline, cds=held, ids=ids) if side == CDS else replace(baseline, source=held, ids=ids)


def _side_key(baseline: Baseline, side: str) -> dict[str, Any]:
    return baseline.cds_key if side == CDS else baseline.source_key


def _upsert(outcome: Outcome, side: str) -> Any:
    return outcome.to_source if side == SOURCE else outcome.to_cds


def _delete(outcome: Outcome, side: str) -> dict[str, Any] | None:
    return outcome.delete_source if side == SOURCE else outcome.delete_cds


def _count(sides: dict[str, Side], decided: list[_Decided], tally: Tally, run_id: str, task: str
           ) -> dict[str, list[ErrorRecord]]:
    """Count each side's record on the leg it flows out through; return the error records by leg."""
    errors: dict[str, list[ErrorRecord]] = {OUTGOING[side]: [] for side in SIDES}
    for d in decided:
        outcome = d.outcome
        tally.add(OUTGOING[SOURCE], "conflicts", len(outcome.open_conflicts))
        for side in SIDES:
            written = d.results.get(side)
            if written is not None and written.ok and _delete(outcome, side) is not None:
                tally.add(INCOMING[side], "deleted")
            verdict = getattr(outcome, side)
            record = getattr(d.pair, side)
            if verdict is None or record is None:
                continue
            leg = OUTGOING[side]
            failure = _result_for(d, side, verdict.action)
            if verdict.action == "fail":
                tally.add(leg, "failed")
                errors[leg].append(_error(run_id, task, sides, leg, d, record, verdict.field, "MappingError",
                                          verdict.reason))
            elif failure is not None and not failure.ok:
                tally.add(leg, "failed")
                errors[leg].append(_error(run_id, task, sides, leg, d, record, failure.field,
                                          failure.code or "Error", failure.message or ""))
            elif verdict.action == "write":
                tally.add(leg, "written")
            else:
                tally.skip(leg, verdict.reason)
    return errors


def _result_for(d: _Decided, side: str, action: str) -> WriteResult | None:
    """The write a side's record stands or falls with: the other side's write it caused, or its own deletion."""
    if action == "write":
        return d.results.get(CDS if side == SOURCE else SOURCE)
    return d.results.get(side) if _delete(d.outcome, side) is not None else None


def _error(run_id: str, task: str, sides: dict[str, Side], leg: str, d: _Decided, record: dict[str, Any],
           field: str | None, code: str, message: str) -> ErrorRecord:
    cds_key = d.pair.baseline.cds_key if d.pair.baseline is not None else {}
    key = cds_key or {f: (d.pair.cds or record).get(f) for f in sides[CDS].key}
    return ErrorRecord(runId=run_id, task=task, leg=leg, businessKey=key, field=field, code=code,  # type: ignore[arg-type]
                       message=message, record=record)


def _keep(store: Store, run_id: str, project: str, task: str, first: int, sides: dict[str, Side],
          decided: list[_Decided], errors: dict[str, list[ErrorRecord]]) -> None:
    """Save what the writes settled: baselines, conflicts, applied resolutions, error records (one error page per
    leg and step, numbered after the step's first bucket)."""
    done = [d for d in decided if d.succeeded]
    old = {d.pair.identity: d.pair.baseline for d in done if d.pair.baseline is not None}
    store.baselines.save_many(project, task, [d.outcome.save for d in done if d.outcome.save is not None],
                              replaced=old)
    store.baselines.delete_many(project, task, [d.pair.baseline for d in done
                                                if d.outcome.remove and d.pair.baseline is not None])
    conflicts = [_conflict(run_id, task, sides, d, c) for d in decided for c in d.outcome.open_conflicts]
    if conflicts:
        store.conflicts.put_open(project, conflicts)
    applied = [conflict_id(task, d.pair.identity, name) for d in done for name in d.outcome.applied]
    if applied:
        store.conflicts.mark_applied(project, applied, run_id)
    for leg, found in errors.items():
        if found:
            store.errors.write_page(run_id, task, leg, first + 1, [e.model_dump(mode="json") for e in found])
        else:
            store.errors.delete_page(run_id, task, leg, first + 1)


def _close_agreed(store: Store, run_id: str, project: str, decided: list[_Decided],
                  still_open: dict[tuple[str, str], str]) -> None:
    """Close the open conflicts of pairs this step merged (their baselines saved) without that field conflicting:
    someone made both sides agree, or put one side back, so nothing is left for a person to settle."""
    merged = {d.pair.identity: {c.cds_field for c in d.outcome.open_conflicts} for d in decided
              if d.succeeded and d.outcome.save is not None and not _settled_by(d.pair, run_id)}
    agreed = [conflict for (identity, field), conflict in still_open.items()
              if identity in merged and field not in merged[identity]]
    if agreed:
        store.conflicts.close_agreed(project, agreed, run_id)


def _conflict(run_id: str, task: str, sides: dict[str, Side], d: _Decided, found: Any) -> Conflict:
    assert d.pair.source is not None and d.pair.cds is not None
    return Conflict(
        task=task, identity=d.pair.identity, businessKey={k: d.pair.cds.get(k) for k in sides[CDS].key},
        field=found.cds_field, sourceField=found.source_field, baseline=found.baseline,
        source=ConflictSide(value=found.source, changedOn=_changed_on(sides[SOURCE], d.pair.source)),
        cds=ConflictSide(value=found.cds, changedOn=_changed_on(sides[CDS], d.pair.cds)), runId=run_id,
    )


def _changed_on(side: Side, record: dict[str, Any]) -> Any:
    field = side.reads.modified_field
    return None if field is None else record.get(field)
