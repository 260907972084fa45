"""The API over real HTTP on devhost: keys, status codes, problem bodies, polling, links, terminate."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.orchestrators.conftest import CONSENT, assert_balanced, create_project, errors_of, seed, sync_now
from tests.orchestrators.silent_server import silent_server
from tests.orchestrators.test_sync_project import account, accounts_project, dirty_sales


def test_function_key_is_required_but_health_is_open(twin) -> None:
    assert requests.get(f"{twin.url}/api/projects", timeout=10).status_code == 401
    assert requests.get(f"{twin.url}/api/projects", params={"code": twin.host.key}, timeout=10).status_code == 200
    health = requests.get(f"{twin.url}/api/health", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok", "storage": "ok"}


def test_bad_requests_are_problems_naming_the_field_and_write_nothing(twin) -> None:
    malformed = twin.api("PUT", "connections/x1", data=b'{"kind": ', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.headers["Content-Type"].startswith("application/problem+json")
    assert malformed.json()["errors"][0]["field"] == "body"
    secret = twin.api("PUT", "connections/x1", json={"kind": "dataverse", "url": "https://o.crm.dynamics.com",
                      "auth": {"type": "clientSecret", "tenantId": "8f0e2f86-3b4a-4c3e-9a51-2f4f0d6c1a11", "clientId": "c", "clientSecret": "s3cr3t"}})
    assert secret.status_code == 400 and "s3cr3t" not in secret.text
    assert twin.api("GET", "connections/x1").status_code == 404
    odd = twin.api("GET", "projects/a%20b")
    assert odd.status_code == 400 and odd.json()["errors"][0]["field"] == "id"
    unknown = twin.api("POST", "projects", json={**accounts_project("p-unknown"), "consent": CONSENT, "colour": 1})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "colour"
    no_consent = twin.api("POST", "projects", json=accounts_project("p-no-consent"))
    assert no_consent.status_code == 422
    assert twin.api("GET", "projects/p-no-consent").status_code == 404


def test_stale_etag_is_412(twin) -> None:
    created = create_project(twin, accounts_project("p-etag"))
    etag = twin.api("GET", "projects/p-etag").headers["ETag"]
    body = {k: v for k, v in created.items() if k != "name"}
    first = twin.api("PUT", "projects/p-etag", json={**body, "description": "one"}, headers={"If-Match": etag})
    assert first.status_code == 200
    stale = twin.api("PUT", "projects/p-etag", json={**body, "description": "two"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    for made_up in ('"stale-etag"', "garbage", "*x", "*"):
        refused = twin.api("PUT", "projects/p-etag", json={**body, "description": "two"}, headers={"If-Match": made_up})
        assert refused.status_code == 412, refused.text
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert refused.json()["errors"][0]["field"] == "If-Match"
    assert twin.api("GET", "projects/p-etag").json()["description"] == "one"


def test_polling_gives_202_with_retry_after_then_200_and_terminate_frees_the_lock(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(3_000)])
    requests.post(f"{twin.systems['cds'].url}/_sandbox/config", json={"record_cost_ms": 2}, timeout=10)
    create_project(twin, accounts_project("p-poll"))
    started = twin.api("POST", "projects/p-poll/runs")
    assert started.status_code == 202 and started.headers["Retry-After"]
    payload = started.json()
    assert set(payload) == {"id", "runId", "statusQueryGetUri"} and payload["id"] == payload["runId"]
    assert started.headers["Location"] == f"{twin.url}/api/runs/{payload['runId']}"
    durable = requests.get(payload["statusQueryGetUri"], timeout=10)
    assert durable.status_code == 202 and durable.json()["runtimeStatus"] in ("Pending", "Running")
    polled = twin.api("GET", f"runs/{payload['runId']}")
    assert polled.status_code == 202
    assert polled.headers["Location"] == f"{twin.url}/api/runs/{payload['runId']}" and polled.headers["Retry-After"]
    assert polled.json()["errorsUri"] == f"{twin.url}/api/runs/{payload['runId']}/errors"
    assert polled.json()["runtimeStatus"] in ("Pending", "Running")
    deadline = time.monotonic() + 300  # a guard against hanging, not a measure: a loaded machine is slow
    # stop it while it loads: a stop mark seen by begin_run ends the orchestration itself (Durable: Completed)
    while not polled.json().get("liveLegs"):
        assert polled.status_code == 202 and time.monotonic() < deadline, polled.text
        time.sleep(0.05)
        polled = twin.api("GET", f"runs/{payload['runId']}")
    assert twin.api("POST", f"runs/{payload['runId']}/terminate").status_code == 202
    while (done := twin.api("GET", f"runs/{payload['runId']}")).status_code == 202:
        assert done.json()["runtimeStatus"] in ("Pending", "Running") and time.monotonic() < deadline
        time.sleep(0.2)
    assert done.status_code == 200 and done.json()["runtimeStatus"] == "Terminated"
    while requests.get(payload["statusQueryGetUri"], timeout=10).json()["runtimeStatus"] != "Terminated":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    requests.post(f"{twin.systems['cds'].url}/_sandbox/config", json={"record_cost_ms": 0}, timeout=10)
    again = twin.api("POST", "projects/p-poll/runs")
    assert again.status_code == 202
    assert twin.follow(again)["runtimeStatus"] == "Succeeded"
    history = twin.api("GET", "projects/p-poll/runs", params={"top": "5"}).json()
    assert [r["runtimeStatus"] for r in history] == ["Succeeded", "Terminated"]


def test_a_filter_saved_while_its_source_was_down_is_checked_before_the_run(twin) -> None:
    """Saving does not wait for a source that never answers; `/validate` (and every run) checks the filter.

    The save is answered although the source still holds the describe request it was sent
    (a save waiting for it would outlast the client's read timeout).
    """
    with silent_server() as silent:
        down = {"kind": "dataverse", "url": silent.url, "auth": {"type": "none"}}
        assert twin.api("PUT", "connections/sales-later", json=down).status_code == 201
        project = accounts_project("p-filter")
        project["connections"]["source"] = "sales-later"
        project["tasks"][0]["source"]["filter"] = "nosuchfield eq 1 and statecode eq 0"
        create_project(twin, project)
        assert any(b"/api/data/v9.2/" in sent for sent in silent.requests), silent.requests
    up = {**down, "url": twin.systems["sales"].url, "consent": CONSENT}
    assert twin.api("PUT", "connections/sales-later", json=up).status_code == 200
    checked = twin.api("POST", "projects/p-filter/validate").json()
    assert checked["ok"] is False
    assert [(p["field"], p["message"]) for p in checked["problems"]] == [
        ("source.filter", "the filter names 'nosuchfield', which accounts does not have")
    ]


def test_a_caller_with_code_polls_by_location_alone_and_a_header_key_is_never_copied(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(200)])
    requests.post(f"{twin.systems['cds'].url}/_sandbox/config", json={"latency_ms": 300}, timeout=10)
    create_project(twin, accounts_project("p-code"))
    code = {"code": twin.host.key}
    started = requests.post(f"{twin.url}/api/projects/p-code/runs", params=code, timeout=60)
    assert started.status_code == 202, started.text
    run_id = started.json()["runId"]
    location = started.headers["Location"]
    assert location.startswith(f"{twin.url}/api/runs/{run_id}?") and parse_qs(urlsplit(location).query) == {
        "code": [twin.host.key]
    }
    refused = requests.post(f"{twin.url}/api/projects/p-code/runs", params=code, timeout=60)
    assert refused.status_code == 409 and refused.headers["Location"] == location == refused.json()["location"]
    by_header = twin.api("POST", "projects/p-code/runs")
    assert by_header.status_code == 409
    assert by_header.headers["Location"] == f"{twin.url}/api/runs/{run_id}" and twin.host.key not in by_header.text
    polled = requests.get(location, timeout=60)
    assert polled.status_code == 202 and polled.headers["Location"] == location
    errors_uri = urlsplit(polled.json()["errorsUri"])
    assert errors_uri.path == f"/api/runs/{run_id}/errors" and parse_qs(errors_uri.query) == {"code": [twin.host.key]}
    requests.post(f"{twin.systems['cds'].url}/_sandbox/config", json={"latency_ms": 0}, timeout=10)
    deadline = time.monotonic() + 300
    while polled.status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(float(polled.headers["Retry-After"]))
        polled = requests.get(polled.headers["Location"], timeout=60)
    assert polled.status_code == 200 and polled.json()["runtimeStatus"] == "Succeeded"
    assert requests.get(polled.json()["errorsUri"], timeout=60).json() == {"value": [], "continuationToken": None}


LONGEST_TASK_NAMES = ["表" * 128, "🚀" * 128, ('Kunden "A/B" \\ #1? ' * 6).ljust(128, ".")]


@pytest.mark.parametrize("task_name", LONGEST_TASK_NAMES, ids=["cjk", "emoji", "quotes-and-slashes"])
def test_a_task_with_the_longest_name_in_any_script_runs_to_completion(clean, task_name: str) -> None:
    twin = clean
    assert len(task_name) == 128
    seed(twin, "sales", "accounts", dirty_sales(40))
    project = accounts_project(f"p-long-{LONGEST_TASK_NAMES.index(task_name)}")
    project["tasks"][0]["name"] = task_name
    create_project(twin, project)
    first = sync_now(twin, project["name"])
    assert first["runtimeStatus"] == "Warning", first
    assert_balanced(first)
    assert [task["name"] for task in first["tasks"]] == [task_name]
    errors = {(e["leg"], e["field"]): e for e in errors_of(twin, first)}
    assert set(errors) == {("sourceToCds", "address1_country"), ("cdsToDestination", "OrganizationName")}
    assert {e["task"] for e in errors.values()} == {task_name}
    assert len(twin.records("cds", "accounts")) == first["tasks"][0]["legs"][0]["written"]
    again = sync_now(twin, project["name"], mode="incremental")
    assert again["runtimeStatus"] in ("Succeeded", "Warning"), again
    assert_balanced(again)
