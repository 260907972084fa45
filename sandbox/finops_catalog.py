"""What F&O's metadata service knows, derived from the sandbox's entity definitions.

The metadata service at `/Metadata/` describes the same entities `/data/` serves, so every
document here is computed from the `Entity` objects, never written by hand: the data entities
(`DataEntities`), their public OData shape (`PublicEntities`), the enums their fields use
(`PublicEnumerations`) and the labels those documents point at (`Labels`). Label ids have the
`@SYS1234` form of F&O's numbered label files (file `SBX`, numbered in name order, so the ids are
stable for a set of definitions; the `@File:Name` form has a colon, which F&O refuses in a
request path); their en-us text is the name split into words ("CustomerAccount" -> "Customer account").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sandbox.entities import Entity, Field

LABEL_FILE = "SBX"
LABEL_LANGUAGE = "en-us"
DATA_TYPES = {
    "string": "String",
    "memo": "String",
    "int": "Int32",
    "bigint": "Int64",
    "decimal": "Real",
    "money": "Real",
    "bool": "Enum",
    "datetime": "DateTime",
    "date": "Date",
    "guid": "Guid",
    "enum": "Enum",
}
# The values of Microsoft.Dynamics.Metadata.EntityCategory, the kind of data an entity holds.
ENTITY_CATEGORIES = frozenset({"Parameters", "Reference", "Master", "Document", "Transaction"})
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+\d*|[A-Z]+\d*|\d+")


def label_text(name: str) -> str:
    """ "CustomerAccount" -> "Customer account"; "CustomerV3" -> "Customer V3"."""
    words = _WORD.findall(name) or [name]
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Enumeration:
    """An F&O enum as the metadata service lists it: members in value order from 0."""

    name: str
    members: tuple[str, ...]


class Catalog:
    """The metadata documents of one set of F&O entities."""

    def __init__(self, entities: Mapping[str, Entity]) -> None:
        for entity in entities.values():
            if entity.category not in ENTITY_CATEGORIES:
                raise ValueError(f"{entity.entity_set}: category {entity.category!r} is not one of {ENTITY_CATEGORIES}")
        self.entities = entities

    @cached_property
    def data_entities(self) -> list[dict[str, Any]]:
        return [_data_entity(e, self.label_ids) for e in self.entities.values()]

    @cached_property
    def public_entities(self) -> list[dict[str, Any]]:
        return [_public_entity(e, self.label_ids) for e in self.entities.values()]

    @cached_property
    def enumerations(self) -> list[Enumeration]:
        found: dict[str, tuple[str, ...]] = {}
        for fld in _fields(self.entities.values()):
            if fld.type == "enum" and fld.enum_type:
                known = found.setdefault(fld.enum_type, fld.enum_values)
                if known != fld.enum_values:
                    raise ValueError(f"enum {fld.enum_type} is defined with different members")
        return [Enumeration(name, members) for name, members in sorted(found.items())]

    @cached_property
    def public_enumerations(self) -> list[dict[str, Any]]:
        return [_public_enumeration(e, self.label_ids) for e in self.enumerations]

    @cached_property
    def label_ids(self) -> dict[str, str]:
        """The label id of every labelled name: entities, fields, enums and (`Enum.Member`) members."""
        names: set[str] = set()
        for entity in self.entities.values():
            names.add(entity.logical_name)
            names.update(f.name for f in entity.fields.values())
        for enum in self.enumerations:
            names.add(enum.name)
            names.update(f"{enum.name}.{m}" for m in enum.members)
        return {name: f"@{LABEL_FILE}{number}" for number, name in enumerate(sorted(names), start=1)}

    @cached_property
    def labels(self) -> dict[str, str]:
        """Every label id the documents use, with its en-us text."""
        return {label: label_text(name.rsplit(".", 1)[-1]) for name, label in self.label_ids.items()}


def _fields(entities: Iterable[Entity]) -> Iterable[Field]:
    for entity in entities:
        yield from entity.fields.values()


def _data_entity(entity: Entity, labels: Mapping[str, str]) -> dict[str, Any]:
    # The AOT name of a data entity ends in "Entity"; the public names are what OData uses.
    return {
        "Name": f"{entity.logical_name}Entity",
        "PublicEntityName": entity.logical_name,
        "PublicCollectionName": entity.entity_set,
        "LabelId": labels[entity.logical_name],
        "EntityCategory": entity.category,
        "DataServiceEnabled": True,
        "DataManagementEnabled": True,
        "IsReadOnly": False,
    }


def _public_entity(entity: Entity, labels: Mapping[str, str]) -> dict[str, Any]:
    key = set(entity.entity_key.fields)
    return {
        "Name": entity.logical_name,
        "EntitySetName": entity.entity_set,
        "LabelId": labels[entity.logical_name],
        "IsReadOnly": False,
        "ConfigurationEnabled": True,
        "Properties": [
            {
                "Name": f.name,
                "TypeName": f.enum_type or DATA_TYPES[f.type],
                "DataType": DATA_TYPES[f.type],
                "LabelId": labels[f.name],
                "IsKey": f.name in key,
                "IsMandatory": f.required or f.name in key,
                "ConfigurationEnabled": True,
                "AllowEdit": not f.read_only and f.name not in key,
                "AllowEditOnCreate": not f.read_only,
                "IsDimension": False,
            }
            for f in entity.fields.values()
        ],
        "NavigationProperties": [],
        "PropertyGroups": [],
        "Actions": [],
    }


def _public_enumeration(enum: Enumeration, labels: Mapping[str, str]) -> dict[str, Any]:
    return {
        "Name": enum.name,
        "LabelId": labels[enum.name],
        "Members": [
            {"Name": m, "Value": i, "LabelId": labels[f"{enum.name}.{m}"], "ConfigurationEnabled": True}
            for i, m in enumerate(enum.members)
        ],
    }
