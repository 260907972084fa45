"""Eternal orchestration: a periodic clean-up that restarts itself with continue_as_new, keeping its history small."""

from datetime import timedelta

import azure.durable_functions as df

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context")
def periodic_cleanup(context: df.DurableOrchestrationContext):
    state = context.get_input()
    removed = yield context.call_activity("clean_up", state["round"])
    total = state.get("removed", 0) + removed
    if state["round"] >= state["rounds"]:
        return {"rounds": state["round"], "removed": total}
    context.set_custom_status({"round": state["round"], "removed": total})
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=state["interval_s"]))
    context.continue_as_new({**state, "round": state["round"] + 1, "removed": total})


@bp.activity_trigger(input_name="number")
def clean_up(number: int) -> int:
    # Stands for deleting expired items; each round removes as many as its number.
    return number
