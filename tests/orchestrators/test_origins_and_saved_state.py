"""Runs over the twin with a hostile system in the way: links to other origins, repointed connections, and
projects deleted and created again.

The hostile system is a local proxy in front of the Sales sandbox (tests/connectors/hostile.py):
it hands the sandbox's links out as its own, and can point every data page's next link at a
second local server, which must never receive anything.
"""

from __future__ import annotations

from typing import Any

from shared.http import origin_of
from shared.settings import StorageSettings
from shared.store import Store
from tests.connectors.hostile import json_answer, serving, tampering_proxy
from tests.orchestrators.conftest import CONSENT, create_project, errors_of, seed, sync_now
from tests.orchestrators.test_key_maps import key_map_project, nameless
from tests.orchestrators.test_sync_project import account, accounts_project
from twin.local_twin import LocalTwin

ACCOUNTS = "/api/data/v9.2/accounts"


def connect(twin: LocalTwin, name: str, url: str, **extra: Any) -> None:
    body = {"kind": "dataverse", "url": url, "auth": {"type": "none"}, **extra}
    answer = twin.api("PUT", f"connections/{name}", json=body)
    assert answer.status_code in (200, 201), answer.text


def project_reading_from(name: str, connection: str) -> dict[str, Any]:
    body = accounts_project(name)
    body["connections"] = {**body["connections"], "source": connection}
    return body


def store_of(twin: LocalTwin) -> Store:
    return Store(StorageSettings(connection_string=twin.storage, table_prefix=twin.table_prefix))


def test_a_next_link_to_another_origin_fails_the_run_naming_it_and_that_origin_receives_nothing(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(20)])
    sales = twin.systems["sales"].url
    with serving(json_answer({"value": []})) as foreign, \
            serving(tampering_proxy(sales, ACCOUNTS, next_link_to=foreign.url)) as hostile:
        connect(twin, "hostile-sales", hostile.url)
        create_project(twin, project_reading_from("hostile-e2e", "hostile-sales"))
        run = sync_now(twin, "hostile-e2e")
    assert run["runtimeStatus"] == "Failed"
    assert origin_of(foreign.url) in run["message"] and "'hostile-sales'" in run["message"], run["message"]
    assert foreign.received == []
    assert any(r.path.startswith(ACCOUNTS) for r in hostile.received)
    assert twin.records("cds", "accounts") == []


def test_a_repointed_connection_drops_the_saved_delta_link_and_the_next_run_reads_in_full_saying_so(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(30)])
    with serving(tampering_proxy(twin.systems["sales"].url)) as old_host:
        connect(twin, "moving-sales", old_host.url)
        create_project(twin, project_reading_from("moving-e2e", "moving-sales"))
        first = sync_now(twin, "moving-e2e", mode="incremental")
        assert first["runtimeStatus"] == "Succeeded" and first["tasks"][0]["legs"][0]["read"] == 30
        with store_of(twin) as store:
            saved = store.task_state.get("moving-e2e", "Accounts", "sourceToCds")
        assert saved is not None and saved.state["read"]["deltaLink"].startswith(old_host.url)

        connect(twin, "moving-sales", twin.systems["sales"].url, consent=CONSENT)
        asked_before = len(old_host.received)
        second = sync_now(twin, "moving-e2e", mode="incremental")
        assert len(old_host.received) == asked_before
    assert second["runtimeStatus"] == "Succeeded", second
    assert second["tasks"][0]["legs"][0]["read"] == 30
    assert "saved delta link" in second["message"] and "'moving-sales'" in second["message"], second["message"]
    assert "reads everything" in second["message"]

    third = sync_now(twin, "moving-e2e", mode="incremental")
    assert third["tasks"][0]["legs"][0]["read"] == 0
    assert not third.get("message")


def test_a_project_deleted_and_created_again_starts_without_state_key_maps_or_error_records(clean) -> None:
    twin = clean
    records = [nameless(n) for n in range(10)] + [{**nameless(10), "name": "x" * 200}]
    seed(twin, "sales", "accounts", records)
    create_project(twin, key_map_project("reborn-e2e"))
    first = sync_now(twin, "reborn-e2e", mode="incremental")
    assert first["tasks"][0]["failed"] == 1 and len(errors_of(twin, first)) == 1
    with store_of(twin) as store:
        assert store.key_maps.count("reborn-e2e", "Accounts by id", "sourceToCds") == 11
        assert store.task_state.get("reborn-e2e", "Accounts by id", "sourceToCds") is not None

    assert twin.api("DELETE", "projects/reborn-e2e").status_code == 204
    create_project(twin, key_map_project("reborn-e2e"))
    with store_of(twin) as store:
        assert store.key_maps.count("reborn-e2e", "Accounts by id", "sourceToCds") == 0
        assert store.task_state.get("reborn-e2e", "Accounts by id", "sourceToCds") is None
        assert store.errors.list_pages(first["runId"]) == []
        assert len(store.consents.list("reborn-e2e")) == 2
    again = sync_now(twin, "reborn-e2e", mode="incremental")
    assert again["tasks"][0]["read"] == 11
