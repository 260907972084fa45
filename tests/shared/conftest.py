"""A Store of this test's own (its tables and container carry the test's prefix)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.settings import StorageSettings
from shared.store import Store


@pytest.fixture
def store(storage: StorageSettings) -> Iterator[Store]:
    with Store(storage) as opened:
        yield opened
