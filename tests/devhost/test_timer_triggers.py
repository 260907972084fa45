"""Timer triggers fire on their NCRONTAB schedule with the binding azure-functions expects."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from devhost.persistence import HubStore
from tests.devhost.client import wait_for
from tests.devhost.conftest import TIMER_APP, StartHost


def records(folder: Path, kind: str) -> list[dict]:
    return [json.loads(path.read_text()) for path in folder.glob(f"{kind}-*.json")]


def wait_for_records(folder: Path, kind: str, count: int, timeout_s: float = 15.0) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while len(found := records(folder, kind)) < count:
        assert time.monotonic() < deadline, f"{kind} ran {len(found)} times, not {count}"
        time.sleep(0.05)
    return found


def test_timer_trigger_fires_every_second_and_starts_an_orchestration(
    start_host: StartHost, hub_name: str, tmp_path: Path
) -> None:
    host = start_host(hub_name, app=TIMER_APP, env={"TICK_SCHEDULE": "*/1 * * * * *", "TICK_DIR": str(tmp_path)})

    ticks = wait_for_records(tmp_path, "tick", 2)

    assert all(tick["past_due"] is False for tick in ticks)
    started = wait_for(host, ticks[0]["instance_id"])
    assert started["output"] == "Hello timer"
    assert "Executing 'Functions.tick' (Reason='Timer fired at " in host.logs()
    assert records(tmp_path, "nightly") == []


def test_an_occurrence_missed_while_down_fires_once_past_due(
    start_host: StartHost, hub_name: str, tmp_path: Path, storage_connection_string: str
) -> None:
    missed = datetime.now(UTC) - timedelta(hours=2)
    status = {"Last": (missed - timedelta(days=1)).isoformat(), "Next": missed.isoformat(),
              "LastUpdated": (missed - timedelta(days=1)).isoformat()}
    HubStore(storage_connection_string, hub_name).write_timer_status("nightly", status)

    start_host(hub_name, app=TIMER_APP, env={"TICK_SCHEDULE": "0 0 0 1 1 *", "TICK_DIR": str(tmp_path)})

    [nightly] = wait_for_records(tmp_path, "nightly", 1)
    assert nightly["past_due"] is True
    assert nightly["schedule_status"] == status
    store = HubStore(storage_connection_string, hub_name)
    deadline = time.monotonic() + 10
    while (following := store.read_timer_status("nightly")) == status:
        assert time.monotonic() < deadline, "the schedule status was not updated"
        time.sleep(0.05)
    assert following is not None and following["Next"].endswith("T03:00:00+00:00")
