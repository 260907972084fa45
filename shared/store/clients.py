"""The storage account's service clients, built from StorageSettings, and its tables and containers.

With a connection string (also `UseDevelopmentStorage=true`) the clients sign with the
account key it carries; otherwise they reach the table and blob service URIs with a managed
identity (DefaultAzureCredential, user-assigned when settings name a client id). Every table
and container name carries settings.table_prefix, so that several deployments or test runs
can share one account.
"""

from __future__ import annotations

import logging
import re
import threading

from azure.core.exceptions import AzureError, ResourceExistsError
from azure.data.tables import TableClient, TableServiceClient
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient, ContainerClient

from shared.errors import SettingError
from shared.settings import STORAGE_SETTING, StorageSettings

PING_TIMEOUT_S = 3

_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,62}")
_CONTAINER_NAME = re.compile(r"(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")

log = logging.getLogger(__name__)


def service_clients(settings: StorageSettings) -> tuple[TableServiceClient, BlobServiceClient]:
    """The table and blob service clients of the account that `settings` describe."""
    if not settings.uses_identity:
        conn = settings.connection_string or ""
        return TableServiceClient.from_connection_string(conn), BlobServiceClient.from_connection_string(conn)
    if not (settings.table_service_uri and settings.blob_service_uri):
        raise SettingError("storage needs both a table and a blob service URI", field=STORAGE_SETTING)
    credential = DefaultAzureCredential(managed_identity_client_id=settings.client_id)
    return (
        TableServiceClient(endpoint=settings.table_service_uri, credential=credential),
        BlobServiceClient(account_url=settings.blob_service_uri, credential=credential),
    )


def table_name(settings: StorageSettings, logical: str) -> str:
    """The name of the table holding `logical` ("projects", "runs"…) for these settings."""
    name = settings.table_prefix + logical
    if _TABLE_NAME.fullmatch(name) is None:
        raise SettingError(f"{name!r} is not a valid table name (3-63 letters and digits)", field="table_prefix")
    return name


def container_name(settings: StorageSettings, logical: str) -> str:
    """The name of the blob container holding `logical` ("staging"…) for these settings."""
    name = f"{settings.table_prefix.lower()}-{logical}" if settings.table_prefix else logical
    if _CONTAINER_NAME.fullmatch(name) is None:
        raise SettingError(f"{name!r} is not a valid container name", field="table_prefix")
    return name


class StorageClients:
    """One account's clients, built on first use and shared by threads.

    Each table and container is created when it is first asked for in this process, and
    never looked up again.
    """

    def __init__(self, settings: StorageSettings) -> None:
        self._settings = settings
        self._lock = threading.RLock()
        self._services: tuple[TableServiceClient, BlobServiceClient] | None = None
        self._tables: dict[str, TableClient] = {}
        self._containers: dict[str, ContainerClient] = {}

    def table(self, logical: str) -> TableClient:
        """A client for the table holding `logical`, created if missing."""
        name = table_name(self._settings, logical)
        with self._lock:
            if name not in self._tables:
                self._tables[name] = self._table_service().create_table_if_not_exists(name)
            return self._tables[name]

    def container(self, logical: str) -> ContainerClient:
        """A client for the blob container holding `logical`, created if missing."""
        name = container_name(self._settings, logical)
        with self._lock:
            if name not in self._containers:
                blobs = self._blob_service()
                try:
                    self._containers[name] = blobs.create_container(name)
                except ResourceExistsError:
                    self._containers[name] = blobs.get_container_client(name)
            return self._containers[name]

    def named_container(self, name: str) -> ContainerClient:
        """A client for the container called exactly `name` (no prefix, not created)."""
        return self._blob_service().get_container_client(name)

    def ping(self) -> bool:
        """Whether the table service answers within PING_TIMEOUT_S: one page of the table list, no retries."""
        try:
            tables = self._table_service().list_tables(
                results_per_page=1, connection_timeout=PING_TIMEOUT_S, read_timeout=PING_TIMEOUT_S, retry_total=0
            )
            next(tables.by_page(), None)
        except AzureError as error:
            log.warning("table storage did not answer: %s", type(error).__name__)
            return False
        return True

    def close(self) -> None:
        """Close the connections of every client handed out."""
        with self._lock:
            if self._services is not None:
                for service in self._services:
                    service.close()
            self._services = None
            self._tables.clear()
            self._containers.clear()

    def _table_service(self) -> TableServiceClient:
        return self._clients()[0]

    def _blob_service(self) -> BlobServiceClient:
        return self._clients()[1]

    def _clients(self) -> tuple[TableServiceClient, BlobServiceClient]:
        with self._lock:
            if self._services is None:
                self._services = service_clients(self._settings)
            return self._services
