"""The product's orchestrators replay deterministically: devhost's determinism guard over real runs.

A run on the strict twin, with batching small enough that a leg takes several extract steps,
resolves its keys by bucket, loads in several windows and continues as new, and a second task
that fails at its first step; then every finished instance of the task hub (`sync_project`,
`sync_task`, `sync_leg`, `load_pages`) is replayed in this process through the SDK, and must
schedule the same actions, return the same output and do no I/O (devhost/replay_guard.py).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from azure.data.tables import TableServiceClient

from devhost.app_index import AppIndex
from devhost.replay_guard import check_hub
from tests.orchestrators.conftest import create_project, seed, sync_now
from tests.orchestrators.test_sync_project import account, accounts_project
from twin.local_twin import LocalTwin

TWIN_SETTINGS = {"DI_PAGE_SIZE": "10", "DI_PAGES_PER_STEP": "2", "DI_PAGES_PER_WINDOW": "2", "DI_KEY_BUCKETS": "12"}
ORCHESTRATORS = {"sync_project", "sync_task", "sync_leg", "load_pages"}

# The SDK announces its typed decoding once per process when it replays here, in process.
pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")



class IndexedApp:
    """The app's functions as the session indexed them: the SDK indexes an app object only once."""

    def __init__(self, functions: dict[str, Any]) -> None:
        self._functions = list(functions.values())

    def get_functions(self) -> list[Any]:
        return self._functions


def finished_instances(twin: LocalTwin) -> Counter[tuple[str, str]]:
    """How many instances of the twin's task hub ended, by orchestrator and runtime status."""
    table = TableServiceClient.from_connection_string(twin.storage).get_table_client(f"{twin.hub}Instances")
    return Counter((row["Name"], row["RuntimeStatus"]) for row in table.list_entities(select=["Name", "RuntimeStatus"]))


def test_the_orchestrators_of_a_run_replay_as_they_ran(clean: LocalTwin, functions: dict[str, Any]) -> None:
    twin = clean
    records = [account(n) for n in range(60)]
    records.append(account(60, accountnumber=" A-00007", name="Duplicate winner", modifiedon="2024-01-01T00:00:00Z"))
    seed(twin, "sales", "accounts", records)
    project = accounts_project("replayed-e2e")
    broken = {**project["tasks"][0], "name": "Broken", "sourceToCds": [
        *project["tasks"][0]["sourceToCds"], {"source": "primarycontactid.nosuchfield", "target": "description"}]}
    project["tasks"].append(broken)
    create_project(twin, project)

    run = sync_now(twin, "replayed-e2e")

    assert run["runtimeStatus"] == "Failed", run
    assert [task["status"] for task in run["tasks"]] == ["Succeeded", "Failed"], run
    ended = finished_instances(twin)
    assert {name for name, _ in ended} == ORCHESTRATORS, ended
    assert ended[("sync_task", "Failed")] == ended[("sync_leg", "Failed")] == 1, ended
    assert ended[("load_pages", "Completed")] >= 6, ended
    assert check_hub(twin.storage, twin.hub, AppIndex.build(IndexedApp(functions))) == []
