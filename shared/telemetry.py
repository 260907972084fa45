"""Telemetry: which run, project, task, leg and page a log record is about, what a run moved, and where it all goes.

- `observed(activity)` wraps an activity. While it works, every log record created on its
  thread carries its step's ids as attributes (`FIELDS`: `runId`, `projectId`, `task`, `leg`,
  `page`, `bucket`, `step`, and `activity`), which Azure Monitor exports as customDimensions.
  It ends with one line naming the step, its outcome and `durationMs`.
- `count_run(...)`, when a run finishes: the counters `records.read`, `records.written`,
  `records.skipped` and `records.failed`, once per task leg, from the outcomes the run history
  records (so a load step that ran twice is counted once).
- `report_failures(...)`: how many records a step failed to write, by target and error code.
- `configure()`, once at startup (function_app.py): the record attributes always; export to
  Application Insights only when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set.

Only names, ids, codes and counts are ever logged: never a record value or a business key.
Logging refuses an `extra` that overwrites an attribute, so never pass the names in `FIELDS` as `extra`.
Orchestrators never log (they replay): their activities speak for them.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache, wraps
from types import MappingProxyType
from typing import Any

from opentelemetry import metrics

from shared.settings import TelemetrySettings, telemetry_settings

log = logging.getLogger(__name__)

FIELDS = ("runId", "projectId", "task", "leg", "page", "bucket", "step")
"""The ids of a step that its log records carry (a two-way step's `side` is carried as its `leg`)."""
COUNTS = ("read", "written", "skipped", "failed")
UNTRACED = ("azure_sdk", "requests", "urllib", "urllib3", "httpx", "django", "fastapi", "flask", "psycopg2")
"""Instrumentations left off: their spans would carry request URLs, and those name business keys
(`$filter` on a key, key-map rows by key)."""
QUIET_LOGGERS = ("azure.core.pipeline.policies.http_logging_policy", "azure.monitor.opentelemetry.exporter")
"""Loggers held to warnings: the Azure SDK logs every request URL at INFO."""

_fields: ContextVar[Mapping[str, str | int]] = ContextVar("telemetry_fields", default=MappingProxyType({}))


def step_fields(activity: str, step: Mapping[str, Any]) -> dict[str, str | int]:
    """The ids of `step` that log records may carry: strings and numbers under the names in `FIELDS`."""
    values = {**step, "leg": step.get("leg", step.get("side"))}
    if isinstance(values.get("task"), Mapping):
        values["task"] = values["task"].get("name")
    fields: dict[str, str | int] = {"activity": activity}
    for name in FIELDS:
        value = values.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool):
            fields[name] = value
    return fields


@contextmanager
def log_fields(**fields: str | int) -> Iterator[None]:
    """Every log record created on this thread inside the block carries `fields` as attributes."""
    token = _fields.set(MappingProxyType({**_fields.get(), **fields}))
    try:
        yield
    finally:
        _fields.reset(token)


def observed(activity: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Run the activity inside its step's log fields and log how it ended and how long it took."""

    @wraps(activity)
    def run(step: dict[str, Any]) -> dict[str, Any]:
        fields = step_fields(activity.__name__, step)
        where = " ".join(f"{name}={fields[name]}" for name in FIELDS if name in fields)
        started = time.monotonic()
        with log_fields(**fields):
            try:
                result = activity(step)
            except Exception as failure:
                took = _ms_since(started)
                log.warning("%s %s: raised %s after %d ms", activity.__name__, where, type(failure).__name__, took,
                            extra={"outcome": "raised", "errorType": type(failure).__name__, "durationMs": took})
                raise
            took = _ms_since(started)
            error = result.get("error") if isinstance(result, Mapping) else None
            if isinstance(error, str):
                kind = error.split(":", 1)[0]
                log.warning("%s %s: failed (%s) in %d ms", activity.__name__, where, kind, took,
                            extra={"outcome": "failed", "errorType": kind, "durationMs": took})
            else:
                log.info("%s %s: done in %d ms", activity.__name__, where, took,
                         extra={"outcome": "done", "durationMs": took})
            return result

    run.observed = True  # type: ignore[attr-defined]
    return run


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def report_failures(target_role: str, target_entity: str, codes: Iterable[str]) -> None:
    """Log how many records one step failed to write to `target_entity`, one line per error code."""
    for code, count in sorted(Counter(code or "unknown" for code in codes).items()):
        log.warning("%d records failed to reach %s %s with code %s", count, target_role, target_entity, code,
                    extra={"targetRole": target_role, "targetEntity": target_entity, "errorCode": code,
                           "recordsFailed": count})


@lru_cache(maxsize=8)
def _counters(provider: metrics.MeterProvider) -> dict[str, metrics.Counter]:
    meter = provider.get_meter(__name__)
    return {count: meter.create_counter(f"records.{count}", unit="{record}", description=f"records {count} by a run")
            for count in COUNTS}


def count_run(run_id: str, project_id: str, status: str, tasks: Iterable[Mapping[str, Any]],
              provider: metrics.MeterProvider | None = None) -> None:
    """Add a finished run's records to the counters, per task leg, and log its outcome with its totals."""
    counters = _counters(provider or metrics.get_meter_provider())
    totals = Counter[str]()
    for task in tasks:
        for leg in task.get("legs", []):
            attributes = {"runId": run_id, "projectId": project_id, "task": task["name"], "leg": leg["leg"]}
            for count in COUNTS:
                counters[count].add(leg.get(count, 0), attributes)
                totals[count] += leg.get(count, 0)
    log.info("run %s of project %s finished %s: read %d, written %d, skipped %d, failed %d", run_id, project_id,
             status, *(totals[count] for count in COUNTS),
             extra={"runStatus": status, **{f"records{count.capitalize()}": totals[count] for count in COUNTS}})


def configure(env: Mapping[str, str] | None = None,
              export: Callable[[TelemetrySettings], None] | None = None) -> bool:
    """At startup: log records carry their step's ids; export to Application Insights when it is configured.

    Returns whether telemetry is exported. `export` replaces the Azure Monitor distro (tests).
    """
    _carry_fields_on_records()
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    settings = telemetry_settings(env)
    if settings is None:
        return False
    (export or _azure_monitor)(settings)
    return True


def _carry_fields_on_records() -> None:
    """Make every log record carry the fields of the step at work on its thread (once per process)."""
    make = logging.getLogRecordFactory()
    if getattr(make, "carries_step_fields", False):
        return

    def record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        created = make(*args, **kwargs)
        created.__dict__.update(_fields.get())
        return created

    record.carries_step_fields = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(record)


def _azure_monitor(settings: TelemetrySettings) -> None:
    """The Azure Monitor distro: logs, metrics and the worker's traces to Application Insights."""
    from azure.monitor.opentelemetry import configure_azure_monitor

    credential = None
    if settings.entra:
        from azure.identity import ManagedIdentityCredential

        credential = ManagedIdentityCredential(client_id=settings.client_id)
    configure_azure_monitor(
        connection_string=settings.connection_string, credential=credential, enable_live_metrics=False,
        instrumentation_options={name: {"enabled": False} for name in UNTRACED},
    )
