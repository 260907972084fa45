"""Fixtures shared by every test: a real Azurite, started once per test session, and the local twin.

`make test` lets this fixture start Azurite on free loopback ports and stops it by PID at
the end. Set DI_TEST_STORAGE to a connection string to reuse an emulator already running.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import settings as hypothesis_settings

from devhost import azurite
from shared.settings import StorageSettings
from twin.local_twin import LocalTwin

# Hypothesis fails an example slower than 200 ms by default: a timing assertion, which a shared machine breaks
hypothesis_settings.register_profile("shared-machine", deadline=None)
hypothesis_settings.load_profile("shared-machine")


@pytest.fixture(scope="session")
def functions() -> dict[str, Any]:
    """The app's functions by name, indexed once (the SDK refuses to index an app twice)."""
    import function_app

    return {f.get_function_name(): f for f in function_app.app.get_functions()}


@pytest.fixture(scope="session")
def storage_connection_string() -> Iterator[str]:
    reuse = os.environ.get("DI_TEST_STORAGE")
    if reuse:
        yield reuse
        return
    server = azurite.start()
    try:
        yield server.connection_string
    finally:
        server.stop()


@pytest.fixture
def storage(storage_connection_string: str) -> StorageSettings:
    """Storage settings with a table prefix of this test's own, so tests never see each other's rows."""
    return StorageSettings(connection_string=storage_connection_string, table_prefix="t" + uuid.uuid4().hex[:10])


@pytest.fixture(scope="module")
def twin(request: pytest.FixtureRequest, storage_connection_string: str) -> Iterator[LocalTwin]:
    """The module's twin; a module that sets `TWIN_SETTINGS` (app settings, e.g. small batching) gets them."""
    settings = getattr(request.module, "TWIN_SETTINGS", None)
    with LocalTwin.start(dataset=False, storage=storage_connection_string, settings=settings) as started:
        started.connect_all()
        yield started


@pytest.fixture
def clean(twin: LocalTwin) -> LocalTwin:
    """The twin with every sandbox emptied and its knobs back to their defaults."""
    for system in twin.systems.values():
        requests.post(f"{system.url}/_sandbox/reset", timeout=30).raise_for_status()
        requests.post(f"{system.url}/_sandbox/config", timeout=30,
                      json={"latency_ms": 0, "record_cost_ms": 0, "fault_rate": 0, "throttle_rate": 0})
    return twin
