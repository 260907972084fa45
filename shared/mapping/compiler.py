"""Compile a list of field mappings once into a fast `record -> outcome` function.

The definition is read at compile time only: plain copies become one dict comprehension,
dotted paths get a getter each, transforms are closures, constants are computed once.
Per record the compiled function only reads values, calls the transform closures, and
checks the business key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.errors import InvalidInput
from shared.mapping.transforms import TransformError, ValueFn, compile_transforms, is_blank
from shared.models import ConcatTransform, FieldMapping

MISSING_BUSINESS_KEY = "missing-business-key"
MISSING_SOURCE_ID = "missing-source-id"
"""A key-mapped task's source record without an id: nothing pairs it with a target."""


@dataclass(frozen=True, slots=True)
class MappedRecord:
    """A record ready for its target. `values` is shared with nothing but must not be mutated in place."""

    key: tuple[Any, ...]
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Skipped:
    reason: str
    key: tuple[Any, ...] | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    field: str
    message: str
    code: str = "MappingError"


Outcome = MappedRecord | Skipped | Failed
CompiledMapping = Callable[[dict[str, Any]], Outcome]


def path_getter(path: str) -> Callable[[dict[str, Any]], Any]:
    """Read a dotted path; a key that literally contains the dots (OData annotations do) wins."""
    parts = tuple(path.split("."))

    def get(record: dict[str, Any]) -> Any:
        value = record.get(path, _ABSENT)
        if value is not _ABSENT:
            return value
        current: Any = record
        for part in parts:
            if isinstance(current, dict):
                current = current.get(part)
            elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
                current = current[int(part)]
            else:
                return None
        return current

    return get


_ABSENT = object()


def concat_getter(transform: ConcatTransform) -> Callable[[dict[str, Any]], Any]:
    """Join the parts' values; blank field values are left out, and all-blank fields give None."""
    separator = transform.separator
    parts = tuple((path_getter(p.field), None) if p.field is not None else (None, p.literal) for p in transform.parts)
    has_fields = any(get is not None for get, _ in parts)

    def concat(record: dict[str, Any]) -> Any:
        pieces = []
        found = False
        for get, text in parts:
            if get is None:
                pieces.append(text)
                continue
            value = get(record)
            if is_blank(value):
                continue
            found = True
            pieces.append(value if value.__class__ is str else str(value))
        return separator.join(pieces) if found or not has_fields else None

    return concat


def compile_mapping(
    mappings: Sequence[FieldMapping], key: Sequence[str], fixed: Mapping[str, Any] | None = None
) -> CompiledMapping:
    """Compile `mappings` into `record -> MappedRecord | Skipped | Failed`.

    `key` names the target fields that form the business key; a record whose key is missing
    or blank after mapping is skipped with reason `missing-business-key`. `fixed` gives
    values for targets that no mapping names (an F&O company's `dataAreaId`).
    """
    targets = [m.target for m in mappings]
    fixed = {name: value for name, value in (fixed or {}).items() if name not in targets}
    targets.extend(fixed)
    unmapped_key = [k for k in key if k not in targets]
    if unmapped_key:
        raise InvalidInput(f"business key field {unmapped_key[0]!r} is not a target of any mapping", field="key")

    copies: list[tuple[str, str]] = []
    computed: list[tuple[str, str | None, Callable[[dict[str, Any]], Any] | None, ValueFn]] = []
    constants: dict[str, Any] = dict(fixed)
    for mapping in mappings:
        if mapping.transforms and isinstance(mapping.transforms[0], ConcatTransform):
            rest = compile_transforms(mapping.transforms[1:]) or _identity
            computed.append((mapping.target, None, concat_getter(mapping.transforms[0]), rest))
            continue
        fn = compile_transforms(mapping.transforms)
        source = mapping.source
        if source is None:
            assert fn is not None
            try:
                constants[mapping.target] = fn(None)
            except TransformError as exc:
                raise InvalidInput(f"{mapping.target}: {exc}", field=mapping.target) from exc
            continue
        getter = path_getter(source) if "." in source else None
        if fn is None and getter is None:
            copies.append((mapping.target, source))
        elif fn is None:
            computed.append((mapping.target, None, getter, _identity))
        else:
            computed.append((mapping.target, None if getter else source, getter, fn))

    key_fields = tuple(key)
    copies_t = tuple(copies)
    computed_t = tuple(computed)

    def apply(record: dict[str, Any]) -> Outcome:
        get = record.get
        values = {target: get(source) for target, source in copies_t}
        target = ""
        try:
            for target, source, getter, fn in computed_t:
                values[target] = fn(get(source) if getter is None else getter(record))
        except TransformError as exc:
            return Failed(target, str(exc))
        if constants:
            values.update(constants)
        key_values = tuple(values[k] for k in key_fields)
        for value in key_values:
            if is_blank(value):
                return Skipped(MISSING_BUSINESS_KEY)
        return MappedRecord(key_values, values)

    return apply


def _identity(value: Any) -> Any:
    return value
