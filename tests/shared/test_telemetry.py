"""Telemetry: the step's ids on every log record, the run's counters, and export only when it is configured."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from shared import telemetry
from shared.settings import TelemetrySettings, telemetry_settings

CONNECTION_STRING = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://ingest.invalid/"
LOAD_STEP = {"runId": "r20261130a1", "projectId": "p-accounts", "task": "Accounts", "leg": "sourceToCds", "page": 3,
             "mode": "full", "dryRun": False}


@pytest.fixture
def carried(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Records carry their step's fields from here on (as after `configure()` at startup); undone after the test."""
    before = logging.getLogRecordFactory()
    telemetry.configure(env={})
    caplog.set_level(logging.INFO)
    yield caplog
    logging.setLogRecordFactory(before)


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in (*telemetry.FIELDS, "activity") if hasattr(record, name)}


def test_records_logged_while_a_step_works_carry_its_ids(carried: pytest.LogCaptureFixture) -> None:
    @telemetry.observed
    def load_page(step: dict[str, Any]) -> dict[str, Any]:
        logging.getLogger("shared.sync.somewhere").info("writing a batch")
        return {"read": 2, "written": 2, "skipped": 0, "failed": 0}

    assert load_page(step=LOAD_STEP)["written"] == 2
    logging.getLogger("after").info("not in a step")

    inside, summary, after = carried.records
    expected = {"runId": "r20261130a1", "projectId": "p-accounts", "task": "Accounts", "leg": "sourceToCds", "page": 3,
                "activity": "load_page"}
    assert fields_of(inside) == expected
    assert fields_of(summary) == expected
    assert summary.outcome == "done" and isinstance(summary.durationMs, int)
    assert "load_page runId=r20261130a1 projectId=p-accounts task=Accounts leg=sourceToCds page=3: done in" in (
        summary.getMessage())
    assert fields_of(after) == {}


def test_only_ids_are_carried_whatever_else_a_step_holds() -> None:
    step = {"runId": "r1", "projectId": "p", "side": "cds", "step": 2, "bucket": 7, "task": {"name": "Accounts",
            "read": 5}, "page": True, "states": [{"state": "secret-ish"}], "mode": "full"}

    assert telemetry.step_fields("extract_side", step) == {
        "activity": "extract_side", "runId": "r1", "projectId": "p", "task": "Accounts", "leg": "cds", "bucket": 7,
        "step": 2}


def test_a_step_that_fails_or_raises_says_so_with_the_error_kind_only(carried: pytest.LogCaptureFixture) -> None:
    @telemetry.observed
    def extract_chunk(step: dict[str, Any]) -> dict[str, Any]:
        return {"error": "InputError: the filter names a field that Contoso Ltd does not have"}

    @telemetry.observed
    def resolve_bucket(step: dict[str, Any]) -> dict[str, Any]:
        raise TimeoutError("Contoso Ltd took too long")

    extract_chunk(LOAD_STEP)
    with pytest.raises(TimeoutError):
        resolve_bucket(LOAD_STEP)

    failed, raised = carried.records
    assert (failed.levelno, failed.outcome, failed.errorType) == (logging.WARNING, "failed", "InputError")
    assert (raised.levelno, raised.outcome, raised.errorType) == (logging.WARNING, "raised", "TimeoutError")
    assert "Contoso" not in carried.text


def test_fields_stay_with_their_thread_and_are_gone_after_the_step(carried: pytest.LogCaptureFixture) -> None:
    seen: dict[str, dict[str, Any]] = {}
    inside = threading.Event()
    leave = threading.Event()

    @telemetry.observed
    def load_page(step: dict[str, Any]) -> dict[str, Any]:
        inside.set()
        leave.wait(timeout=30)
        return {}

    worker = threading.Thread(target=load_page, args=(LOAD_STEP,))
    worker.start()
    inside.wait(timeout=30)
    seen["other thread"] = fields_of(logging.getLogger("x").makeRecord("x", logging.INFO, "f", 1, "m", (), None))
    leave.set()
    worker.join(timeout=30)

    assert seen["other thread"] == {}


def test_other_extra_attributes_still_pass(carried: pytest.LogCaptureFixture) -> None:
    with telemetry.log_fields(runId="r1"):
        logging.getLogger("x").info("with extra", extra={"durationMs": 5})

    (record,) = carried.records
    assert (record.runId, record.durationMs) == ("r1", 5)


def test_failed_records_are_reported_by_code_and_target_without_values(carried: pytest.LogCaptureFixture) -> None:
    telemetry.report_failures("cds", "accounts", ["0x80040237", "0x80040237", "LookupNotFound", ""])
    telemetry.report_failures("cds", "accounts", [])

    assert [(r.targetRole, r.targetEntity, r.errorCode, r.recordsFailed) for r in carried.records] == [
        ("cds", "accounts", "0x80040237", 2), ("cds", "accounts", "LookupNotFound", 1), ("cds", "accounts", "unknown", 1)]
    assert carried.messages[0] == "2 records failed to reach cds accounts with code 0x80040237"


