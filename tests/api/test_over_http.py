"""The API over real HTTP on devhost: keys, status codes, problem bodies, polling, terminate."""

from __future__ import annotations

import time

import requests

from tests.orchestrators.conftest import CONSENT, create_project, seed
from tests.orchestrators.test_sync_project import account, accounts_project


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
                      "auth": {"type": "clientSecret", "tenantId": "t", "clientId": "c", "clientSecret": "s3cr3t"}})
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
    assert twin.api("GET", "projects/p-etag").json()["description"] == "one"


def test_polling_gives_202_with_retry_after_then_200_and_terminate_frees_the_lock(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(3_000)])
    requests.post(f"{twin.systems['cds'].url}/_sandbox/config", json={"record_cost_ms": 2}, timeout=10)
    create_project(twin, accounts_project("p-poll"))
    started = twin.api("POST", "projects/p-poll/runs")
    assert started.status_code == 202 and started.headers["Retry-After"]
    payload = started.json()
    assert {"id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri", "runId"} <= set(
        payload
    )
    durable = requests.get(payload["statusQueryGetUri"], timeout=10)
    assert durable.status_code == 202 and durable.json()["runtimeStatus"] in ("Pending", "Running")
    polled = twin.api("GET", f"runs/{payload['runId']}")
    assert polled.status_code == 202
    assert polled.headers["Location"] == f"/api/runs/{payload['runId']}" and polled.headers["Retry-After"]
    assert polled.json()["runtimeStatus"] in ("Pending", "Running")
    assert twin.api("POST", f"runs/{payload['runId']}/terminate").status_code == 202
    done = twin.api("GET", f"runs/{payload['runId']}")
    assert done.status_code == 200 and done.json()["runtimeStatus"] == "Terminated"
    deadline = time.monotonic() + 30
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
    """Saving does not wait long for a source that is down; `/validate` (and every run) checks the filter."""
    down = {"kind": "dataverse", "url": "http://127.0.0.1:9", "auth": {"type": "none"}}
    assert twin.api("PUT", "connections/sales-later", json=down).status_code == 201
    project = accounts_project("p-filter")
    project["connections"]["source"] = "sales-later"
    project["tasks"][0]["source"]["filter"] = "nosuchfield eq 1 and statecode eq 0"
    started = time.monotonic()
    create_project(twin, project)
    assert time.monotonic() - started < 30
    up = {**down, "url": twin.systems["sales"].url}
    assert twin.api("PUT", "connections/sales-later", json=up).status_code == 200
    checked = twin.api("POST", "projects/p-filter/validate").json()
    assert checked["ok"] is False
    assert [(p["field"], p["message"]) for p in checked["problems"]] == [
        ("source.filter", "the filter names 'nosuchfield', which accounts does not have")
    ]
