"""Entity definitions, read from sandbox/entities/<system>/*.json, and the checks on field values.

A definition file names the entity set, the logical (type) name, the primary id (Dataverse),
the fields with their types and rules, and the keys: alternate keys for Dataverse, the
entity key first for F&O; an F&O entity also has its `category` (Master, Document, ...).
Every entity also gets the columns its system maintains itself (`SYSTEM_FIELDS`). Field types:

    string, memo          text with `max_length`
    int, bigint           whole numbers (Edm.Int32 / Edm.Int64)
    decimal, money        numbers (Edm.Decimal)
    bool                  true / false
    datetime, date        ISO 8601; datetimes are kept in UTC to the second
    guid                  a GUID, kept lower-case
    choice                a Dataverse option set: an int out of `options`
    lookup                a Dataverse reference; `targets` maps navigation properties to entity sets;
                          the value is the `_<name>_value` property and is written with @odata.bind
    enum                  an F&O enum (`enum_type`, `enum_values`), a member name in JSON

Optional rules: `required`, `read_only`, `default` (the value a new record gets when none
is given, like Dataverse's statecode 0), `autonumber` (a str.format template with `{seq}`
for values the server assigns when none is given), `allowed_values` with `reference_table`
(an F&O related table), `references` (`{"entity_set", "field"}`, a record that must exist in
the same company), `computed_from` (fields joined with a space, like Dataverse's fullname).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

DEFINITIONS_DIR = Path(__file__).resolve().parent / "entities"
SYSTEMS = ("dataverse", "finops")

EDM_TYPES = {
    "string": "Edm.String",
    "memo": "Edm.String",
    "int": "Edm.Int32",
    "bigint": "Edm.Int64",
    "decimal": "Edm.Decimal",
    "money": "Edm.Decimal",
    "bool": "Edm.Boolean",
    "datetime": "Edm.DateTimeOffset",
    "date": "Edm.Date",
    "guid": "Edm.Guid",
    "choice": "Edm.Int32",
    "lookup": "Edm.Guid",
}
TEXT_TYPES = frozenset({"string", "memo"})
NUMBER_TYPES = frozenset({"int", "bigint", "decimal", "money", "choice"})
INT32_RANGE = (-(2**31), 2**31 - 1)

# The columns each system maintains on every record, whatever the definition says.
SYSTEM_FIELDS: dict[str, tuple[dict[str, Any], ...]] = {
    "dataverse": (
        {"name": "createdon", "type": "datetime", "read_only": True},
        {"name": "modifiedon", "type": "datetime", "read_only": True},
        {"name": "versionnumber", "type": "bigint", "read_only": True},
    ),
    "finops": ({"name": "ModifiedDateTime", "type": "datetime", "read_only": True},),
}

# F&O has no null for its column types: an unset field reads as its type's empty value.
FINOPS_EMPTY = {
    "string": "",
    "memo": "",
    "int": 0,
    "bigint": 0,
    "decimal": 0,
    "money": 0,
    "datetime": "1900-01-01T00:00:00Z",
    "date": "1900-01-01",
}


class FieldError(Exception):
    """A value a field does not accept. `kind`: type, max_length, option, enum, allowed."""

    def __init__(self, kind: str, fld: Field, value: Any) -> None:
        super().__init__(f"{kind}: {fld.name}={value!r}")
        self.kind = kind
        self.field = fld
        self.value = value


@dataclass(frozen=True)
class Field:
    """One attribute of an entity."""

    name: str
    type: str
    max_length: int | None = None
    required: bool = False
    read_only: bool = False
    options: tuple[int, ...] = ()
    enum_type: str | None = None
    enum_values: tuple[str, ...] = ()
    targets: Mapping[str, str] = field(default_factory=dict)
    autonumber: str | None = None
    allowed_values: tuple[str, ...] = ()
    reference_table: str | None = None
    references: tuple[str, str] | None = None
    computed_from: tuple[str, ...] = ()
    default: Any = None

    @property
    def prop(self) -> str:
        """The JSON property (and storage column) that holds the value."""
        return f"_{self.name}_value" if self.type == "lookup" else self.name

    @cached_property
    def allowed_folded(self) -> frozenset[str]:
        return frozenset(v.casefold() for v in self.allowed_values)

    @property
    def edm_type(self) -> str:
        if self.type == "enum":
            return f"Microsoft.Dynamics.DataEntities.{self.enum_type}"
        return EDM_TYPES[self.type]

    def check(self, value: Any, *, rules: bool = True) -> Any:
        """The stored form of a JSON value for this field, or FieldError.

        With `rules` off only the type is checked (seeding raw records): no length, option,
        enum-member or related-table checks.
        """
        if value is None:
            return None
        kind = self.type
        if kind in TEXT_TYPES:
            if not isinstance(value, str):
                raise FieldError("type", self, value)
            if rules and self.max_length is not None and len(value) > self.max_length:
                raise FieldError("max_length", self, value)
            if rules and value and self.allowed_values and value.casefold() not in self.allowed_folded:
                raise FieldError("allowed", self, value)
            return value
        if kind in ("int", "bigint", "choice"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise FieldError("type", self, value)
            if kind != "bigint" and not INT32_RANGE[0] <= value <= INT32_RANGE[1]:
                raise FieldError("type", self, value)
            if rules and kind == "choice" and value not in self.options:
                raise FieldError("option", self, value)
            return value
        if kind in ("decimal", "money"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FieldError("type", self, value)
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise FieldError("type", self, value)
            return value
        if kind == "datetime":
            try:
                return normalize_datetime(value)
            except (TypeError, ValueError):
                raise FieldError("type", self, value) from None
        if kind == "date":
            try:
                return date.fromisoformat(value).isoformat()
            except (TypeError, ValueError):
                raise FieldError("type", self, value) from None
        if kind in ("guid", "lookup"):
            try:
                return str(uuid.UUID(value))
            except (AttributeError, TypeError, ValueError):
                raise FieldError("type", self, value) from None
        if kind == "enum":
            if not isinstance(value, str):
                raise FieldError("type", self, value)
            if rules and value not in self.enum_values:
                raise FieldError("enum", self, value)
            return value
        raise ValueError(f"unknown field type {kind!r}")


@dataclass(frozen=True)
class Key:
    """A key: the fields (by name) whose values identify one record."""

    name: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Entity:
    """An entity set with its fields and keys."""

    system: str
    entity_set: str
    logical_name: str
    fields: Mapping[str, Field]
    keys: tuple[Key, ...]
    primary_id: str | None = None
    primary_name: str | None = None
    change_tracking: bool = False
    category: str | None = None

    @cached_property
    def props(self) -> dict[str, Field]:
        """Fields by JSON property name."""
        return {f.prop: f for f in self.fields.values()}

    @property
    def type_name(self) -> str:
        """The OData type name, as in `@odata.type` and error messages."""
        namespace = "Microsoft.Dynamics.CRM" if self.system == "dataverse" else "Microsoft.Dynamics.DataEntities"
        return f"{namespace}.{self.logical_name}"

    @property
    def entity_key(self) -> Key:
        """What identifies a record in its URL: the primary id (Dataverse) or the entity key (F&O)."""
        if self.primary_id is not None:
            return Key(f"{self.logical_name}id", (self.primary_id,))
        return self.keys[0]

    @property
    def alternate_keys(self) -> tuple[Key, ...]:
        return self.keys if self.primary_id is not None else self.keys[1:]

    @cached_property
    def navigation(self) -> dict[str, tuple[Field, str]]:
        """Single-valued navigation properties: name -> (lookup field, target entity set)."""
        return {nav: (f, target) for f in self.fields.values() for nav, target in f.targets.items()}

    def empty_value(self, fld: Field) -> Any:
        """What an unset field of a new record holds: its default, else None; in F&O, where
        types have no null, the type's empty value."""
        if fld.default is not None:
            return fld.default
        if self.system != "finops":
            return None
        if fld.type == "enum":
            return fld.enum_values[0]
        return FINOPS_EMPTY.get(fld.type)


