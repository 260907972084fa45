"""Fixtures shared by every test: a real Azurite, started once per test session.

`make test` lets this fixture start Azurite on free loopback ports and stops it by PID at
the end. Set DI_TEST_STORAGE to a connection string to reuse an emulator already running.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from devhost import azurite
from shared.settings import StorageSettings


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
