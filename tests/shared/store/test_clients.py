"""Clients: built from settings either way, tables and containers prefixed and created once, ping honest."""

from __future__ import annotations

import socket
import threading

import pytest
from azure.data.tables import TableServiceClient
from azure.identity import DefaultAzureCredential

from devhost.azurite import connection_string, free_port
from shared.errors import SettingError
from shared.settings import StorageSettings
from shared.store.clients import StorageClients, container_name, service_clients, table_name


def test_development_storage_shortcut_reaches_the_default_emulator_ports() -> None:
    tables, blobs = service_clients(StorageSettings(connection_string="UseDevelopmentStorage=true"))
    assert tables.url.startswith("http://127.0.0.1:10002/devstoreaccount1")
    assert blobs.url.startswith("http://127.0.0.1:10000/devstoreaccount1")


def test_identity_settings_use_the_service_uris_and_a_managed_identity() -> None:
    settings = StorageSettings(
        table_service_uri="https://acct.table.core.windows.net",
        blob_service_uri="https://acct.blob.core.windows.net",
        client_id="00000000-0000-0000-0000-000000000001",
    )
    tables, blobs = service_clients(settings)
    assert tables.url.startswith("https://acct.table.core.windows.net")
    assert blobs.url.startswith("https://acct.blob.core.windows.net")
    assert isinstance(tables.credential, DefaultAzureCredential)
    assert blobs.credential is tables.credential


def test_identity_settings_need_both_uris() -> None:
    with pytest.raises(SettingError):
        service_clients(StorageSettings(table_service_uri="https://acct.table.core.windows.net"))


def test_names_carry_the_prefix() -> None:
    settings = StorageSettings(connection_string="UseDevelopmentStorage=true", table_prefix="Test42")
    assert table_name(settings, "projects") == "Test42projects"
    assert container_name(settings, "staging") == "test42-staging"
    plain = StorageSettings(connection_string="UseDevelopmentStorage=true")
    assert table_name(plain, "projects") == "projects"
    assert container_name(plain, "staging") == "staging"


@pytest.mark.parametrize("prefix", ["with-dash", "1digitfirst", "x" * 60])
def test_a_prefix_that_makes_an_invalid_table_name_is_refused(prefix: str) -> None:
    settings = StorageSettings(connection_string="UseDevelopmentStorage=true", table_prefix=prefix)
    with pytest.raises(SettingError) as raised:
        table_name(settings, "projects")
    assert raised.value.field == "table_prefix"


def test_table_is_created_on_first_use_and_then_reused(storage: StorageSettings) -> None:
    clients = StorageClients(storage)
    try:
        first = clients.table("things")
        assert clients.table("things") is first
    finally:
        clients.close()
    with TableServiceClient.from_connection_string(storage.connection_string or "") as service:
        found = service.query_tables("TableName eq @name", parameters={"name": storage.table_prefix + "things"})
        assert [table.name for table in found] == [storage.table_prefix + "things"]


def test_an_existing_table_or_container_is_used_as_it_is(storage: StorageSettings) -> None:
    first = StorageClients(storage)
    second = StorageClients(storage)
    try:
        first.table("things").create_entity({"PartitionKey": "p", "RowKey": "r"})
        first.container("things").upload_blob("b", b"kept")
        assert second.table("things").get_entity("p", "r")["RowKey"] == "r"
        assert second.container("things").download_blob("b").readall() == b"kept"
    finally:
        first.close()
        second.close()


def test_ping_is_true_when_storage_answers(storage: StorageSettings) -> None:
    clients = StorageClients(storage)
    try:
        assert clients.ping() is True
    finally:
        clients.close()


def test_ping_is_false_when_storage_is_unreachable() -> None:
    closed = free_port()
    clients = StorageClients(StorageSettings(connection_string=connection_string("127.0.0.1", closed, closed, closed)))
    try:
        assert clients.ping() is False
    finally:
        clients.close()


def test_ping_is_false_after_one_attempt_when_storage_hangs_up() -> None:
    """No retries: a health probe answers after one try, not after the SDK's backoff."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        accepted: list[int] = []

        def hang_up() -> None:
            while True:
                try:
                    connection, _ = server.accept()
                except OSError:
                    return
                accepted.append(1)
                connection.close()

        threading.Thread(target=hang_up, daemon=True).start()
        port = server.getsockname()[1]
        clients = StorageClients(StorageSettings(connection_string=connection_string("127.0.0.1", port, port, port)))
        try:
            assert clients.ping() is False
        finally:
            clients.close()
        server.shutdown(socket.SHUT_RDWR)
    assert accepted == [1]
