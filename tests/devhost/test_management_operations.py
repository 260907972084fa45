"""The management API's operations as the Durable extension answers them: suspend, resume,
rewind, restart, raised events, status headers, and what devhost does not run (entities)."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from devhost.process import DevhostProcess
from tests.devhost.client import events_of, post, run, start, status, wait_for, wait_until

REWIND_ONLY_FAILED = "The rewind operation is only supported on failed orchestration instances."


def webhook_base(host: DevhostProcess) -> str:
    return f"{host.url}/runtime/webhooks/durabletask"


def test_a_suspended_instance_holds_its_events_until_resumed(devhost: DevhostProcess) -> None:
    instance_id = start(devhost, "approval")["id"]
    wait_until(devhost, instance_id, "Running")

    assert post(devhost, instance_id, "resume").status_code == 500  # only a Suspended instance resumes
    assert post(devhost, instance_id, "suspend", reason="audit").status_code == 202
    wait_until(devhost, instance_id, "Suspended")
    assert post(devhost, instance_id, "suspend").status_code == 500  # already suspended
    assert post(devhost, instance_id, "raiseEvent/approve", "yes").status_code == 202
    time.sleep(1)
    held = status(devhost, instance_id, showHistory=True)
    assert held.status_code == 202 and held.json()["runtimeStatus"] == "Suspended"
    assert held.headers["Retry-After"] == "5"
    assert not events_of(held.json(), "EventRaised")

    assert post(devhost, instance_id, "resume", reason="ok").status_code == 202
    done = wait_for(devhost, instance_id, showHistory=True)
    assert done["output"] == "yes"
    assert [e["Reason"] for e in events_of(done, "ExecutionSuspended") + events_of(done, "ExecutionResumed")] == [
        "audit", "ok",
    ]
    assert post(devhost, instance_id, "suspend").status_code == 410
    assert post(devhost, "nobody", "suspend").status_code == 404


def test_rewind_runs_the_failed_activity_again(devhost: DevhostProcess, tmp_path: Path) -> None:
    failed = run(devhost, "calls_flaky_once", {"dir": str(tmp_path), "failures": 1})
    assert failed["runtimeStatus"] == "Failed"

    assert post(devhost, failed["instanceId"], "rewind", reason="retry").status_code == 202
    body = wait_for(devhost, failed["instanceId"], showHistory=True)

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == 2
    assert len(list(tmp_path.glob("attempt-*"))) == 2
    assert [e["Data"] for e in events_of(body, "GenericEvent")][:2] == ["Rewound: TaskFailed",
                                                                         "Rewound: ExecutionCompleted"]
    assert post(devhost, failed["instanceId"], "rewind").status_code == 410  # Completed


def test_rewind_gives_a_retried_call_its_last_attempt_again(devhost: DevhostProcess, tmp_path: Path) -> None:
    failed = run(devhost, "retry_flaky", {"dir": str(tmp_path), "failures": 3})
    assert failed["runtimeStatus"] == "Failed"

    assert post(devhost, failed["instanceId"], "rewind").status_code == 202
    body = wait_for(devhost, failed["instanceId"])

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == {"attempts": 4, "after": [2, 4]}


def test_rewinding_a_parent_rewinds_its_failed_sub_orchestration(devhost: DevhostProcess, tmp_path: Path) -> None:
    failed = run(devhost, "parent_of_flaky", {"dir": str(tmp_path), "failures": 1})
    child_id = f"{failed['instanceId']}:0"
    assert failed["runtimeStatus"] == "Failed"
    assert wait_for(devhost, child_id)["runtimeStatus"] == "Failed"

    assert post(devhost, failed["instanceId"], "rewind").status_code == 202

    assert wait_for(devhost, failed["instanceId"])["output"] == {"child": 2}
    assert wait_for(devhost, child_id)["runtimeStatus"] == "Completed"


def test_restart_runs_an_instance_again_with_its_input(devhost: DevhostProcess) -> None:
    finished = run(devhost, "fan_out", {"count": 3})
    again = post(devhost, finished["instanceId"], "restart", restartWithNewInstanceId="true")
    assert again.status_code == 202
    assert again.headers["Retry-After"] == "10" and again.headers["Location"] == again.json()["statusQueryGetUri"]
    new_id = again.json()["id"]
    assert new_id != finished["instanceId"]
    assert wait_for(devhost, new_id)["output"] == [0, 2, 4]

    waiting = start(devhost, "approval")["id"]
    first_start = _started_at(wait_until(devhost, waiting, "Running"))
    same = post(devhost, waiting, "restart")
    assert same.status_code == 202 and same.json()["id"] == waiting
    deadline = time.monotonic() + 30
    while (body := wait_until(devhost, waiting, "Running")) and _started_at(body) in (None, first_start):
        assert time.monotonic() < deadline, f"instance {waiting} was not started again: {body}"
        time.sleep(0.05)
    assert post(devhost, waiting, "raiseEvent/approve", "after restart").status_code == 202
    assert wait_for(devhost, waiting)["output"] == "after restart"

    unknown = post(devhost, "nobody", "restart")
    assert unknown.status_code == 400
    assert unknown.json()["Message"] == "InstanceId does not match a valid orchestration instance."


def test_bodies_are_decoded_once(devhost: DevhostProcess) -> None:
    instance_id = start(devhost, "approval")["id"]
    wait_until(devhost, instance_id, "Running")

    raised = requests.post(f"{webhook_base(devhost)}/instances/{instance_id}/raiseEvent/approve",
                           params={"code": devhost.system_key}, data=b'"9361"',
                           headers={"Content-Type": "application/json"}, timeout=30)

    assert raised.status_code == 202
    assert wait_for(devhost, instance_id)["output"] == "9361"
    plain = requests.post(f"{webhook_base(devhost)}/instances/{instance_id}/raiseEvent/approve",
                          params={"code": devhost.system_key}, data=b"1", timeout=30)
    assert plain.status_code == 410
    started = requests.post(f"{webhook_base(devhost)}/orchestrators/fan_out", params={"code": devhost.system_key},
                            data=b'{"count": 2}', timeout=30)
    assert started.status_code == 202
    assert set(started.json()) == {"id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri",
                                   "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri"}
    assert wait_for(devhost, started.json()["id"])["input"] == {"count": 2}
    broken = requests.post(f"{webhook_base(devhost)}/orchestrators/fan_out", params={"code": devhost.system_key},
                           data=b"{not json", timeout=30)
    assert broken.status_code == 400 and broken.json()["Message"] == "Invalid JSON content"


def test_a_raised_event_must_be_json(devhost: DevhostProcess) -> None:
    instance_id = start(devhost, "approval")["id"]
    wait_until(devhost, instance_id, "Running")

    refused = requests.post(f"{webhook_base(devhost)}/instances/{instance_id}/raiseEvent/approve",
                            params={"code": devhost.system_key}, data=b"yes",
                            headers={"Content-Type": "text/plain"}, timeout=30)

    assert refused.status_code == 400
    assert refused.json()["Message"] == "Only application/json request content is supported"


def test_status_asks_for_5_seconds_and_failures_can_answer_500(devhost: DevhostProcess) -> None:
    instance_id = start(devhost, "approval")["id"]
    running = status(devhost, instance_id)
    assert running.status_code == 202 and running.headers["Retry-After"] == "5"

    failed = run(devhost, "parent_of_failing", "boom")
    url = f"{webhook_base(devhost)}/instances/{failed['instanceId']}"
    assert requests.get(url, params={"code": devhost.system_key}, timeout=30).status_code == 200
    assert requests.get(url, params={"code": devhost.system_key, "returnInternalServerErrorOnFailure": "true"},
                        timeout=30).status_code == 500
    assert post(devhost, instance_id, "rewind").json()["ExceptionMessage"] == REWIND_ONLY_FAILED


def test_entities_answer_as_the_extension_without_entity_functions(devhost: DevhostProcess) -> None:
    entities = f"{webhook_base(devhost)}/entities"
    code = {"code": devhost.system_key}

    assert requests.get(f"{entities}/counter/k", params=code, timeout=30).status_code == 404
    listed = requests.get(f"{entities}/counter", params=code, timeout=30)
    assert listed.status_code == 200 and listed.json() == []
    signal = requests.post(f"{entities}/counter/k", params={**code, "op": "add"}, json=1, timeout=30)
    assert signal.status_code == 400
    assert signal.json()["Message"] == (
        "The function 'counter' doesn't exist, is disabled, or is not an entity function. "
        "Additional info: The following are the known entity functions: ''."
    )
    body = run(devhost, "calls_an_entity")
    assert body["runtimeStatus"] == "Failed"
    assert "The function 'counter' doesn't exist, is disabled, or is not an entity function." in body["output"]


def test_start_can_wait_for_the_outcome(devhost: DevhostProcess) -> None:
    orchestrators = f"{webhook_base(devhost)}/orchestrators"
    waiting = {"code": devhost.system_key, "timeout": "20", "pollingInterval": "0.2"}

    completed = requests.post(f"{orchestrators}/fan_out", params=waiting, json={"count": 2}, timeout=30)
    pending = requests.post(f"{orchestrators}/approval", params={**waiting, "timeout": "1"}, timeout=30)

    assert completed.status_code == 200 and completed.json() == [0, 2]
    assert pending.status_code == 202 and pending.headers["Retry-After"] == "10"
    entity_like = requests.post(f"{orchestrators}/approval/@counter@k", params={"code": devhost.system_key},
                                timeout=30)
    assert entity_like.status_code == 400
    assert entity_like.json()["ExceptionMessage"] == "Orchestration instance ids must not start with @."


def _started_at(status: dict) -> str | None:
    """When the instance's current execution started, from its history (None while it has none yet)."""
    return next((e["Timestamp"] for e in status["historyEvents"] if e["EventType"] == "ExecutionStarted"), None)
