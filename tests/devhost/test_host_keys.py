"""Function keys open the app's functions; only the system key opens the Durable webhooks and the RPC base."""

from __future__ import annotations

import pytest
import requests

from devhost.auth import SYSTEM_KEY_SETTING
from devhost.process import DevhostProcess
from tests.devhost.client import start, wait_for
from tests.devhost.conftest import StartHost

WEBHOOK_ROUTES = [
    ("POST", "orchestrators/approval"),
    ("POST", "orchestrators/approval/keyed-1"),
    ("GET", "instances"),
    ("DELETE", "instances?createdTimeFrom=2020-01-01T00:00:00Z"),
    ("GET", "instances/keyed-0"),
    ("DELETE", "instances/keyed-0"),
    ("POST", "instances/keyed-0/terminate?reason=x"),
    ("POST", "instances/keyed-0/raiseEvent/approve"),
    ("POST", "instances/keyed-0/rewind?reason=x"),
    ("POST", "instances/keyed-0/suspend?reason=x"),
    ("POST", "instances/keyed-0/resume?reason=x"),
    ("POST", "instances/keyed-0/restart"),
    ("GET", "entities/counter/one"),
]


def call(method: str, url: str, **kwargs: object) -> int:
    return requests.request(method, url, json="yes", timeout=30, **kwargs).status_code


@pytest.mark.parametrize(("method", "route"), WEBHOOK_ROUTES)
def test_every_webhook_refuses_a_function_key_and_takes_the_system_key(
    devhost: DevhostProcess, method: str, route: str
) -> None:
    url = f"{devhost.url}/runtime/webhooks/durabletask/{route}"
    separator = "&" if "?" in url else "?"

    assert call(method, url) == 401
    assert call(method, url, headers={"x-functions-key": devhost.key}) == 401
    assert call(method, f"{url}{separator}code={devhost.key}") == 401
    assert call(method, f"{url}{separator}code={devhost.system_key}x") == 401
    assert call(method, url, headers={"x-functions-key": devhost.system_key}) != 401
    assert call(method, f"{url}{separator}code={devhost.system_key}") != 401


def test_the_rpc_base_takes_only_the_system_key_in_its_path(devhost: DevhostProcess) -> None:
    instance = start(devhost, "fan_out", {"count": 2}, instance_id="rpc-1")["id"]
    wait_for(devhost, instance)
    rpc = f"{devhost.url}/durabletask"

    assert requests.get(f"{rpc}/instances/rpc-1", timeout=30).status_code == 401
    assert requests.get(f"{rpc}/instances/rpc-1", headers={"x-functions-key": devhost.key}, timeout=30).status_code == 401
    assert requests.get(f"{rpc}/instances/rpc-1", params={"code": devhost.system_key}, timeout=30).status_code == 401
    assert requests.get(f"{rpc}/{devhost.key}/instances/rpc-1", timeout=30).status_code == 401
    assert requests.post(f"{rpc}/{devhost.key}/orchestrators/fan_out", json='{"count": 1}',
                         timeout=30).status_code == 401
    keyed = requests.get(f"{rpc}/{devhost.system_key}/instances/rpc-1", timeout=30)
    assert keyed.status_code == 200
    assert keyed.json()["output"] == [0, 2]


def test_the_system_key_is_generated_and_never_logged(devhost: DevhostProcess) -> None:
    wait_for(devhost, start(devhost, "fan_out", {"count": 1})["id"])

    logs = devhost.logs()
    assert "devhost strictness: as Azure (" in logs
    assert "system_key" in logs
    assert devhost.system_key not in logs
    assert len(devhost.system_key) >= 40


def test_an_app_setting_sets_the_system_key(start_host: StartHost, hub_name: str) -> None:
    host = start_host(hub_name, env={SYSTEM_KEY_SETTING: "system-key-from-settings"})

    payload = start(host, "fan_out", {"count": 1})

    assert host.system_key == "system-key-from-settings"
    assert "code=system-key-from-settings" in payload["statusQueryGetUri"]
    assert requests.get(payload["statusQueryGetUri"], timeout=30).status_code in (200, 202)
    assert "system-key-from-settings" not in host.logs()


def test_lenient_keeps_the_one_function_key_everywhere(start_host: StartHost, hub_name: str) -> None:
    host = start_host(hub_name, lenient=True, poll_ms=20)

    payload = start(host, "fan_out", {"count": 3})

    assert host.system_key == host.key
    assert f"code={host.key}" in payload["statusQueryGetUri"]
    assert wait_for(host, payload["id"])["output"] == [0, 2, 4]
    assert "devhost strictness: lenient (" in host.logs()
    assert "poll_ms=20" in host.logs()
