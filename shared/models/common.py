"""What the models of every subject share: the strict base, the names they accept, and the complaint about a field."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from shared.errors import InvalidInput
from shared.limits import MAX_VALUE_DEPTH, value_depth

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
"""A name used in a path: a connection, a project or a run id."""

SettingName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
"""The name of an app setting that holds a secret or a URL carrying one: the value itself is never stored."""

LegName = Literal["sourceToCds", "cdsToDestination", "cdsToSource"]
"""A task's hops: a one-way task's in the order they run (`sourceToCds`, then `cdsToDestination`); a
bidirectional task's two directions between its source and CDS (`sourceToCds`, `cdsToSource`)."""

ODATA_FIELD_PATTERN = r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*(@[A-Za-z][A-Za-z0-9_.]*)?$"
"""A field, or a dotted path through lookups (`customerid_account.accountnumber`, `lines.0.sku`), as Dataverse
and F&O name them: letters, digits and underscores; the last part may carry an OData annotation
(`parentcustomerid_account@odata.bind`). Nothing in it can close a URL segment, a query option or a string."""
_FIELD_PART = r"[^\x00-\x1f\x7f.@'\"(),;$&=?#/\\\[\]{}]+"
FieldName = Annotated[
    str,
    StringConstraints(
        max_length=256, strip_whitespace=True,
        pattern=rf"^{_FIELD_PART}(\.{_FIELD_PART})*(@[A-Za-z][A-Za-z0-9_.]*)?$",
    ),
]
"""A field or a dotted path, as any system may name it: a file's header may be text without control
characters, dots, `@`, quotes, brackets or the characters that delimit URLs and query options
(`Account Number`, `e-mail`, `Straße`). Where a side is Dataverse or F&O its names are held to
`ODATA_FIELD_PATTERN` when the project is saved (shared/entity_names.py), once the side's system is known."""
ODataFieldName = Annotated[str, StringConstraints(max_length=256, strip_whitespace=True, pattern=ODATA_FIELD_PATTERN)]
"""A field of a Dataverse or F&O entity: letters, digits and underscores (see `ODATA_FIELD_PATTERN`)."""


class FieldProblem(InvalidInput, ValueError):
    """A validator's complaint about one field, by its path relative to the model being validated.

    A ValueError too, so that pydantic reports it as a validation error; api/ names the field
    by the error's location followed by `field`.
    """

    field: str

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


def exactly_one(model: BaseModel, first: str, second: str) -> None:
    """Refuse a model that sets both or neither of two alternative fields, naming the first."""
    if (getattr(model, first) is None) == (getattr(model, second) is None):
        raise FieldProblem(first, f"give exactly one of {first} or {second}")


class Strict(BaseModel):
    """Unknown fields are refused, so a typo names the field instead of being a silently ignored setting."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


def _shallow(value: Any) -> Any:
    if value_depth(value) > MAX_VALUE_DEPTH:
        raise ValueError(f"objects and arrays nest more than {MAX_VALUE_DEPTH} deep in this value")
    return value


Value = Annotated[Any, AfterValidator(_shallow)]
"""A value a definition gives for a field (`defaultValue`, `then`): any JSON, nested at most MAX_VALUE_DEPTH deep."""
