"""The unchanged durable client, in the app's HTTP functions, against devhost's management API."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from devhost.process import DevhostProcess
from tests.devhost.client import start, status, wait_for

MANAGEMENT_URLS = {
    "id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "rewindPostUri",
    "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri",
}


def test_client_starts_an_instance_and_its_status_url_answers_202_then_200(
    devhost: DevhostProcess, hub_name: str, tmp_path: Path
) -> None:
    response = requests.post(
        f"{devhost.url}/api/orchestrators/slow_fan_out",
        json={"count": 3, "dir": str(tmp_path), "seconds": 1},
        headers={"x-functions-key": devhost.key},
        timeout=30,
    )

    assert response.status_code == 202
    payload = response.json()
    assert set(payload) == MANAGEMENT_URLS
    assert response.headers["Location"] == payload["statusQueryGetUri"]
    for name, url in payload.items():
        if name != "id":
            assert url.startswith(f"{devhost.url}/runtime/webhooks/durabletask/instances/{payload['id']}")
            assert f"taskHub={hub_name}" in url and f"code={devhost.system_key}" in url
    running = requests.get(payload["statusQueryGetUri"], timeout=30)
    assert running.status_code == 202
    assert running.json()["runtimeStatus"] in ("Pending", "Running")
    assert running.headers["Location"] == payload["statusQueryGetUri"]
    deadline = time.monotonic() + 30
    while (done := requests.get(payload["statusQueryGetUri"], timeout=30)).status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert done.status_code == 200
    assert done.json()["runtimeStatus"] == "Completed"
    assert done.json()["output"] == [0, 1, 4]


def test_custom_status_and_a_raised_event_through_the_status_urls(devhost: DevhostProcess) -> None:
    payload = start(devhost, "approval")
    deadline = time.monotonic() + 30
    while (body := requests.get(payload["statusQueryGetUri"], timeout=30).json())["customStatus"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert body["customStatus"] == {"stage": "waiting for approval"}
    assert body["runtimeStatus"] == "Running"

    raised = requests.post(payload["sendEventPostUri"].replace("{eventName}", "approve"), json={"by": "ana"},
                           timeout=30)

    assert raised.status_code == 202
    done = wait_for(devhost, payload["id"])
    assert done["output"] == {"by": "ana"}
    assert done["customStatus"] == {"stage": "approved"}


def test_client_raises_events_terminates_lists_and_purges(devhost: DevhostProcess) -> None:
    first = start(devhost, "approval", instance_id="order-1")["id"]
    second = start(devhost, "approval", instance_id="order-2")["id"]
    headers = {"x-functions-key": devhost.key}
    wait_until_running(devhost, first)
    wait_until_running(devhost, second)

    listed = requests.get(f"{devhost.url}/api/instances", params={"status": "Running"}, headers=headers, timeout=30)
    assert listed.json() == ["order-1", "order-2"]
    event = requests.post(f"{devhost.url}/api/instances/order-1/approve", json={"by": "bo"}, headers=headers,
                          timeout=30)
    assert event.status_code == 202
    stopped = requests.post(f"{devhost.url}/api/instances/order-2/terminate", params={"reason": "no longer needed"},
                            headers=headers, timeout=30)
    assert stopped.status_code == 202

    # The SDK's raise_event posts its JSON text as a JSON string and the extension decodes the body
    # once, so the orchestrator receives that text (azure-functions-durable-python issue 295).
    assert wait_for(devhost, first)["output"] == '{"by": "bo"}'
    terminated = wait_for(devhost, second)
    assert terminated["runtimeStatus"] == "Terminated"
    assert terminated["output"] == "no longer needed"
    seen = requests.get(f"{devhost.url}/api/instances/order-1", headers=headers, timeout=30).json()
    assert seen["runtimeStatus"] == "Completed"
    assert "EventRaised" in [event["EventType"] for event in seen["historyEvents"]]
    purged = requests.delete(f"{devhost.url}/api/instances/order-2/purge", headers=headers, timeout=30)
    assert purged.json() == {"deleted": 1}
    assert status(devhost, "order-2").status_code == 404


def test_management_api_status_codes(devhost: DevhostProcess) -> None:
    webhook = f"{devhost.url}/runtime/webhooks/durabletask"
    code = {"code": devhost.system_key}
    started = requests.post(f"{webhook}/orchestrators/approval/dup-1", params=code, timeout=30)
    assert started.status_code == 202
    assert started.json()["id"] == "dup-1"

    restarted = requests.post(f"{webhook}/orchestrators/approval/dup-1", params=code, timeout=30)
    assert restarted.status_code == 202  # an id in use starts over (overridableExistingInstanceStates: AnyState)
    assert requests.post(f"{webhook}/orchestrators/missing", params=code, timeout=30).status_code == 400
    assert requests.post(f"{webhook}/orchestrators/approval/bad%23id", params=code, timeout=30).status_code == 400
    assert requests.get(f"{webhook}/instances/nobody", params=code, timeout=30).status_code == 404
    running_purge = requests.delete(f"{webhook}/instances/dup-1", params=code, timeout=30)
    assert running_purge.status_code == 200 and running_purge.json() == {"instancesDeleted": 0}
    assert requests.post(f"{webhook}/instances/nobody/terminate", params=code, timeout=30).status_code == 404
    terminate = requests.post(f"{webhook}/instances/dup-1/terminate", params={**code, "reason": "x"}, timeout=30)
    assert terminate.status_code == 202
    wait_for(devhost, "dup-1")
    assert requests.post(f"{webhook}/instances/dup-1/terminate", params=code, timeout=30).status_code == 410
    assert requests.post(f"{webhook}/instances/dup-1/raiseEvent/approve", params=code, json=1,
                         timeout=30).status_code == 410
    assert requests.post(f"{webhook}/orchestrators/approval/dup-1", params=code, timeout=30).status_code == 202
    rewind = requests.post(f"{webhook}/instances/dup-1/rewind", params=code, timeout=30)
    assert rewind.status_code == 500
    assert rewind.json()["ExceptionMessage"] == "The rewind operation is only supported on failed orchestration instances."


def test_listing_pages_with_a_continuation_token(devhost: DevhostProcess) -> None:
    for number in range(3):
        wait_for(devhost, start(devhost, "fan_out", {"count": 1}, instance_id=f"page-{number}")["id"])
    webhook = f"{devhost.url}/runtime/webhooks/durabletask/instances"
    params = {"code": devhost.system_key, "runtimeStatus": "Completed", "top": "2"}

    first = requests.get(webhook, params=params, timeout=30)
    token = first.headers["x-ms-continuation-token"]
    second = requests.get(webhook, params=params, headers={"x-ms-continuation-token": token}, timeout=30)

    assert [i["instanceId"] for i in first.json()] == ["page-0", "page-1"]
    assert [i["instanceId"] for i in second.json()] == ["page-2"]
    assert "x-ms-continuation-token" not in second.headers


def wait_until_running(host: DevhostProcess, instance_id: str) -> None:
    deadline = time.monotonic() + 30
    while status(host, instance_id).json()["runtimeStatus"] != "Running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