def test_a_finished_run_adds_each_legs_records_to_the_counters(carried: pytest.LogCaptureFixture) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    legs = [{"leg": "sourceToCds", "read": 10, "written": 7, "skipped": 2, "failed": 1},
            {"leg": "cdsToDestination", "read": 7, "written": 7, "skipped": 0, "failed": 0}]
    tasks = [{"name": "Accounts", "read": 17, "written": 14, "skipped": 2, "failed": 1, "legs": legs},
             {"name": "Contacts", "status": "Failed", "legs": []}]

    telemetry.count_run("r1", "p-accounts", "Warning", tasks, provider)

    points = {
        (metric.name, point.attributes["leg"]): (point.value, dict(point.attributes))
        for resource in reader.get_metrics_data().resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
    }
    assert points[("records.read", "sourceToCds")] == (
        10, {"runId": "r1", "projectId": "p-accounts", "task": "Accounts", "leg": "sourceToCds"})
    assert points[("records.written", "cdsToDestination")][0] == 7
    assert points[("records.skipped", "sourceToCds")][0] == 2
    assert points[("records.failed", "sourceToCds")][0] == 1
    assert len(points) == 8
    (summary,) = carried.records
    assert (summary.runStatus, summary.recordsRead, summary.recordsFailed) == ("Warning", 17, 1)


def test_nothing_is_exported_unless_application_insights_is_configured() -> None:
    exported: list[TelemetrySettings] = []
    before = logging.getLogRecordFactory()
    try:
        assert telemetry.configure(env={}, export=exported.append) is False
        assert telemetry.configure(env={"APPLICATIONINSIGHTS_CONNECTION_STRING": "  "}, export=exported.append) is False
        assert exported == []
        assert telemetry.configure(env={"APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION_STRING},
                                   export=exported.append) is True
    finally:
        logging.setLogRecordFactory(before)

    assert exported == [TelemetrySettings(CONNECTION_STRING)]


def test_configuring_twice_keeps_one_field_carrier() -> None:
    before = logging.getLogRecordFactory()
    try:
        telemetry.configure(env={})
        once = logging.getLogRecordFactory()
        telemetry.configure(env={})
        assert logging.getLogRecordFactory() is once
    finally:
        logging.setLogRecordFactory(before)


@pytest.mark.parametrize(("authentication", "expected"), [
    (None, TelemetrySettings(CONNECTION_STRING)),
    ("Authorization=AAD", TelemetrySettings(CONNECTION_STRING, entra=True)),
    ("ClientId=5a1c7f3e-0000-4000-8000-000000000001;Authorization=AAD",
     TelemetrySettings(CONNECTION_STRING, entra=True, client_id="5a1c7f3e-0000-4000-8000-000000000001")),
    ("authorization = aad ; clientid = abc", TelemetrySettings(CONNECTION_STRING, entra=True, client_id="abc")),
])
def test_entra_ingestion_is_read_from_the_authentication_string(
        authentication: str | None, expected: TelemetrySettings) -> None:
    env = {"APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION_STRING}
    if authentication is not None:
        env["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = authentication

    assert telemetry_settings(env) == expected
    assert telemetry_settings({}) is None


def test_the_azure_monitor_distro_exports_to_the_connection_string_with_outgoing_calls_untraced(monkeypatch) -> None:
    distro = pytest.importorskip("azure.monitor.opentelemetry")
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(distro, "configure_azure_monitor", lambda **kwargs: calls.append(kwargs))
    before = logging.getLogRecordFactory()
    try:
        telemetry.configure(env={"APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION_STRING,
                                 "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Authorization=AAD;ClientId=abc"})
    finally:
        logging.setLogRecordFactory(before)

    (call,) = calls
    assert call["connection_string"] == CONNECTION_STRING
    assert type(call["credential"]).__name__ == "ManagedIdentityCredential"
    assert all(not option["enabled"] for option in call["instrumentation_options"].values())
    assert {"azure_sdk", "requests", "urllib3"} <= set(call["instrumentation_options"])


def test_every_activity_of_the_app_is_observed(functions: dict[str, Any]) -> None:
    activities = {name: f for name, f in functions.items() if f.get_trigger().type == "activityTrigger"}

    assert {"begin_run", "extract_chunk", "load_page", "finish_run", "extract_side", "merge_range"} <= set(activities)
    assert [name for name, f in activities.items() if not getattr(f.get_user_function(), "observed", False)] == []
