"""Load one staged page: map it, write what is new to the target in bulk, keep error records.

Every record of the page ends as exactly one of written, skipped (with its reason) or failed
(with an error record holding its key, the field, the target's code and message, and the
source record). Running the step twice leaves the same target data and the same error page.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from shared.mapping import MISSING_SOURCE_ID, SKIP_REASONS, Failed, MappedRecord, Skipped
from shared.models import ErrorRecord
from shared.outcomes import COUNTS
from shared.store import Store
from shared.store.key_maps import derived_id
from shared.store.run_staging import LegStaging, PageState, page_group
from shared.sync.lookups import LOOKUP_NOT_FOUND, resolve_lookups
from shared.sync.workspace import LegPlan, RunWorkspace
from shared.telemetry import report_failures


def load_page(
    store: Store, workspace: RunWorkspace, task: str, leg: str, page_no: int, dry_run: bool
) -> dict[str, Any]:
    """Map and write page `page_no`; return `{"read", "written", "skipped", "failed", "skippedReasons"}`.

    The page's state in staging becomes `loaded` with these counts, or `failed` with the reason.
    """
    staging = store.run_staging(workspace.run_id).leg(task, leg)
    try:
        counts = _load(store, workspace, staging, task, leg, page_no, dry_run)
    except Exception as failure:
        staging.mark_page(page_no, PageState.FAILED, reason=f"{type(failure).__name__}: {failure}")
        raise
    staging.mark_page(page_no, PageState.LOADED, {k: counts[k] for k in COUNTS})
    return counts


def _load(
    store: Store, workspace: RunWorkspace, staging: LegStaging, task: str, leg: str, page_no: int, dry_run: bool
) -> dict[str, Any]:
    plan = workspace.leg(task, leg)
    records = staging.read_page(page_no)
    superseded = _superseded(workspace, staging, task, leg, page_no)
    reasons: Counter[str] = Counter()
    errors: list[ErrorRecord] = []
    to_write: list[tuple[int, MappedRecord]] = []
    for row, record in enumerate(records):
        outcome = plan.mapping(record)
        if outcome.__class__ is MappedRecord:
            if plan.key_mapped and plan.source_id(record) is None:
                reasons[MISSING_SOURCE_ID] += 1
            elif row in superseded:
                reasons[SKIP_REASONS[superseded[row]]] += 1
            else:
                to_write.append((row, outcome))  # type: ignore[arg-type]
        elif isinstance(outcome, Skipped):
            reasons[outcome.reason] += 1
        else:
            assert isinstance(outcome, Failed)
            errors.append(_error(workspace.run_id, plan, record, None, outcome.field, outcome.code, outcome.message))
    if plan.lookup_fields and to_write:
        to_write, misses = resolve_lookups(plan.target, plan.lookups, plan.lookup_fields, to_write)
        errors.extend(_error(workspace.run_id, plan, records[miss.row], None, miss.field, LOOKUP_NOT_FOUND,
                             miss.message) for miss in misses)
    if plan.key_mapped and to_write:
        to_write = _with_target_ids(store, workspace, plan, records, to_write, dry_run)
    written = 0
    if dry_run:
        written = len(to_write)
    elif to_write:
        results = plan.target.write_batch(plan.leg.target.entity, plan.key, [m.values for _, m in to_write])
        for (row, mapped), result in zip(to_write, results, strict=True):
            if result.ok:
                written += 1
            else:
                code, message = result.code or "", result.message or ""
                errors.append(_error(workspace.run_id, plan, records[row], mapped, result.field, code, message))
    _keep_errors(store, workspace.run_id, task, leg, page_no, errors)
    report_failures(plan.target_role, plan.leg.target.entity, (error.code for error in errors))
    return {
        "read": len(records),
        "written": written,
        "skipped": sum(reasons.values()),
        "failed": len(errors),
        "skippedReasons": dict(reasons),
    }


def _with_target_ids(
    store: Store, workspace: RunWorkspace, plan: LegPlan, records: list[dict[str, Any]],
    to_write: list[tuple[int, MappedRecord]], dry_run: bool,
) -> list[tuple[int, MappedRecord]]:
    """Give each record the id of its target from the key map (recorded first; a dry run records nothing)."""
    source_ids = {row: plan.source_id(records[row]) or "" for row, _ in to_write}
    project, task, leg = workspace.project.name, plan.task.name, plan.leg.name
    if dry_run:
        targets = {s: derived_id(project, task, leg, s) for s in source_ids.values()}
    else:
        targets = store.key_maps.resolve(project, task, leg, list(source_ids.values()))
    field = plan.key[0]
    return [
        (row, MappedRecord((targets[source_ids[row]],), {**mapped.values, field: targets[source_ids[row]]}))
        for row, mapped in to_write
    ]


def _superseded(workspace: RunWorkspace, staging: LegStaging, task: str, leg: str, page_no: int) -> dict[int, str]:
    """The superseded records of page `page_no`, by row: its group's are read once and kept by the run's
    workspace, which the group's load steps in this process share.

    They are final before any page of the leg loads, so a kept copy never goes stale.
    """
    group = page_group(page_no)
    found = workspace.superseded.get((task, leg, group))
    if found is None:
        found = workspace.superseded[(task, leg, group)] = staging.superseded_group(group)
    return found.get(page_no, {})


def _error(
    run_id: str, plan: LegPlan, record: dict[str, Any], mapped: MappedRecord | None,
    field: str | None, code: str, message: str,
) -> ErrorRecord:
    key_values = mapped.key if mapped is not None else tuple(record.get(k) for k in plan.leg.source.key)
    key_fields = plan.key if mapped is not None else plan.leg.source.key
    return ErrorRecord(
        runId=run_id, task=plan.task.name, leg=plan.leg.name,
        businessKey=dict(zip(key_fields, key_values, strict=True)),
        field=field, code=code or "Error", message=message, record=record,
    )


def _keep_errors(store: Store, run_id: str, task: str, leg: str, page_no: int, errors: list[ErrorRecord]) -> None:
    """Write the page's error records, replacing (or removing) those of an earlier attempt of the same step."""
    if errors:
        store.errors.write_page(run_id, task, leg, page_no, [e.model_dump(mode="json") for e in errors])
    else:
        store.errors.delete_page(run_id, task, leg, page_no)
