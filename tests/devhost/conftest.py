"""Fixtures of the devhost tests: devhost processes over the session's Azurite, one task hub per test.

Every devhost started through `start_host` runs as a child process on a free port, logs to
the test's tmp_path, and is stopped by PID when the test ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devhost.app_index import AppIndex, import_app
from devhost.process import DevhostProcess, start_devhost
from tests.devhost.client import HUB_SETTING

DURABLE_APP = "tests.devhost.apps.durable_app.function_app"
TIMER_APP = "tests.devhost.apps.timer_app.function_app"
SAMPLES_APP = Path(__file__).resolve().parent / "apps" / "samples"

StartHost = Callable[..., DevhostProcess]


@pytest.fixture
def hub_name() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def start_host(storage_connection_string: str, tmp_path: Path) -> Iterator[StartHost]:
    """Start a devhost: `start_host(hub, app=..., env=..., **options)`; all are stopped at the end of the test.

    `options` go to start_devhost (port, lenient, poll_ms).
    """
    started: list[DevhostProcess] = []

    def start(
        hub: str, app: str | Path | None = DURABLE_APP, env: dict[str, str] | None = None, **options: Any
    ) -> DevhostProcess:
        host = start_devhost(
            storage_connection_string, app=app, env={HUB_SETTING: hub, **(env or {})},
            log_path=tmp_path / f"devhost-{len(started)}.log", **options,
        )
        started.append(host)
        return host

    yield start
    for host in started:
        host.stop()


@pytest.fixture
def devhost(start_host: StartHost, hub_name: str) -> DevhostProcess:
    """A devhost serving the durable test app in a task hub of this test's own."""
    return start_host(hub_name)


@pytest.fixture(scope="session")
def durable_app_index() -> AppIndex:
    """The durable test app, indexed once in this process (for the determinism guard)."""
    return AppIndex.build(import_app(Path("."), DURABLE_APP))
