"""Small HTTP helpers the devhost tests share: start an orchestration through the app, wait for it."""

from __future__ import annotations

import time
from typing import Any

import requests

from devhost.process import DevhostProcess

HUB_SETTING = "DEVHOST_TEST_HUB"
FINISHED = ("Completed", "Failed", "Terminated")


def start(host: DevhostProcess, orchestrator: str, payload: Any = None, instance_id: str | None = None) -> dict:
    """Start `orchestrator` through the app's HTTP starter (the real durable client); the 202 payload."""
    response = requests.post(
        f"{host.url}/api/orchestrators/{orchestrator}",
        json=payload,
        params={"instance_id": instance_id} if instance_id else None,
        headers={"x-functions-key": host.key},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    return response.json()


def status(host: DevhostProcess, instance_id: str, **flags: bool) -> requests.Response:
    """GET the webhook status of an instance with the system key (flags: showHistory, showHistoryOutput, showInput)."""
    return requests.get(
        f"{host.url}/runtime/webhooks/durabletask/instances/{instance_id}",
        params={"code": host.system_key, **{name: str(value).lower() for name, value in flags.items()}},
        timeout=30,
    )


def wait_for(host: DevhostProcess, instance_id: str, timeout_s: float = 30.0, **flags: bool) -> dict:
    """Poll until the instance has finished; its final status."""
    deadline = time.monotonic() + timeout_s
    body: dict = {}
    while time.monotonic() < deadline:
        body = status(host, instance_id, **flags).json()
        if body["runtimeStatus"] in FINISHED:
            return body
        time.sleep(0.05)
    raise AssertionError(f"instance {instance_id} did not finish in {timeout_s} s: {body}")


def run(host: DevhostProcess, orchestrator: str, payload: Any = None, **flags: bool) -> dict:
    """Start an orchestration and wait for it to finish."""
    return wait_for(host, start(host, orchestrator, payload)["id"], **flags)


def events_of(body: dict, event_type: str) -> list[dict]:
    """The events of one type in a status with showHistory."""
    return [event for event in body["historyEvents"] if event["EventType"] == event_type]


def post(host: DevhostProcess, instance_id: str, operation: str, body: Any = None, **params: str) -> requests.Response:
    """POST an instance operation of the management webhook (`raiseEvent/{name}` takes `body` as JSON)."""
    return requests.post(
        f"{host.url}/runtime/webhooks/durabletask/instances/{instance_id}/{operation}",
        params={"code": host.system_key, **params}, json=body, timeout=30,
    )


def wait_until(host: DevhostProcess, instance_id: str, condition: str, timeout_s: float = 30.0) -> dict:
    """Poll the status (with history) until `condition` holds: a runtime status or a history event type."""
    deadline = time.monotonic() + timeout_s
    body: dict = {}
    while time.monotonic() < deadline:
        body = status(host, instance_id, showHistory=True).json()
        if body["runtimeStatus"] == condition or condition in [e["EventType"] for e in body["historyEvents"]]:
            return body
        time.sleep(0.05)
    raise AssertionError(f"instance {instance_id} never reached {condition}: {body}")
