"""Table Storage repositories and blob staging: the only code that talks to the storage account.

    store = Store(storage_settings())
    store.projects.get("accounts-sales-to-operations")

A Store builds its clients on first use and creates each table and container the first
time it is needed; its repositories are safe to share between threads.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from types import TracebackType

from shared.settings import StorageSettings
from shared.store.baselines import BaselineRepository
from shared.store.clients import StorageClients
from shared.store.conflicts import ConflictRepository
from shared.store.connections import ConnectionRepository
from shared.store.consents import ConsentRepository
from shared.store.error_pages import ErrorPages
from shared.store.files import BlobFiles
from shared.store.key_maps import KeyMapRepository
from shared.store.projects import ProjectRepository
from shared.store.run_lock import RunLockRepository
from shared.store.run_staging import RunStaging
from shared.store.runs import RunRepository
from shared.store.schedules import ScheduleStateRepository
from shared.store.slot_leases import SlotLeaseRepository
from shared.store.staging import Staging
from shared.store.subscriptions import SubscriptionRepository
from shared.store.task_state import TaskStateRepository

__all__ = ["Store", "store_for"]


class Store:
    """Everything the service keeps, by kind. The one storage object the rest of the code builds."""

    def __init__(self, settings: StorageSettings) -> None:
        self._clients = StorageClients(settings)

    @cached_property
    def connections(self) -> ConnectionRepository:
        """Connections by name."""
        return ConnectionRepository(self._clients.table("connections"))

    @cached_property
    def projects(self) -> ProjectRepository:
        """Project definitions by name, with ETags."""
        return ProjectRepository(self._clients.table("projects"))

    @cached_property
    def consents(self) -> ConsentRepository:
        """Consent records per project, append-only."""
        return ConsentRepository(self._clients.table("consents"))

    @cached_property
    def runs(self) -> RunRepository:
        """Run records by id and per project."""
        return RunRepository(self._clients.table("runs"), self._clients.table("runindex"))

    @cached_property
    def run_lock(self) -> RunLockRepository:
        """The per-project lock that lets one run at a time."""
        return RunLockRepository(self._clients.table("runlocks"))

    @cached_property
    def staging(self) -> Staging:
        """What runs stage as blobs, run by run: their documents (project snapshots), and their deletion."""
        return Staging(self._clients.container("staging"))

    def run_staging(self, run_id: str) -> RunStaging:
        """One run's staged pages with their states, key buckets and superseded records, leg by leg."""
        return RunStaging(self._clients.container("staging"), run_id)

    @cached_property
    def errors(self) -> ErrorPages:
        """The error records of runs, as pages of blobs laid out like the staged pages they came from."""
        return ErrorPages(self._clients.container("errors"))

    @cached_property
    def baselines(self) -> BaselineRepository:
        """What both sides of each record pair of a two-way task held after its last sync."""
        return BaselineRepository(self._clients.table("baselines"))

    @cached_property
    def conflicts(self) -> ConflictRepository:
        """The conflicts two-way runs found, per project: open until settled, then applied by a run."""
        return ConflictRepository(self._clients.table("conflicts"))

    @cached_property
    def key_maps(self) -> KeyMapRepository:
        """Source id -> target id, for tasks matched through a key map."""
        return KeyMapRepository(self._clients.table("keymaps"))

    @cached_property
    def schedules(self) -> ScheduleStateRepository:
        """The last due time the scheduler handled per project."""
        return ScheduleStateRepository(self._clients.table("schedules"))

    @cached_property
    def slot_leases(self) -> SlotLeaseRepository:
        """Request slots leased by the app's processes, per connection identity (app-wide service limits)."""
        return SlotLeaseRepository(self._clients.table("slotleases"))

    @cached_property
    def subscriptions(self) -> SubscriptionRepository:
        """Who is called back when a run ends (the connector's trigger), callback URLs encrypted."""
        return SubscriptionRepository(self._clients.table("subscriptions"))

    @cached_property
    def task_state(self) -> TaskStateRepository:
        """Where each task's incremental read left off."""
        return TaskStateRepository(self._clients.table("taskstate"))

    def files(self, container: str) -> BlobFiles:
        """The files of a container of this account, named exactly (users' import and export folders)."""
        return BlobFiles(self._clients.named_container(container))

    def ping(self) -> bool:
        """Whether table storage answers, within a few seconds (for health checks)."""
        return self._clients.ping()

    def close(self) -> None:
        """Close the storage connections; the Store is not used afterwards."""
        self._clients.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


@lru_cache(maxsize=8)
def store_for(settings: StorageSettings) -> Store:
    """The Store of `settings`, built once per process and shared by its requests and activities."""
    return Store(settings)
