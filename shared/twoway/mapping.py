"""A bidirectional task's items compiled once into the functions the merge calls per pair.

Each item of `sourceToCds` becomes a `TwoWayItem`: the CDS field, the source fields it reads,
which way it flows, `forward` (a source record -> the CDS value, through the item's transforms
as a one-way run maps it) and `reverse` (a CDS record -> the source value, through its
`reverseTransforms`; the value as it is when there are none). Items without a source are a
Concat (flowing to CDS, reading the fields its parts name) or a constant, written only when the
merge creates a CDS record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from shared.errors import InvalidInput
from shared.mapping import TransformError, compile_transforms, path_getter
from shared.mapping.compiler import concat_getter
from shared.models import ConcatTransform, FieldMapping, Task
from shared.models.transforms import ItemDirection

Record = dict[str, Any]


@dataclass(frozen=True)
class TwoWayItem:
    """One mapping item as the merge sees it. `source_field` is what `reverse` writes (None: the item never flows
    to the source); `reads` the source fields `forward` reads, whose change is a change of the item."""

    cds_field: str
    direction: ItemDirection
    reads: tuple[str, ...]
    forward: Callable[[Record], Any] | None
    source_field: str | None = None
    reverse: Callable[[Record], Any] | None = None

    @property
    def to_cds(self) -> bool:
        return self.direction != "toSource"

    @property
    def to_source(self) -> bool:
        return self.direction != "toTarget"


@dataclass(frozen=True)
class TwoWayMapping:
    """A bidirectional task's items, constants and keys, and how a record of each side is identified."""

    items: tuple[TwoWayItem, ...]
    cds_key: tuple[str, ...]
    source_key: tuple[str, ...]
    constants: Mapping[str, Any] = field(default_factory=dict)
    source_constants: Mapping[str, Any] = field(default_factory=dict)
    """What a source record created from CDS gets in fields no item writes back (the task's `sourceDefaults`)."""

    @cached_property
    def source_fields(self) -> tuple[str, ...]:
        """The source fields a baseline tracks: what the items flowing to CDS read."""
        return tuple(dict.fromkeys(name for item in self.items if item.to_cds for name in item.reads))

    @cached_property
    def cds_fields(self) -> tuple[str, ...]:
        """The CDS fields a baseline tracks: those of the items flowing to the source."""
        return tuple(item.cds_field for item in self.items if item.to_source)

    def source_key_of(self, cds_record: Record) -> dict[str, Any] | None:
        """The source business key a CDS record maps back to (to find or create its counterpart), None when a part
        is not mapped back or a reverse transform refuses it."""
        reverse = self._reverse_by_source_field
        try:
            key = {name: reverse[name](cds_record) for name in self.source_key if name in reverse}
        except TransformError:
            return None
        return key if len(key) == len(self.source_key) else None


    @cached_property
    def _reverse_by_source_field(self) -> dict[str, Callable[[Record], Any]]:
        return {item.source_field: item.reverse for item in self.items
                if item.source_field is not None and item.reverse is not None}


def compile_twoway(task: Task) -> TwoWayMapping:
    """Compile a bidirectional task's `sourceToCds` items (checked by the Task model: see its `_check_two_way`).
    A record's pair identity comes from shared/twoway/identity.py."""
    items: list[TwoWayItem] = []
    constants: dict[str, Any] = {}
    for mapping in task.sourceToCds:
        if mapping.source is None and not _is_concat(mapping):
            constants[mapping.target] = _constant(mapping)
        else:
            items.append(two_way_item(mapping, mapping.flow(True)))
    return TwoWayMapping(items=tuple(items), cds_key=tuple(task.cds.key), source_key=tuple(task.source.key),
                         constants=constants, source_constants=dict(task.sourceDefaults))


def two_way_item(mapping: FieldMapping, direction: ItemDirection) -> TwoWayItem:
    """The merge's view of one item that has a source or a Concat, flowing `direction`."""
    if _is_concat(mapping):
        concat = mapping.transforms[0]
        assert isinstance(concat, ConcatTransform)
        rest = compile_transforms(mapping.transforms[1:])
        join = concat_getter(concat)
        forward = join if rest is None else _then(join, rest)
        reads = tuple(part.field for part in concat.parts if part.field is not None)
        return TwoWayItem(cds_field=mapping.target, direction="toTarget", reads=reads, forward=forward)
    assert mapping.source is not None
    forward = _read_through(mapping.source, mapping.transforms) if direction != "toSource" else None
    reverse = _read_through(mapping.target, mapping.reverseTransforms) if direction != "toTarget" else None
    return TwoWayItem(cds_field=mapping.target, direction=direction, reads=(mapping.source,), forward=forward,
                      source_field=mapping.source if reverse is not None else None, reverse=reverse)


def _read_through(path: str, transforms: list[Any]) -> Callable[[Record], Any]:
    get = path_getter(path)
    fn = compile_transforms(transforms)
    return get if fn is None else _then(get, fn)


def _then(first: Callable[[Record], Any], second: Callable[[Any], Any]) -> Callable[[Record], Any]:
    return lambda record: second(first(record))


def _is_concat(mapping: FieldMapping) -> bool:
    return bool(mapping.transforms) and isinstance(mapping.transforms[0], ConcatTransform)


def _constant(mapping: FieldMapping) -> Any:
    fn = compile_transforms(mapping.transforms)
    assert fn is not None
    try:
        return fn(None)
    except TransformError as exc:
        raise InvalidInput(f"{mapping.target}: {exc}", field=mapping.target) from exc
