"""The three-way merge of one record pair: each side's current record against the pair's baseline.

Field by field (an item of the task's mapping), "changed" means not the same as the baseline:
- changed on one side only: copied to the other (an item flowing one way only looks at the side
  it flows from);
- changed on both, to the same value (`forward(source)` equals the CDS value): nothing written;
- changed on both to different values: a conflict, settled by a person's resolution if one
  waits, else by the policy: `sourceWins`, `cdsWins`, or `manual` (nothing written for that
  field, its baseline kept, so it conflicts again until settled); the rest of the record merges.
An item the baseline does not know (a first run, a pair created on both sides, an item added
later) counts as changed on both sides, so differing values are conflicts and equal ones in sync.
A record on one side only is created on the other; a record deleted on one side is handled as
`deletes` says. A value is written only where it differs from what the side holds, and the new
baseline holds exactly what both sides hold afterwards: a run after a run writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from shared.mapping import TransformError, path_getter
from shared.models import ConflictResolution
from shared.models.projects import ConflictPolicy, DeletePolicy
from shared.twoway.baseline import LINKED, Baseline, is_looping, run_letter, with_run
from shared.twoway.mapping import Record, TwoWayItem, TwoWayMapping
from shared.twoway.outcome import (
    CONFLICT,
    DELETED_IN_CDS,
    DELETED_IN_SOURCE,
    IN_SYNC,
    LOOP_HELD,
    PAIR_FAILED,
    UNLINKED,
    WRITE,
    FieldConflict,
    Outcome,
    Pair,
    Verdict,
    Write,
    skip,
)
from shared.twoway.values import equal, same, shown, stored

Resolutions = Mapping[tuple[str, str], ConflictResolution]
"""Resolutions waiting to be applied, by (pair identity text, CDS field)."""


def merge(
    pair: Pair, mapping: TwoWayMapping, policy: ConflictPolicy, deletes: DeletePolicy, resolutions: Resolutions,
    *, run_id: str, now: str,
) -> Outcome:
    """Decide what to write for `pair`; `run_id` and `now` stamp the new baseline."""
    base = pair.baseline
    if pair.source is None and pair.cds is None:  # gone from both sides: nothing to keep in step
        return Outcome(remove=base is not None)
    if base is not None and base.state != LINKED:
        return _skipped(pair, UNLINKED)
    try:
        if pair.source is not None and pair.cds is not None:
            draft = _merge_fields(pair, mapping, policy, resolutions)
        elif base is None or deletes == "restore":
            draft = _create(pair, mapping)
        else:
            return _deleted(pair, mapping, deletes, base, run_id, now)
    except _ItemFailed as failure:
        return _failed(pair, failure)
    if base is not None and (draft.to_cds or draft.to_source) and is_looping(base.recent):
        return _skipped(pair, LOOP_HELD)
    return _finish(pair, mapping, draft, run_id, now)


def unchanged_since(mapping: TwoWayMapping, side: str, record: Record, record_id: str | None, base: Baseline) -> bool:
    """Whether `side`'s record ("source" or "cds") holds what the linked baseline `base` kept of that side: every
    field the merge tracks there, the business key and the record id. Merged with a counterpart that also holds what
    the baseline kept, such a record writes nothing either way, so an incremental run need not read its counterpart
    when the other side did not report it changed."""
    if base.state != LINKED or base.ids.get(side) != record_id:
        return False
    if side == "source":
        fields, kept, key, kept_key = mapping.source_fields, base.source, mapping.source_key, base.source_key
        value = _value
    else:
        fields, kept, key, kept_key = mapping.cds_fields, base.cds, mapping.cds_key, base.cds_key
        value = dict.get
    return (all(name in kept and same(value(record, name), kept[name]) for name in fields)
            and {name: value(record, name) for name in key} == kept_key)


@dataclass
class _Draft:
    """Both sides' records as they will be after the writes, and what the writes are."""

    source: Record
    cds: Record
    to_cds: dict[str, Any] = field(default_factory=dict)
    to_source: dict[str, Any] = field(default_factory=dict)
    created: str | None = None
    kept: list[TwoWayItem] = field(default_factory=list)
    conflicts: list[FieldConflict] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)


class _ItemFailed(Exception):
    def __init__(self, side: str, field_name: str, message: str) -> None:
        super().__init__(message)
        self.side, self.field = side, field_name


