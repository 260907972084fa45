"""Two-way tasks end to end on the twin (strict devhost): Sales accounts <-> CDS accounts, both edited between runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devhost.app_index import AppIndex
from devhost.replay_guard import check_hub
from tests.orchestrators.conftest import assert_balanced, create_project, seed, sync_now
from tests.orchestrators.test_determinism import IndexedApp, finished_instances
from tests.orchestrators.test_sync_project import account
from twin.local_twin import LocalTwin

API = "/api/data/v9.2/"
SMALL_BATCHING = {"DI_PAGE_SIZE": "10", "DI_PAGES_PER_STEP": "2", "DI_PAGES_PER_WINDOW": "2", "DI_KEY_BUCKETS": "16"}
"""20 records an extract step, 16 buckets merged by ranges of up to 50 staged records, 2 ranges a window: a run of a
hundred records takes several generations."""


@pytest.fixture(scope="module")
def small_twin(storage_connection_string: str) -> Iterator[LocalTwin]:
    with LocalTwin.start(dataset=False, storage=storage_connection_string, settings=SMALL_BATCHING) as started:
        started.connect_all()
        yield started


def two_way_project(name: str, **policies: str) -> dict[str, Any]:
    return {
        "name": name, "connections": {"source": "sales", "cds": "cds"},
        "tasks": [{
            "name": "Accounts", "direction": "bidirectional", **policies,
            "source": {"entity": "accounts", "key": ["accountnumber"]},
            "cds": {"entity": "accounts", "key": ["accountnumber"]},
            "sourceToCds": [{"source": "accountnumber", "target": "accountnumber"},
                            {"source": "name", "target": "name"},
                            {"source": "telephone1", "target": "telephone1"}],
        }],
    }


def sales_account(n: int, **values: Any) -> dict[str, Any]:
    return account(n, telephone1=f"+1 425 555 {n:04d}", **values)


def by_number(twin: LocalTwin, system: str) -> dict[str, dict[str, Any]]:
    return {r["accountnumber"]: r for r in twin.records(system, "accounts")}


def edit(twin: LocalTwin, system: str, number: str, **values: Any) -> None:
    record_id = by_number(twin, system)[number]["accountid"]
    requests.patch(f"{twin.systems[system].url}{API}accounts({record_id})", json=values,
                   headers={"If-Match": "*"}, timeout=10).raise_for_status()


def delete(twin: LocalTwin, system: str, number: str) -> None:
    record_id = by_number(twin, system)[number]["accountid"]
    requests.delete(f"{twin.systems[system].url}{API}accounts({record_id})", timeout=10).raise_for_status()


def legs(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert_balanced(run)
    return {leg["leg"]: leg for leg in run["tasks"][0]["legs"]}


def written(run: dict[str, Any]) -> tuple[int, int]:
    found = legs(run)
    return found["sourceToCds"]["written"], found["cdsToSource"]["written"]


def open_conflicts(twin: LocalTwin, project: str) -> list[dict[str, Any]]:
    answer = twin.api("GET", f"projects/{project}/conflicts")
    assert answer.status_code == 200, answer.text
    return answer.json()["value"]


def test_disjoint_edits_merge_both_ways_and_the_run_after_writes_nothing(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [sales_account(n) for n in range(20)])
    create_project(twin, two_way_project("twoway-merge"))
    first = sync_now(twin, "twoway-merge")
    assert first["runtimeStatus"] == "Succeeded", first
    assert written(first) == (20, 0)
    assert legs(first)["sourceToCds"]["read"] == 20 and legs(first)["cdsToSource"]["read"] == 0

    edit(twin, "sales", "A-00001", name="Renamed in Sales")
    edit(twin, "cds", "A-00002", telephone1="+1 206 555 0002")
    edit(twin, "cds", "A-00001", telephone1="+1 206 555 0001")  # the same record, another field
    second = sync_now(twin, "twoway-merge", mode="incremental")
    assert second["runtimeStatus"] == "Succeeded", second
    assert written(second) == (1, 2)
    sales, cds = by_number(twin, "sales"), by_number(twin, "cds")
    assert cds["A-00001"]["name"] == sales["A-00001"]["name"] == "Renamed in Sales"
    assert cds["A-00001"]["telephone1"] == sales["A-00001"]["telephone1"] == "+1 206 555 0001"
    assert sales["A-00002"]["telephone1"] == "+1 206 555 0002"

    again = sync_now(twin, "twoway-merge", mode="incremental")
    assert again["runtimeStatus"] == "Succeeded" and written(again) == (0, 0), again
    # only what the run before wrote comes back from change tracking; a record that holds what its baseline
    # kept is in sync without its counterpart (A-00002 in Sales), a pair both sides report is merged (A-00001)
    assert (legs(again)["sourceToCds"]["read"], legs(again)["cdsToSource"]["read"]) == (2, 1)
    assert legs(again)["sourceToCds"]["skippedReasons"] == {"in-sync": 2}
    assert legs(again)["cdsToSource"]["skippedReasons"] == {"in-sync": 1}
    assert written(sync_now(twin, "twoway-merge", mode="full")) == (0, 0)
    assert len(twin.records("sales", "accounts")) == len(twin.records("cds", "accounts")) == 20


@pytest.mark.parametrize(("policy", "winner"), [("sourceWins", "Sales"), ("cdsWins", "CDS")])
def test_same_field_edits_follow_the_policy(clean, policy: str, winner: str) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [sales_account(n) for n in range(3)])
    create_project(twin, two_way_project(f"twoway-{policy.lower()}", conflicts=policy))
    sync_now(twin, f"twoway-{policy.lower()}")
    edit(twin, "sales", "A-00001", name="Sales")
    edit(twin, "cds", "A-00001", name="CDS")
    run = sync_now(twin, f"twoway-{policy.lower()}")
    assert run["runtimeStatus"] == "Succeeded", run
    assert by_number(twin, "sales")["A-00001"]["name"] == by_number(twin, "cds")["A-00001"]["name"] == winner
    assert written(sync_now(twin, f"twoway-{policy.lower()}")) == (0, 0)


def test_a_manual_conflict_is_listed_resolved_and_applied_by_the_next_run(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [sales_account(n) for n in range(3)])
    create_project(twin, two_way_project("twoway-manual"))
    sync_now(twin, "twoway-manual")
    edit(twin, "sales", "A-00001", name="Sales says", telephone1="+1 111")
    edit(twin, "cds", "A-00001", name="CDS says")
    run = sync_now(twin, "twoway-manual")
    assert run["runtimeStatus"] == "Warning", run
    assert legs(run)["sourceToCds"]["conflicts"] == 1
    sales, cds = by_number(twin, "sales")["A-00001"], by_number(twin, "cds")["A-00001"]
    assert (sales["name"], cds["name"]) == ("Sales says", "CDS says")  # the conflicting field stays
    assert cds["telephone1"] == "+1 111"  # the rest of the record merges
    [conflict] = open_conflicts(twin, "twoway-manual")
    assert conflict["field"] == "name" and conflict["businessKey"] == {"accountnumber": "A-00001"}
    assert (conflict["baseline"], conflict["source"]["value"], conflict["cds"]["value"]) == (
        "Account 1", "Sales says", "CDS says")
    listed = twin.api("GET", f"runs/{run['runId']}/conflicts").json()["value"]
    assert [c["conflictId"] for c in listed] == [conflict["conflictId"]]

    again = sync_now(twin, "twoway-manual")  # still open: seen again, nothing written
    assert again["runtimeStatus"] == "Warning" and written(again) == (0, 0)
    settled = twin.api("POST", f"projects/twoway-manual/conflicts/{conflict['conflictId']}/resolve",
                       json={"values": {"name": "Agreed"}})
    assert settled.status_code == 200, settled.text
    applied = sync_now(twin, "twoway-manual", mode="incremental")  # reads neither record: the resolution still lands
    assert applied["runtimeStatus"] == "Succeeded", applied
    assert written(applied) == (1, 1)
    assert by_number(twin, "sales")["A-00001"]["name"] == by_number(twin, "cds")["A-00001"]["name"] == "Agreed"
    assert open_conflicts(twin, "twoway-manual") == []
    assert written(sync_now(twin, "twoway-manual")) == (0, 0)


def test_an_open_conflict_the_systems_settle_themselves_is_closed_by_the_next_run(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [sales_account(n) for n in range(2)])
    create_project(twin, two_way_project("twoway-agree"))
    sync_now(twin, "twoway-agree")
    edit(twin, "sales", "A-00001", name="Sales says")
    edit(twin, "cds", "A-00001", name="CDS says")
    assert sync_now(twin, "twoway-agree", mode="incremental")["runtimeStatus"] == "Warning"
    [conflict] = open_conflicts(twin, "twoway-agree")
    edit(twin, "cds", "A-00001", name="Sales says")  # someone makes CDS agree with Sales
    run = sync_now(twin, "twoway-agree", mode="incremental")
    assert run["runtimeStatus"] == "Succeeded" and written(run) == (0, 0), run
    assert open_conflicts(twin, "twoway-agree") == []
    closed = twin.api("GET", "projects/twoway-agree/conflicts", params={"state": "resolved"}).json()["value"]
    assert [(c["conflictId"], c["state"], c["runId"]) for c in closed] == [
        (conflict["conflictId"], "applied", run["runId"])]
    assert written(sync_now(twin, "twoway-agree", mode="incremental")) == (0, 0)


def test_an_open_conflict_settled_by_putting_one_side_back_is_applied_by_an_incremental_run(clean) -> None:
    """CDS's record, put back, holds what its baseline kept: the run must still merge it (Sales holds the change)."""
    twin = clean
    seed(twin, "sales", "accounts", [sales_account(n) for n in range(2)])
    create_project(twin, two_way_project("twoway-back"))
    sync_now(twin, "twoway-back")
    original = by_number(twin, "cds")["A-00001"]["name"]
    edit(twin, "sales", "A-00001", name="Sales says")
    edit(twin, "cds", "A-00001", name="CDS says")
    assert sync_now(twin, "twoway-back", mode="incremental")["runtimeStatus"] == "Warning"
    edit(twin, "cds", "A-00001", name=original)  # someone takes the CDS edit back
    run = sync_now(twin, "twoway-back", mode="incremental")
    assert run["runtimeStatus"] == "Succeeded" and written(run) == (1, 0), run
    assert by_number(twin, "cds")["A-00001"]["name"] == "Sales says"
    assert open_conflicts(twin, "twoway-back") == []


