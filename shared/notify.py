"""Run notifications: a small JSON summary POSTed to the project's webhook when a run ends.

A receiver that fails (non-2xx, unreachable) raises RetryableError so the activity's retry
policy tries again; the orchestrator never lets a notification fail the run.
"""

from __future__ import annotations

from typing import Any

from shared.errors import RetryableError, SettingError
from shared.http import new_session
from shared.settings import app_setting, route_prefix
from shared.store import Store

TIMEOUT_S = 10


def summary(store: Store, run_id: str, base_url: str | None) -> dict[str, Any]:
    run = store.runs.get(run_id)
    prefix = route_prefix()
    errors = f"{'/' + prefix if prefix else ''}/runs/{run_id}/errors"
    return {
        "project": run.projectId,
        "runId": run_id,
        "status": run.status.value,
        "mode": run.mode.value,
        "createdTime": run.createdTime.isoformat(),
        "lastUpdatedTime": run.lastUpdatedTime.isoformat(),
        "counts": {k: sum(getattr(t, k) for t in run.tasks) for k in ("read", "written", "skipped", "failed")},
        "tasks": [{"name": t.name, "status": t.status.value, "read": t.read, "written": t.written,
                   "skipped": t.skipped, "failed": t.failed} for t in run.tasks],
        "errorsUri": f"{base_url}{errors}" if base_url else errors,
    }


def notify(store: Store, run_id: str, webhook_setting: str, base_url: str | None) -> int:
    """POST the run's summary to the URL in `webhook_setting`; return the receiver's status."""
    url = app_setting(webhook_setting)
    if not url:
        raise SettingError(f"app setting {webhook_setting!r} is not set", field="notify.webhookSetting")
    return post_summary(url, summary(store, run_id, base_url), "the webhook")


def post_summary(url: str, body: dict[str, Any], receiver: str) -> int:
    """POST a run summary to `url` and return the receiver's status; RetryableError when it fails.

    Redirects are not followed: a receiver answers where it was registered. Errors name
    `receiver`, never the URL, which often carries a signature.
    """
    try:
        response = new_session(1).post(url, json=body, timeout=TIMEOUT_S, allow_redirects=False)
    except OSError as error:
        raise RetryableError(f"{receiver} could not be reached: {type(error).__name__}") from None
    if response.status_code >= 300:
        raise RetryableError(f"{receiver} answered {response.status_code}")
    return response.status_code