def _merge_fields(pair: Pair, mapping: TwoWayMapping, policy: ConflictPolicy, resolutions: Resolutions) -> _Draft:
    assert pair.source is not None and pair.cds is not None
    draft = _Draft(source=dict(pair.source), cds=dict(pair.cds))
    for item in mapping.items:
        if item.to_source:
            resolution = resolutions.get((pair.identity, item.cds_field))
            if resolution is not None:
                draft.applied.append(item.cds_field)  # used now, or moot: the field no longer conflicts
            _merge_item(draft, item, pair.baseline, policy, resolution)
    # what flows only to CDS last, so that it reads the source as the writes above leave it
    for item in mapping.items:
        if item.direction == "toTarget" and _source_changed(draft, item, pair.baseline):
            _set_cds(draft, item, _forward(item, draft.source))
    return draft


def _merge_item(
    draft: _Draft, item: TwoWayItem, base: Baseline | None, policy: ConflictPolicy,
    resolution: ConflictResolution | None,
) -> None:
    if item.direction == "toSource":
        if _cds_changed(draft, item, base):
            _set_source(draft, item, _reverse(item, draft.cds))
        return
    known = base is not None and item.cds_field in base.cds and all(name in base.source for name in item.reads)
    source_changed = not known or _source_changed(draft, item, base)
    cds_changed = not known or _cds_changed(draft, item, base)
    if source_changed and not cds_changed:
        _set_cds(draft, item, _forward(item, draft.source))
    elif cds_changed and not source_changed:
        _set_source(draft, item, _reverse(item, draft.cds))
    elif source_changed:
        forward = _forward(item, draft.source)
        if not equal(forward, draft.cds.get(item.cds_field)):
            _conflict(draft, item, base, policy, resolution, forward)


def _conflict(
    draft: _Draft, item: TwoWayItem, base: Baseline | None, policy: ConflictPolicy,
    resolution: ConflictResolution | None, forward: Any,
) -> None:
    if resolution is not None:
        if resolution.values is not None:
            value = resolution.values[item.cds_field]
            _set_cds(draft, item, value)
            _set_source(draft, item, _reverse(item, {**draft.cds, item.cds_field: value}))
        elif resolution.take == "source":
            _set_cds(draft, item, forward)
        else:
            _set_source(draft, item, _reverse(item, draft.cds))
        return
    assert item.source_field is not None
    kept = shown(base.cds.get(item.cds_field)) if base is not None else None
    winner: Literal["source", "cds"] | None = (
        "source" if policy == "sourceWins" else "cds" if policy == "cdsWins" else None)
    current = _value(draft.source, item.source_field), draft.cds.get(item.cds_field)
    draft.conflicts.append(FieldConflict(item.cds_field, item.source_field, kept, *current, winner=winner))
    if winner == "source":
        _set_cds(draft, item, forward)
    elif winner == "cds":
        _set_source(draft, item, _reverse(item, draft.cds))
    else:
        draft.kept.append(item)


def _create(pair: Pair, mapping: TwoWayMapping) -> _Draft:
    """Create the side that has no record from the other: every field flowing that way (and the constants of that
    way: a CDS item without a source, a source default), with the key the pair gives it (a key map's chosen id)."""
    if pair.cds is None:
        assert pair.source is not None
        draft = _Draft(source=dict(pair.source), cds=dict(pair.given_keys.get("cds", {})), created="cds")
        for item in mapping.items:
            if item.to_cds:
                draft.to_cds[item.cds_field] = draft.cds[item.cds_field] = _forward(item, draft.source)
        draft.to_cds.update(mapping.constants)
        draft.cds.update(mapping.constants)
        return draft
    draft = _Draft(source=dict(pair.given_keys.get("source", {})), cds=dict(pair.cds), created="source")
    for item in mapping.items:
        if item.source_field is not None:
            draft.to_source[item.source_field] = draft.source[item.source_field] = _reverse(item, draft.cds)
    draft.to_source.update(mapping.source_constants)
    draft.source.update(mapping.source_constants)
    return draft


def _deleted(
    pair: Pair, mapping: TwoWayMapping, deletes: DeletePolicy, base: Baseline, run_id: str, now: str
) -> Outcome:
    """One side's record of a linked pair is gone: unlink the pair (`ignore`) or delete the other (`propagate`)."""
    if deletes == "ignore":
        unlinked = replace(base, state=UNLINKED, recent=with_run(base.recent, run_letter(False, False)),
                           run_id=run_id, updated_at=now)
        return replace(_skipped(pair, UNLINKED), save=unlinked)
    if is_looping(base.recent):
        return _skipped(pair, LOOP_HELD)
    if pair.source is None:
        assert pair.cds is not None
        return Outcome(delete_cds={k: pair.cds.get(k) for k in mapping.cds_key}, remove=True,
                       cds=skip(DELETED_IN_SOURCE))
    return Outcome(delete_source={k: _value(pair.source, k) for k in mapping.source_key}, remove=True,
                   source=skip(DELETED_IN_CDS))


