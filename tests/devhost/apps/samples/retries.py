"""Retries: an upload to a service that refuses the first calls, retried by Durable with RetryOptions."""

from pathlib import Path

import azure.durable_functions as df

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context")
def upload_report(context: df.DurableOrchestrationContext):
    request = context.get_input()
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=200, max_number_of_attempts=request["attempts"])
    receipt = yield context.call_activity_with_retry("upload", retry, request)
    context.set_custom_status({"uploaded": True})
    return receipt


@bp.activity_trigger(input_name="request")
def upload(request: dict) -> dict:
    # Stands for a remote service that is down for its first `failures` calls; calls are counted in files.
    calls = Path(request["calls_dir"])
    call = len(list(calls.glob("call-*"))) + 1
    (calls / f"call-{call}").touch()
    if call <= request["failures"]:
        raise ConnectionError(f"the report service is unavailable (call {call})")
    return {"report": request["report"], "call": call}