def test_records_created_on_both_sides_with_one_key_end_as_one_pair(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [sales_account(n) for n in range(4)])
    seed(twin, "cds", "accounts", [{**account(n + 2), "accountid": f"10000000-0000-0000-0000-{n:012d}",
                                    "name": f"CDS {n + 2}"} for n in range(4)])
    create_project(twin, two_way_project("twoway-both", conflicts="cdsWins"))
    run = sync_now(twin, "twoway-both")
    assert run["runtimeStatus"] == "Succeeded", run
    sales, cds = by_number(twin, "sales"), by_number(twin, "cds")
    assert sorted(sales) == sorted(cds) == [f"A-{n:05d}" for n in range(6)]
    assert {n: (sales[n]["name"], cds[n]["name"]) for n in ("A-00001", "A-00003")} == {
        "A-00001": ("Account 1", "Account 1"), "A-00003": ("CDS 3", "CDS 3")}
    assert sales["A-00003"]["telephone1"] is cds["A-00003"]["telephone1"] is None  # CDS had none, and CDS wins
    assert written(sync_now(twin, "twoway-both")) == (0, 0)


@pytest.mark.parametrize("policy", ["ignore", "propagate", "restore"])
def test_deletes_follow_the_policy(clean, policy: str) -> None:
    twin = clean
    project = f"twoway-delete-{policy}"
    seed(twin, "sales", "accounts", [sales_account(n) for n in range(5)])
    create_project(twin, two_way_project(project, deletes=policy))
    sync_now(twin, project)
    delete(twin, "sales", "A-00001")
    delete(twin, "cds", "A-00002")
    run = sync_now(twin, project, mode="incremental")
    assert run["runtimeStatus"] == "Succeeded", run
    sales, cds = by_number(twin, "sales"), by_number(twin, "cds")
    if policy == "ignore":
        assert "A-00001" in cds and "A-00002" in sales
        edit(twin, "cds", "A-00001", name="Still here")  # unlinked: never written back
        assert written(sync_now(twin, project)) == (0, 0)
        assert "A-00001" not in by_number(twin, "sales")
    elif policy == "propagate":
        assert "A-00001" not in cds and "A-00002" not in sales
        assert (legs(run)["sourceToCds"]["deleted"], legs(run)["cdsToSource"]["deleted"]) == (1, 1)
    else:
        assert cds["A-00001"]["name"] == sales["A-00001"]["name"] == "Account 1"
        assert cds["A-00002"]["name"] == sales["A-00002"]["name"] == "Account 2"
    assert written(sync_now(twin, project)) == (0, 0)


