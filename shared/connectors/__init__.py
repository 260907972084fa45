"""Connectors: one class per system kind behind one small interface (base.Connector).

`connector_for(connection)` gives the process's connector for a saved connection, so every
activity of a process shares its pooled session, its token cache and its throttle. Its
requests are named after the saved connection in failures, kept within the budgets of the
app's functionTimeout, and a Dataverse connector's requests in flight within the slots the
whole app shares per Dataverse user (shared/slots.py). `CONNECTORS` is the one place that
maps a connection's kind to its connector class.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from shared.auth import TokenProvider, token_provider
from shared.budgets import Budgets
from shared.connection_rules import require_safe
from shared.connectors.base import Connector
from shared.connectors.blobfiles import BlobFilesConnector
from shared.connectors.dataverse import DataverseConnector
from shared.connectors.finops import FinOpsConnector
from shared.connectors.identity import short_origin, user_identity
from shared.connectors.odata_connector import ODataConnector
from shared.errors import InvalidInput
from shared.http import MAX_IN_FLIGHT, HttpClient, LocalSlots, RetryPolicy, Slots, new_session
from shared.models import Connection, ManagedIdentityAuth, NoAuth
from shared.settings import storage_settings
from shared.slots import LeasedSlots
from shared.store import store_for
from shared.store.files import BlobFiles

__all__ = ["CONNECTORS", "Connector", "build_connector", "connector_class", "connector_for"]

CONNECTORS: dict[str, type[Connector]] = {
    "dataverse": DataverseConnector,
    "finops": FinOpsConnector,
    "blob": BlobFilesConnector,
}
"""The connector class of each kind of system."""


def connector_class(kind: str) -> type[Connector]:
    """The class of the connectors for `kind` (InvalidInput for a kind no connector serves)."""
    found = CONNECTORS.get(kind)
    if found is None:
        raise InvalidInput(f"no connector for kind {kind!r}", field="kind")
    return found


def build_connector(
    connection: Connection, tokens: TokenProvider | None = None, *, system: str | None = None,
    slots: Slots | None = None,
) -> Connector:
    """A new connector for `connection`; `tokens` replaces the Entra token provider (the test seam).

    `system` names it in failures (default: its kind and URL); `slots` bound its requests in
    flight (default: MAX_IN_FLIGHT in this process).
    """
    kind = connector_class(connection.kind)
    if not issubclass(kind, ODataConnector):
        return _blob_files(connection)
    provider = tokens or token_provider(connection, connection.url.rstrip("/") + "/.default")

    def headers() -> dict[str, str]:
        token = provider.token()
        return {"Authorization": f"Bearer {token}"} if token else {}

    http = HttpClient(
        new_session(), headers, RetryPolicy.from_budgets(Budgets.for_app()),
        system=system or f"{connection.kind} at {short_origin(connection.url)}", slots=slots or LocalSlots(),
    )
    return kind(connection.url, http)


def _blob_files(connection: Connection) -> BlobFilesConnector:
    """A container of the app's own storage account (auth `none`) or any container by managed identity."""
    if isinstance(connection.auth, ManagedIdentityAuth):
        from azure.identity import ManagedIdentityCredential

        credential = ManagedIdentityCredential(client_id=connection.auth.clientId)
        return BlobFilesConnector(BlobFiles.from_url(connection.url, credential))
    if isinstance(connection.auth, NoAuth):
        # Checked again here, not only on save: a connection stored before the rule, or altered in
        # storage, must not read the app's own storage account without the setting that allows it.
        require_safe(connection)
        container = urlsplit(connection.url).path.rstrip("/").rsplit("/", 1)[-1]
        return BlobFilesConnector(store_for(storage_settings()).files(container))
    raise InvalidInput("blob files connect with a managed identity, or none for the app's own storage", field="auth")


@lru_cache(maxsize=32)
def _cached(connection_json: str) -> Connector:
    connection = Connection.model_validate_json(connection_json)
    store = store_for(storage_settings())
    names = [name for name, saved in store.connections.list() if saved == connection]
    system = (f"connection {' or '.join(repr(n) for n in names)} ({connection.kind})" if names
              else f"{connection.kind} at {short_origin(connection.url)}")
    slots = None
    if connector_class(connection.kind) is DataverseConnector:
        slots = LeasedSlots(store.slot_leases, user_identity(connection), MAX_IN_FLIGHT)
    return build_connector(connection, system=system, slots=slots)


def connector_for(connection: Connection) -> Connector:
    """The process's shared connector for `connection` (a changed connection gets a new one)."""
    return _cached(connection.model_dump_json())
