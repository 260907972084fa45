"""Store: one object with every repository, isolated by the settings' prefix."""

from __future__ import annotations

import uuid

from shared.models import Connection
from shared.settings import StorageSettings
from shared.store import Store


def test_stores_with_different_prefixes_see_different_data(storage_connection_string: str) -> None:
    connection = Connection.model_validate(
        {"kind": "dataverse", "url": "https://org.crm.dynamics.com", "auth": {"type": "none"}}
    )
    first = StorageSettings(connection_string=storage_connection_string, table_prefix="s" + uuid.uuid4().hex[:10])
    second = StorageSettings(connection_string=storage_connection_string, table_prefix="s" + uuid.uuid4().hex[:10])
    with Store(first) as one, Store(second) as other:
        one.connections.put("sales", connection)
        one.run_staging("run-1").leg("Accounts", "sourceToCds").write_page(1, [{"a": 1}])
        assert other.connections.list() == []
        assert other.run_staging("run-1").leg("Accounts", "sourceToCds").page_states() == {}
        with Store(first) as again:
            assert again.connections.get("sales") == connection


def test_ping(store: Store) -> None:
    assert store.ping() is True