def test_unicode_and_odd_keys_round_trip(clean) -> None:
    twin = clean
    odd = ["Ünïcødé ✓", "a/b#c?d", "it's \"quoted\"", "表-42", "emoji 🚀", "100%"]
    seed(twin, "sales", "accounts", [sales_account(n, accountnumber=key) for n, key in enumerate(odd)])
    create_project(twin, two_way_project("twoway-odd"))
    assert written(sync_now(twin, "twoway-odd")) == (len(odd), 0)
    edit(twin, "cds", "a/b#c?d", name="Edited in CDS ✓")
    assert written(sync_now(twin, "twoway-odd", mode="incremental")) == (0, 1)
    assert by_number(twin, "sales")["a/b#c?d"]["name"] == "Edited in CDS ✓"
    assert written(sync_now(twin, "twoway-odd")) == (0, 0)
    assert sorted(by_number(twin, "cds")) == sorted(odd) and sorted(by_number(twin, "sales")) == sorted(odd)


def test_a_dry_run_writes_nothing_and_counts_what_would_move(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [sales_account(n) for n in range(5)])
    create_project(twin, two_way_project("twoway-dry"))
    dry = sync_now(twin, "twoway-dry", dryRun=True)
    assert dry["runtimeStatus"] == "Succeeded" and written(dry) == (5, 0)
    assert twin.records("cds", "accounts") == []
    real = sync_now(twin, "twoway-dry")
    assert written(real) == (5, 0)  # the dry run saved no baseline
    edit(twin, "cds", "A-00003", name="CDS")
    edit(twin, "sales", "A-00003", name="Sales")
    dry = sync_now(twin, "twoway-dry", dryRun=True)
    assert legs(dry)["sourceToCds"]["conflicts"] == 1 and open_conflicts(twin, "twoway-dry") == []
    assert by_number(twin, "sales")["A-00003"]["name"] == "Sales"


