"""`GET /api/health` through the real app: anonymous, and honest about storage."""

from __future__ import annotations

import json

import azure.functions as func

from devhost.azurite import connection_string, free_port


def call_health(functions: dict[str, object]) -> func.HttpResponse:
    request = func.HttpRequest("GET", "http://127.0.0.1:7071/api/health", body=b"")
    return functions["health"].get_user_function()(request)


def test_health_is_anonymous_on_its_route(functions: dict[str, object]) -> None:
    trigger = functions["health"].get_trigger()
    assert trigger.route == "health"
    assert str(trigger.auth_level).lower().endswith("anonymous")


def test_health_reports_reachable_storage(functions, storage_connection_string, monkeypatch) -> None:
    monkeypatch.setenv("AzureWebJobsStorage", storage_connection_string)
    response = call_health(functions)
    assert response.status_code == 200
    assert json.loads(response.get_body()) == {"status": "ok", "storage": "ok"}


def test_health_reports_unreachable_storage(functions, monkeypatch) -> None:
    closed = free_port()
    monkeypatch.setenv("AzureWebJobsStorage", connection_string("127.0.0.1", closed, closed, closed))
    response = call_health(functions)
    assert response.status_code == 503
    assert json.loads(response.get_body()) == {"status": "degraded", "storage": "unreachable"}


def test_health_reports_missing_storage_setting(functions, monkeypatch) -> None:
    for name in ("AzureWebJobsStorage", "AzureWebJobsStorage__accountName",
                 "AzureWebJobsStorage__tableServiceUri", "AzureWebJobsStorage__blobServiceUri"):
        monkeypatch.delenv(name, raising=False)
    response = call_health(functions)
    assert response.status_code == 503
    assert json.loads(response.get_body())["storage"] == "not configured"


def test_a_missing_storage_setting_is_the_service_s_500_naming_the_setting(api, monkeypatch) -> None:
    monkeypatch.delenv("AzureWebJobsStorage")
    answer = api("list_connections", "GET", "connections")
    assert answer.status == 500
    assert answer.body["title"] == "An app setting is missing or malformed"
    assert answer.body["errors"] == [{"field": "AzureWebJobsStorage", "message": answer.body["detail"]}]
