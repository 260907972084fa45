"""The prospect-to-cash templates and the two-way variants: valid against the published schema, naming only
fields that exist; what flows back returns unchanged when it flows forward again."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from sandbox.entities import Entity, load_entities
from shared.mapping import compile_transforms
from shared.models import ConcatTransform, Endpoint, FieldMapping, ValueMapTransform
from shared.schema import SCHEMA_PATH
from shared.templates import TEMPLATES_DIR, templates

FILES = sorted(TEMPLATES_DIR.glob("*.json"))
SYSTEM_KIND = {"sales": "dataverse", "cds": "dataverse", "operations": "finops"}
ENTITIES = {kind: load_entities(kind) for kind in ("dataverse", "finops")}


def test_the_prospect_to_cash_set_is_complete_and_in_order() -> None:
    assert [t.name for t in templates()] == [
        "products", "accounts", "accounts-two-way", "customers-two-way", "contacts", "quotes", "orders", "invoices"]
    tasks = {t.name: [task.name for task in t.tasks] for t in templates()}
    assert tasks["quotes"] == ["Quote headers", "Quote lines"]
    assert tasks["orders"] == ["Order headers", "Order lines"]
    assert tasks["invoices"] == ["Invoice headers", "Invoice lines"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_template_validates_against_the_schema(path: Path) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), schema)


def test_the_schema_rejects_what_the_model_rejects() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    broken = json.loads(FILES[0].read_text(encoding="utf-8"))
    broken["tasks"][0]["sourceToCds"][0]["transforms"] = [{"transformType": "Upcase"}]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def _entity(project_role: str, connections: dict[str, str], endpoint: Endpoint) -> Entity:
    system = connections[endpoint.connection or project_role]
    entities = ENTITIES[SYSTEM_KIND[system]]
    assert endpoint.entity in entities, f"{system} has no entity set {endpoint.entity}"
    return entities[endpoint.entity]


def _source_paths(mapping: FieldMapping) -> list[str]:
    paths = [mapping.source] if mapping.source else []
    return paths + [p.field for t in mapping.transforms if isinstance(t, ConcatTransform) for p in t.parts if p.field]


def _check_source(entity: Entity, path: str) -> None:
    root, _, rest = path.partition(".")
    if rest:
        assert root in entity.navigation, f"{entity.entity_set} has no lookup {root}"
        target = ENTITIES[entity.system][entity.navigation[root][1]]
        assert rest in target.fields, f"{target.entity_set} has no field {rest}"
    else:
        assert root in entity.fields, f"{entity.entity_set} has no field {root}"


def _check_target(entity: Entity, target: str) -> None:
    if target.endswith("@odata.bind"):
        assert target.removesuffix("@odata.bind") in entity.navigation, f"{entity.entity_set} cannot bind {target}"
    else:
        assert target in entity.fields, f"{entity.entity_set} has no field {target}"


@pytest.mark.parametrize("template", templates(), ids=lambda t: t.name)
def test_every_field_a_template_names_exists_in_the_systems(template) -> None:
    connections = template.connections.model_dump()
    roles = {"sourceToCds": ("source", "cds"), "cdsToDestination": ("cds", "destination"), "cdsToSource": ("cds", "source")}
    for task in template.tasks:
        for leg in task.legs():
            source_role, target_role = roles[leg.name]
            source = _entity(source_role, connections, leg.source)
            target = _entity(target_role, connections, leg.target)
            for key_field in leg.source.key:
                _check_target(source, key_field)
            for key_field in leg.target.key:
                _check_target(target, key_field)
            for mapping in leg.mappings:
                for path in _source_paths(mapping):
                    _check_source(source, path)
                _check_target(target, mapping.target)


@pytest.mark.parametrize("name", ["accounts-two-way", "customers-two-way"])
def test_a_two_way_template_flows_both_ways_and_a_value_sent_back_comes_forward_unchanged(name: str) -> None:
    [task] = next(t for t in templates() if t.name == name).tasks
    assert task.bidirectional and (task.conflicts, task.deletes) == ("manual", "ignore")
    assert [leg.name for leg in task.legs()] == ["sourceToCds", "cdsToSource"]
    mapped = 0
    for item in task.sourceToCds:
        sent_back = [key for t in item.reverseTransforms if isinstance(t, ValueMapTransform) for key in t.valueMap]
        if not sent_back:
            continue
        forward, reverse = compile_transforms(item.transforms), compile_transforms(item.reverseTransforms)
        assert forward is not None and reverse is not None
        for cds_value in sent_back:
            assert forward(reverse(cds_value)) == cds_value, (item.target, cds_value)
        mapped += 1
    assert mapped == 1  # the country, a ValueMap each way