def test_a_failed_write_keeps_the_old_baseline_so_a_later_run_writes_it(clean) -> None:
    twin = clean
    project = two_way_project("twoway-failed")
    project["tasks"][0]["sourceToCds"].append({"source": "address1_line1", "target": "address1_postalcode"})
    seed(twin, "sales", "accounts", [sales_account(n, address1_line1=f"{n} Main St") for n in range(4)])
    create_project(twin, project)
    assert written(sync_now(twin, "twoway-failed")) == (4, 0)
    edit(twin, "sales", "A-00002", address1_line1="1 Rather Long Boulevard Name", name="Renamed")
    for mode in ("full", "incremental"):  # refused again and again, also when nothing changed since
        run = sync_now(twin, "twoway-failed", mode=mode)
        assert run["runtimeStatus"] == "Failed" and legs(run)["sourceToCds"]["failed"] == 1, run
        [error] = [e for e in twin.api("GET", run["errorsUri"].removeprefix(f"{twin.url}/api/")).json()["value"]]
        assert (error["leg"], error["businessKey"]) == ("sourceToCds", {"accountnumber": "A-00002"})
        assert by_number(twin, "cds")["A-00002"]["name"] == "Account 2"
    edit(twin, "cds", "A-00003", name="Meanwhile in CDS")
    edit(twin, "sales", "A-00002", address1_line1="2 Short St")
    assert written(sync_now(twin, "twoway-failed", mode="incremental")) == (1, 1)
    assert by_number(twin, "cds")["A-00002"]["name"] == "Renamed"
    assert written(sync_now(twin, "twoway-failed")) == (0, 0)


@pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")
def test_a_task_read_in_many_steps_and_merged_in_many_windows_counts_exactly_and_replays(
    small_twin: LocalTwin, functions: dict[str, Any],
) -> None:
    twin = small_twin
    sales = [sales_account(n) for n in range(95)]
    sales.append(sales_account(200, accountnumber=" a-00010", name="Newest", modifiedon="2024-01-01T00:00:00Z"))
    seed(twin, "sales", "accounts", sales)
    seed(twin, "cds", "accounts", [{**account(n), "accountid": f"10000000-0000-0000-0000-{n:012d}",
                                    "name": f"CDS {n}"} for n in range(80, 110)])
    create_project(twin, two_way_project("twoway-steps", conflicts="sourceWins"))
    run = sync_now(twin, "twoway-steps")
    assert run["runtimeStatus"] == "Succeeded", run
    found = legs(run)
    assert {k: found["sourceToCds"][k] for k in ("read", "written", "skipped")} == {
        "read": 96, "written": 95, "skipped": 1}
    assert {k: found["cdsToSource"][k] for k in ("read", "written", "skipped")} == {
        "read": 30, "written": 15, "skipped": 15}
    cds = by_number(twin, "cds")
    assert len(cds) == 110 and cds[" a-00010"]["name"] == "Newest" and cds["A-00085"]["name"] == "Account 85"
    assert by_number(twin, "sales")["A-00105"]["name"] == "CDS 105"
    assert written(sync_now(twin, "twoway-steps")) == (0, 0)
    ended = finished_instances(twin)
    # about 130 staged records a run, merged by ranges of up to 50 (5 pages of 10), two ranges a window
    assert ended[("sync_twoway", "Completed")] == 2 and ended[("merge_buckets", "Completed")] >= 4, ended
    assert check_hub(twin.storage, twin.hub, AppIndex.build(IndexedApp(functions))) == []


