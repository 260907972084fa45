"""Gather a range of buckets' record pairs: what each side staged, the pairs' baselines, the counterparts read by key.

Each side's staged entries of the buckets are records (with their modification value) or tombstones
(a record change tracking reports deleted). Within a side, the newest record of an identity wins
(shared/mapping/duplicates.py) and the others are skipped as duplicates. A full run read every
record of both sides, so the buckets' baselines are read whole and a record absent from the read
is absent from its system (deleted, if the baseline knew it). An incremental run read only what
changed: the baselines of those identities are read, and for an identity read on one side only
the other side's record is read by its business key (from the baseline, else mapped from the
record read); such a counterpart counts as read on its side. A record read on one side only that
still holds what its baseline kept (one the run before wrote, say) is in sync and left there: its
counterpart, which its side did not report changed, holds the baseline's values too. Either way
the pairs whose last write failed (`retry`: their identities with their keys) are taken again,
read by key where not read.
With a key map, each side's key is its record's id (shared/twoway/key_map.py gives the ids of
records not created yet), and a counterpart is read by that id.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from shared.mapping import SKIP_REASONS, MappedRecord, NewestByKey
from shared.models import RunMode
from shared.store import Store
from shared.store.baselines import partitions_of_bucket
from shared.twoway.baseline import Baseline
from shared.twoway.key_map import cds_id_of, chosen_source_ids
from shared.twoway.mapping import TwoWayMapping
from shared.twoway.merge import unchanged_since
from shared.twoway.outcome import IN_SYNC, Pair
from shared.twoway.sides import CDS, SIDES, SOURCE, Side
from shared.twoway.tally import Tally


@dataclass
class _Staged:
    """One side's entries of the bucket, the duplicates settled."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)


def gather(
    store: Store, run_id: str, project: str, task: str, sides: dict[str, Side], first: int, last: int,
    buckets: int, mode: str, retry: dict[str, dict[str, Any]], in_conflict: Collection[str], mapping: TwoWayMapping,
    tally: Tally,
) -> list[Pair]:
    """The pairs of buckets `first` to `last` (of `buckets`) and those of `retry`, each side's duplicates counted
    in `tally`. A pair `in_conflict` (an open conflict's) is merged even when read on one side only in sync: the
    other side may hold the value it conflicts with, which then settles the conflict."""
    staging = store.run_staging(run_id).twoway(task)
    in_range = range(first, last + 1)
    staged = {side: _settle(chain.from_iterable(staging.read_bucket(side, b) for b in in_range), sides[side], tally)
              for side in SIDES}
    identities = (staged[SOURCE].records.keys() | staged[SOURCE].deleted | staged[CDS].records.keys()
                  | staged[CDS].deleted | retry.keys())
    if mode == RunMode.INCREMENTAL:
        baselines = store.baselines.get_all(project, task, identities)
        for identity, side in _in_sync_alone(sides, mapping, staged, baselines, retry.keys() | in_conflict).items():
            identities.discard(identity)
            tally.skip(sides[side].leg, IN_SYNC)
    else:
        baselines = {b.identity: b for bucket in in_range for p in partitions_of_bucket(bucket, buckets)
                     for b in store.baselines.read_bucket(project, task, p)}
        identities |= baselines.keys()
    records = {side: dict(staged[side].records) for side in SIDES}
    given = _given_keys(store, project, task, sides, identities, baselines, records) if sides[CDS].key_mapped else {}
    if mode == RunMode.INCREMENTAL:
        _read_counterparts(sides, identities, staged, baselines, retry, records, given, tally)
    return [Pair(identity, records[SOURCE].get(identity), records[CDS].get(identity), baselines.get(identity),
                  _id(sides[SOURCE], records[SOURCE].get(identity)), _id(sides[CDS], records[CDS].get(identity)),
                  given.get(identity, {}))
             for identity in sorted(identities)]


def _settle(entries: Iterable[dict[str, Any]], side: Side, tally: Tally) -> _Staged:
    """A side's entries, the newest record of each identity kept, the others counted as duplicates."""
    found = _Staged()
    newest = NewestByKey()
    kept: list[dict[str, Any]] = []
    for entry in entries:
        identity = entry["identity"]
        if "deletedId" in entry:
            found.deleted.add(identity)
        else:
            newest.offer((identity,), entry["modified"], 0, len(kept))
            kept.append(entry)
    losers = set()
    for _, row, why in newest.superseded():
        losers.add(row)
        tally.skip(side.leg, SKIP_REASONS[why])
    for row, entry in enumerate(kept):
        if row not in losers:
            found.records[entry["identity"]] = entry["record"]
    found.deleted -= found.records.keys()  # deleted, then created again with the same key
    return found


