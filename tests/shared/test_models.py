"""The domain model accepts the documented JSON and names the field of every mistake."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from api.body_problems import body_problems
from shared.models import (
    Conflict,
    ConflictResolution,
    Connection,
    Consent,
    ProjectDefinition,
    TaskOutcome,
    conflict_id,
    find_raw_secrets,
)

TENANT = "8f0e2f86-3b4a-4c3e-9a51-2f4f0d6c1a11"

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
    return body_problems(info.value)


def with_change(path: str, value: Any, base: dict[str, Any] = PROJECT) -> dict[str, Any]:
    data = copy.deepcopy(base)
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
DEEP: Any = "bottom"
for _ in range(9):
    DEEP = [DEEP]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("tasks.0.source.entity", "imports/accounts.csv"),
        ("tasks.0.destination.entity", "exports/accounts-2026/"),
        ("tasks.0.sourceToCds.0.source", "primarycontactid.fullname"),
        ("tasks.0.sourceToCds.0.source", "lines.0.sku"),
        ("tasks.0.sourceToCds.0.source", "_parentaccountid_value@OData.Community.Display.V1.FormattedValue"),
        ("tasks.0.sourceToCds.0.target", "parentcustomerid_account@odata.bind"),
        ("tasks.0.sourceToCds.2.transforms.0.defaultValue", {"a": [{"b": [1, 2]}]}),
        ("tasks.0.sourceToCds.2.transforms.0", {"transformType": "Replace", "pattern": "(\\s*)+$"}),
    ],
)
def test_names_and_values_the_systems_take_are_accepted(path: str, value: Any) -> None:
    ProjectDefinition.model_validate(with_change(path, value))


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
        # names that would reach a URL path, a $batch request line or a query option
        ("tasks.0.source.entity", "accounts?$top=1", "tasks.0.source.entity"),
        ("tasks.0.cds.entity", "accounts(1)/contact_customer_accounts", "tasks.0.cds.entity"),
        ("tasks.0.destination.entity", "../CustomersV3", "tasks.0.destination.entity"),
        ("tasks.0.destination.entity", "CustomersV3 HTTP/1.1\r\nHost: evil", "tasks.0.destination.entity"),
        ("tasks.0.source.key.0", "accountnumber eq 'x' or 1", "tasks.0.source.key.0"),
        ("tasks.0.sourceToCds.0.source", "name,secret($select=x)", "tasks.0.sourceToCds.0.source"),
        ("tasks.0.sourceToCds.0.target", "accountnumber&$filter=x", "tasks.0.sourceToCds.0.target"),
        ("tasks.0.sourceToCds.0.source", "a..b", "tasks.0.sourceToCds.0.source"),
        ("tasks.0.sourceToCds.0.source", "", "tasks.0.sourceToCds.0.source"),
        ("tasks.0.sourceToCds.2.transforms.0", {"transformType": "Lookup", "entitySet": "accounts/x", "keyField": "n"},
         "tasks.0.sourceToCds.2.transforms.0.entitySet"),
        # bounds
        ("tasks.0.sourceToCds.2.transforms.0.defaultValue", DEEP, "tasks.0.sourceToCds.2.transforms.0.defaultValue"),
        ("tasks.0.sourceToCds.1.transforms.0.valueMap", {"us": DEEP}, "tasks.0.sourceToCds.1.transforms.0.valueMap.us"),
        ("tasks.0.sourceToCds.1.transforms.0.valueMap", {f"k{n}": n for n in range(10_001)},
         "tasks.0.sourceToCds.1.transforms.0.valueMap"),
        ("tasks.0.sourceToCds.2.transforms.0", {"transformType": "Conditional", "isEmpty": True, "then": DEEP},
         "tasks.0.sourceToCds.2.transforms.0.then"),
        ("tasks.0.sourceToCds.2.transforms.0", {"transformType": "Conditional", "equals": 1, "then": 2, "else": DEEP},
         "tasks.0.sourceToCds.2.transforms.0.else"),
        ("tasks.0.sourceToCds.2.transforms.0", {"transformType": "Constant", "value": DEEP},
         "tasks.0.sourceToCds.2.transforms.0.value"),
        ("tasks.0.sourceToCds.2.transforms", [{"transformType": "Trim"}] * 33, "tasks.0.sourceToCds.2.transforms"),
        ("tasks.0.cdsToDestination", [{"source": f"f{n}", "target": f"t{n}"} for n in range(501)],
         "tasks.0.cdsToDestination"),
        ("tasks", [{**PROJECT["tasks"][0], "name": f"task {n}"} for n in range(101)], "tasks"),
        # RE2 runs patterns: no backreferences, no lookaround, bounded length
        ("tasks.0.sourceToCds.2.transforms.0", {"transformType": "Replace", "pattern": "(a)\\1"},
         "tasks.0.sourceToCds.2.transforms.0.pattern"),
        ("tasks.0.sourceToCds.2.transforms.0", {"transformType": "Replace", "pattern": "(?<=a)b"},
         "tasks.0.sourceToCds.2.transforms.0.pattern"),
        ("tasks.0.sourceToCds.2.transforms.0", {"transformType": "Replace", "pattern": "a" * 1001},
         "tasks.0.sourceToCds.2.transforms.0.pattern"),
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
        {"type": "clientSecret", "tenantId": TENANT, "clientId": "c", "secretSetting": "SALES_SECRET"},
        {"type": "clientSecret", "tenantId": TENANT, "clientId": "c", "secretUri": "https://kv.vault.azure.net/secrets/sales"},
        {"type": "managedIdentity"},
        {"type": "none"},
    ],
)
def test_connections_hold_references(auth: dict[str, str]) -> None:
    Connection.model_validate({"kind": "dataverse", "url": "https://org.crm.dynamics.com", "auth": auth})


@pytest.mark.parametrize("tenant", [TENANT, TENANT.upper(), "contoso.onmicrosoft.com", "fabrikam.co.uk"])
def test_a_tenant_is_an_id_or_a_domain(tenant: str) -> None:
    auth = {"type": "clientSecret", "tenantId": tenant, "clientId": "c", "secretSetting": "S"}
    Connection.model_validate({"kind": "dataverse", "url": "https://org.crm.dynamics.com", "auth": auth})


@pytest.mark.parametrize(
    ("auth", "field"),
    [
        ({"type": "clientSecret", "tenantId": TENANT, "clientId": "c"}, "auth.secretSetting"),
        ({"type": "clientSecret", "tenantId": TENANT, "clientId": "c", "secretSetting": "A", "secretUri": "https://kv.vault.azure.net/secrets/x"}, "auth.secretSetting"),
        ({"type": "clientSecret", "tenantId": TENANT, "clientId": "c", "secretSetting": "has space"}, "auth.secretSetting"),
        ({"type": "certificate"}, "auth.type"),
        ({"type": "clientSecret", "tenantId": "t", "clientId": "c", "secretSetting": "S"}, "auth.tenantId"),
        ({"type": "clientSecret", "tenantId": "../evil.example/x", "clientId": "c", "secretSetting": "S"}, "auth.tenantId"),
        ({"type": "clientSecret", "tenantId": "contoso.com?x=1", "clientId": "c", "secretSetting": "S"}, "auth.tenantId"),
        ({"type": "clientSecret", "tenantId": "c\u00f6ntoso.com", "clientId": "c", "secretSetting": "S"}, "auth.tenantId"),
    ],
)
def test_bad_connection_auth_names_the_field(auth: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Connection.model_validate({"kind": "dataverse", "url": "https://org.crm.dynamics.com", "auth": auth})
    assert field in [p["field"] for p in body_problems(info.value)]


def test_raw_secrets_are_found_wherever_they_hide() -> None:
    body = {
        "kind": "dataverse",
        "url": "https://org.crm.dynamics.com",
        "auth": {"type": "clientSecret", "tenantId": TENANT, "clientId": "c", "client_secret": "hunter2"},
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


TWO_WAY: dict[str, Any] = {
    "name": "accounts-two-way",
    "connections": {"source": "sales", "cds": "cds"},
    "tasks": [{
        "name": "Accounts", "direction": "bidirectional", "conflicts": "manual", "deletes": "ignore",
        "source": {"entity": "accounts", "key": ["accountnumber"]},
        "cds": {"entity": "accounts", "key": ["accountnumber"]},
        "sourceToCds": [
            {"source": "accountnumber", "target": "accountnumber"},
            {"source": "name", "target": "name"},
            {"source": "address1_country", "target": "address1_country",
             "transforms": [{"transformType": "ValueMap", "valueMap": {"usa": "US", "us": "US"}}],
             "reverseTransforms": [{"transformType": "ValueMap", "valueMap": {"US": "USA"}}]},
            {"source": "telephone1", "target": "telephone1", "direction": "toTarget"},
            {"source": "emailaddress1", "target": "emailaddress1", "direction": "toSource"},
            {"target": "customertypecode", "transforms": [{"transformType": "Default", "defaultValue": 3}]},
        ],
    }],
}


def two_way_with(path: str, value: Any) -> dict[str, Any]:
    return with_change(path, value, TWO_WAY)


def key_mapped_two_way(*items: dict[str, Any]) -> dict[str, Any]:
    """TWO_WAY matched by a key map between the accounts' ids (so the account number is an ordinary field)."""
    data = two_way_with("tasks.0.match", "keyMap")
    task = data["tasks"][0]
    task["source"]["key"] = task["cds"]["key"] = ["accountid"]
    task["sourceToCds"] = task["sourceToCds"][:4] + list(items)
    return data


