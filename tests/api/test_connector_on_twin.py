"""Every operation of the connector definition, driven on the local twin with the definition's own examples.

The definition is the one the app serves (`GET /api/openapi.json`). Each call fills the path,
query, header and body parameters from their `x-example` / schema `example`, except what only
exists once an earlier call made it (an ETag, a run id, a conflict id, a subscription id) and
the callback URL the platform fills in; it must answer one of the operation's documented 2xx
statuses, with a body of the documented shape. In the order of a maker's day: connection,
template, project, subscription, Sync Now followed to its end, history and failed records,
conflicts, and everything deleted again. The subscription's callback (a receiver on a
loopback port) gets the summary of the finished run, and its signature is kept nowhere.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from openapi_spec_validator import OpenAPIV2SpecValidator, validate

from shared.openapi.operations import OPERATIONS
from shared.openapi.shapes import RunSummary
from tests.orchestrators.conftest import create_project, seed
from tests.orchestrators.test_sync_project import dirty_sales
from tests.orchestrators.test_twoway import edit, sales_account, two_way_project
from tests.security.at_rest import blob_texts, orchestration_texts, table_texts
from tests.webhooks import Hook, serving
from twin.local_twin import LocalTwin

SIGNATURE = "connector-callback-signature-7f3a9c"
BY_ID = {operation.operation_id: operation for operation in OPERATIONS.values()}


@pytest.fixture
def receiver() -> Iterator[tuple[str, Hook]]:
    """A flow's callback: keeps every summary POSTed to it."""
    state = Hook()
    with serving(state, f"/workflows/1/invoke?api-version=1&sig={SIGNATURE}") as url:
        yield url, state


class Connector:
    """Calls the twin's API the way the definition `spec` describes it, and notes which operations it called."""

    def __init__(self, twin: LocalTwin, spec: dict[str, Any]) -> None:
        self.twin = twin
        self.spec = spec
        self.called: set[str] = set()
        self.operations = {op["operationId"]: (path, method, op)
                           for path, methods in spec["paths"].items() for method, op in methods.items()}

    def __call__(self, operation_id: str, *, expect: int | None = None, body: Any = None, **given: Any
                 ) -> requests.Response:
        path, method, operation = self.operations[operation_id]
        values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
        sent_body = None
        for parameter in operation["parameters"]:
            name = parameter["name"]
            if parameter["in"] == "body":
                sent_body = body if body is not None else parameter["schema"].get("example")
            elif name in given:
                values[parameter["in"]][name] = given[name]
            elif "x-example" in parameter and (parameter["required"] or parameter["in"] == "query"):
                values[parameter["in"]][name] = parameter["x-example"]
        url = self.spec["schemes"][0] + "://" + self.spec["host"] + self.spec["basePath"] + re.sub(
            r"\{([^}]+)\}", lambda m: str(values["path"][m[1]]), path)
        headers = {k: str(v) for k, v in values["header"].items()}
        if operation.get("security", self.spec["security"]):
            headers[self.spec["securityDefinitions"]["apiKey"]["name"]] = self.twin.host.key
        answer = self.twin.session.request(method.upper(), url, params=values["query"], headers=headers,
                                           json=sent_body, timeout=60)
        documented = {int(status) for status in operation["responses"] if status.startswith("2")}
        assert answer.status_code in documented, (operation_id, answer.status_code, answer.text[:2000])
        assert expect is None or answer.status_code == expect, (operation_id, answer.status_code, answer.text)
        self._check_shape(operation_id, operation, answer)
        self.called.add(operation_id)
        return answer

    def _check_shape(self, operation_id: str, operation: dict[str, Any], answer: requests.Response) -> None:
        """The answer is what the definition says: its documented headers, and a body its model reads."""
        documented = operation["responses"][str(answer.status_code)]
        missing = [name for name in documented.get("headers", {}) if name not in answer.headers]
        assert missing == [], (operation_id, missing)
        described = BY_ID[operation_id].answers[answer.status_code]
        if described.model is None or "x-ms-trigger" in operation:
            return
        body = answer.json()
        for item in body if described.many else [body]:
            described.model.model_validate(item)


