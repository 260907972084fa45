"""Transforms compiled once into plain functions `value -> value`.

Each compiler reads its transform's settings when the mapping is compiled and returns a
closure that does only the per-value work. A transform that rejects a value raises
`TransformError`; the compiled mapping turns it into a failed record naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.limits import MAX_TRANSFORMED_TEXT_CHARS
from shared.mapping.errors import TransformError
from shared.mapping.formats import converter
from shared.models import (
    ConditionalTransform,
    ConstantTransform,
    DefaultTransform,
    FormatTransform,
    LookupTransform,
    LowerTransform,
    ReplaceTransform,
    SplitTransform,
    SubstringTransform,
    Transform,
    TrimTransform,
    TruncateTransform,
    UpperTransform,
    ValueMapTransform,
)
from shared.patterns import compile_pattern

ValueFn = Callable[[Any], Any]

_CACHE_LIMIT = 10_000
_MISSING = object()


def is_blank(value: Any) -> bool:
    """Missing, null, or a string of nothing but whitespace."""
    return value is None or (value.__class__ is str and not value.strip())


def _compile_default(transform: DefaultTransform) -> ValueFn:
    default = transform.defaultValue

    def fill_default(value: Any) -> Any:
        if is_blank(value):
            return default
        return value

    return fill_default


def _fold(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().casefold()


def _compile_value_map(transform: ValueMapTransform) -> ValueFn:
    table = {key.strip().casefold(): mapped for key, mapped in transform.valueMap.items()}
    on_unmapped = transform.onUnmapped
    default = transform.defaultValue
    cache: dict[str, Any] = {}

    def unmapped(value: Any) -> Any:
        if on_unmapped == "default":
            return default
        if on_unmapped == "error":
            shown = value if value is None or len(str(value)) <= 100 else str(value)[:100] + "..."
            raise TransformError(f"value {shown!r} has no entry in the value map")
        return value

    def map_value(value: Any) -> Any:
        if value.__class__ is str:
            hit = cache.get(value, _MISSING)
            if hit is not _MISSING:
                return hit
            folded = value.strip().casefold()
            result = table[folded] if folded in table else unmapped(value)
            if len(cache) < _CACHE_LIMIT:
                cache[value] = result
            return result
        folded = _fold(value)
        return table[folded] if folded in table else unmapped(value)

    return map_value


@dataclass(frozen=True, slots=True)
class LookupKey:
    """A reference to resolve before writing: the `entity_set` record whose `key_field` is `value`.

    Mapping stays free of I/O: the load step resolves these to record ids (once per run) and
    a key that matches no record fails its record on the field.
    """

    entity_set: str
    key_field: str
    value: Any

    @property
    def folded(self) -> tuple[str, str, Any]:
        """What two equal references share: text compares trimmed and case-insensitively, as the services do."""
        value = self.value.strip().casefold() if isinstance(self.value, str) else self.value
        return self.entity_set, self.key_field, value


def _compile_lookup(transform: LookupTransform) -> ValueFn:
    entity_set, key_field = transform.entitySet, transform.keyField

    def reference(value: Any) -> Any:
        if is_blank(value):
            return None
        return LookupKey(entity_set, key_field, value)

    return reference


def _compile_truncate(transform: TruncateTransform) -> ValueFn:
    limit = transform.maxLength
    return lambda value: value[:limit] if value.__class__ is str else value


def _compile_split(transform: SplitTransform) -> ValueFn:
    separator, index = transform.separator, transform.index

    def split(value: Any) -> Any:
        if value.__class__ is not str:
            return value
        parts = value.split(separator)
        return parts[index] if -len(parts) <= index < len(parts) else None

    return split


def _compile_substring(transform: SubstringTransform) -> ValueFn:
    start = transform.start
    end = None if transform.length is None else start + transform.length
    return lambda value: value[start:end] if value.__class__ is str else value


def _compile_replace(transform: ReplaceTransform) -> ValueFn:
    """Replace by RE2 (shared/patterns.py) or literally; text past MAX_TRANSFORMED_TEXT_CHARS, taken or
    given, fails the record on its field, so one value cannot fill a worker's memory."""
    replacement = transform.replaceWith
    if transform.pattern is not None:
        pattern = compile_pattern(transform.pattern)

        def replace_matches(value: Any) -> Any:
            if value.__class__ is not str:
                return value
            _check_length(value)
            room = [MAX_TRANSFORMED_TEXT_CHARS - len(value)]

            def substitute(match: Any) -> str:
                # an empty match replaced at every position multiplies the text: stop as soon as it outgrows the bound
                room[0] -= len(replacement) - len(match.group())
                if room[0] < 0:
                    raise TransformError(_too_long("the replaced text"))
                return replacement

            return pattern.sub(substitute, value)

        return replace_matches
    find = transform.find or ""
    growth = len(replacement) - len(find)

    def replace_text(value: Any) -> Any:
        if value.__class__ is not str:
            return value
        _check_length(value)
        if growth > 0 and len(value) + growth * value.count(find) > MAX_TRANSFORMED_TEXT_CHARS:
            raise TransformError(_too_long("the replaced text"))
        return value.replace(find, replacement)

    return replace_text


def _check_length(value: str) -> None:
    if len(value) > MAX_TRANSFORMED_TEXT_CHARS:
        raise TransformError(f"the value is longer than {MAX_TRANSFORMED_TEXT_CHARS} characters")


def _too_long(what: str) -> str:
    return f"{what} would be longer than {MAX_TRANSFORMED_TEXT_CHARS} characters"


def _compile_conditional(transform: ConditionalTransform) -> ValueFn:
    then, otherwise = transform.then, transform.else_
    has_else = "else_" in transform.model_fields_set
    if transform.isEmpty:
        def when_empty(value: Any) -> Any:
            if is_blank(value):
                return then
            return otherwise if has_else else value

        return when_empty
    expected = transform.equals

    def when_equal(value: Any) -> Any:
        if (value == expected and value.__class__ is not bool) or value is expected:
            return then
        return otherwise if has_else else value

    return when_equal


def _same(value: Any, expected: Any) -> bool:
    """Equal, without taking true for 1 or false for 0."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    return bool(value == expected)


def _text(method: Callable[[str], str]) -> ValueFn:
    return lambda value: method(value) if value.__class__ is str else value


_COMPILERS: dict[type, Callable[[Any], ValueFn]] = {
    DefaultTransform: _compile_default,
    ValueMapTransform: _compile_value_map,
    LookupTransform: _compile_lookup,
    TruncateTransform: _compile_truncate,
    TrimTransform: lambda _: _text(str.strip),
    UpperTransform: lambda _: _text(str.upper),
    LowerTransform: lambda _: _text(str.lower),
    FormatTransform: lambda t: converter(t.to, t.pattern, t.decimals),
    SplitTransform: _compile_split,
    SubstringTransform: _compile_substring,
    ReplaceTransform: _compile_replace,
    ConditionalTransform: _compile_conditional,
    ConstantTransform: lambda t: lambda _value, constant=t.value: constant,
}


def compile_transforms(transforms: Sequence[Transform]) -> ValueFn | None:
    """One function applying `transforms` in order, or None when there are none."""
    fns = [_COMPILERS[type(t)](t) for t in transforms]
    if not fns:
        return None
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        first, second = fns
        return lambda value: second(first(value))

    def chain(value: Any) -> Any:
        for fn in fns:
            value = fn(value)
        return value

    return chain