def _finish(pair: Pair, mapping: TwoWayMapping, draft: _Draft, run_id: str, now: str) -> Outcome:
    base = pair.baseline
    to_cds = to_source = None
    if draft.to_cds:
        to_cds = Write({**{k: draft.cds.get(k) for k in mapping.cds_key}, **draft.to_cds}, draft.created == "cds")
    if draft.to_source:
        keys = {k: _value(draft.source, k) for k in mapping.source_key}
        to_source = Write({**keys, **draft.to_source}, draft.created == "source")
    new = Baseline(
        identity=pair.identity,
        cds_key={k: draft.cds.get(k) for k in mapping.cds_key},
        source_key={k: _value(draft.source, k) for k in mapping.source_key},
        source={name: stored(_value(draft.source, name)) for name in mapping.source_fields},
        cds={name: stored(draft.cds.get(name)) for name in mapping.cds_fields},
        ids={side: _id(side, pair, draft) for side in ("source", "cds")},
        recent=with_run(base.recent if base else "", run_letter(to_cds is not None, to_source is not None)),
        run_id=run_id, updated_at=now,
    )
    for item in draft.kept:  # a field waiting in a conflict keeps its baseline, so it conflicts again
        for name in item.reads:
            _keep(new.source, name, base.source if base else {})
        _keep(new.cds, item.cds_field, base.cds if base else {})
    unchanged = to_cds is None and to_source is None and base is not None and base.same_pair_state(new)
    reason = CONFLICT if draft.conflicts else IN_SYNC
    return Outcome(
        to_cds=to_cds, to_source=to_source, conflicts=tuple(draft.conflicts), applied=tuple(draft.applied),
        save=None if unchanged else new,
        source=None if pair.source is None else WRITE if to_cds else skip(reason),
        cds=None if pair.cds is None else WRITE if to_source else skip(reason),
    )


def _skipped(pair: Pair, reason: str) -> Outcome:
    """Nothing written, the baseline as it is; each side's record skipped for `reason`."""
    return Outcome(source=None if pair.source is None else skip(reason), cds=None if pair.cds is None else skip(reason))


def _failed(pair: Pair, failure: _ItemFailed) -> Outcome:
    failed = Verdict("fail", str(failure), failure.field)
    other = skip(PAIR_FAILED)
    if failure.side == "source":
        return Outcome(source=failed, cds=None if pair.cds is None else other)
    return Outcome(cds=failed, source=None if pair.source is None else other)


def _id(side: str, pair: Pair, draft: _Draft) -> str | None:
    given = pair.source_id if side == "source" else pair.cds_id
    if given is not None or draft.created == side or pair.baseline is None:
        return given
    return pair.baseline.ids.get(side)


def _keep(kept: dict[str, Any], name: str, old: Mapping[str, Any]) -> None:
    if name in old:
        kept[name] = old[name]
    else:
        kept.pop(name, None)


def _source_changed(draft: _Draft, item: TwoWayItem, base: Baseline | None) -> bool:
    if base is None:
        return True
    return any(name not in base.source or not same(_value(draft.source, name), base.source[name])
               for name in item.reads)


def _cds_changed(draft: _Draft, item: TwoWayItem, base: Baseline | None) -> bool:
    if base is None or item.cds_field not in base.cds:
        return True
    return not same(draft.cds.get(item.cds_field), base.cds[item.cds_field])


def _set_cds(draft: _Draft, item: TwoWayItem, value: Any) -> None:
    if not equal(value, draft.cds.get(item.cds_field)):
        draft.to_cds[item.cds_field] = draft.cds[item.cds_field] = value


def _set_source(draft: _Draft, item: TwoWayItem, value: Any) -> None:
    assert item.source_field is not None
    if not equal(value, _value(draft.source, item.source_field)):
        draft.to_source[item.source_field] = draft.source[item.source_field] = value


def _forward(item: TwoWayItem, source: Record) -> Any:
    assert item.forward is not None
    try:
        return item.forward(source)
    except TransformError as exc:
        raise _ItemFailed("source", item.cds_field, str(exc)) from None


def _reverse(item: TwoWayItem, cds: Record) -> Any:
    assert item.reverse is not None and item.source_field is not None
    try:
        return item.reverse(cds)
    except TransformError as exc:
        raise _ItemFailed("cds", item.source_field, str(exc)) from None


def _value(record: Record, path: str) -> Any:
    """A field of a record, or a dotted path through it."""
    return record[path] if path in record else path_getter(path)(record)
