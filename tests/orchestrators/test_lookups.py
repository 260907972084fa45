"""`Lookup` end to end: references resolved to ids in the target before writing, once per run."""

from __future__ import annotations

from typing import Any

import requests

from tests.orchestrators.conftest import assert_balanced, create_project, errors_of, seed, sync_now

BIND = "parentcustomerid_account@odata.bind"
CONTACTS = 2500
"""Three staged pages, loaded side by side, all referring to the same few accounts."""


def contacts_project(name: str) -> dict[str, Any]:
    task = {
        "name": "Contacts",
        "source": {"entity": "contacts", "key": ["msdyn_contactpersonid"]},
        "cds": {"entity": "contacts", "key": ["msdyn_contactpersonid"]},
        "sourceToCds": [
            {"source": "msdyn_contactpersonid", "target": "msdyn_contactpersonid"},
            {"source": "lastname", "target": "lastname"},
            {"source": "parentcustomerid_account.accountnumber", "target": BIND,
             "transforms": [{"transformType": "Lookup", "entitySet": "accounts", "keyField": "accountnumber"}]},
        ],
    }
    return {"name": name, "connections": {"source": "sales", "cds": "cds"}, "tasks": [task]}


def sales_account(n: int, number: str) -> dict[str, Any]:
    return {"accountid": f"10000000-0000-0000-0000-{n:012d}", "accountnumber": number, "name": f"Parent {n}"}


def contact(n: int, parent: int | None) -> dict[str, Any]:
    record = {"contactid": f"20000000-0000-0000-0000-{n:012d}", "msdyn_contactpersonid": f"C-{n:05d}",
              "lastname": f"Contact {n}"}
    if parent is not None:
        record["_parentcustomerid_value"] = f"10000000-0000-0000-0000-{parent:012d}"
        record["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] = "account"
    return record


def account_reads(twin) -> int:
    stats = requests.get(f"{twin.systems['cds'].url}/_sandbox/stats", timeout=10).json()
    return stats["by_route"].get("GET accounts", {}).get("requests", 0)


def test_references_resolve_to_ids_once_per_run_and_a_miss_fails_its_record_on_the_field(clean) -> None:
    twin = clean
    numbers = ["A-1", "O'Brien/01", "Zürich ✓", "A-MISSING"]
    seed(twin, "sales", "accounts", [sales_account(n, number) for n, number in enumerate(numbers)])
    seed(twin, "cds", "accounts", [
        {"accountid": f"30000000-0000-0000-0000-{n:012d}", "accountnumber": number.lower(), "name": f"CDS {n}"}
        for n, number in enumerate(numbers[:3])
    ])
    seed(twin, "sales", "contacts", [contact(n, None if n % 10 == 9 else n % 4) for n in range(CONTACTS)])
    create_project(twin, contacts_project("lookups"))
    reads_before = account_reads(twin)

    run = sync_now(twin, "lookups")

    assert_balanced(run)
    missing = [n for n in range(CONTACTS) if n % 10 != 9 and n % 4 == 3]
    task = run["tasks"][0]
    assert (task["read"], task["failed"], task["written"]) == (CONTACTS, len(missing), CONTACTS - len(missing))
    errors = errors_of(twin, run)
    assert {(e["field"], e["code"]) for e in errors} == {(BIND, "LookupNotFound")}
    assert sorted(e["businessKey"]["msdyn_contactpersonid"] for e in errors) == [f"C-{n:05d}" for n in missing]
    assert "no accounts record has accountnumber 'A-MISSING'" in errors[0]["message"]
    contacts = {c["msdyn_contactpersonid"]: c for c in twin.records("cds", "contacts")}
    assert contacts["C-00000"]["_parentcustomerid_value"] == "30000000-0000-0000-0000-000000000000"
    assert contacts["C-00001"]["_parentcustomerid_value"] == "30000000-0000-0000-0000-000000000001"
    assert contacts["C-00002"]["_parentcustomerid_value"] == "30000000-0000-0000-0000-000000000002"
    assert contacts["C-00009"].get("_parentcustomerid_value") is None
    assert not any(f"C-{n:05d}" in contacts for n in missing)
    pages = -(-CONTACTS // 1000)
    assert 1 <= account_reads(twin) - reads_before <= pages, "the run asks for each key at most once a page"


def test_the_checks_name_a_lookup_whose_entity_or_key_field_the_target_lacks(clean) -> None:
    twin = clean
    project = contacts_project("lookup-checks")
    lookup = project["tasks"][0]["sourceToCds"][2]["transforms"][0]
    lookup["entitySet"] = "nosuchsets"
    create_project(twin, project)
    checked = twin.api("POST", "projects/lookup-checks/validate").json()
    assert [(p["field"], p["message"]) for p in checked["problems"]] == [
        ("sourceToCds.2.transforms.0.entitySet", "the cds system has no entity 'nosuchsets'")
    ]
    lookup.update(entitySet="accounts", keyField="nosuchfield")
    etag = twin.api("GET", "projects/lookup-checks").headers["ETag"]
    assert twin.api("PUT", "projects/lookup-checks", json=project, headers={"If-Match": etag}).status_code == 200
    checked = twin.api("POST", "projects/lookup-checks/validate").json()
    assert [(p["field"], p["message"]) for p in checked["problems"]] == [
        ("sourceToCds.2.transforms.0.keyField", "accounts has no field 'nosuchfield' to look records up by")
    ]
    run = sync_now(twin, "lookup-checks")
    assert run["runtimeStatus"] == "Failed" and run["tasks"] == []