def normalize_datetime(value: str) -> str:
    """An ISO 8601 date-time as UTC `YYYY-MM-DDTHH:MM:SSZ` (a bare date is midnight UTC)."""
    if len(value) == 10:
        parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
    else:
        parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> str:
    """Now, the way timestamps are stored."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _field(spec: Mapping[str, Any], reference_tables: Mapping[str, list[str]]) -> Field:
    refs = spec.get("references")
    table = spec.get("reference_table")
    return Field(
        name=spec["name"],
        type=spec["type"],
        max_length=spec.get("max_length"),
        required=spec.get("required", False),
        read_only=spec.get("read_only", False),
        options=tuple(spec.get("options", ())),
        enum_type=spec.get("enum_type"),
        enum_values=tuple(spec.get("enum_values", ())),
        targets=dict(spec.get("targets", {})),
        autonumber=spec.get("autonumber"),
        allowed_values=tuple(spec.get("allowed_values", reference_tables.get(table, ()) if table else ())),
        reference_table=table,
        references=(refs["entity_set"], refs["field"]) if refs else None,
        computed_from=tuple(spec.get("computed_from", ())),
        default=spec.get("default"),
    )


def entity_from_json(
    system: str, spec: Mapping[str, Any], reference_tables: Mapping[str, list[str]] | None = None
) -> Entity:
    """Build an entity from its definition, adding the system's own columns.

    `reference_tables` holds the rows of the related tables that `reference_table` names.
    """
    tables = reference_tables or {}
    specs = [*spec["fields"], *SYSTEM_FIELDS[system]]
    for s in specs:
        if s.get("reference_table") and "allowed_values" not in s and s["reference_table"] not in tables:
            raise ValueError(f"{spec['entity_set']}.{s['name']}: unknown reference table {s['reference_table']}")
    fields = {s["name"]: _field(s, tables) for s in specs}
    if len(fields) != len(specs):
        raise ValueError(f"{spec['entity_set']}: a field is defined twice")
    keys = tuple(Key(k["name"], tuple(k["fields"])) for k in spec.get("keys", ()))
    for key in keys:
        missing = [name for name in key.fields if name not in fields]
        if missing:
            raise ValueError(f"{spec['entity_set']}: key {key.name} names unknown fields {missing}")
    entity = Entity(
        system=system,
        entity_set=spec["entity_set"],
        logical_name=spec["logical_name"],
        fields=fields,
        keys=keys,
        primary_id=spec.get("primary_id"),
        primary_name=spec.get("primary_name"),
        change_tracking=spec.get("change_tracking", False),
        category=spec.get("category"),
    )
    if system == "finops" and (not keys or keys[0].fields[0] != "dataAreaId"):
        raise ValueError(f"{entity.entity_set}: an F&O entity key starts with dataAreaId")
    if system == "dataverse" and entity.primary_id not in fields:
        raise ValueError(f"{entity.entity_set}: the primary id must be a field")
    return entity


def load_entities(system: str, directory: Path = DEFINITIONS_DIR) -> dict[str, Entity]:
    """Every entity of a system, by entity set name."""
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; expected one of {SYSTEMS}")
    tables = json.loads((directory / "reference_tables.json").read_text(encoding="utf-8"))
    entities: dict[str, Entity] = {}
    for path in sorted((directory / system).glob("*.json")):
        entity = entity_from_json(system, json.loads(path.read_text(encoding="utf-8")), tables)
        entities[entity.entity_set] = entity
    for entity in entities.values():
        for fld in entity.fields.values():
            targets = [*fld.targets.values(), *([fld.references[0]] if fld.references else [])]
            for target in targets:
                if target not in entities:
                    raise ValueError(f"{entity.entity_set}.{fld.name} refers to unknown entity set {target}")
    return entities
