"""Sync Now end to end over HTTP: devhost runs the real app over Azurite against the sandbox systems."""

from __future__ import annotations

import threading
from typing import Any

import requests

from shared.mapping.duplicates import LATER, SKIP_REASONS
from tests.orchestrators.conftest import assert_balanced, crash_while_writing, create_project, errors_of, seed, sync_now

COUNTRIES = {"us": "US", "usa": "US", "united States of America": "US", "germany": "DE", "deu": "DE", "": "US"}
SPELLINGS = ["United States of America ", "usa", "germany", "deu", None]


def accounts_project(name: str, **task_changes: Any) -> dict[str, Any]:
    task = {
        "name": "Accounts",
        "source": {"entity": "accounts", "key": ["accountnumber"]},
        "cds": {"entity": "accounts", "key": ["accountnumber"]},
        "destination": {"entity": "CustomersV3", "key": ["dataAreaId", "CustomerAccount"]},
        "sourceToCds": [
            {"source": "accountnumber", "target": "accountnumber"},
            {"source": "name", "target": "name"},
            {"source": "address1_country", "target": "address1_country",
             "transforms": [{"transformType": "ValueMap", "valueMap": COUNTRIES, "onUnmapped": "error"}]},
        ],
        "cdsToDestination": [
            {"source": "accountnumber", "target": "CustomerAccount"},
            {"source": "name", "target": "OrganizationName"},
            {"source": "address1_country", "target": "AddressCountryRegionId",
             "transforms": [{"transformType": "ValueMap", "valueMap": {"US": "USA", "DE": "DEU"}}]},
            {"target": "CustomerGroupId", "transforms": [{"transformType": "Default", "defaultValue": "10"}]},
            {"target": "SalesCurrencyCode", "transforms": [{"transformType": "Default", "defaultValue": "USD"}]},
        ],
        **task_changes,
    }
    return {"name": name, "connections": {"source": "sales", "cds": "cds", "destination": "operations"},
            "companyCode": "USMF", "tasks": [task]}


def account(n: int, **values: Any) -> dict[str, Any]:
    """A Sales account whose id sorts in `n` order, so source order is known."""
    return {"accountid": f"00000000-0000-0000-0000-{n:012d}", "accountnumber": f"A-{n:05d}",
            "name": f"Account {n}", "address1_country": SPELLINGS[n % len(SPELLINGS)], "statecode": 0,
            "modifiedon": "2023-01-01T00:00:00Z", **values}


def dirty_sales(count: int) -> list[dict[str, Any]]:
    records = [account(n) for n in range(count)]
    records[5]["accountnumber"] = None
    records[6]["accountnumber"] = ""
    records[7]["accountnumber"] = "   "
    records[8]["address1_country"] = "Narnia"
    records[9]["name"] = "Long " + "n" * 140
    records.append(account(count, accountnumber=" A-00010", name="Duplicate winner"))
    return records


def test_sync_now_moves_exactly_the_expected_records(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", dirty_sales(2_500))
    create_project(twin, accounts_project("accounts-e2e"))
    run = sync_now(twin, "accounts-e2e")

    assert run["runtimeStatus"] == "Warning", run
    assert_balanced(run)
    to_cds, to_ops = run["tasks"][0]["legs"]
    assert to_cds["read"] == 2_501
    # seeded in one request, the two A-00010s share their modification time: the one read later wins
    assert to_cds["skippedReasons"] == {"missing-business-key": 3, SKIP_REASONS[LATER]: 1}
    assert to_cds["failed"] == 1 and to_cds["written"] == 2_496

    cds = {r["accountnumber"]: r for r in twin.records("cds", "accounts")}
    expected = {f"A-{n:05d}" for n in range(2_500) if n not in (5, 6, 7, 8, 10)} | {" A-00010"}
    assert set(cds) == expected
    assert cds[" A-00010"]["name"] == "Duplicate winner"
    assert cds["A-00000"]["address1_country"] == "US" and cds["A-00002"]["address1_country"] == "DE"
    assert cds["A-00004"]["address1_country"] == "US"

    assert to_ops["read"] == 2_496 and to_ops["failed"] == 1 and to_ops["written"] == 2_495
    ops = {r["CustomerAccount"]: r for r in twin.records("operations", "CustomersV3")}
    assert set(ops) == {key.strip() for key in expected} - {"A-00009"} or set(ops) == expected - {"A-00009"}
    assert all(r["dataAreaId"] == "usmf" and r["CustomerGroupId"] == "10" for r in ops.values())
    assert ops["A-00003"]["AddressCountryRegionId"] == "DEU"

    errors = {(e["leg"], e["field"]): e for e in errors_of(twin, run)}
    assert set(errors) == {("sourceToCds", "address1_country"), ("cdsToDestination", "OrganizationName")}
    narnia = errors[("sourceToCds", "address1_country")]
    assert narnia["businessKey"] == {"accountnumber": "A-00008"} and "Narnia" in narnia["message"]
    assert narnia["record"]["accountnumber"] == "A-00008"
    long_name = errors[("cdsToDestination", "OrganizationName")]
    assert long_name["businessKey"] == {"dataAreaId": "usmf", "CustomerAccount": "A-00009"}
    assert long_name["code"] and "100" in long_name["message"]

    history = twin.api("GET", "projects/accounts-e2e/runs").json()
    assert [r["runId"] for r in history] == [run["runId"]]
    assert history[0]["runtimeStatus"] == "Warning"


def test_two_simultaneous_sync_now_calls_start_one_run(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(300)])
    create_project(twin, accounts_project("race-e2e"))
    barrier = threading.Barrier(2)
    answers: list[requests.Response] = []

    def press() -> None:
        barrier.wait()
        answers.append(twin.api("POST", "projects/race-e2e/runs"))

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [202, 409]
    started = next(a for a in answers if a.status_code == 202)
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["runId"] == started.json()["runId"]
    assert refused.headers["Location"] == started.headers["Location"]
    assert twin.follow(started)["runtimeStatus"] == "Succeeded"
    assert len(twin.api("GET", "projects/race-e2e/runs").json()) == 1