def test_a_two_way_task_may_match_records_through_a_key_map_between_the_ids() -> None:
    task = ProjectDefinition.model_validate(key_mapped_two_way(
        {"source": "accountid", "target": "description", "direction": "toTarget"})).tasks[0]
    assert task.match == "keyMap" and [leg.match for leg in task.legs()] == ["keyMap", "keyMap"]


def test_a_two_way_task_has_two_directions_of_the_items_flowing_each_way() -> None:
    task = ProjectDefinition.model_validate(TWO_WAY).tasks[0]
    to_cds, to_source = task.legs()
    assert (to_cds.name, to_cds.roles(), to_source.name, to_source.roles()) == (
        "sourceToCds", ("source", "cds"), "cdsToSource", ("cds", "source"))
    assert [m.target for m in to_cds.mappings] == [
        "accountnumber", "name", "address1_country", "telephone1", "customertypecode"]
    assert [(m.source, m.target) for m in to_source.mappings] == [
        ("accountnumber", "accountnumber"), ("name", "name"), ("address1_country", "address1_country"),
        ("emailaddress1", "emailaddress1")]
    assert to_source.mappings[2].transforms == task.sourceToCds[2].reverseTransforms
    assert (to_source.source, to_source.target) == (task.cds, task.source)
    assert [m.flow(True) for m in task.sourceToCds] == ["both", "both", "both", "toTarget", "toSource", "toTarget"]
    assert (task.conflicts, task.deletes) == ("manual", "ignore")


