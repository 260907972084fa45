"""Two-way tasks matched by a key map: records with no business key kept in step between Sales and CDS by id."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import requests

from shared.settings import StorageSettings
from shared.store import Store
from shared.store.key_maps import derived_id
from tests.orchestrators.conftest import CONSENT, crash_while_writing, create_project, seed, sync_now
from tests.orchestrators.test_key_maps import key_map_project, nameless
from tests.orchestrators.test_twoway import legs, written
from twin.local_twin import LocalTwin

TASK = "Accounts by id"
API = "/api/data/v9.2/"


def two_way(name: str) -> dict[str, Any]:
    project = key_map_project(name)
    project["tasks"][0]["direction"] = "bidirectional"
    return project


def cds_born(n: int) -> dict[str, Any]:
    """An account entered in CDS, with no account number either."""
    return {"accountid": f"c0000000-0000-0000-0000-{n:012d}", "name": f"CDS account {n}",
            "telephone1": f"+1 206 555 {n:04d}", "modifiedon": "2023-01-01T00:00:00Z"}


def by_phone(twin: LocalTwin, system: str) -> dict[str, dict[str, Any]]:
    records = twin.records(system, "accounts")
    phones = Counter(record["telephone1"] for record in records)
    assert [phone for phone, count in phones.items() if count > 1] == [], f"duplicates in {system}"
    return {record["telephone1"]: record for record in records}


def patch(twin: LocalTwin, system: str, record_id: str, **values: Any) -> None:
    requests.patch(f"{twin.systems[system].url}{API}accounts({record_id})", json=values,
                   headers={"If-Match": "*"}, timeout=10).raise_for_status()


def key_map(twin: LocalTwin, project: str, leg: str, ids: list[str]) -> dict[str, str]:
    settings = StorageSettings(connection_string=twin.storage, table_prefix=twin.table_prefix)
    with Store(settings) as store:
        return store.key_maps.lookup(project, TASK, leg, ids)


def test_records_without_a_key_pair_through_the_key_map_both_ways(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [nameless(n) for n in range(5)])
    seed(twin, "cds", "accounts", [cds_born(n) for n in range(2)])
    create_project(twin, two_way("keymap-two-way"))
    first = sync_now(twin, "keymap-two-way")
    assert first["runtimeStatus"] == "Succeeded", json.dumps(first)
    assert written(first) == (5, 2)
    sales, cds = by_phone(twin, "sales"), by_phone(twin, "cds")
    assert sorted(sales) == sorted(cds) and len(sales) == 7
    # a Sales account's CDS record has the id the key map derives; a CDS account's Sales record a chosen one
    sales_id = sales["+1 425 555 0001"]["accountid"]
    assert cds["+1 425 555 0001"]["accountid"] == derived_id("keymap-two-way", TASK, "sourceToCds", sales_id)
    cds_id = cds_born(1)["accountid"]
    chosen = derived_id("keymap-two-way", TASK, "cdsToSource", cds_id)
    assert sales["+1 206 555 0001"]["accountid"] == chosen
    assert key_map(twin, "keymap-two-way", "sourceToCds", [chosen]) == {chosen: cds_id}
    assert key_map(twin, "keymap-two-way", "cdsToSource", [cds_id]) == {cds_id: chosen}

    patch(twin, "sales", sales_id, name="Renamed in Sales")
    patch(twin, "cds", cds_id, name="Renamed in CDS")
    second = sync_now(twin, "keymap-two-way", mode="incremental")
    assert second["runtimeStatus"] == "Succeeded" and written(second) == (1, 1), second
    sales, cds = by_phone(twin, "sales"), by_phone(twin, "cds")
    assert cds["+1 425 555 0001"]["name"] == "Renamed in Sales"
    assert sales["+1 206 555 0001"]["name"] == "Renamed in CDS"
    assert written(sync_now(twin, "keymap-two-way", mode="incremental")) == (0, 0)
    again = sync_now(twin, "keymap-two-way", mode="full")
    assert written(again) == (0, 0) and legs(again)["sourceToCds"]["read"] == 7, again
    assert len(by_phone(twin, "sales")) == len(by_phone(twin, "cds")) == 7


def test_a_one_way_key_mapped_task_made_two_way_keeps_its_pairs(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [nameless(n) for n in range(10)])
    create_project(twin, key_map_project("keymap-made-two-way"))
    assert sync_now(twin, "keymap-made-two-way")["tasks"][0]["written"] == 10
    current = twin.api("GET", "projects/keymap-made-two-way")
    changed = {**two_way("keymap-made-two-way"), "consent": CONSENT}
    answer = twin.api("PUT", "projects/keymap-made-two-way", json=changed, headers={"If-Match": current.headers["ETag"]})
    assert answer.status_code == 200, answer.text
    linked = sync_now(twin, "keymap-made-two-way")
    assert linked["runtimeStatus"] == "Succeeded" and written(linked) == (0, 0), linked
    cds = by_phone(twin, "cds")
    patch(twin, "cds", cds["+1 425 555 0003"]["accountid"], name="Renamed in CDS")
    assert written(sync_now(twin, "keymap-made-two-way", mode="incremental")) == (0, 1)
    assert by_phone(twin, "sales")["+1 425 555 0003"]["name"] == "Renamed in CDS"
    assert len(by_phone(twin, "sales")) == len(by_phone(twin, "cds")) == 10


def test_a_host_killed_while_creating_both_ways_leaves_no_duplicate(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [nameless(n) for n in range(1_500)])
    seed(twin, "cds", "accounts", [cds_born(n) for n in range(1_500)])
    for system in ("sales", "cds"):
        requests.post(f"{twin.systems[system].url}/_sandbox/config", json={"record_cost_ms": 1.5}, timeout=10)
    create_project(twin, two_way("keymap-crash-two-way"))
    run = crash_while_writing(twin, twin.api("POST", "projects/keymap-crash-two-way/runs"))
    assert run["runtimeStatus"] == "Succeeded", run
    sales, cds = by_phone(twin, "sales"), by_phone(twin, "cds")
    assert sorted(sales) == sorted(cds) and len(sales) == 3_000
    again = sync_now(twin, "keymap-crash-two-way")
    assert again["runtimeStatus"] == "Succeeded" and written(again) == (0, 0), again
