"""`GET /data/$metadata`: the CSDL document of the sandbox's F&O entities.

F&O serves its service document's schema at `{root}/data/$metadata` ("Open Data Protocol
(OData)", Finance & Operations docs: "the metadata document") in the OData v4 CSDL XML format
(OASIS "OData Version 4.0 Part 3: CSDL"): one schema `Microsoft.Dynamics.DataEntities` with an
entity type per data entity (key = the entity key, `dataAreaId` first), an enum type per enum
used by a field, and the container `Resources` whose entity sets carry the collection names.
Every `@odata.context` the service answers points here. The document is generated from the
entity definitions, so it cannot disagree with what `/data/` accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.etree import ElementTree

from sandbox.entities import Entity, Field
from sandbox.finops_catalog import Catalog

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
NAMESPACE = "Microsoft.Dynamics.DataEntities"
CONTAINER = "Resources"
# F&O has no null for its column types (an unset field reads as the type's empty value).
_NULLABLE_TYPES = frozenset({"guid", "lookup", "choice", "bool"})


def document(entities: Mapping[str, Entity]) -> bytes:
    """The CSDL XML of `entities`."""
    # Prefixes written out literally: ElementTree's namespace registry is process-wide.
    root = ElementTree.Element("edmx:Edmx", {"Version": "4.0", "xmlns:edmx": EDMX})
    services = ElementTree.SubElement(root, "edmx:DataServices")
    schema = ElementTree.SubElement(services, "Schema", {"Namespace": NAMESPACE, "xmlns": EDM})
    for entity in entities.values():
        _entity_type(schema, entity)
    for enum in Catalog(entities).enumerations:
        enum_type = ElementTree.SubElement(schema, "EnumType", {"Name": enum.name})
        for value, member in enumerate(enum.members):
            ElementTree.SubElement(enum_type, "Member", {"Name": member, "Value": str(value)})
    container = ElementTree.SubElement(schema, "EntityContainer", {"Name": CONTAINER})
    for entity in entities.values():
        ElementTree.SubElement(container, "EntitySet", {"Name": entity.entity_set, "EntityType": entity.type_name})
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _entity_type(schema: ElementTree.Element, entity: Entity) -> None:
    entity_type = ElementTree.SubElement(schema, "EntityType", {"Name": entity.logical_name})
    key = ElementTree.SubElement(entity_type, "Key")
    for name in entity.entity_key.fields:
        ElementTree.SubElement(key, "PropertyRef", {"Name": name})
    for fld in entity.fields.values():
        ElementTree.SubElement(entity_type, "Property", _property_facets(entity, fld))


def _property_facets(entity: Entity, fld: Field) -> dict[str, str]:
    facets = {"Name": fld.prop, "Type": fld.edm_type}
    nullable = fld.type in _NULLABLE_TYPES and fld.name not in entity.entity_key.fields
    if not nullable:
        facets["Nullable"] = "false"
    if fld.max_length is not None:
        facets["MaxLength"] = str(fld.max_length)
    if fld.type in ("decimal", "money"):
        facets["Scale"] = "variable"
    return facets