def test_a_killed_devhost_resumes_the_run_and_writes_each_record_once(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(4_000)])
    requests.post(f"{twin.systems['cds'].url}/_sandbox/config", json={"record_cost_ms": 1.5}, timeout=10)
    create_project(twin, accounts_project("crash-e2e"))
    run = crash_while_writing(twin, twin.api("POST", "projects/crash-e2e/runs"))
    assert run["runtimeStatus"] == "Succeeded", run
    assert_balanced(run)
    assert [leg["written"] for leg in run["tasks"][0]["legs"]] == [4_000, 4_000]
    keys = [r["accountnumber"] for r in twin.records("cds", "accounts")]
    assert len(keys) == len(set(keys)) == 4_000
    assert len(twin.records("operations", "CustomersV3")) == 4_000
    again = twin.api("POST", "projects/crash-e2e/runs")
    assert again.status_code == 202
    assert twin.follow(again, timeout_s=300)["runtimeStatus"] == "Succeeded"


def test_a_failing_second_task_fails_the_run_keeps_the_first_and_frees_the_lock(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(50)])
    project = accounts_project("fail-e2e")
    broken = {**project["tasks"][0], "name": "Broken", "sourceToCds": [
        *project["tasks"][0]["sourceToCds"], {"source": "primarycontactid.nosuchfield", "target": "description"}]}
    project["tasks"].append(broken)
    create_project(twin, project)
    run = sync_now(twin, "fail-e2e")
    assert run["runtimeStatus"] == "Failed"
    first, second = run["tasks"]
    assert first["status"] == "Succeeded" and first["written"] == 100, run
    assert second["status"] == "Failed" and "Could not find a property named 'nosuchfield'" in second["message"]
    assert len(twin.records("operations", "CustomersV3")) == 50
    again = twin.api("POST", "projects/fail-e2e/runs")
    assert again.status_code == 202
    assert twin.follow(again)["runtimeStatus"] == "Failed"


def test_failed_only_after_a_fix_writes_just_that_record(clean) -> None:
    twin = clean
    records = [account(n) for n in range(40)]
    records[3]["address1_country"] = "Narnia"
    seed(twin, "sales", "accounts", records)
    create_project(twin, accounts_project("fix-e2e"))
    first = sync_now(twin, "fix-e2e")
    assert first["tasks"][0]["legs"][0]["failed"] == 1
    fixed = twin.systems["sales"].url + "/api/data/v9.2/accounts(accountnumber='A-00003')"
    requests.patch(fixed, json={"address1_country": "Germany"}, headers={"If-Match": "*"}, timeout=10).raise_for_status()
    before = twin.records_written("cds")
    retry = sync_now(twin, "fix-e2e", mode="failedOnly")
    assert retry["runtimeStatus"] == "Succeeded", retry["tasks"]
    to_cds = retry["tasks"][0]["legs"][0]
    assert (to_cds["read"], to_cds["written"], to_cds["failed"]) == (1, 1, 0)
    assert twin.records_written("cds") - before == 1
    cds = {r["accountnumber"]: r for r in twin.records("cds", "accounts")}
    assert cds["A-00003"]["address1_country"] == "DE"


def test_dry_run_writes_nothing_and_reports_what_would_change(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(120)])
    create_project(twin, accounts_project("dry-e2e"))
    run = sync_now(twin, "dry-e2e", dryRun=True)
    assert run["dryRun"] is True and run["runtimeStatus"] == "Succeeded"
    assert run["tasks"][0]["legs"][0]["written"] == 120
    assert twin.records("cds", "accounts") == []
    assert twin.records("operations", "CustomersV3") == []


def test_incremental_after_changing_three_records_moves_exactly_those(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(600)])
    create_project(twin, accounts_project("delta-e2e"))
    full = sync_now(twin, "delta-e2e")
    assert full["tasks"][0]["legs"][0]["written"] == 600
    sales = twin.systems["sales"].url + "/api/data/v9.2/"
    for n in (11, 222, 333):
        requests.patch(f"{sales}accounts(accountnumber='A-{n:05d}')", json={"name": f"Renamed {n}"},
                       headers={"If-Match": "*"}, timeout=10).raise_for_status()
    delta = sync_now(twin, "delta-e2e", mode="incremental")
    assert delta["mode"] == "incremental" and delta["runtimeStatus"] == "Succeeded"
    assert [leg["read"] for leg in delta["tasks"][0]["legs"]] == [3, 3]
    assert [leg["written"] for leg in delta["tasks"][0]["legs"]] == [3, 3]
    ops = {r["CustomerAccount"]: r for r in twin.records("operations", "CustomersV3")}
    assert ops["A-00222"]["OrganizationName"] == "Renamed 222"
