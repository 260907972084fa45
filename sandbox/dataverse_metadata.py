"""The slice of Dataverse metadata that clients read before they work with a table.

`EntityDefinitions(LogicalName='account')` with `/Attributes`, `/Keys`,
`/ManyToOneRelationships` and `/OneToManyRelationships`, the `WhoAmI` function, and the
`sdkmessages` / `sdkmessagefilters` rows that tell a client which bulk messages a table
supports. Ids are derived from names, so they are stable across restarts and resets.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sandbox import dataverse_errors as errors
from sandbox.entities import Entity, Field
from sandbox.messages import ApiRequest, ApiResponse, json_response
from sandbox.odata_query import ResourcePath, parse_key

_NAMESPACE = uuid.UUID("7a4c6f52-3b1d-4f0e-9a55-1c2d3e4f5a6b")
BULK_MESSAGES = ("CreateMultiple", "UpdateMultiple", "UpsertMultiple")
SYSTEM_SETS = ("sdkmessages", "sdkmessagefilters")
ATTRIBUTE_TYPES = {
    "string": "String",
    "memo": "Memo",
    "int": "Integer",
    "bigint": "BigInt",
    "decimal": "Decimal",
    "money": "Money",
    "bool": "Boolean",
    "datetime": "DateTime",
    "date": "DateTime",
    "guid": "Uniqueidentifier",
    "choice": "Picklist",
    "lookup": "Lookup",
}


def stable_id(*names: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(names)))


def system_records(entities: Mapping[str, Entity]) -> dict[str, list[dict[str, Any]]]:
    """The sdkmessage rows: every business table supports the bulk messages."""
    messages = [{"sdkmessageid": stable_id("sdkmessage", name), "name": name} for name in BULK_MESSAGES]
    filters = [
        {
            "sdkmessagefilterid": stable_id("sdkmessagefilter", name, entity.logical_name),
            "name": f"{name} {entity.logical_name}",
            "primaryobjecttypecode": entity.logical_name,
            "_sdkmessageid_value": stable_id("sdkmessage", name),
        }
        for entity in entities.values()
        if entity.entity_set not in SYSTEM_SETS
        for name in BULK_MESSAGES
    ]
    return {"sdkmessages": messages, "sdkmessagefilters": filters}


def handle(request: ApiRequest, resource: ResourcePath, entities: Mapping[str, Entity]) -> ApiResponse:
    """Answer a GET on EntityDefinitions or WhoAmI."""
    base = request.base_url
    if request.method != "GET":
        raise errors.query_error(f"The requested resource does not support http method '{request.method}'.")
    if resource.name == "WhoAmI":
        return json_response(
            200,
            {
                "@odata.context": f"{base}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                "BusinessUnitId": stable_id("businessunit"),
                "UserId": stable_id("systemuser"),
                "OrganizationId": stable_id("organization"),
            },
        )
    by_logical = {e.logical_name: e for e in entities.values()}
    if resource.key is None:
        if resource.rest is not None:
            raise errors.segment_not_found(resource.rest)
        matches = _metadata_filter(request.param("$filter"))
        value = [_select(m, request.param("$select")) for e in entities.values() if matches(m := _entity_metadata(e))]
        return json_response(200, {"@odata.context": f"{base}$metadata#EntityDefinitions", "value": value})
    entity = _find_entity(resource.key, by_logical)
    if resource.rest is None:
        body = _select(_entity_metadata(entity), request.param("$select"))
        return json_response(200, {"@odata.context": f"{base}$metadata#EntityDefinitions/$entity", **body})
    parts = {
        "Attributes": lambda: [_attribute(entity, f, entities) for f in entity.fields.values()],
        "Keys": lambda: [_key(entity, k.name, k.fields) for k in entity.alternate_keys],
        "ManyToOneRelationships": lambda: _many_to_one(entity, entities),
        "OneToManyRelationships": lambda: _one_to_many(entity, entities),
    }
    if resource.rest not in parts:
        raise errors.segment_not_found(resource.rest)
    value = [_select(item, request.param("$select")) for item in parts[resource.rest]()]
    context = f"{base}$metadata#EntityDefinitions('{entity.logical_name}')/{resource.rest}"
    return json_response(200, {"@odata.context": context, "value": value})


def _find_entity(raw_key: str, by_logical: Mapping[str, Entity]) -> Entity:
    parts = parse_key(raw_key).parts
    if set(parts) == {"LogicalName"}:
        entity = by_logical.get(str(parts["LogicalName"]))
    elif set(parts) == {None}:
        entity = next((e for e in by_logical.values() if stable_id("entity", e.logical_name) == str(parts[None])), None)
    else:
        entity = None
    if entity is None:
        raise errors.ServiceError(
            404, f"Could not find an entity with the key {raw_key}.", errors.OBJECT_DOES_NOT_EXIST
        )
    return entity


_EQUALS = re.compile(r"^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$")


def _metadata_filter(expression: str | None) -> Callable[[dict[str, Any]], bool]:
    """A `$filter` on definitions: `Property eq 'text'` clauses joined by `and` (what clients ask for)."""
    if not expression:
        return lambda _item: True
    wanted = []
    for clause in re.split(r"\s+and\s+", expression):
        found = _EQUALS.match(clause)
        if found is None:
            raise errors.query_error(f"The sandbox filters definitions by `Property eq 'text'` only: {expression}")
        wanted.append((found.group(1), found.group(2).replace("''", "'")))
    return lambda item: all(str(item.get(name, "")).casefold() == value.casefold() for name, value in wanted)


def _select(item: dict[str, Any], select: str | None) -> dict[str, Any]:
    if not select:
        return item
    wanted = {name.strip() for name in select.split(",")} | {"MetadataId"}
    return {k: v for k, v in item.items() if k in wanted or k.startswith("@")}


def _entity_metadata(entity: Entity) -> dict[str, Any]:
    return {
        "MetadataId": stable_id("entity", entity.logical_name),
        "LogicalName": entity.logical_name,
        "SchemaName": entity.logical_name.capitalize(),
        "EntitySetName": entity.entity_set,
        "LogicalCollectionName": entity.entity_set,
        "PrimaryIdAttribute": entity.primary_id,
        "PrimaryNameAttribute": entity.primary_name,
        "PrimaryImageAttribute": None,
        "ChangeTrackingEnabled": entity.change_tracking,
        "IsCustomEntity": False,
        "OwnershipType": "UserOwned",
    }


def _attribute(entity: Entity, fld: Field, entities: Mapping[str, Entity]) -> dict[str, Any]:
    kind = ATTRIBUTE_TYPES[fld.type]
    if fld.type == "lookup" and len(fld.targets) > 1:
        kind = "Customer"
    item: dict[str, Any] = {
        "@odata.type": f"#Microsoft.Dynamics.CRM.{kind if kind != 'Customer' else 'Lookup'}AttributeMetadata",
        "MetadataId": stable_id("attribute", entity.logical_name, fld.name),
        "LogicalName": fld.name,
        "SchemaName": fld.name,
        "AttributeType": kind,
        "IsPrimaryId": fld.name == entity.primary_id,
        "IsPrimaryName": fld.name == entity.primary_name,
        "IsValidForCreate": not fld.read_only,
        "IsValidForUpdate": not fld.read_only and fld.name != entity.primary_id,
        "RequiredLevel": {"Value": "SystemRequired" if fld.required else "None"},
    }
    if fld.max_length is not None:
        item["MaxLength"] = fld.max_length
    if fld.type == "lookup":
        item["Targets"] = [entities[target].logical_name for target in fld.targets.values()]
    if fld.type == "choice":
        item["OptionSet"] = {"Options": [{"Value": value} for value in fld.options]}
    return item


def _key(entity: Entity, name: str, fields: tuple[str, ...]) -> dict[str, Any]:
    return {
        "MetadataId": stable_id("key", entity.logical_name, name),
        "SchemaName": name,
        "LogicalName": name,
        "KeyAttributes": list(fields),
        "EntityKeyIndexStatus": "Active",
    }


def _relationship(referencing: Entity, fld: Field, nav: str, referenced: Entity) -> dict[str, Any]:
    name = f"{referenced.logical_name}_{referencing.logical_name}_{fld.name}"
    return {
        "MetadataId": stable_id("relationship", name),
        "SchemaName": name,
        "ReferencedEntity": referenced.logical_name,
        "ReferencedAttribute": referenced.primary_id,
        "ReferencingEntity": referencing.logical_name,
        "ReferencingAttribute": fld.name,
        "ReferencingEntityNavigationPropertyName": nav,
        "ReferencedEntityNavigationPropertyName": f"{name}_{nav}",
        "RelationshipType": "OneToManyRelationship",
    }


def _many_to_one(entity: Entity, entities: Mapping[str, Entity]) -> list[dict[str, Any]]:
    return [
        _relationship(entity, fld, nav, entities[target])
        for fld in entity.fields.values()
        for nav, target in fld.targets.items()
    ]


def _one_to_many(entity: Entity, entities: Mapping[str, Entity]) -> list[dict[str, Any]]:
    return [
        _relationship(other, fld, nav, entity)
        for other in entities.values()
        for fld in other.fields.values()
        for nav, target in fld.targets.items()
        if target == entity.entity_set
    ]
