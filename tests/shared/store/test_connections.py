"""Connections in real tables: put, get, list, delete, under any name."""

from __future__ import annotations

import pytest

from shared.errors import NotFound
from shared.models import Connection
from shared.store import Store
from tests.shared.store.awkward import AWKWARD

INJECTION = "x' or PartitionKey ne '"


def connection(url: str = "https://org.crm.dynamics.com") -> Connection:
    return Connection.model_validate(
        {
            "kind": "dataverse",
            "url": url,
            "auth": {"type": "clientSecret", "tenantId": "8f0e2f86-3b4a-4c3e-9a51-2f4f0d6c1a11", "clientId": "c", "secretSetting": "SALES_SECRET"},
        }
    )


def test_put_creates_then_replaces(store: Store) -> None:
    assert store.connections.put("sales", connection()) is True
    assert store.connections.put("sales", connection("https://other.crm.dynamics.com")) is False
    assert store.connections.get("sales") == connection("https://other.crm.dynamics.com")


def test_list_is_sorted_by_name(store: Store) -> None:
    for name in ["ops", "Sales", "cds", "~tilde", "a b"]:
        store.connections.put(name, connection(f"https://{len(name)}.example.com"))
    assert [name for name, _ in store.connections.list()] == sorted(["ops", "Sales", "cds", "~tilde", "a b"])


def test_delete_forgets_and_missing_names_are_not_found(store: Store) -> None:
    store.connections.put("sales", connection())
    store.connections.delete("sales")
    with pytest.raises(NotFound):
        store.connections.get("sales")
    with pytest.raises(NotFound):
        store.connections.delete("sales")
    assert store.connections.list() == []


def test_awkward_names_round_trip_and_never_collide(store: Store) -> None:
    for n, name in enumerate(AWKWARD):
        store.connections.put(name, connection(f"https://host{n}.example.com"))
    for n, name in enumerate(AWKWARD):
        assert store.connections.get(name).url == f"https://host{n}.example.com"
    listed = store.connections.list()
    assert [name for name, _ in listed] == sorted(AWKWARD)
    assert len({c.url for _, c in listed}) == len(AWKWARD)


def test_escaped_looking_names_stay_distinct(store: Store) -> None:
    store.connections.put("a/b", connection("https://slash.example.com"))
    store.connections.put("a~2Fb", connection("https://tilde.example.com"))
    assert store.connections.get("a/b").url == "https://slash.example.com"
    assert store.connections.get("a~2Fb").url == "https://tilde.example.com"


def test_an_injection_attempt_in_a_name_finds_nothing(store: Store) -> None:
    store.connections.put("sales", connection())
    store.connections.put("cds", connection())
    with pytest.raises(NotFound):
        store.connections.get(INJECTION)
    with pytest.raises(NotFound):
        store.connections.delete(INJECTION)
    assert [name for name, _ in store.connections.list()] == ["cds", "sales"]


def test_a_connection_stored_before_the_tenant_rule_is_left_out_of_the_list_and_can_still_be_deleted(
    store: Store, storage
) -> None:
    from azure.data.tables import TableClient, UpdateMode

    from shared.store.connections import UnreadableConnection

    store.connections.put("readable", connection())
    store.connections.put("old", connection())
    text = connection().model_dump_json().replace("8f0e2f86-3b4a-4c3e-9a51-2f4f0d6c1a11", "t")
    with TableClient.from_connection_string(storage.connection_string, storage.table_prefix + "connections") as table:
        table.upsert_entity({"PartitionKey": "connection", "RowKey": "old", "Json0": text}, mode=UpdateMode.REPLACE)

    assert [name for name, _ in store.connections.list()] == ["readable"]
    with pytest.raises(UnreadableConnection) as raised:
        store.connections.get("old")
    assert raised.value.status == 409 and "'old'" in raised.value.message
    store.connections.delete("old")
    with pytest.raises(NotFound):
        store.connections.get("old")
