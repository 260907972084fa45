"""Tasks without a business key, matched through a key map in Table Storage."""

from __future__ import annotations

import requests

from shared.settings import StorageSettings
from shared.store import Store
from tests.orchestrators.conftest import crash_while_writing, create_project, seed, sync_now
from tests.orchestrators.test_sync_project import account


def key_map_project(name: str) -> dict:
    return {
        "name": name, "connections": {"source": "sales", "cds": "cds"},
        "tasks": [{
            "name": "Accounts by id", "match": "keyMap",
            "source": {"entity": "accounts", "key": ["accountid"]},
            "cds": {"entity": "accounts", "key": ["accountid"]},
            "sourceToCds": [{"source": "name", "target": "name"}, {"source": "telephone1", "target": "telephone1"}],
        }],
    }


def nameless(n: int) -> dict:
    """An account with no account number: nothing but its id tells it apart."""
    return account(n, accountnumber=None, telephone1=f"+1 425 555 {n:04d}")


def key_map_size(twin, project: str) -> int:
    settings = StorageSettings(connection_string=twin.storage, table_prefix=twin.table_prefix)
    with Store(settings) as store:
        return store.key_maps.count(project, "Accounts by id", "sourceToCds")


def test_records_without_a_business_key_sync_through_the_key_map(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [nameless(n) for n in range(200)])
    create_project(twin, key_map_project("keymap-e2e"))
    first = sync_now(twin, "keymap-e2e")
    assert first["runtimeStatus"] == "Succeeded" and first["tasks"][0]["written"] == 200
    cds = {r["telephone1"]: r for r in twin.records("cds", "accounts")}
    assert len(cds) == 200 and key_map_size(twin, "keymap-e2e") == 200

    sales = twin.systems["sales"].url + "/api/data/v9.2/"
    requests.patch(f"{sales}accounts(00000000-0000-0000-0000-000000000007)", json={"name": "Renamed 7"},
                   headers={"If-Match": "*"}, timeout=10).raise_for_status()
    second = sync_now(twin, "keymap-e2e")
    assert second["tasks"][0]["written"] == 200
    after = {r["telephone1"]: r for r in twin.records("cds", "accounts")}
    assert len(after) == 200
    assert after["+1 425 555 0007"]["name"] == "Renamed 7"
    assert after["+1 425 555 0007"]["accountid"] == cds["+1 425 555 0007"]["accountid"]


def test_a_killed_run_of_a_key_mapped_task_creates_no_duplicate(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [nameless(n) for n in range(3_000)])
    requests.post(f"{twin.systems['cds'].url}/_sandbox/config", json={"record_cost_ms": 1.5}, timeout=10)
    create_project(twin, key_map_project("keymap-crash"))
    run = crash_while_writing(twin, twin.api("POST", "projects/keymap-crash/runs"))
    assert run["runtimeStatus"] == "Succeeded", run
    again = sync_now(twin, "keymap-crash")
    assert again["runtimeStatus"] == "Succeeded"
    phones = [r["telephone1"] for r in twin.records("cds", "accounts")]
    assert len(phones) == len(set(phones)) == 3_000
    assert key_map_size(twin, "keymap-crash") == 3_000
