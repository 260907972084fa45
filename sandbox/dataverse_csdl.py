"""`GET /api/data/v9.2/$metadata`: the CSDL document of the sandbox's Dataverse tables.

Generated from the same entity definitions that the tables and EntityDefinitions come from,
so the three can never disagree. Following the Web API "Service documents" article (CSDL
$metadata document): one schema `Microsoft.Dynamics.CRM` (alias `mscrm`) with an
EntityType per table (its primary id as Key, a Property per column, lookups as the
`_<name>_value` Guid property plus a single-valued NavigationProperty with its
ReferentialConstraint), and the EntityContainer `System` with one EntitySet per table and
its NavigationPropertyBindings.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.etree import ElementTree

from sandbox.entities import Entity

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
NAMESPACE = "Microsoft.Dynamics.CRM"
ALIAS = "mscrm"


def csdl_document(entities: Mapping[str, Entity]) -> bytes:
    """The `$metadata` XML for every table of the sandbox."""
    ElementTree.register_namespace("edmx", EDMX)
    root = ElementTree.Element(f"{{{EDMX}}}Edmx", {"Version": "4.0"})
    services = ElementTree.SubElement(root, f"{{{EDMX}}}DataServices")
    schema = ElementTree.SubElement(services, _edm("Schema"), {"Namespace": NAMESPACE, "Alias": ALIAS})
    for entity in entities.values():
        _entity_type(schema, entity, entities)
    container = ElementTree.SubElement(schema, _edm("EntityContainer"), {"Name": "System"})
    for entity in entities.values():
        entity_type = f"{NAMESPACE}.{entity.logical_name}"
        entity_set = ElementTree.SubElement(
            container, _edm("EntitySet"), {"Name": entity.entity_set, "EntityType": entity_type}
        )
        for navigation, (_, target) in entity.navigation.items():
            binding = {"Path": navigation, "Target": target}
            ElementTree.SubElement(entity_set, _edm("NavigationPropertyBinding"), binding)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _edm(name: str) -> str:
    return f"{{{EDM}}}{name}"


def _entity_type(schema: ElementTree.Element, entity: Entity, entities: Mapping[str, Entity]) -> None:
    element = ElementTree.SubElement(schema, _edm("EntityType"), {"Name": entity.logical_name})
    key = ElementTree.SubElement(element, _edm("Key"))
    ElementTree.SubElement(key, _edm("PropertyRef"), {"Name": entity.primary_id or ""})
    for fld in entity.fields.values():
        attributes = {"Name": fld.prop, "Type": fld.edm_type}
        if fld.max_length is not None:
            attributes["MaxLength"] = str(fld.max_length)
        if fld.name == entity.primary_id:
            attributes["Nullable"] = "false"
        ElementTree.SubElement(element, _edm("Property"), attributes)
    for navigation, (lookup, target_set) in entity.navigation.items():
        target = entities[target_set]
        nav = ElementTree.SubElement(
            element, _edm("NavigationProperty"), {"Name": navigation, "Type": f"{ALIAS}.{target.logical_name}"}
        )
        ElementTree.SubElement(
            nav,
            _edm("ReferentialConstraint"),
            {"Property": lookup.prop, "ReferencedProperty": target.primary_id or ""},
        )

