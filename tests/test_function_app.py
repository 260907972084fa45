"""What Azure will load is what devhost ran: every function's trigger, route, methods and auth level."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HTTP = {
    "health": ("health", ["GET"], "ANONYMOUS"),
    "put_connection": ("connections/{name}", ["PUT"], "FUNCTION"),
    "list_connections": ("connections", ["GET"], "FUNCTION"),
    "get_connection": ("connections/{name}", ["GET"], "FUNCTION"),
    "delete_connection": ("connections/{name}", ["DELETE"], "FUNCTION"),
    "list_templates": ("templates", ["GET"], "FUNCTION"),
    "get_template": ("templates/{name}", ["GET"], "FUNCTION"),
    "create_project": ("projects", ["POST"], "FUNCTION"),
    "list_projects": ("projects", ["GET"], "FUNCTION"),
    "get_project": ("projects/{id}", ["GET"], "FUNCTION"),
    "replace_project": ("projects/{id}", ["PUT"], "FUNCTION"),
    "delete_project": ("projects/{id}", ["DELETE"], "FUNCTION"),
    "get_consent": ("projects/{id}/consent", ["GET"], "FUNCTION"),
    "validate_project": ("projects/{id}/validate", ["POST"], "FUNCTION"),
    "start_run": ("projects/{id}/runs", ["POST"], "FUNCTION"),
    "list_runs": ("projects/{id}/runs", ["GET"], "FUNCTION"),
    "get_run": ("runs/{runId}", ["GET"], "FUNCTION"),
    "list_errors": ("runs/{runId}/errors", ["GET"], "FUNCTION"),
    "terminate": ("runs/{runId}/terminate", ["POST"], "FUNCTION"),
    "list_run_conflicts": ("runs/{runId}/conflicts", ["GET"], "FUNCTION"),
    "list_project_conflicts": ("projects/{id}/conflicts", ["GET"], "FUNCTION"),
    "resolve_conflict": ("projects/{id}/conflicts/{conflictId}/resolve", ["POST"], "FUNCTION"),
    "ui_overview": ("ui", ["GET"], "FUNCTION"),
    "ui_project": ("ui/projects/{id}", ["GET"], "FUNCTION"),
    "ui_run": ("ui/runs/{runId}", ["GET"], "FUNCTION"),
    "ui_asset": ("ui/assets/{name}", ["GET"], "FUNCTION"),
    "create_subscription": ("subscriptions", ["POST"], "FUNCTION"),
    "delete_subscription": ("subscriptions/{id}", ["DELETE"], "FUNCTION"),
    "get_openapi": ("openapi.json", ["GET"], "FUNCTION"),
}
ORCHESTRATORS = {"sync_project", "sync_task", "sync_leg", "load_pages", "sync_twoway", "merge_buckets"}
ACTIVITIES = {"begin_run", "extract_chunk", "resolve_bucket", "load_page", "record_task", "finish_run",
              "notify_run", "extract_side", "merge_range", "find_subscribers", "call_subscriber"}
DURABLE_CLIENTS = {"start_run", "get_run", "terminate"}
TIMERS = {"start_due_runs": "0 * * * * *"}


def test_every_function_has_the_bindings_azure_will_load(functions) -> None:
    assert set(functions) == set(HTTP) | ORCHESTRATORS | ACTIVITIES | set(TIMERS)
    for name, (route, methods, auth) in HTTP.items():
        bindings = json.loads(functions[name].get_function_json())["bindings"]
        trigger = next(b for b in bindings if b["type"] == "httpTrigger")
        assert trigger["route"] == route, name
        assert sorted(m.upper() for m in trigger["methods"]) == methods, name
        assert trigger["authLevel"].upper() == auth, name
        assert any(b["type"] == "http" and b["direction"] == "OUT" for b in bindings), name
        assert any(b["type"] == "durableClient" for b in bindings) == (name in DURABLE_CLIENTS), name
    for name in ORCHESTRATORS:
        assert [b["type"] for b in json.loads(functions[name].get_function_json())["bindings"]] == ["orchestrationTrigger"]
    for name, schedule in TIMERS.items():
        bindings = json.loads(functions[name].get_function_json())["bindings"]
        timer = next(b for b in bindings if b["type"] == "timerTrigger")
        assert timer["schedule"] == schedule and any(b["type"] == "durableClient" for b in bindings)
    for name in ACTIVITIES:
        assert [b["type"] for b in json.loads(functions[name].get_function_json())["bindings"]] == ["activityTrigger"]


def test_host_json_and_funcignore_keep_the_local_twin_out_of_a_deployment() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensionBundle"]["version"] == "[4.*, 5.0.0)"
    assert host["extensions"]["durableTask"]["hubName"] == "%TaskHubName%"
    ignored = (ROOT / ".funcignore").read_text().split()
    assert {"devhost/", "sandbox/", "twin/", "bench/", "tests/"} <= set(ignored)
    settings = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    assert settings["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
    # local-only keys, like devhost's function key: the subscription key is base64 of "local-dev-only-subscription-key!"
    assert all(v.startswith("<") or v in ("python", "UseDevelopmentStorage=true", "EnableWorkerIndexing",
                                          "local-dev-key", "DataIntegrationHub",
                                          "bG9jYWwtZGV2LW9ubHktc3Vic2NyaXB0aW9uLWtleSE=") for v in settings.values())