def test_every_operation_of_the_definition_works_on_the_twin(clean: LocalTwin, receiver) -> None:
    twin = clean
    callback, received = receiver
    served = twin.api("GET", "openapi.json")
    assert served.status_code == 200
    spec = served.json()
    validate(spec, cls=OpenAPIV2SpecValidator)
    assert spec["host"] == twin.url.removeprefix("http://") and spec["schemes"] == ["http"]
    connector = Connector(twin, spec)
    connector.called.add("GetConnectorDefinition")

    connector("GetHealth", expect=200)
    connector("PutConnection", expect=201)
    connector("ListConnections", expect=200)
    connector("GetConnection", expect=200)
    connector("ListTemplates", expect=200)
    connector("GetTemplate", expect=200)

    records = dirty_sales(10)
    seed(twin, "sales", "accounts", records)
    project = connector("CreateProject", expect=201).json()["name"]
    assert [p["name"] for p in connector("ListProjects", expect=200).json()] == [project]
    etag = connector("GetProject", expect=200).headers["ETag"]
    assert connector("ReplaceProject", expect=200, **{"If-Match": etag}).json()["schedule"] == "0 0 * * * *"
    assert connector("GetConsent", expect=200).json()[0]["project"] == project
    connector("ValidateProject", expect=200)

    subscribed = connector("WhenARunFinishes", expect=201, body={
        **connector.operations["WhenARunFinishes"][2]["parameters"][0]["schema"]["example"], "callbackUrl": callback})
    subscription = subscribed.json()["id"]
    assert subscribed.headers["Location"].endswith(f"/api/subscriptions/{subscription}")

    started = connector("StartRun", expect=202)
    run_id = started.json()["runId"]
    finished = twin.follow(started, timeout_s=300)
    assert finished["runtimeStatus"] == "Warning", finished
    assert connector("GetRun", expect=200, runId=run_id).json()["runtimeStatus"] == "Warning"
    assert [r["runId"] for r in connector("ListRuns", expect=200).json()] == [run_id]
    errors = connector("ListRunErrors", expect=200, runId=run_id).json()["value"]
    assert errors and all(e["runId"] == run_id for e in errors)
    assert connector("ListRunConflicts", expect=200, runId=run_id).json()["value"] == []
    assert connector("TerminateRun", expect=202, runId=run_id).json() == {"runId": run_id, "status": "Warning"}

    assert received.arrived.wait(timeout=120), "the subscription's callback was never called"
    [summary] = received.delivered
    RunSummary.model_validate(summary)
    assert (summary["project"], summary["runId"], summary["status"]) == (project, run_id, "Warning")
    assert summary["counts"]["failed"] == finished["tasks"][0]["failed"] > 0

    seed(twin, "sales", "accounts", [sales_account(n) for n in range(100, 103)])
    create_project(twin, two_way_project("connector-two-way"))
    twin.follow(twin.api("POST", "projects/connector-two-way/runs"))
    edit(twin, "sales", "A-00101", name="Sales says")
    edit(twin, "cds", "A-00101", name="CDS says")
    assert twin.follow(twin.api("POST", "projects/connector-two-way/runs"))["runtimeStatus"] == "Warning"
    [conflict] = connector("ListProjectConflicts", expect=200, id="connector-two-way").json()["value"]
    settled = connector("ResolveConflict", expect=200, id="connector-two-way", conflictId=conflict["conflictId"])
    assert settled.json()["state"] == "resolved"

    for page in (connector("OpenDashboard", expect=200), connector("OpenProjectPage", expect=200),
                 connector("OpenRunPage", expect=200, runId=run_id)):
        assert page.headers["Content-Type"].startswith("text/html") and "<html" in page.text
    assert connector("GetDashboardAsset", expect=200).content

    connector("DeleteSubscription", expect=204, id=subscription)
    connector("DeleteProject", expect=204)
    connector("DeleteConnection", expect=204)

    assert connector.called == set(connector.operations)
    assert len(received.delivered) == 1
    for where, text in [*table_texts(twin.storage), *blob_texts(twin.storage), *orchestration_texts(twin)]:
        assert SIGNATURE not in text, where


def test_a_callback_that_cannot_be_reached_never_fails_the_run(clean: LocalTwin) -> None:
    twin = clean
    create_project(twin, {"name": "connector-dead-callback", "template": "accounts",
                          "connections": {"source": "sales", "cds": "cds", "destination": "operations"}})
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"
    subscribed = twin.api("POST", "subscriptions", json={"callbackUrl": nobody, "projects": ["connector-dead-callback"]})
    assert subscribed.status_code == 201, subscribed.text

    started = twin.api("POST", "projects/connector-dead-callback/runs")
    assert twin.follow(started)["runtimeStatus"] == "Succeeded"

    status_uri = started.json()["statusQueryGetUri"]
    orchestration = twin.session.get(status_uri, timeout=30).json()
    deadline = time.monotonic() + 180
    while orchestration["runtimeStatus"] in ("Pending", "Running") and time.monotonic() < deadline:
        time.sleep(1)
        orchestration = twin.session.get(status_uri, timeout=30).json()
    assert orchestration["runtimeStatus"] == "Completed", orchestration
    history = twin.session.get(status_uri, params={"showHistory": "true"}, timeout=30).json()["historyEvents"]
    attempts = [e["EventType"] for e in history if e.get("FunctionName") == "call_subscriber"]
    assert attempts and set(attempts) == {"TaskFailed"}, attempts
    assert twin.api("GET", f"runs/{started.json()['runId']}").json()["runtimeStatus"] == "Succeeded"
    assert twin.api("DELETE", f"subscriptions/{subscribed.json()['id']}").status_code == 204
