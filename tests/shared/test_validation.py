"""The checks before a run ask each leg's connectors what their systems need (a company, business keys)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.process import start_sandbox
from shared.connectors import build_connector
from shared.models import Connection, ProjectDefinition
from shared.validation import validate_project


@pytest.fixture(scope="module")
def connections() -> Iterator[dict[str, Connection]]:
    with start_sandbox("dataverse") as dataverse, start_sandbox("finops") as finops:
        yield {role: Connection.model_validate({"kind": kind, "url": url, "auth": {"type": "none"}})
               for role, kind, url in (("source", "dataverse", dataverse.url), ("cds", "dataverse", dataverse.url),
                                       ("destination", "finops", finops.url))}


def project(match: str = "businessKey", **changes: Any) -> ProjectDefinition:
    key = ["accountid"] if match == "keyMap" else ["accountnumber"]
    task = {
        "name": "Accounts", "match": match,
        "source": {"entity": "accounts", "key": key}, "cds": {"entity": "accounts", "key": key},
        "destination": {"entity": "CustomersV3",
                        "key": ["CustomerAccount"] if match == "keyMap" else ["dataAreaId", "CustomerAccount"]},
        "sourceToCds": [{"source": k, "target": k} for k in {*key, "accountnumber"}] + [
            {"source": "name", "target": "name"}],
        "cdsToDestination": [
            {"source": "accountnumber", "target": "CustomerAccount"},
            {"source": "name", "target": "OrganizationName"},
            {"target": "CustomerGroupId", "transforms": [{"transformType": "Default", "defaultValue": "10"}]},
            {"target": "SalesCurrencyCode", "transforms": [{"transformType": "Default", "defaultValue": "USD"}]},
        ],
    }
    return ProjectDefinition.model_validate({
        "name": "p", "connections": {"source": "sales", "cds": "cds", "destination": "operations"},
        "companyCode": "USMF", "tasks": [task], **changes,
    })


def problems(definition: ProjectDefinition, connections: dict[str, Connection]) -> list[tuple[str | None, str]]:
    return [(p["leg"], p["field"]) for p in validate_project(definition, connections, build_connector)]


def test_an_fo_company_fills_the_company_of_every_key(connections) -> None:
    assert problems(project(), connections) == []


def test_an_fo_side_without_a_company_is_a_problem_of_the_legs_that_reach_it(connections) -> None:
    found = validate_project(project(companyCode=None), connections, build_connector)
    assert [(p["leg"], p["field"]) for p in found if p["field"] == "companyCode"] == [
        ("cdsToDestination", "companyCode")]
    assert all(p["leg"] == "cdsToDestination" for p in found)
    assert "destination system" in found[0]["message"] and "companyCode" in found[0]["message"]


def test_a_key_map_is_refused_for_a_target_that_takes_no_chosen_ids(connections) -> None:
    assert problems(project("keyMap"), connections) == [("cdsToDestination", "match")]


def two_way(source_entity: str = "accounts", source_key: list[str] | None = None, **items: Any) -> ProjectDefinition:
    """A bidirectional task between `source_entity` and CDS accounts; `items` by name replace the usual ones."""
    mapped = {"key": {"source": "accountnumber", "target": "accountnumber"},
              "name": {"source": "name", "target": "name"},
              "credit": {"source": "creditlimit", "target": "creditlimit"},
              "type": {"target": "customertypecode", "transforms": [{"transformType": "Default", "defaultValue": 3}]},
              **items}
    task = {"name": "Accounts", "direction": "bidirectional",
            "source": {"entity": source_entity, "key": source_key or ["accountnumber"]},
            "cds": {"entity": "accounts", "key": ["accountnumber"]}, "sourceToCds": list(mapped.values())}
    return ProjectDefinition.model_validate({
        "name": "p", "connections": {"source": "sales", "cds": "cds"}, "companyCode": "USMF", "tasks": [task]})


def found(definition: ProjectDefinition, connections: dict[str, Connection]) -> list[tuple[str | None, str, str]]:
    return [(p["leg"], p["field"], p["message"]) for p in validate_project(definition, connections, build_connector)]


def test_a_two_way_task_between_dataverse_systems_is_ready(connections) -> None:
    assert problems(two_way(), connections) == []


def test_a_field_an_item_writes_back_is_named_on_its_item_once(connections) -> None:
    definition = two_way(phone={"source": "phone", "target": "telephone1"})
    assert found(definition, connections) == [("sourceToCds", "sourceToCds.4.source", "accounts has no field 'phone'")]


def test_a_reverse_default_that_does_not_fit_the_source_field_is_named_in_reverse_transforms(connections) -> None:
    credit = {"source": "creditlimit", "target": "creditlimit",
              "transforms": [{"transformType": "Default", "defaultValue": 0}],
              "reverseTransforms": [{"transformType": "Default", "defaultValue": "none"}]}
    assert problems(two_way(credit=credit), connections) == [
        ("cdsToSource", "sourceToCds.2.reverseTransforms.0.defaultValue")]


def test_fo_customers_created_from_cds_need_their_required_fields_flowing_back(connections) -> None:
    fo_source = {"source": connections["destination"], "cds": connections["cds"]}
    definition = two_way(
        "CustomersV3", ["dataAreaId", "CustomerAccount"],
        key={"source": "CustomerAccount", "target": "accountnumber"},
        name={"source": "OrganizationName", "target": "name"},
        credit={"source": "CreditLimit", "target": "creditlimit", "direction": "toTarget"},
    )
    required = [(leg, field, message.split(":")[0]) for leg, field, message in found(definition, fo_source)]
    assert required == [
        ("cdsToSource", "sourceToCds", f"required field {name!r} of CustomersV3 is not mapped or defaulted")
        for name in ("CustomerGroupId", "SalesCurrencyCode")]
    task = definition.tasks[0].model_copy(update={"sourceDefaults": {"CustomerGroupId": "10",
                                                                     "SalesCurrencyCode": "USD"}})
    ready = ProjectDefinition.model_validate({**definition.model_dump(), "tasks": [task.model_dump()]})
    assert found(ready, fo_source) == []
    misfit = ProjectDefinition.model_validate({**definition.model_dump(), "tasks": [
        {**task.model_dump(), "sourceDefaults": {**task.sourceDefaults, "CreditLimit": "none"}}]})
    assert found(misfit, fo_source) == [
        ("cdsToSource", "sourceDefaults.CreditLimit", "'none' does not fit the Real field")]


def test_a_key_mapped_two_way_task_needs_a_source_that_takes_chosen_ids(connections) -> None:
    fo_source = {"source": connections["destination"], "cds": connections["cds"]}
    definition = ProjectDefinition.model_validate({
        "name": "p", "connections": {"source": "operations", "cds": "cds"}, "companyCode": "USMF",
        "tasks": [{"name": "Customers", "direction": "bidirectional", "match": "keyMap",
                   "source": {"entity": "CustomersV3", "key": ["CustomerAccount"]},
                   "cds": {"entity": "accounts", "key": ["accountid"]},
                   "sourceToCds": [{"source": "OrganizationName", "target": "name"}],
                   "sourceDefaults": {"CustomerGroupId": "10", "SalesCurrencyCode": "USD"}}]})
    assert ("cdsToSource", "match") in problems(definition, fo_source)
    dataverse = two_way()
    key_mapped = ProjectDefinition.model_validate({**dataverse.model_dump(), "tasks": [{
        **dataverse.tasks[0].model_dump(), "match": "keyMap", "source": {"entity": "accounts", "key": ["accountid"]},
        "cds": {"entity": "accounts", "key": ["accountid"]}}]})
    assert problems(key_mapped, connections) == []


def test_a_source_key_that_does_not_flow_back_is_a_problem_of_the_source_key(connections) -> None:
    definition = two_way(source_key=["accountnumber", "name"], name={"source": "name", "target": "name",
                                                                      "direction": "toTarget"})
    assert ("cdsToSource", "source.key", "business key field 'name' is not mapped back from CDS") in found(
        definition, connections)
