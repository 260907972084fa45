"""The domain model accepts the documented JSON and names the field of every mistake."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from shared.models import Connection, Consent, ProjectDefinition, find_raw_secrets, problems

PROJECT: dict[str, Any] = {
    "name": "accounts-sales-to-operations",
    "connections": {"source": "sales", "cds": "cds", "destination": "operations"},
    "companyCode": "USMF",
    "tasks": [
        {
            "name": "Accounts",
            "source": {"entity": "accounts", "key": ["accountnumber"], "filter": "statecode eq 0"},
            "cds": {"entity": "accounts", "key": ["accountnumber"]},
            "destination": {"entity": "CustomersV3", "key": ["dataAreaId", "CustomerAccount"]},
            "sourceToCds": [
                {"source": "accountnumber", "target": "accountnumber"},
                {
                    "source": "address1_country",
                    "target": "address1_country",
                    "transforms": [{"transformType": "ValueMap", "valueMap": {"us": "US", "usa": "US"}}],
                },
                {"target": "customertypecode", "transforms": [{"transformType": "Default", "defaultValue": "Organization"}]},
            ],
            "cdsToDestination": [
                {"source": "accountnumber", "target": "CustomerAccount"},
                {"source": "name", "target": "OrganizationName"},
                {"target": "CustomerGroupId", "transforms": [{"transformType": "Default", "defaultValue": "10"}]},
            ],
        }
    ],
}


def errors_of(data: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as info:
        ProjectDefinition.model_validate(data)
    return problems(info.value)


def with_change(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(PROJECT)
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is DELETE:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


DELETE = object()


def test_api_example_parses_and_round_trips() -> None:
    project = ProjectDefinition.model_validate(PROJECT)
    assert [leg.name for leg in project.tasks[0].legs()] == ["sourceToCds", "cdsToDestination"]
    assert ProjectDefinition.model_validate_json(project.model_dump_json(exclude_none=True)) == project
    assert project.systems() == ["sales", "cds", "operations"]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("colour", "blue", "colour"),
        ("tasks.0.sourceToCds.0.sourceField", "x", "tasks.0.sourceToCds.0.sourceField"),
        ("tasks.0.sourceToCds.2.transforms.0.transformType", "Upcase", "tasks.0.sourceToCds.2.transforms.0.transformType"),
        ("tasks.0.sourceToCds.2.transforms.0.extra", 1, "tasks.0.sourceToCds.2.transforms.0.extra"),
        ("name", "bad name/with slash", "name"),
        ("name", "x" * 65, "name"),
        ("tasks.0.cds.key", [], "tasks.0.cds.key"),
        ("tasks.0.source.entity", DELETE, "tasks.0.source.entity"),
        ("tasks.0.sourceToCds", [], "tasks.0.sourceToCds"),
        ("tasks", [], "tasks"),
        ("companyCode", "US MF", "companyCode"),
        ("schedule", "every minute", "schedule"),
        ("connections.source", "x' or PartitionKey ne '", "connections.source"),
    ],
)
def test_invalid_definitions_name_the_field(path: str, value: Any, field: str) -> None:
    fields = [p["field"] for p in errors_of(with_change(path, value))]
    assert field in fields, fields


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("tasks.0.sourceToCds.1.target", "accountnumber", "mapped more than once"),
        ("tasks.0.cdsToDestination", [], "cdsToDestination is empty"),
        ("tasks.0.destination", DELETE, "no destination"),
        ("tasks.0.sourceToCds.0", {"target": "accountnumber"}, "no source and no transform"),
        ("tasks.0.cds.filter", "x eq 1", "only the source"),
    ],
)
def test_inconsistent_tasks_are_errors_that_say_why(path: str, value: Any, words: str) -> None:
    messages = " ".join(p["message"] for p in errors_of(with_change(path, value)))
    assert words in messages


def test_duplicate_task_names_and_missing_destination_connection() -> None:
    data = copy.deepcopy(PROJECT)
    data["tasks"].append(copy.deepcopy(data["tasks"][0]))
    assert errors_of(data)[0] == {"field": "tasks.1.name", "message": "task name 'Accounts' is used twice"}
    data = copy.deepcopy(PROJECT)
    del data["connections"]["destination"]
    assert errors_of(data)[0]["field"] == "connections.destination"


def test_consent_accepts_the_api_shape() -> None:
    consent = Consent.model_validate(
        {"accepted": True, "acceptedBy": "admin@contoso.com", "noticeVersion": "2024-01",
         "dataResidency": {"from": "EU", "to": "US"}}
    )
    assert consent.dataResidency is not None and consent.dataResidency.from_ == "EU"
    assert consent.model_dump(by_alias=True)["dataResidency"] == {"from": "EU", "to": "US"}


@pytest.mark.parametrize(
    "auth",
    [
        {"type": "clientSecret", "tenantId": "t", "clientId": "c", "secretSetting": "SALES_SECRET"},
        {"type": "clientSecret", "tenantId": "t", "clientId": "c", "secretUri": "https://kv.vault.azure.net/secrets/sales"},
        {"type": "managedIdentity"},
        {"type": "none"},
    ],
)
def test_connections_hold_references(auth: dict[str, str]) -> None:
    Connection.model_validate({"kind": "dataverse", "url": "https://org.crm.dynamics.com", "auth": auth})


@pytest.mark.parametrize(
    ("auth", "field"),
    [
        ({"type": "clientSecret", "tenantId": "t", "clientId": "c"}, "auth.secretSetting"),
        ({"type": "clientSecret", "tenantId": "t", "clientId": "c", "secretSetting": "A", "secretUri": "https://kv.vault.azure.net/secrets/x"}, "auth.secretSetting"),
        ({"type": "clientSecret", "tenantId": "t", "clientId": "c", "secretSetting": "has space"}, "auth.secretSetting"),
        ({"type": "certificate"}, "auth.type"),
    ],
)
def test_bad_connection_auth_names_the_field(auth: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Connection.model_validate({"kind": "dataverse", "url": "https://org.crm.dynamics.com", "auth": auth})
    assert field in [p["field"] for p in problems(info.value)]


def test_raw_secrets_are_found_wherever_they_hide() -> None:
    body = {
        "kind": "dataverse",
        "url": "https://org.crm.dynamics.com",
        "auth": {"type": "clientSecret", "tenantId": "t", "clientId": "c", "client_secret": "hunter2"},
        "extras": [{"Password": "p"}],
    }
    assert find_raw_secrets(body) == ["auth.client_secret", "extras.0.Password"]
    assert find_raw_secrets({"auth": {"secretSetting": "NAME", "secretUri": "https://x"}}) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://user:hunter2@org.crm.dynamics.com",
        "https://user@org.crm.dynamics.com",
        "https://acct.blob.core.windows.net/files?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01&sig=abc",
        "https://acct.blob.core.windows.net/files?se=2030-01-01&sp=rl",
        "https://acct.blob.core.windows.net/files?SIG=abc",
        "https://fn.azurewebsites.net/api/x?code=abc",
        "https://api.example/x?api-key=abc",
        "https://api.example/x?access_token=abc",
        "https://api.example/x#access_token=abc",
        "https://api.example/x?Client_Secret=abc",
        "https://api.example/x?password=abc",
        "https://api.example/x?token=abc",
        "https://api.example/x?key=abc",
    ],
)
def test_credentials_inside_urls_are_raw_secrets(url: str) -> None:
    assert find_raw_secrets({"url": url, "notify": [{"uri": url}]}) == ["url", "notify.0.uri"]


@pytest.mark.parametrize(
    "value",
    [
        "https://org.crm.dynamics.com",
        "https://acct.blob.core.windows.net/files/imports?prefix=accounts",
        "https://contoso-kv.vault.azure.net/secrets/sales",
        "not a url @ all",
        "admin@contoso.com",
    ],
)
def test_plain_urls_and_text_are_not_secrets(value: str) -> None:
    assert find_raw_secrets({"url": value}) == []