def test_the_policies_default_and_a_definition_round_trips() -> None:
    data = copy.deepcopy(TWO_WAY)
    del data["tasks"][0]["conflicts"], data["tasks"][0]["deletes"]
    project = ProjectDefinition.model_validate(data)
    assert (project.tasks[0].conflicts, project.tasks[0].deletes) == ("manual", "ignore")
    assert ProjectDefinition.model_validate_json(project.model_dump_json(exclude_none=True)) == project
    restoring = ProjectDefinition.model_validate(two_way_with("tasks.0.deletes", "restore"))
    assert restoring.model_dump(mode="json")["tasks"][0]["deletes"] == "restore"


def test_a_one_way_definition_dumps_as_before_with_none_of_the_two_way_fields() -> None:
    dumped = ProjectDefinition.model_validate(PROJECT).model_dump(mode="json", exclude_none=True)
    task = dumped["tasks"][0]
    assert not {"direction", "conflicts", "deletes"} & set(task)
    assert not any({"direction", "reverseTransforms"} & set(item) for item in task["sourceToCds"])


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (two_way_with("tasks.0.sourceToCds.2.reverseTransforms", DELETE), "tasks.0.sourceToCds.2.reverseTransforms",
         "needs reverseTransforms"),
        (two_way_with("tasks.0.sourceToCds.3.reverseTransforms", [{"transformType": "Trim"}]),
         "tasks.0.sourceToCds.3.reverseTransforms", "items flowing to the source"),
        (two_way_with("tasks.0.sourceToCds.4.transforms", [{"transformType": "Trim"}]),
         "tasks.0.sourceToCds.4.transforms", "only takes reverseTransforms"),
        (two_way_with("tasks.0.sourceToCds.5.direction", "both"), "tasks.0.sourceToCds.5.direction",
         "without a source flows to the target only"),
        (two_way_with("tasks.0.sourceToCds.5.direction", "toSource"), "tasks.0.sourceToCds.5.direction",
         "without a source flows to the target only"),
        (two_way_with("tasks.0.sourceToCds.0.direction", "toTarget"), "tasks.0.cds.key.0", "must be mapped both ways"),
        (two_way_with("tasks.0.sourceToCds.0", {"target": "accountnumber", "transforms": [
            {"transformType": "Concat", "parts": [{"field": "name"}]}]}), "tasks.0.cds.key.0", "both ways"),
        (two_way_with("tasks.0.sourceToCds.1.source", "primarycontactid.fullname"), "tasks.0.sourceToCds.1.source",
         "plain fields"),
        (two_way_with("tasks.0.sourceToCds.4.source", "name"), "tasks.0.sourceToCds.4.source",
         "written back by more than one item"),
        (two_way_with("tasks.0.sourceToCds.2.reverseTransforms", [
            {"transformType": "Concat", "parts": [{"field": "a"}]}]), "tasks.0.sourceToCds.2.reverseTransforms.0",
         "Concat"),
        (two_way_with("tasks.0.destination", {"entity": "CustomersV3", "key": ["CustomerAccount"]}),
         "tasks.0.destination", "no destination"),
        (two_way_with("tasks.0.cdsToDestination", [{"source": "name", "target": "OrganizationName"}]),
         "tasks.0.destination", "no destination"),
        (key_mapped_two_way({"source": "description", "target": "accountid"}), "tasks.0.sourceToCds.4.target",
         "key map gives"),
        (key_mapped_two_way({"source": "accountid", "target": "description"}), "tasks.0.sourceToCds.4.source",
         "toTarget"),
        (two_way_with("tasks.0.source.filter", "statecode eq 0"), "tasks.0.source.filter", "look deleted"),
        (two_way_with("tasks.0.conflicts", "newestWins"), "tasks.0.conflicts", "sourceWins"),
        (two_way_with("tasks.0.deletes", "cascade"), "tasks.0.deletes", "propagate"),
        (two_way_with("tasks.0.sourceToCds.1.direction", "sideways"), "tasks.0.sourceToCds.1.direction", "toSource"),
        (with_change("tasks.0.conflicts", "sourceWins"), "tasks.0.conflicts", "bidirectional"),
        (with_change("tasks.0.deletes", "ignore"), "tasks.0.deletes", "bidirectional"),
        (with_change("tasks.0.sourceToCds.0.direction", "both"), "tasks.0.sourceToCds.0.direction", "bidirectional"),
        (with_change("tasks.0.cdsToDestination.1.direction", "toSource"), "tasks.0.cdsToDestination.1.direction",
         "bidirectional"),
        (with_change("tasks.0.sourceToCds.1.reverseTransforms", [{"transformType": "Trim"}]),
         "tasks.0.sourceToCds.1.reverseTransforms", "bidirectional"),
    ],
)
def test_two_way_mistakes_name_the_item_and_say_why(data: dict[str, Any], field: str, words: str) -> None:
    found = errors_of(data)
    assert field in [p["field"] for p in found], found
    assert words in " ".join(p["message"] for p in found)


