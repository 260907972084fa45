"""Monitor: poll a job's state at an interval (durable timers) until it is done or the watch expires."""

from datetime import timedelta

import azure.durable_functions as df

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context")
def watch_job(context: df.DurableOrchestrationContext):
    request = context.get_input()
    expiry = context.current_utc_datetime + timedelta(seconds=request["expire_s"])
    polls = 0
    while context.current_utc_datetime < expiry:
        polls += 1
        state = yield context.call_activity("job_state", {"job": request["job"], "poll": polls,
                                                          "ready_after": request["ready_after"]})
        if state == "done":
            yield context.call_activity("send_alert", request["job"])
            return {"job": request["job"], "state": state, "polls": polls}
        context.set_custom_status({"job": request["job"], "state": state, "polls": polls})
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=request["interval_s"]))
    return {"job": request["job"], "state": "expired", "polls": polls}


@bp.activity_trigger(input_name="query")
def job_state(query: dict) -> str:
    # Stands for the job system's API: the job finishes on the poll the request names.
    return "done" if query["poll"] >= query["ready_after"] else "running"


@bp.activity_trigger(input_name="job")
def send_alert(job: str) -> str:
    return f"{job} is done"
