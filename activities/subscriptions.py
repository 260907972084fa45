"""The steps that call a run's subscribers back when it ends (shared/subscriptions.py).

They carry subscription ids, never callback URLs: those are decrypted inside `call_subscriber`.
"""

from __future__ import annotations

from typing import Any

from activities.blueprint import blueprint
from shared.settings import public_base_url, storage_settings
from shared.store import store_for
from shared.subscriptions import call_back, subscribers


@blueprint.activity_trigger(input_name="step")
def find_subscribers(step: dict[str, Any]) -> dict[str, Any]:
    """`{"ids": [...]}`: the subscriptions that asked for a run of `projectId` ending with `status`."""
    return {"ids": subscribers(store_for(storage_settings()), step["projectId"], step["status"])}


@blueprint.activity_trigger(input_name="step")
def call_subscriber(step: dict[str, Any]) -> dict[str, Any]:
    """POST the run's summary to subscription `subscriptionId`; raises RetryableError for a retry when it fails."""
    status = call_back(store_for(storage_settings()), step["subscriptionId"], step["runId"], public_base_url())
    return {"sent": status is not None, "status": status}