def test_a_one_way_item_may_say_it_flows_to_the_target() -> None:
    ProjectDefinition.model_validate(with_change("tasks.0.sourceToCds.0.direction", "toTarget"))


def test_a_conflict_has_one_id_per_pair_and_field_and_a_resolution_takes_one_form() -> None:
    seen = {"task": "Accounts", "identity": '["a-1"]', "businessKey": {"accountnumber": "A-1"}, "field": "name",
            "sourceField": "name", "baseline": "Old", "source": {"value": "Src", "changedOn": "2026-01-01T00:00:00Z"},
            "cds": {"value": "Cds"}, "runId": "r1"}
    conflict = Conflict.model_validate(seen)
    assert conflict.conflictId == conflict_id("Accounts", '["a-1"]', "name") and len(conflict.conflictId) == 32
    assert Conflict.model_validate({**seen, "conflictId": "made-up"}).conflictId == conflict.conflictId
    assert conflict_id("Accounts", '["a-1"]', "telephone1") != conflict.conflictId
    assert ConflictResolution.model_validate({"values": {"name": None}}).values == {"name": None}
    for body in ({}, {"take": "source", "values": {"name": "x"}}, {"take": "both"}, {"values": {}}, {"pick": "cds"}):
        with pytest.raises(ValidationError):
            ConflictResolution.model_validate(body)


def test_a_task_counts_the_conflicts_of_its_legs() -> None:
    legs = [{"leg": "sourceToCds", "read": 2, "written": 1, "skipped": 1, "conflicts": 1, "deleted": 0},
            {"leg": "cdsToSource", "read": 1, "written": 1, "conflicts": 2, "deleted": 0}]
    two_way = TaskOutcome.model_validate({"name": "Accounts", "legs": legs})
    assert two_way.conflicts == 3 and two_way.model_dump()["legs"][0]["deleted"] == 0
    one_way = TaskOutcome.model_validate({"name": "Accounts", "legs": [{"leg": "sourceToCds", "read": 1, "written": 1}]})
    assert one_way.conflicts is None and not {"conflicts", "deleted"} & set(one_way.model_dump()["legs"][0])
    assert "conflicts" not in one_way.model_dump()