def _in_sync_alone(
    sides: dict[str, Side], mapping: TwoWayMapping, staged: dict[str, _Staged], baselines: dict[str, Baseline],
    merged_anyway: Collection[str],
) -> dict[str, str]:
    """The identities read on one side only, none deleted, whose record holds what the baseline kept, but those
    `merged_anyway`: by side."""
    found: dict[str, str] = {}
    for side, other in ((SOURCE, CDS), (CDS, SOURCE)):
        for identity, record in staged[side].records.items():
            base = baselines.get(identity)
            if (base is not None and identity not in merged_anyway and identity not in staged[other].records
                    and identity not in staged[other].deleted
                    and unchanged_since(mapping, side, record, sides[side].record_id(record), base)):
                found[identity] = side
    return found


def _given_keys(
    store: Store, project: str, task: str, sides: dict[str, Side], identities: set[str],
    baselines: dict[str, Baseline], records: dict[str, dict[str, dict[str, Any]]],
) -> dict[str, dict[str, dict[str, Any]]]:
    """With a key map, the key of each pair's record on each side, held or to be created: the CDS id is the
    identity; the source id the source record's, else the baseline's, else the one the key map chooses."""
    source_key, cds_key = sides[SOURCE].key[0], sides[CDS].key[0]
    known = {identity: records[SOURCE][identity].get(source_key) if identity in records[SOURCE]
             else baselines[identity].source_key.get(source_key) if identity in baselines else None
             for identity in identities}
    chosen = chosen_source_ids(store, project, task, [i for i, value in known.items() if value is None])
    return {identity: {CDS: {cds_key: cds_id_of(identity)}, SOURCE: {source_key: known[identity] or chosen[identity]}}
            for identity in identities}


def _read_counterparts(
    sides: dict[str, Side], identities: set[str], staged: dict[str, _Staged],
    baselines: dict[str, Baseline], retry: dict[str, dict[str, Any]], records: dict[str, dict[str, dict[str, Any]]],
    given: dict[str, dict[str, dict[str, Any]]], tally: Tally,
) -> None:
    """Read by key the other side's record of each identity read (or reported deleted) on one side only.

    Two passes: a pair known by one key only (a settled conflict of records created on both sides
    has its CDS key) finds its source record by the key its CDS record maps to, once that is read.
    """
    asked: set[tuple[str, str]] = set()
    for _ in range(2):
        for side, other in ((SOURCE, CDS), (CDS, SOURCE)):
            wanted: dict[str, dict[str, Any]] = {}
            for identity in identities:
                if identity in records[side] or identity in staged[side].deleted or (side, identity) in asked:
                    continue
                key = given[identity][side] if identity in given else _key_of(
                    sides[side], baselines.get(identity), records[other].get(identity))
                if key is None and identity in retry:
                    key = retry[identity]["sourceKey" if side == SOURCE else "cdsKey"]
                if key is not None:
                    wanted[identity] = key
                    asked.add((side, identity))
            for identity, record in _read_by_keys(sides[side], wanted):
                # a record read by its id is the pair's; one read by business key must have the whole key
                if record is not None and (sides[side].key_mapped or sides[side].identity(record) is not None):
                    records[side][identity] = record
                    tally.read(sides[side].leg)


def _key_of(side: Side, baseline: Baseline | None, other: dict[str, Any] | None) -> dict[str, Any] | None:
    """The business key by which `side` holds a pair's record: the baseline's, else the key the leg writing `side`
    maps the other side's record to (with the values its scope fixes, an F&O company)."""
    if baseline is not None:
        return baseline.source_key if side.name == SOURCE else baseline.cds_key
    if other is None:
        return None
    mapped = side.writes.mapping(other)
    return dict(zip(side.writes.key, mapped.key, strict=True)) if isinstance(mapped, MappedRecord) else None


def _read_by_keys(side: Side, wanted: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    if not wanted:
        return
    identities = list(wanted)
    fields = list(side.key)
    select, expand = side.query()
    found = side.reads.source.read_by_keys(side.entity, fields, [[wanted[i].get(f) for f in fields]
                                                                  for i in identities], select, expand)
    yield from zip(identities, found, strict=True)


def _id(side: Side, record: dict[str, Any] | None) -> str | None:
    return None if record is None else side.record_id(record)
