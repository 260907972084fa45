"""Resolve a page's `Lookup` references to record ids, each key once per run.

A run keeps one `LookupCache` (in its workspace), shared by its load steps in a process:
a key asked for once, found or not, is not asked for again in that run. Keys not yet known
are read from the target system by key (`Connector.read_by_keys`), selecting only the id
and the key; the target compares keys as it does itself.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from shared.budgets import carry_step_budget
from shared.connectors.base import Connector
from shared.errors import InvalidInput
from shared.mapping import LookupKey, MappedRecord

PARALLEL_READS = 4
"""Entities (or key fields) read side by side; each read by keys runs its own reads side by side too."""
LOOKUP_NOT_FOUND = "LookupNotFound"


@dataclass(frozen=True)
class LookupMiss:
    """A record whose reference in `field` matched no record."""

    row: int
    field: str
    message: str


class LookupCache:
    """Record ids by folded key (None: no such record), for one run."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str, Any], str | None] = {}
        self._lock = threading.Lock()

    def resolve(self, target: Connector, keys: Iterable[LookupKey]) -> dict[tuple[str, str, Any], str | None]:
        """The id of every key (None when no record has it), reading only the keys not known yet."""
        wanted = {key.folded: key for key in keys}
        with self._lock:
            unknown = [key for folded, key in wanted.items() if folded not in self._ids]
        found = _read_ids(target, unknown) if unknown else {}
        with self._lock:
            self._ids.update(found)
            return {folded: self._ids.get(folded) for folded in wanted}


def resolve_lookups(
    target: Connector, cache: LookupCache, fields: Sequence[str], to_write: list[tuple[int, MappedRecord]]
) -> tuple[list[tuple[int, MappedRecord]], list[LookupMiss]]:
    """Replace each `LookupKey` in `fields` by `/{entity_set}({id})`; records with a missing key fail."""
    keys = [value for _, mapped in to_write for f in fields if isinstance(value := mapped.values.get(f), LookupKey)]
    if not keys:
        return to_write, []
    ids = cache.resolve(target, keys)
    resolved: list[tuple[int, MappedRecord]] = []
    misses: list[LookupMiss] = []
    for row, mapped in to_write:
        references = {}
        for field in fields:
            key = mapped.values.get(field)
            if isinstance(key, LookupKey):
                found = ids[key.folded]
                if found is None:
                    misses.append(LookupMiss(row, field, f"no {key.entity_set} record has {key.key_field} "
                                                         f"{_shown(key.value)}"))
                    break
                references[field] = f"/{key.entity_set}({found})"
        else:
            resolved.append((row, MappedRecord(mapped.key, {**mapped.values, **references}) if references else mapped))
    return resolved, misses


def _read_ids(target: Connector, keys: list[LookupKey]) -> dict[tuple[str, str, Any], str | None]:
    """Ids of `keys` read from `target`, one read by keys for each entity and key field; keys no record has
    map to None."""
    found: dict[tuple[str, str, Any], str | None] = {key.folded: None for key in keys}
    groups: dict[tuple[str, str], list[LookupKey]] = defaultdict(list)
    for key in keys:
        groups[(key.entity_set, key.key_field)].append(key)
    with ThreadPoolExecutor(min(PARALLEL_READS, len(groups)), thread_name_prefix="lookup") as pool:
        read = carry_step_budget(_read_group)
        for answer in pool.map(lambda group: read(target, *group), groups.items()):
            found.update(answer)
    return found


def _read_group(
    target: Connector, group: tuple[str, str], keys: list[LookupKey]
) -> dict[tuple[str, str, Any], str]:
    """Ids of the `keys` of one entity and key field (`group`) that a record has."""
    entity_set, key_field = group
    primary_id = target.describe(entity_set).primary_id
    if primary_id is None:
        raise InvalidInput(f"{entity_set} has no record ids to look up", field="transforms.Lookup")
    records = target.read_by_keys(entity_set, [key_field], [[key.value] for key in keys], [primary_id, key_field])
    return {key.folded: str(record[primary_id]) for key, record in zip(keys, records, strict=True)
            if record is not None and record.get(primary_id) is not None}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:100] + "..."
