"""Telemetry names runs, projects, tasks, legs and pages, never a record's values or business keys.

A real sync on the twin moves accounts with distinctive names, keys and one unmappable value
(so error records are written), and the app's logs are read where they land: devhost's log
(every worker's output), and, with the Azure Monitor distro installed, what it sends to a local
stand-in for the Application Insights ingestion endpoint.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.orchestrators.conftest import create_project, seed, sync_now
from tests.orchestrators.test_sync_project import account, accounts_project
from twin.local_twin import LocalTwin

DISTINCTIVE = ("Quillonbrook Zephyrine", "QZ-7731-KEY", "Narnivia-Q")


def distinctive_accounts() -> list[dict[str, Any]]:
    records = [account(n) for n in range(20)]
    records[3].update(name=f"{DISTINCTIVE[0]} Holdings", accountnumber=DISTINCTIVE[1])
    records[4].update(name=f"{DISTINCTIVE[0]} GmbH", address1_country=DISTINCTIVE[2])  # unmapped: an error record
    return records


def run_with_distinctive_records(twin: LocalTwin, project: str) -> dict[str, Any]:
    seed(twin, "sales", "accounts", distinctive_accounts())
    create_project(twin, accounts_project(project))
    run = sync_now(twin, project)
    assert run["tasks"][0]["failed"] == 1, run
    return run


def test_the_host_log_names_the_steps_and_never_a_record(clean: LocalTwin) -> None:
    run = run_with_distinctive_records(clean, "p-telemetry-log")
    logs = clean.host.logs()

    for value in DISTINCTIVE:
        assert value not in logs
    where = f"runId={run['runId']} projectId=p-telemetry-log task=Accounts"
    assert f"extract_chunk {where} leg=sourceToCds" in logs
    assert f"load_page {where} leg=sourceToCds page=1: done in" in logs
    assert f"load_page {where} leg=cdsToDestination page=1: done in" in logs
    assert "1 records failed to reach cds accounts with code MappingError" in logs
    assert f"run {run['runId']} of project p-telemetry-log finished Warning: read 39, written 38" in logs


class Ingestion(ThreadingHTTPServer):
    """A stand-in for the Application Insights ingestion endpoint: keeps every envelope it is sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Track)
        self.envelopes: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.lock = threading.Lock()

    @property
    def connection_string(self) -> str:
        return (f"InstrumentationKey=00000000-0000-0000-0000-000000000000;"
                f"IngestionEndpoint=http://127.0.0.1:{self.server_address[1]}/")

    def seen(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.envelopes)


class _Track(BaseHTTPRequestHandler):
    server: Ingestion

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        text = body.decode("utf-8")
        envelopes = json.loads(text)
        with self.server.lock:
            self.server.raw.append(text)
            self.server.envelopes.extend(envelopes)
        answer = json.dumps({"itemsReceived": len(envelopes), "itemsAccepted": len(envelopes), "errors": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def exporting(storage_connection_string: str) -> Iterator[tuple[LocalTwin, Ingestion]]:
    pytest.importorskip("azure.monitor.opentelemetry")
    ingestion = Ingestion()
    threading.Thread(target=ingestion.serve_forever, daemon=True).start()
    settings = {
        "APPLICATIONINSIGHTS_CONNECTION_STRING": ingestion.connection_string,
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",  # no usage reports to Microsoft's endpoints
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "",  # no cloud metadata endpoints to ask
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
    }
    try:
        with LocalTwin.start(dataset=False, storage=storage_connection_string, settings=settings) as twin:
            twin.connect_all()
            yield twin, ingestion
    finally:
        ingestion.shutdown()
        ingestion.server_close()


def wait_for(ingestion: Ingestion, found: Any, timeout_s: float = 90.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while not found(ingestion.seen()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return ingestion.seen()


def messages(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["data"]["baseData"] for e in envelopes if e["data"]["baseType"] == "MessageData"]


def metric_points(envelopes: list[dict[str, Any]]) -> list[tuple[str, float, dict[str, str]]]:
    return [(metric["name"], metric["value"], e["data"]["baseData"].get("properties", {}))
            for e in envelopes if e["data"]["baseType"] == "MetricData" for metric in e["data"]["baseData"]["metrics"]]


def test_application_insights_gets_the_ids_as_custom_dimensions_and_no_record(
        exporting: tuple[LocalTwin, Ingestion]) -> None:
    twin, ingestion = exporting
    run = run_with_distinctive_records(twin, "p-telemetry-export")
    run_id = run["runId"]

    def complete(envelopes: list[dict[str, Any]]) -> bool:
        finished = any(m["properties"].get("runStatus") for m in messages(envelopes))
        counted = any(name == "records.failed" and properties.get("runId") == run_id
                      for name, _, properties in metric_points(envelopes))
        return finished and counted

    envelopes = wait_for(ingestion, complete)
    assert complete(envelopes), [m["message"] for m in messages(envelopes)]

    for text in ingestion.raw:
        for value in DISTINCTIVE:
            assert value not in text
    logged = [m["properties"] for m in messages(envelopes) if m["properties"].get("runId") == run_id]
    load = next(p for p in logged if p.get("activity") == "load_page" and p.get("outcome") == "done")
    assert {"projectId": "p-telemetry-export", "task": "Accounts", "leg": "sourceToCds", "page": "1"}.items() <= (
        load.items())
    assert int(load["durationMs"]) >= 0
    (failure,) = [p for p in logged if "errorCode" in p]
    assert (failure["targetRole"], failure["targetEntity"], failure["errorCode"], failure["recordsFailed"]) == (
        "cds", "accounts", "MappingError", "1")
    (finished,) = [p for p in logged if "runStatus" in p]
    assert (finished["runStatus"], finished["recordsRead"], finished["recordsFailed"]) == ("Warning", "39", "1")
    counted = {(name, properties["leg"]): value for name, value, properties in metric_points(envelopes)
               if properties.get("runId") == run_id}
    assert counted[("records.read", "sourceToCds")] == 20
    assert counted[("records.failed", "sourceToCds")] == 1
    assert counted[("records.written", "cdsToDestination")] == 19
