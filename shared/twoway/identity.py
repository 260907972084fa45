"""The identity of a record pair: the CDS business key, compared as the systems compare keys.

A CDS record's identity is its own `task.cds.key` values; a source record's is the key its
`sourceToCds` items map it to (the same compiled mapping a one-way run uses). Either way the
values pass through `key_identity` (text trimmed and case-folded) and `canonical` (`1.0` is `1`),
so the two sides of a pair meet on one identity. A key with a blank part gives no identity.
With a key map, a source record's identity comes from the key map instead (shared/twoway/key_map.py).
`identity_text` is the identity as compact JSON: how baselines, staging and conflicts name a pair.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shared.mapping import MappedRecord, compile_mapping, is_blank, key_identity
from shared.models import Task
from shared.twoway.values import canonical, compact

Identity = tuple[Any, ...]
IdentityReader = Callable[[dict[str, Any]], Identity | None]
SOURCE, CDS = "source", "cds"


def identity_of(key: Sequence[Any]) -> Identity | None:
    """The identity of a CDS business key's values (in the order of `task.cds.key`), None when a part is blank."""
    if any(is_blank(value) for value in key):
        return None
    return tuple(canonical(value) for value in key_identity(tuple(key)))


def identity_text(identity: Sequence[Any]) -> str:
    """An identity as compact JSON (unicode as is): the name of a pair in baselines, staging and conflicts."""
    return compact(list(identity))


def identity_reader(task: Task, side: str, fixed: Mapping[str, Any] | None = None) -> IdentityReader:
    """A function giving the identity of a record of `side` ("source" or "cds"), compiled once.

    `fixed` gives CDS values no item maps (an F&O company's `dataAreaId`), as for a one-way leg.
    """
    key = tuple(task.cds.key)
    if side == CDS:
        return lambda record: identity_of([record.get(field) for field in key])
    if side != SOURCE:
        raise ValueError(f"a two-way task has no side {side!r}")
    if task.match == "keyMap":
        return _looked_up
    mapped_key = compile_mapping([item for item in task.sourceToCds if item.target in key], key, fixed)

    def source_identity(record: dict[str, Any]) -> Identity | None:
        mapped = mapped_key(record)
        return identity_of(mapped.key) if isinstance(mapped, MappedRecord) else None

    return source_identity



def _looked_up(record: dict[str, Any]) -> Identity | None:
    raise TypeError("a key-mapped source record's identity is looked up in the key map: shared/twoway/key_map.py")
