"""Transforms and field mappings: how one target field gets its value from a source record.

shared/mapping/ compiles them once into plain functions; these models only say what a
definition may ask for.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from shared.limits import MAX_TRANSFORMS_PER_MAPPING, MAX_VALUE_MAP_ENTRIES
from shared.models.common import FieldName, FieldProblem, ODataFieldName, Strict, Value, exactly_one
from shared.patterns import PatternError, compile_pattern


class DefaultTransform(Strict):
    """Fill a missing, null or blank value with `defaultValue`."""

    transformType: Literal["Default"]
    defaultValue: Value


class ValueMapTransform(Strict):
    """Translate a value through `valueMap`; keys match case-insensitively after trimming.

    A value with no entry passes through unchanged (`onUnmapped: "passthrough"`), becomes
    `defaultValue` (`"default"`) or fails the record on this field (`"error"`).
    """

    transformType: Literal["ValueMap"]
    valueMap: dict[str, Value] = Field(max_length=MAX_VALUE_MAP_ENTRIES)
    onUnmapped: Literal["passthrough", "default", "error"] = "passthrough"
    defaultValue: Value = None

    @model_validator(mode="after")
    def _default_needs_value(self) -> ValueMapTransform:
        if self.onUnmapped == "default" and "defaultValue" not in self.model_fields_set:
            raise FieldProblem("defaultValue", 'onUnmapped "default" needs a defaultValue')
        folded: dict[str, str] = {}
        for key in self.valueMap:
            norm = key.strip().casefold()
            if norm in folded:
                raise FieldProblem("valueMap", f"keys {folded[norm]!r} and {key!r} are the same key")
            folded[norm] = key
        return self


class ConcatPart(Strict):
    """A piece of a Concat: the value of a field (a dotted path), or literal text."""

    field: FieldName | None = None
    literal: Annotated[str, StringConstraints(max_length=1000)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ConcatPart:
        exactly_one(self, "field", "literal")
        return self


class ConcatTransform(Strict):
    """Join fields and literals with `separator`; blank fields are left out. Comes first, without `source`."""

    transformType: Literal["Concat"]
    parts: list[ConcatPart] = Field(min_length=1, max_length=32)
    separator: Annotated[str, StringConstraints(max_length=100)] = ""


class LookupTransform(Strict):
    """Resolve a business key to the id of the `entitySet` record with that `keyField`: `/accounts(<id>)`.

    Map it to `<navigation property>@odata.bind` of a Dataverse target. Ids are looked up in
    the target system before writing, each key once per run; a key that matches no record
    fails that record on that field (code `LookupNotFound`).
    """

    transformType: Literal["Lookup"]
    entitySet: ODataFieldName
    keyField: ODataFieldName


class TruncateTransform(Strict):
    """Cut text to `maxLength` characters: an explicit choice, so nothing is cut silently."""

    transformType: Literal["Truncate"]
    maxLength: int = Field(ge=1, le=1_000_000)


class TrimTransform(Strict):
    transformType: Literal["Trim"]


class UpperTransform(Strict):
    transformType: Literal["Upper"]


class LowerTransform(Strict):
    transformType: Literal["Lower"]


class FormatTransform(Strict):
    """Convert a value to the type its target takes, culture-neutral.

    `integer` (1.0 -> 1; 1.5 is an error), `number`, `text` (numbers without exponent,
    booleans as true/false), `date` (any ISO date-time -> `YYYY-MM-DD`), `datetime`
    (ISO, as UTC `YYYY-MM-DDTHH:MM:SSZ`; a bare date is midnight UTC). Missing values stay
    missing. `pattern` writes dates as text with strftime codes (`%d.%m.%Y`); `decimals`
    rounds numbers (half to even) and writes text with that many decimals, `.` as separator.
    """

    transformType: Literal["Format"]
    to: Literal["integer", "number", "text", "date", "datetime"]
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    decimals: int | None = Field(default=None, ge=0, le=12)

    @model_validator(mode="after")
    def _options_fit(self) -> FormatTransform:
        if self.pattern is not None and self.to not in ("date", "datetime"):
            raise FieldProblem("pattern", "a pattern formats dates: use it with to date or datetime")
        if self.decimals is not None and self.to not in ("number", "text"):
            raise FieldProblem("decimals", "decimals round numbers: use them with to number or text")
        return self


class SplitTransform(Strict):
    """Part `index` (from 0; negative counts from the end) of the text cut at `separator`."""

    transformType: Literal["Split"]
    separator: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    index: int = Field(ge=-1000, le=1000)


class SubstringTransform(Strict):
    """`length` characters (all the rest when absent) from `start` (from 0)."""

    transformType: Literal["Substring"]
    start: int = Field(ge=0, le=1_000_000)
    length: int | None = Field(default=None, ge=0, le=1_000_000)


class ReplaceTransform(Strict):
    """Replace every `find` (literal text) or every match of `pattern` (an RE2 regular expression, shared/patterns.py)
    with `replaceWith`."""

    transformType: Literal["Replace"]
    find: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    replaceWith: Annotated[str, StringConstraints(max_length=1000)] = ""

    @model_validator(mode="after")
    def _find_or_pattern(self) -> ReplaceTransform:
        exactly_one(self, "find", "pattern")
        if self.pattern is not None:
            try:
                compile_pattern(self.pattern)
            except PatternError as exc:
                raise FieldProblem("pattern", str(exc)) from None
        return self


class ConditionalTransform(Strict):
    """When the value equals `equals` (or, with `isEmpty`, is missing or blank): `then`; else `else`.

    Without `else` a value that does not match passes through unchanged.
    """

    transformType: Literal["Conditional"]
    equals: Value = None
    isEmpty: bool = False
    then: Value
    else_: Value = Field(default=None, alias="else")

    @model_validator(mode="after")
    def _one_test(self) -> ConditionalTransform:
        if self.isEmpty == ("equals" in self.model_fields_set):
            raise FieldProblem("equals", "give exactly one test: equals, or isEmpty true")
        return self


class ConstantTransform(Strict):
    """Always `value`, whatever the source holds."""

    transformType: Literal["Constant"]
    value: Value


Transform = Annotated[
    DefaultTransform | ValueMapTransform | ConcatTransform | LookupTransform | TruncateTransform | TrimTransform
    | UpperTransform | LowerTransform | FormatTransform | SplitTransform | SubstringTransform | ReplaceTransform
    | ConditionalTransform | ConstantTransform,
    Field(discriminator="transformType"),
]
TRANSFORM_TYPES = frozenset(
    {"Default", "ValueMap", "Concat", "Lookup", "Truncate", "Trim", "Upper", "Lower", "Format", "Split", "Substring",
     "Replace", "Conditional", "Constant"}
)


ItemDirection = Literal["both", "toTarget", "toSource"]
"""Which way a mapping item flows in a bidirectional task: source -> CDS (`toTarget`), CDS -> source (`toSource`),
or both."""


class FieldMapping(Strict):
    """One target field: read `source` (a dotted path, or nothing for a constant), then transform.

    In a bidirectional task an item also says which way it flows (`direction`; unset: both ways
    when it has a source, else to the target only) and, when it flows to the source, how a CDS
    value becomes a source value (`reverseTransforms`; none: the value as it is).
    """

    source: FieldName | None = None
    target: FieldName
    transforms: list[Transform] = Field(default_factory=list, max_length=MAX_TRANSFORMS_PER_MAPPING)
    direction: ItemDirection | None = Field(default=None, exclude_if=lambda value: value is None)
    reverseTransforms: list[Transform] = Field(
        default_factory=list, max_length=MAX_TRANSFORMS_PER_MAPPING, exclude_if=lambda value: not value
    )

    @model_validator(mode="after")
    def _constant_needs_value(self) -> FieldMapping:
        for i, transform in enumerate(self.transforms):
            if isinstance(transform, ConcatTransform) and (i > 0 or self.source is not None):
                raise FieldProblem(f"transforms.{i}", "Concat reads its own fields: put it first, with no source")
        if self.source is None and not self.transforms:
            raise FieldProblem("source", f"{self.target!r} has no source and no transform to give it a value")
        if self.source is None and self.direction in ("both", "toSource"):
            raise FieldProblem("direction", "an item without a source flows to the target only")
        for i, transform in enumerate(self.reverseTransforms):
            if isinstance(transform, ConcatTransform):
                raise FieldProblem(f"reverseTransforms.{i}", "Concat cannot give the source a value: it builds one "
                                   "from several fields, which cannot be taken apart again")
        return self

    def flow(self, bidirectional: bool) -> ItemDirection:
        """Which way the item flows: its `direction`, else both ways in a bidirectional task when it has a source,
        else to the target."""
        if self.direction is not None:
            return self.direction
        return "both" if bidirectional and self.source is not None else "toTarget"

    def reversed(self) -> FieldMapping:
        """The item as the CDS -> source direction reads it: from its target, through `reverseTransforms`, to its
        source (only for an item with a source)."""
        if self.source is None:
            raise ValueError(f"{self.target!r} has no source to flow back to")
        return FieldMapping(source=self.target, target=self.source, transforms=self.reverseTransforms)
