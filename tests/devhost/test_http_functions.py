"""HTTP functions on devhost: routes, methods, auth levels, requests and responses, clean stop."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from devhost.process import DevhostProcess
from tests.devhost.conftest import StartHost


def test_anonymous_route_is_open_and_function_routes_need_the_key(devhost: DevhostProcess) -> None:
    hello = f"{devhost.url}/api/hello/ana"

    assert requests.get(f"{devhost.url}/api/ping", timeout=30).text == "pong"
    assert requests.get(hello, timeout=30).status_code == 401
    assert requests.get(hello, headers={"x-functions-key": "wrong"}, timeout=30).status_code == 401
    assert requests.get(hello, headers={"x-functions-key": devhost.key}, timeout=30).status_code == 200
    assert requests.get(hello, params={"code": devhost.key}, timeout=30).status_code == 200
    webhook = f"{devhost.url}/runtime/webhooks/durabletask/instances/nobody"
    assert requests.get(webhook, timeout=30).status_code == 401
    assert requests.get(webhook, params={"code": devhost.system_key}, timeout=30).status_code == 404


def test_routes_methods_and_parameters_reach_the_function(devhost: DevhostProcess) -> None:
    key = {"x-functions-key": devhost.key}

    full = requests.get(f"{devhost.url}/api/hello/ana/3", params={"lang": "pt"}, headers={**key, "x-agent": "t"},
                        timeout=30)
    short = requests.get(f"{devhost.url}/api/Hello/bo", headers=key, timeout=30)

    assert full.headers["content-type"].startswith("application/json")
    assert full.json() == {"route": {"name": "ana", "times": "3"}, "query": {"lang": "pt"}, "agent": "t"}
    assert short.json()["route"] == {"name": "bo"}
    assert requests.get(f"{devhost.url}/api/hello/an4", headers=key, timeout=30).status_code == 404
    assert requests.get(f"{devhost.url}/api/hello/ana/x", headers=key, timeout=30).status_code == 404
    assert requests.post(f"{devhost.url}/api/hello/ana", headers=key, timeout=30).status_code == 404
    assert requests.get(f"{devhost.url}/api/nowhere", timeout=30).status_code == 404


def test_request_body_headers_and_context_round_trip(devhost: DevhostProcess) -> None:
    body = bytes(range(256))

    response = requests.put(f"{devhost.url}/api/echo", data=body, headers={"x-functions-key": devhost.key},
                            timeout=30)

    assert response.status_code == 201
    assert response.content == body
    assert response.headers["x-method"] == "PUT"
    assert response.headers["content-type"].startswith("application/octet-stream")
    assert len(response.headers["x-invocation"]) == 36


def test_invocations_are_logged_without_their_data(devhost: DevhostProcess) -> None:
    secret = "customer-record-4711"
    requests.put(f"{devhost.url}/api/echo", data=secret, headers={"x-functions-key": devhost.key}, timeout=30)

    assert devhost.stop() == 0
    logs = devhost.logs()
    assert logs.count("listening on ") == 1
    reason = "This function was programmatically called via the host APIs."
    assert f"Executing 'Functions.echo' (Reason='{reason}', Id=" in logs
    assert "Executed 'Functions.echo' (Succeeded, Id=" in logs
    assert secret not in logs


def test_the_real_app_is_served_unchanged(start_host: StartHost, hub_name: str) -> None:
    host = start_host(hub_name, app=None, env={"TaskHubName": hub_name})

    response = requests.get(f"{host.url}/api/health", timeout=30)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "storage": "ok"}


def test_an_app_folder_with_its_local_settings(start_host: StartHost, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DEVHOST_FUNCTION_KEY", raising=False)
    app = tmp_path / "app"
    app.mkdir()
    (app / "function_app.py").write_text(SETTINGS_APP)
    (app / "local.settings.json").write_text(json.dumps(
        {"Values": {"DEVHOST_FUNCTION_KEY": "from-settings", "GREETING": "hi from settings"}}
    ))

    host = start_host("unused", app=app)

    assert host.key == "from-settings"
    assert requests.get(f"{host.url}/api/greeting", timeout=30).status_code == 401
    assert requests.get(f"{host.url}/api/greeting", params={"code": host.key}, timeout=30).text == "hi from settings"


SETTINGS_APP = '''
import os

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="greeting")
def greeting(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(os.environ["GREETING"])
'''
