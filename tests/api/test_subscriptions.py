"""`/api/subscriptions`: validation, the callback URL encrypted at rest, delete; through the real HTTP functions."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from azure.data.tables import TableServiceClient
from cryptography.fernet import Fernet

from api.responses import store
from shared.errors import RetryableError, SettingError
from shared.models import Run, RunStatus, TaskOutcome
from shared.openapi.shapes import RunSummary
from shared.subscriptions import call_back, cipher, subscribers
from tests.api.test_connections_and_projects import CDS, OPS, PROJECT, SALES, create, principal
from tests.webhooks import Hook, serving

SIGNATURE = "Zx9-q4RkVbLsT1mA0cWnE8yHuJ3pGfD6oI2eQ7tXk5Y"
CALLBACK = (
    "https://prod-42.westeurope.logic.azure.com:443/workflows/0a1b2c3d/triggers/manual/paths/invoke"
    f"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIGNATURE}"
)


@pytest.fixture
def keyed(api, monkeypatch):
    monkeypatch.setenv("DI_SUBSCRIPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.delenv("DI_ALLOW_UNAUTHENTICATED_CONNECTIONS", raising=False)
    return api


def subscribe(api, body, **kwargs):
    return api("create_subscription", "POST", "subscriptions", body, **kwargs)


def raw_rows(storage_connection_string: str) -> list[dict]:
    table = f"{os.environ['DI_TABLE_PREFIX']}subscriptions"
    client = TableServiceClient.from_connection_string(storage_connection_string).create_table_if_not_exists(table)
    return [dict(row) for row in client.list_entities()]


def test_a_subscription_keeps_its_callback_encrypted(keyed, storage_connection_string) -> None:
    answer = subscribe(keyed, {"callbackUrl": CALLBACK, "on": ["Failed", "Warning"]})

    assert answer.status == 201, answer.body
    subscription_id = answer.body["id"]
    assert answer.headers["Location"] == f"http://127.0.0.1:7071/api/subscriptions/{subscription_id}"
    rows = raw_rows(storage_connection_string)
    assert len(rows) == 1
    stored = json.dumps(rows, default=str)
    assert SIGNATURE not in stored and "logic.azure.com" not in stored and "workflows" not in stored
    token = json.loads(rows[0]["Json0"])["callback"]
    assert cipher().decrypt(token.encode()).decode() == CALLBACK


def test_the_subscriptions_that_want_a_run_are_found_by_project_and_status(keyed) -> None:
    for name, body in (("sales", SALES), ("cds", CDS), ("operations", OPS)):
        assert keyed("put_connection", "PUT", f"connections/{name}", body, route={"name": name}).status == 201
    assert create(keyed, PROJECT).status == 201
    anything = subscribe(keyed, {"callbackUrl": CALLBACK}).body["id"]
    failures = subscribe(keyed, {"callbackUrl": CALLBACK, "projects": ["accounts-sync"], "on": ["Failed"]}).body["id"]
    assert subscribers(store(), "accounts-sync", "Failed") == sorted([anything, failures])
    assert subscribers(store(), "accounts-sync", "Succeeded") == [anything]
    assert subscribers(store(), "other", "Failed") == [anything]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"callbackUrl": CALLBACK, "extra": 1}, "extra"),
        ({}, "callbackUrl"),
        ({"callbackUrl": "ftp://example.com/hook"}, "callbackUrl"),
        ({"callbackUrl": "https://"}, "callbackUrl"),
        ({"callbackUrl": "https://user:pw@example.com/hook"}, "callbackUrl"),
        ({"callbackUrl": "https://example.com:99999/hook"}, "callbackUrl"),
        ({"callbackUrl": "http://example.com/hook"}, "callbackUrl"),
        ({"callbackUrl": CALLBACK, "on": ["Done"]}, "on.0"),
        ({"callbackUrl": CALLBACK, "on": []}, "on"),
        ({"callbackUrl": CALLBACK, "on": ["Failed", "Failed"]}, "on"),
        ({"callbackUrl": CALLBACK, "projects": []}, "projects"),
        ({"callbackUrl": CALLBACK, "projects": ["no/such"]}, "projects.0"),
        ({"callbackUrl": CALLBACK, "projects": ["nosuchproject"]}, "projects.0"),
        ({"callbackUrl": 42}, "callbackUrl"),
        ([CALLBACK], "body"),
    ],
)
def test_a_bad_subscription_is_a_400_naming_the_field_and_nothing_is_kept(
    keyed, storage_connection_string, body, field
) -> None:
    answer = subscribe(keyed, body)

    assert answer.status == 400, answer.body
    assert answer.mimetype == "application/problem+json"
    assert field in [e["field"] for e in answer.body["errors"]]
    assert SIGNATURE not in json.dumps(answer.body)
    assert raw_rows(storage_connection_string) == []


def test_malformed_json_is_a_400(keyed, storage_connection_string) -> None:
    answer = keyed("create_subscription", "POST", "subscriptions", raw=b'{"callbackUrl": ')

    assert answer.status == 400 and answer.body["errors"][0]["field"] == "body"
    assert raw_rows(storage_connection_string) == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8123/hook", "http://localhost/hook", "http://[::1]:80/hook"])
def test_plain_http_reaches_a_loopback_host(keyed, url) -> None:
    assert subscribe(keyed, {"callbackUrl": url}).status == 201


def test_plain_http_elsewhere_needs_the_twins_setting(keyed, monkeypatch) -> None:
    monkeypatch.setenv("DI_ALLOW_UNAUTHENTICATED_CONNECTIONS", "true")

    assert subscribe(keyed, {"callbackUrl": "http://receiver.internal/hook"}).status == 201


@pytest.mark.parametrize("key", [None, "not-a-fernet-key", ","])
def test_a_missing_or_malformed_key_is_a_500_naming_the_setting(
    api, monkeypatch, storage_connection_string, key
) -> None:
    if key is None:
        monkeypatch.delenv("DI_SUBSCRIPTION_KEY", raising=False)
    else:
        monkeypatch.setenv("DI_SUBSCRIPTION_KEY", key)

    answer = subscribe(api, {"callbackUrl": CALLBACK})

    assert answer.status == 500, answer.body
    assert answer.body["errors"] == [{"field": "DI_SUBSCRIPTION_KEY", "message": answer.body["detail"]}]
    assert raw_rows(storage_connection_string) == []


def test_a_rotated_key_still_reads_what_the_old_one_wrote(keyed, monkeypatch) -> None:
    old = os.environ["DI_SUBSCRIPTION_KEY"]
    token = cipher().encrypt(CALLBACK.encode())
    monkeypatch.setenv("DI_SUBSCRIPTION_KEY", f"{Fernet.generate_key().decode()},{old}")

    assert cipher().decrypt(token).decode() == CALLBACK


def test_delete_forgets_the_subscription(keyed, storage_connection_string) -> None:
    subscription_id = subscribe(keyed, {"callbackUrl": CALLBACK}).body["id"]

    def delete(name: str):
        return keyed("delete_subscription", "DELETE", f"subscriptions/{name}", route={"id": name})

    assert delete(subscription_id).status == 204
    assert raw_rows(storage_connection_string) == []
    assert delete(subscription_id).status == 404
    assert delete("not-an-id").status == 400


def test_operators_may_subscribe_and_a_principal_without_a_role_may_not(keyed) -> None:
    assert subscribe(keyed, {"callbackUrl": CALLBACK}, headers=principal("DataIntegration.Operator")).status == 201
    refused = subscribe(keyed, {"callbackUrl": CALLBACK}, headers=principal("Reader"))
    assert refused.status == 403


@pytest.fixture
def hook() -> Iterator[tuple[str, Hook]]:
    """A callback receiver answering 200 (a test may change `status`; a 3xx sends a Location to `/elsewhere`)."""
    state = Hook()
    with serving(state, f"/hook?sig={SIGNATURE}") as url:
        yield url, state


def finished_run(project: str = "accounts-sync") -> str:
    now = datetime.now(UTC)
    run = Run(runId="r20260101120000abcdef01", projectId=project, status=RunStatus.WARNING, createdTime=now,
              lastUpdatedTime=now, tasks=[TaskOutcome(name="Accounts", status=RunStatus.WARNING, read=3, written=2,
                                                      failed=1)])
    store().runs.create(run)
    return run.runId


def test_a_callback_gets_the_run_summary(keyed, hook) -> None:
    url, state = hook
    run_id = finished_run()
    subscription_id = subscribe(keyed, {"callbackUrl": url}).body["id"]

    assert call_back(store(), subscription_id, run_id, "https://contoso-di.azurewebsites.net") == 200

    assert state.paths == [f"/hook?sig={SIGNATURE}"]
    [summary] = state.bodies
    assert RunSummary.model_validate(summary).counts.failed == 1
    assert summary["errorsUri"] == f"https://contoso-di.azurewebsites.net/api/runs/{run_id}/errors"


@pytest.mark.parametrize("status", [302, 307, 500, 410])
def test_a_callback_that_fails_or_redirects_is_retried_and_never_named(keyed, hook, status) -> None:
    url, state = hook
    state.status = status
    subscription_id = subscribe(keyed, {"callbackUrl": url}).body["id"]

    with pytest.raises(RetryableError) as raised:
        call_back(store(), subscription_id, finished_run(), None)

    assert state.paths == [f"/hook?sig={SIGNATURE}"]  # a redirect is not followed
    assert str(status) in str(raised.value) and SIGNATURE not in str(raised.value) and "127.0.0.1" not in str(
        raised.value)


def test_a_subscription_deleted_meanwhile_is_not_called(keyed, hook) -> None:
    url, state = hook
    subscription_id = subscribe(keyed, {"callbackUrl": url}).body["id"]
    store().subscriptions.delete(subscription_id)

    assert call_back(store(), subscription_id, finished_run(), None) is None
    assert state.paths == []


def test_a_callback_encrypted_with_a_key_no_longer_held_is_a_setting_error(keyed, monkeypatch, hook) -> None:
    url, state = hook
    subscription_id = subscribe(keyed, {"callbackUrl": url}).body["id"]
    monkeypatch.setenv("DI_SUBSCRIPTION_KEY", Fernet.generate_key().decode())

    with pytest.raises(SettingError, match="DI_SUBSCRIPTION_KEY"):
        call_back(store(), subscription_id, finished_run(), None)
    assert state.paths == []
