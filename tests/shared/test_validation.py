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
