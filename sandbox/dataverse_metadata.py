"""The slice of Dataverse metadata that clients read before they work with a table.

`EntityDefinitions` (with `$select`, `$filter` and `$expand`), one definition by
`(LogicalName='account')` or by its MetadataId, its `/Attributes` (also type-cast, like
`/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata`), `/Keys` and the three
relationship collections, the `WhoAmI` function, and the `sdkmessages` / `sdkmessagefilters`
rows that tell a client which bulk messages a table supports. Everything is generated from
the sandbox's entity definitions; ids are derived from names, so they are stable across
restarts and resets.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox import dataverse_errors as errors
from sandbox.dataverse_metadata_filter import compile_metadata_filter
from sandbox.entities import Entity, Field
from sandbox.messages import ApiRequest, ApiResponse, json_response
from sandbox.odata_query import ResourcePath, parse_key, split_top_level

_NAMESPACE = uuid.UUID("7a4c6f52-3b1d-4f0e-9a55-1c2d3e4f5a6b")
BULK_MESSAGES = ("CreateMultiple", "UpdateMultiple", "UpsertMultiple")
SYSTEM_SETS = ("sdkmessages", "sdkmessagefilters")
# "Query table definitions using the Web API": metadata takes $select, $filter and $expand only.
METADATA_OPTIONS = frozenset({"$select", "$filter", "$expand"})
ENTITY_TYPE = "Microsoft.Dynamics.CRM.EntityMetadata"
PART_TYPES = {
    "Attributes": "Microsoft.Dynamics.CRM.AttributeMetadata",
    "Keys": "Microsoft.Dynamics.CRM.EntityKeyMetadata",
    "ManyToOneRelationships": "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
    "OneToManyRelationships": "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
    "ManyToManyRelationships": "Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata",
}
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
# The AttributeMetadata types a type-cast segment may name (Web API metadata EntityTypes).
ATTRIBUTE_METADATA_TYPES = frozenset(
    f"{name}AttributeMetadata"
    for name in (
        "BigInt", "Boolean", "DateTime", "Decimal", "Double", "EntityName", "File", "Image", "Integer",
        "Lookup", "ManagedProperty", "Memo", "Money", "MultiSelectPicklist", "Picklist", "State", "Status",
        "String", "UniqueIdentifier",
    )
)
_METADATA_TYPE_OF = {"Uniqueidentifier": "UniqueIdentifier", "Customer": "Lookup"}


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
    for name, _ in request.query:
        if name not in METADATA_OPTIONS:
            raise errors.query_error(f"The query parameter {name} is not supported")
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
    options = _Options(request.param("$select"), request.param("$filter"), request.param("$expand"))
    if resource.key is None:
        if resource.rest is not None:
            raise errors.segment_not_found(resource.rest)
        nodes = [_entity_node(e, entities) for e in entities.values()]
        value = _shape(nodes, options, ENTITY_TYPE)
        return json_response(200, {"@odata.context": f"{base}$metadata#EntityDefinitions", "value": value})
    by_logical = {e.logical_name: e for e in entities.values()}
    entity = _find_entity(resource.key, by_logical)
    if resource.rest is None:
        [body] = _shape([_entity_node(entity, entities)], options, ENTITY_TYPE, filtered=False)
        return json_response(200, {"@odata.context": f"{base}$metadata#EntityDefinitions/$entity", **body})
    part, _, cast = resource.rest.partition("/")
    navigation = _entity_node(entity, entities).navigations.get(part)
    if navigation is None:
        raise errors.segment_not_found(part)
    nodes = navigation()
    type_name = PART_TYPES[part]
    if cast:
        # Query metadata: a type-cast segment (`Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata`)
        # narrows a collection to one derived type and makes that type's properties available.
        derived = cast.removeprefix("Microsoft.Dynamics.CRM.")
        if part != "Attributes" or derived not in ATTRIBUTE_METADATA_TYPES:
            raise errors.segment_not_found(cast)
        nodes = [n for n in nodes if n.item["@odata.type"] == f"#Microsoft.Dynamics.CRM.{derived}"]
        type_name = f"Microsoft.Dynamics.CRM.{derived}"
    value = _shape(nodes, options, type_name)
    context = f"{base}$metadata#EntityDefinitions('{entity.logical_name}')/{resource.rest}"
    return json_response(200, {"@odata.context": context, "value": value})


@dataclass(frozen=True)
class _Options:
    """The query options a metadata request (or one `$expand` item) carries."""

    select: str | None = None
    filter: str | None = None
    expand: str | None = None


@dataclass(frozen=True)
class _Node:
    """One metadata item and its navigation properties, computed only when expanded."""

    item: dict[str, Any]
    navigations: Mapping[str, Callable[[], list[_Node] | _Node]] = field(default_factory=dict)


def _shape(nodes: list[_Node], options: _Options, type_name: str, *, filtered: bool = True) -> list[dict[str, Any]]:
    """Filter, expand and select, as "Query table definitions using the Web API" describes."""
    if filtered:
        matches = compile_metadata_filter(options.filter, type_name)
        nodes = [n for n in nodes if matches(n.item)]
    elif options.filter is not None:
        raise errors.query_error("The query option $filter is not supported on a single definition.")
    expansions = _parse_expand(options.expand)
    shaped = []
    for node in nodes:
        out = _select(node.item, options.select)
        for name, inner in expansions.items():
            navigation = node.navigations.get(name)
            if navigation is None:
                raise errors.query_error(f"Could not find a property named '{name}' on type '{type_name}'.")
            target = navigation()
            nested_type = PART_TYPES.get(name, "Microsoft.Dynamics.CRM.OptionSetMetadata")
            if isinstance(target, list):
                out[name] = _shape(target, inner, nested_type)
            else:
                out[name] = _shape([target], inner, nested_type, filtered=False)[0]
        shaped.append(out)
    return shaped


def _parse_expand(text: str | None) -> dict[str, _Options]:
    """`Name($select=...;$filter=...),Other`: the navigation properties to expand with their options."""
    if text is None or not text.strip():
        return {}
    expansions = {}
    for item in (i.strip() for i in split_top_level(text, ",")):
        name, _, rest = item.partition("(")
        nested: dict[str, str] = {}
        if rest:
            if not rest.endswith(")"):
                raise errors.query_error(f"The $expand item '{item}' is not valid.")
            for option in (o for o in split_top_level(rest[:-1], ";") if o.strip()):
                key, _, value = option.partition("=")
                if key.strip() not in ("$select", "$filter", "$expand"):
                    raise errors.query_error(f"The query option '{key.strip()}' is not supported inside $expand.")
                nested[key.strip()] = value
        expansions[name.strip()] = _Options(nested.get("$select"), nested.get("$filter"), nested.get("$expand"))
    return expansions


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


def _select(item: dict[str, Any], select: str | None) -> dict[str, Any]:
    if not select:
        return dict(item)
    wanted = {name.strip() for name in select.split(",")} | {"MetadataId"}
    return {k: v for k, v in item.items() if k in wanted or k.startswith("@")}


def _entity_node(entity: Entity, entities: Mapping[str, Entity]) -> _Node:
    # Web API EntityMetadata: Attributes, Keys and the three relationship collections are
    # navigation properties, returned only when asked for by path or $expand.
    return _Node(
        _entity_metadata(entity),
        {
            "Attributes": lambda: [_attribute_node(entity, f, entities) for f in entity.fields.values()],
            "Keys": lambda: [_Node(_key(entity, k.name, k.fields)) for k in entity.alternate_keys],
            "ManyToOneRelationships": lambda: [_Node(r) for r in _many_to_one(entity, entities)],
            "OneToManyRelationships": lambda: [_Node(r) for r in _one_to_many(entity, entities)],
            # ManyToManyRelationshipMetadata: the sandbox's definitions declare no N:N
            # relationships (no intersect tables), so the collection is empty, never missing.
            "ManyToManyRelationships": lambda: [],
        },
    )


def _attribute_node(entity: Entity, fld: Field, entities: Mapping[str, Entity]) -> _Node:
    item = _attribute(entity, fld, entities)
    if fld.type != "choice":
        return _Node(item)
    return _Node(item, {"OptionSet": lambda: _Node(_option_set(entity, fld))})


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
        "IsPrivate": False,
        "IsActivity": False,
        "IsIntersect": False,
        "IsManaged": True,
        "TableType": "Standard",
        "OwnershipType": "UserOwned",
    }


def _attribute(entity: Entity, fld: Field, entities: Mapping[str, Entity]) -> dict[str, Any]:
    kind = ATTRIBUTE_TYPES[fld.type]
    if fld.type == "lookup" and len(fld.targets) > 1:
        kind = "Customer"
    item: dict[str, Any] = {
        "@odata.type": f"#Microsoft.Dynamics.CRM.{_METADATA_TYPE_OF.get(kind, kind)}AttributeMetadata",
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
    return item


def _option_set(entity: Entity, fld: Field) -> dict[str, Any]:
    """A choice column's local option set; the definitions carry values, not labels."""
    no_label = {"LocalizedLabels": [], "UserLocalizedLabel": None}
    return {
        "MetadataId": stable_id("optionset", entity.logical_name, fld.name),
        "Name": f"{entity.logical_name}_{fld.name}",
        "IsGlobal": False,
        "OptionSetType": "Picklist",
        "Options": [{"Value": value, "Label": no_label} for value in fld.options],
    }


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
