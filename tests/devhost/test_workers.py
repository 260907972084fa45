"""User code runs in worker processes, on one thread pool each, under host.json's functionTimeout.

The worker app's host.json sets functionTimeout to 00:00:03. Each test waits for the worker
to answer once before it measures anything, so the time the worker takes to import the app
never counts against a deadline.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from devhost.host_config import ConfigError, read_host_config
from devhost.process import DevhostProcess
from tests.devhost.client import events_of, start, wait_for
from tests.devhost.conftest import StartHost

WORKER_APP = "tests.devhost.apps.worker_app.function_app"


def where(host: DevhostProcess) -> dict:
    """The process id of the worker that answered, and how many calls that process has counted."""
    response = requests.get(f"{host.url}/api/where", headers={"x-functions-key": host.key}, timeout=30)
    response.raise_for_status()
    return response.json()


def sleep_over_http(host: DevhostProcess, folder: Path, name: str, seconds: float) -> requests.Response:
    return requests.post(
        f"{host.url}/api/sleep/{name}", json={"dir": str(folder), "seconds": seconds},
        headers={"x-functions-key": host.key}, timeout=60,
    )


def wait_for_file(path: Path, timeout_s: float = 10.0) -> str:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)
    return path.read_text()


def max_overlap(runs: list[dict]) -> int:
    """The most runs under way at one moment."""
    edges = sorted([(run["start"], 1) for run in runs] + [(run["end"], -1) for run in runs])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def test_an_activity_past_function_timeout_fails_with_its_siblings_and_is_retried(
    start_host: StartHost, hub_name: str, tmp_path: Path
) -> None:
    host = start_host(hub_name, app=WORKER_APP)
    where(host)

    retried = start(host, "retried", {"activity": "slow_first_time", "dir": str(tmp_path)})["id"]
    hung_pid = wait_for_file(tmp_path / "slow_first_time.started")
    sibling = start(host, "single", {"activity": "recorded_sleep", "name": "sibling", "seconds": 10,
                                     "dir": str(tmp_path)})["id"]

    body = wait_for(host, retried, showHistory=True)
    assert body["runtimeStatus"] == "Completed"
    assert body["output"].startswith("attempt after the timeout, in process ")
    assert body["output"] != f"attempt after the timeout, in process {hung_pid}"
    [failed] = events_of(body, "TaskFailed")
    assert failed["Reason"] == ("Activity function 'slow_first_time' failed: FunctionTimeoutException: "
                                "Timeout value of 00:00:03 was exceeded by function: Functions.slow_first_time")
    sibling_body = wait_for(host, sibling)
    assert sibling_body["runtimeStatus"] == "Failed"
    assert "Timeout value of 00:00:03 was exceeded by function: Functions.slow_first_time" in sibling_body["output"]
    assert (tmp_path / "sibling.started").read_text() == hung_pid
    assert not (tmp_path / "sibling.run").exists()
    assert not (tmp_path / "slow_first_time.run").exists()
    logs = host.logs()
    assert "Timeout value of 00:00:03 exceeded by function 'Functions.slow_first_time' (Id: '" in logs
    assert "Initiating cancellation." in logs
    assert "A function timeout has occurred. Restarting worker process executing invocationId '" in logs
    assert "Restart of language worker process(es) completed." in logs


def test_an_orchestrator_episode_past_function_timeout_runs_again(
    start_host: StartHost, hub_name: str, tmp_path: Path
) -> None:
    host = start_host(hub_name, app=WORKER_APP)
    where(host)

    body = wait_for(host, start(host, "slow_first_replay", {"dir": str(tmp_path)})["id"])

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == "replayed after the timeout"
    assert "Timeout value of 00:00:03 exceeded by function 'Functions.slow_first_replay'" in host.logs()


def test_a_worker_that_exits_is_replaced_and_its_activity_retried(
    start_host: StartHost, hub_name: str, tmp_path: Path
) -> None:
    host = start_host(hub_name, app=WORKER_APP)
    before = where(host)["pid"]

    body = wait_for(host, start(host, "retried", {"activity": "exits_first_time", "dir": str(tmp_path)})["id"],
                    showHistory=True)

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == "attempt after the exit"
    [failed] = events_of(body, "TaskFailed")
    assert failed["Reason"] == ("Activity function 'exits_first_time' failed: "
                                "WorkerProcessExitException: python exited with code 3")
    assert where(host)["pid"] != before
    assert f"Language Worker Process exited. Pid={before}." in host.logs()


def test_an_http_call_past_function_timeout_answers_500_and_a_fresh_worker_serves_the_next(
    start_host: StartHost, hub_name: str, tmp_path: Path
) -> None:
    host = start_host(hub_name, app=WORKER_APP)
    before = where(host)

    response = sleep_over_http(host, tmp_path, "long", 10)

    assert response.status_code == 500
    assert "Timeout value of 00:00:03 exceeded by function 'Functions.sleep'" in host.logs()
    after = where(host)
    assert after["pid"] != before["pid"]
    assert after["calls"] == 1
    assert not (tmp_path / "long.run").exists()


def test_two_worker_processes_share_the_work_and_each_keeps_its_own_state(
    start_host: StartHost, hub_name: str
) -> None:
    host = start_host(hub_name, app=WORKER_APP, env={"FUNCTIONS_WORKER_PROCESS_COUNT": "2"})

    answers = [where(host) for _ in range(6)]
    calls_by_pid: dict[int, list[int]] = {}
    for answer in answers:
        calls_by_pid.setdefault(answer["pid"], []).append(answer["calls"])
    assert len(calls_by_pid) == 2
    assert host.pid not in calls_by_pid
    assert sorted(calls_by_pid.values()) == [[1, 2, 3], [1, 2, 3]]

    body = wait_for(host, start(host, "spread", {"count": 8, "seconds": 0.3})["id"])
    assert body["runtimeStatus"] == "Completed"
    assert set(body["output"]) == set(calls_by_pid)


def test_one_pool_of_python_threadpool_thread_count_threads_runs_http_handlers_and_activities(
    start_host: StartHost, hub_name: str, tmp_path: Path
) -> None:
    host = start_host(hub_name, app=WORKER_APP, env={
        "PYTHON_THREADPOOL_THREAD_COUNT": "2", "AzureFunctionsJobHost__functionTimeout": "00:01:00",
    })
    where(host)

    with ThreadPoolExecutor(2) as callers:
        fan_out = start(host, "recorded_fan_out", {"count": 3, "seconds": 1, "dir": str(tmp_path)})["id"]
        handlers = [callers.submit(sleep_over_http, host, tmp_path, f"http-{i}", 1) for i in range(2)]
        body = wait_for(host, fan_out)
        assert [handler.result().status_code for handler in handlers] == [200, 200]

    assert body["runtimeStatus"] == "Completed"
    runs = [json.loads(path.read_text()) for path in tmp_path.glob("*.run")]
    assert sorted(run["name"] for run in runs) == ["activity-0", "activity-1", "activity-2", "http-0", "http-1"]
    assert max_overlap(runs) == 2
    assert "functionTimeout 00:01:00" in host.logs()


def test_lenient_runs_functions_in_devhost_without_a_timeout(
    start_host: StartHost, hub_name: str, tmp_path: Path
) -> None:
    host = start_host(hub_name, app=WORKER_APP, lenient=True)

    assert where(host)["pid"] == host.pid
    response = sleep_over_http(host, tmp_path, "long", 4)

    assert response.status_code == 200
    assert response.json()["pid"] == host.pid


def test_function_timeout_comes_from_host_json_unless_the_app_setting_overrides_it(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "functionTimeout": "00:05:30"}))

    assert read_host_config(tmp_path, {}).function_timeout == timedelta(minutes=5, seconds=30)
    overridden = read_host_config(tmp_path, {"AzureFunctionsJobHost__functionTimeout": "1.00:00:00"})
    assert overridden.function_timeout == timedelta(days=1)
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0"}))
    assert read_host_config(tmp_path, {}).function_timeout == timedelta(minutes=10)
    unbounded = read_host_config(tmp_path, {"AzureFunctionsJobHost__functionTimeout": "-1"})
    assert unbounded.function_timeout is None


@pytest.mark.parametrize("value", ["10", "-2", "00:00:00", "00:60:00", "ten minutes"])
def test_a_function_timeout_that_is_no_positive_time_span_is_refused(tmp_path: Path, value: str) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "functionTimeout": value}))

    with pytest.raises(ConfigError, match="functionTimeout"):
        read_host_config(tmp_path, {})