def test_operations_customers_and_cds_accounts_sync_both_ways_within_the_company(clean) -> None:
    twin = clean
    seed(twin, "operations", "CustomersV3", [
        {"dataAreaId": company, "CustomerAccount": f"C-{n}", "OrganizationName": f"Customer {n}",
         "AddressCity": "Redmond", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}
        for n in range(3) for company in ("USMF", "DEMF")])
    create_project(twin, {
        "name": "twoway-operations", "companyCode": "USMF", "connections": {"source": "operations", "cds": "cds"},
        "tasks": [{
            "name": "Customers", "direction": "bidirectional", "conflicts": "cdsWins",
            "source": {"entity": "CustomersV3", "key": ["dataAreaId", "CustomerAccount"]},
            "cds": {"entity": "accounts", "key": ["accountnumber"]},
            "sourceToCds": [{"source": "CustomerAccount", "target": "accountnumber"},
                            {"source": "OrganizationName", "target": "name"},
                            {"source": "AddressCity", "target": "address1_city"},
                            # what a customer created from CDS needs, kept in CDS fields of no other use here
                            {"source": "CustomerGroupId", "target": "address1_line2"},
                            {"source": "SalesCurrencyCode", "target": "telephone2"}],
        }],
    })
    first = sync_now(twin, "twoway-operations")
    assert first["runtimeStatus"] == "Succeeded", first
    assert written(first) == (3, 0)
    edit(twin, "cds", "C-1", name="Renamed in CDS")
    run = sync_now(twin, "twoway-operations", mode="incremental")
    assert run["runtimeStatus"] == "Succeeded" and written(run) == (0, 1), run
    customers = {(r["dataAreaId"].upper(), r["CustomerAccount"]): r
                 for r in twin.records("operations", "CustomersV3")}
    assert customers[("USMF", "C-1")]["OrganizationName"] == "Renamed in CDS"
    assert customers[("DEMF", "C-1")]["OrganizationName"] == "Customer 1"  # another company: not this project's
    assert len(customers) == 6
    seed(twin, "cds", "accounts", [{**account(7), "accountnumber": "C-7", "address1_line2": "10",
                                    "telephone2": "USD"}])
    created = sync_now(twin, "twoway-operations", mode="incremental")
    assert written(created) == (0, 1), created
    customers = {(r["dataAreaId"].upper(), r["CustomerAccount"]): r
                 for r in twin.records("operations", "CustomersV3")}
    assert customers[("USMF", "C-7")]["OrganizationName"] == "Account 7" and ("DEMF", "C-7") not in customers
    assert written(sync_now(twin, "twoway-operations")) == (0, 0)


def test_the_customers_two_way_template_creates_customers_from_cds_with_the_defaults_operations_needs(clean) -> None:
    twin = clean
    seed(twin, "operations", "CustomersV3", [
        {"dataAreaId": company, "CustomerAccount": f"C-{n}", "OrganizationName": f"Customer {n}",
         "AddressCity": "Redmond", "AddressCountryRegionId": "USA", "CustomerGroupId": "20",
         "SalesCurrencyCode": "EUR"} for n in range(3) for company in ("USMF", "DEMF")])
    create_project(twin, {"name": "twoway-customers", "template": "customers-two-way",
                          "connections": {"source": "operations", "cds": "cds"}, "companyCode": "USMF"})
    first = sync_now(twin, "twoway-customers")
    assert first["runtimeStatus"] == "Succeeded" and written(first) == (3, 0), first
    assert {r["accountnumber"]: r["address1_country"] for r in twin.records("cds", "accounts")} == {
        "C-0": "US", "C-1": "US", "C-2": "US"}
    seed(twin, "cds", "accounts", [{**account(7), "accountnumber": "C-7", "address1_country": "DE",
                                    "address1_city": "B" * 70}])
    edit(twin, "cds", "C-1", name="Renamed in CDS")
    run = sync_now(twin, "twoway-customers", mode="incremental")
    assert run["runtimeStatus"] == "Succeeded" and written(run) == (0, 2), run
    customers = {(r["dataAreaId"].upper(), r["CustomerAccount"]): r for r in twin.records("operations", "CustomersV3")}
    created = customers[("USMF", "C-7")]
    assert (created["CustomerGroupId"], created["SalesCurrencyCode"], created["LanguageId"]) == ("10", "USD", "en-us")
    assert created["AddressCountryRegionId"] == "DEU" and created["AddressCity"] == "B" * 60
    assert customers[("USMF", "C-1")]["OrganizationName"] == "Renamed in CDS"
    assert customers[("USMF", "C-1")]["CustomerGroupId"] == "20"  # a default is for records created, never an update
    assert ("DEMF", "C-7") not in customers and len(customers) == 7
    assert written(sync_now(twin, "twoway-customers")) == (0, 0)
