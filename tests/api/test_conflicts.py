"""Two-way tasks over the API: refused definitions name the item, conflicts are listed, paged and settled."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from api.responses import store
from shared.models import Conflict, Run
from shared.settings import StorageSettings
from shared.store import Store
from tests.api.test_connections_and_projects import CDS, CONSENT, SALES, principal
from tests.shared.store.awkward import AWKWARD

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
TWO_WAY = {
    "name": "accounts-both-ways", "connections": {"source": "sales", "cds": "cds"}, "consent": CONSENT,
    "tasks": [{
        "name": "Accounts", "direction": "bidirectional", "conflicts": "manual",
        "source": {"entity": "accounts", "key": ["accountnumber"]},
        "cds": {"entity": "accounts", "key": ["accountnumber"]},
        "sourceToCds": [
            {"source": "accountnumber", "target": "accountnumber"},
            {"source": "name", "target": "name"},
            {"source": "address1_country", "target": "address1_country",
             "transforms": [{"transformType": "ValueMap", "valueMap": {"usa": "US"}}],
             "reverseTransforms": [{"transformType": "ValueMap", "valueMap": {"US": "USA"}}]},
        ],
    }],
}


def seen(key: str, field: str = "name", run_id: str = "run-1", task: str = "Accounts") -> Conflict:
    return Conflict(
        task=task, identity=json.dumps([key.strip().casefold()], ensure_ascii=False, separators=(",", ":")),
        businessKey={"accountnumber": key}, field=field, sourceField=field, baseline=None,
        source={"value": "from sales", "changedOn": "2026-11-29T08:00:00Z"}, cds={"value": "from cds"}, runId=run_id,
    )


@pytest.fixture
def two_way(api):
    for name, body in (("sales", SALES), ("cds", CDS)):
        assert api("put_connection", "PUT", f"connections/{name}", body, route={"name": name}).status == 201
    created = api("create_project", "POST", "projects", TWO_WAY)
    assert created.status == 201, created.body
    store().runs.create(Run(runId="run-1", projectId=TWO_WAY["name"], createdTime=NOW, lastUpdatedTime=NOW))
    return api


def listed(api, state: str | None = None, token: str | None = None, **kwargs: Any):
    params = {k: v for k, v in (("state", state), ("continuationToken", token)) if v}
    return api("list_project_conflicts", "GET", f"projects/{TWO_WAY['name']}/conflicts",
               route={"id": TWO_WAY["name"]}, params=params, **kwargs)


def resolve(api, conflict_id: str, body: Any, **kwargs: Any):
    route = {"id": TWO_WAY["name"], "conflictId": conflict_id}
    return api("resolve_conflict", "POST", f"projects/{TWO_WAY['name']}/conflicts/{conflict_id}/resolve", body,
               route=route, **kwargs)


def test_a_two_way_project_is_saved_and_read_back_as_written(two_way) -> None:
    got = two_way("get_project", "GET", f"projects/{TWO_WAY['name']}", route={"id": TWO_WAY["name"]}).body
    task = got["tasks"][0]
    assert (task["direction"], task["sourceToCds"][2]["reverseTransforms"]) == (
        "bidirectional", [{"transformType": "ValueMap", "valueMap": {"US": "USA"}, "onUnmapped": "passthrough"}])


def test_the_two_way_accounts_template_is_listed_with_its_direction_and_starts_a_project(two_way) -> None:
    listed_templates = two_way("list_templates", "GET", "templates").body
    assert next(t for t in listed_templates if t["name"] == "accounts-two-way")["tasks"] == [
        {"name": "Accounts", "source": "accounts", "destination": "accounts", "direction": "bidirectional"}]
    assert "direction" not in next(t for t in listed_templates if t["name"] == "accounts")["tasks"][0]
    body = {"name": "from-template", "template": "accounts-two-way", "connections": {"source": "sales", "cds": "cds"},
            "consent": CONSENT}
    created = two_way("create_project", "POST", "projects", body)
    assert created.status == 201, created.body
    assert created.body["tasks"][0]["direction"] == "bidirectional"


def test_making_a_task_two_way_writes_to_the_source_so_it_needs_fresh_consent(two_way) -> None:
    route = {"id": TWO_WAY["name"]}
    current = two_way("get_project", "GET", f"projects/{TWO_WAY['name']}", route=route)
    one_way = copy.deepcopy(current.body)
    task = one_way["tasks"][0]
    del task["direction"], task["sourceToCds"][2]["reverseTransforms"]
    refused = two_way("replace_project", "PUT", f"projects/{TWO_WAY['name']}", one_way, route=route,
                      headers={"If-Match": current.headers["ETag"]})
    assert refused.status == 422 and refused.body["errors"][0]["field"] == "consent"
    changed = two_way("replace_project", "PUT", f"projects/{TWO_WAY['name']}", {**one_way, "consent": CONSENT},
                      route=route, headers={"If-Match": current.headers["ETag"]})
    assert changed.status == 200, changed.body
    records = two_way("get_consent", "GET", f"projects/{TWO_WAY['name']}/consent", route=route).body
    assert [r["systems"][0].endswith(", written back)") for r in records] == [True, False]


@pytest.mark.parametrize(("change", "field"), [
    (lambda t: t["sourceToCds"][2].pop("reverseTransforms"), "tasks.0.sourceToCds.2.reverseTransforms"),
    (lambda t: t["sourceToCds"][0].update(direction="toSource"), "tasks.0.cds.key.0"),
    (lambda t: t.update(destination={"entity": "CustomersV3", "key": ["CustomerAccount"]}), "tasks.0.destination"),
    (lambda t: t.update(deletes="forget"), "tasks.0.deletes"),
    (lambda t: t.update(direction="oneWay"), "tasks.0.conflicts"),
])
def test_a_two_way_definition_that_cannot_flow_back_is_refused_naming_the_item(api, change, field) -> None:
    body = copy.deepcopy(TWO_WAY)
    change(body["tasks"][0])
    for name, connection in (("sales", SALES), ("cds", CDS)):
        api("put_connection", "PUT", f"connections/{name}", connection, route={"name": name})
    refused = api("create_project", "POST", "projects", body)
    assert refused.status == 400 and refused.mimetype == "application/problem+json"
    assert field in [e["field"] for e in refused.body["errors"]], refused.body
    assert api("get_project", "GET", f"projects/{body['name']}", route={"id": body["name"]}).status == 404


def test_conflicts_are_listed_by_project_and_run_settled_and_applied_once(two_way) -> None:
    name_conflict, phone_conflict = seen("A-1"), seen("A-1", field="telephone1", run_id="run-0")
    store().conflicts.put_open(TWO_WAY["name"], [name_conflict, phone_conflict])
    open_ones = listed(two_way)
    assert open_ones.status == 200 and open_ones.body["continuationToken"] is None
    view = next(c for c in open_ones.body["value"] if c["field"] == "name")
    assert {k: view[k] for k in ("conflictId", "task", "businessKey", "field", "baseline", "source", "cds", "state",
                                 "runId")} == {
        "conflictId": name_conflict.conflictId, "task": "Accounts", "businessKey": {"accountnumber": "A-1"},
        "field": "name", "baseline": None, "source": {"value": "from sales", "changedOn": "2026-11-29T08:00:00Z"},
        "cds": {"value": "from cds", "changedOn": None}, "state": "open", "runId": "run-1"}
    assert view["resolveUri"] == (
        f"http://127.0.0.1:7071/api/projects/{TWO_WAY['name']}/conflicts/{name_conflict.conflictId}/resolve")
    assert "identity" not in view
    by_run = two_way("list_run_conflicts", "GET", "runs/run-1/conflicts", route={"runId": "run-1"})
    assert [c["field"] for c in by_run.body["value"]] == ["name"]

    settled = resolve(two_way, name_conflict.conflictId, {"take": "cds"})
    assert settled.status == 200 and settled.body["state"] == "resolved"
    assert settled.body["resolution"] == {"take": "cds", "values": None} and settled.body["resolvedAt"]
    assert [c["field"] for c in listed(two_way).body["value"]] == ["telephone1"]
    assert [c["field"] for c in listed(two_way, "resolved").body["value"]] == ["name"]
    given = resolve(two_way, phone_conflict.conflictId, {"values": {"telephone1": "+49 30 1234"}})
    assert given.body["resolution"]["values"] == {"telephone1": "+49 30 1234"}
    store().conflicts.mark_applied(TWO_WAY["name"], [name_conflict.conflictId], "run-2")
    again = resolve(two_way, name_conflict.conflictId, {"take": "source"})
    assert again.status == 409 and again.body["errors"][0]["field"] == "conflictId"
    assert {c["state"] for c in listed(two_way, "resolved").body["value"]} == {"resolved", "applied"}


@pytest.mark.parametrize(("body", "field"), [
    ({"take": "source", "values": {"name": "x"}}, "take"),
    ({}, "take"),
    ({"take": "both"}, "take"),
    ({"values": {}}, "values"),
    ({"values": {"telephone1": "x"}}, "values.telephone1"),
    ({"take": "cds", "why": "newer"}, "why"),
    ([{"take": "cds"}], "body"),
])
def test_a_resolution_that_is_not_exactly_one_way_to_settle_is_a_400_that_changes_nothing(two_way, body, field) -> None:
    conflict = seen("A-1")
    store().conflicts.put_open(TWO_WAY["name"], [conflict])
    refused = resolve(two_way, conflict.conflictId, body)
    assert refused.status == 400 and refused.mimetype == "application/problem+json"
    assert field in [e["field"] for e in refused.body["errors"]], refused.body
    assert store().conflicts.get(TWO_WAY["name"], conflict.conflictId).state == "open"


def test_unknown_conflicts_projects_runs_and_states_and_made_up_tokens(two_way) -> None:
    assert resolve(two_way, "0" * 32, {"take": "cds"}).status == 404
    unknown = two_way("resolve_conflict", "POST", "projects/nope/conflicts/x/resolve", {"take": "cds"},
                      route={"id": "nope", "conflictId": "x"})
    assert unknown.status == 404
    assert two_way("list_project_conflicts", "GET", "projects/nope/conflicts", route={"id": "nope"}).status == 404
    assert two_way("list_run_conflicts", "GET", "runs/nope/conflicts", route={"runId": "nope"}).status == 404
    assert listed(two_way, "closed").body["errors"][0]["field"] == "state"
    for token in ("garbage", "0" * 31, "' or RowKey ne '"):
        refused = listed(two_way, token=token)
        assert refused.status == 400 and refused.body["errors"][0]["field"] == "continuationToken"


def test_pages_of_conflicts_with_odd_keys_follow_each_other(two_way) -> None:
    keys = [k for k in AWKWARD if k.strip()] + [f"K-{n}" for n in range(120)]
    store().conflicts.put_open(TWO_WAY["name"], [seen(k, task='Kunden "A/B" #1? 表') for k in keys])
    found, token = [], None
    while True:
        page = listed(two_way, token=token).body
        found += [c["businessKey"]["accountnumber"] for c in page["value"]]
        token = page["continuationToken"]
        if token is None:
            break
    assert sorted(found) == sorted(keys)


def test_operators_list_and_settle_and_a_principal_without_a_role_cannot(two_way) -> None:
    conflict = seen("A-1")
    store().conflicts.put_open(TWO_WAY["name"], [conflict])
    operator = principal("DataIntegration.Operator")
    assert listed(two_way, headers=operator).status == 200
    assert resolve(two_way, conflict.conflictId, {"take": "source"}, headers=operator).status == 200
    nobody = principal("Reader")
    assert listed(two_way, headers=nobody).status == 403
    assert resolve(two_way, conflict.conflictId, {"take": "cds"}, headers=nobody).status == 403
    assert store().conflicts.get(TWO_WAY["name"], conflict.conflictId).resolution.take == "source"


def test_over_http_on_the_twin_links_are_absolute_and_errors_are_problems(twin) -> None:
    repo = Store(StorageSettings(connection_string=twin.storage, table_prefix=twin.table_prefix))
    project = {**TWO_WAY, "name": "p-conflicts-http"}
    created = twin.api("POST", "projects", json=project)
    assert created.status_code == 201, created.text
    repo.runs.create(Run(runId="run-http", projectId=project["name"], createdTime=NOW, lastUpdatedTime=NOW))
    conflict = seen("Ünïcødé 'x'/#?", run_id="run-http")
    repo.conflicts.put_open(project["name"], [conflict])
    by_run = twin.api("GET", "runs/run-http/conflicts")
    assert by_run.status_code == 200, by_run.text
    [view] = by_run.json()["value"]
    assert view["businessKey"] == {"accountnumber": "Ünïcødé 'x'/#?"}
    assert view["resolveUri"] == f"{twin.url}/api/projects/{project['name']}/conflicts/{conflict.conflictId}/resolve"
    settled = twin.api("POST", view["resolveUri"].removeprefix(f"{twin.url}/api/"), json={"take": "cds"})
    assert settled.status_code == 200 and settled.json()["state"] == "resolved"
    missing = twin.api("GET", "runs/no-such-run/conflicts")
    assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("application/problem+json")
    assert requests.get(f"{twin.url}/api/projects/{project['name']}/conflicts", timeout=10).status_code == 401
