"""A devhost killed mid-run resumes its instances from storage when started again."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import requests

from tests.devhost.client import start, status, wait_for
from tests.devhost.conftest import StartHost

ACTIVITIES = 20
ROOM_FOR_ALL = {"PYTHON_THREADPOOL_THREAD_COUNT": str(ACTIVITIES)}
"""Worker threads enough for every activity to be in flight when devhost is killed."""


def runs(folder: Path, stage: str) -> Counter[int]:
    """How many runs of each activity reached `stage` ("start" or "done")."""
    return Counter(int(path.name.split("-")[1]) for path in folder.glob(f"{stage}-*"))


def test_killed_devhost_resumes_and_reruns_the_activities_in_flight(
    start_host: StartHost, hub_name: str, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    first = start_host(hub_name, env=ROOM_FOR_ALL)
    instance_id = start(first, "slow_fan_out", {"count": ACTIVITIES, "dir": str(marks), "seconds": 2})["id"]
    deadline = time.monotonic() + 20
    while len(runs(marks, "start")) < ACTIVITIES:
        assert time.monotonic() < deadline, "the activities did not all start"
        time.sleep(0.02)

    first.kill()
    assert sum(runs(marks, "done").values()) == 0

    second = start_host(hub_name, env=ROOM_FOR_ALL)
    body = wait_for(second, instance_id, timeout_s=30)

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == [i * i for i in range(ACTIVITIES)]
    assert runs(marks, "start") == Counter({i: 2 for i in range(ACTIVITIES)})
    assert runs(marks, "done") == Counter({i: 1 for i in range(ACTIVITIES)})
    assert "Resumed 1 unfinished orchestration instance(s)" in second.logs()


def test_timers_sub_orchestrations_and_events_survive_a_kill(start_host: StartHost, hub_name: str) -> None:
    first = start_host(hub_name)
    parent = start(first, "parent_of_waiting")["id"]
    approval = f"{parent}:1"
    deadline = time.monotonic() + 20
    while (waiting := status(first, approval)).status_code != 202 or waiting.json()["customStatus"] is None:
        assert time.monotonic() < deadline, "the sub-orchestrations did not start"
        time.sleep(0.05)

    first.kill()
    second = start_host(hub_name)
    raised = requests.post(f"{second.url}/runtime/webhooks/durabletask/instances/{approval}/raiseEvent/approve",
                           params={"code": second.system_key}, json="yes", timeout=30)

    assert raised.status_code == 202
    body = wait_for(second, parent, timeout_s=30)
    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == ["woke up", "yes"]
