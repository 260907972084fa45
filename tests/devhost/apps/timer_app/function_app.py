"""A function app of the devhost tests with timer triggers; each run writes a JSON file to TICK_DIR.

`tick` follows the schedule in the app setting TICK_SCHEDULE and starts an orchestration with
the durable client; `nightly` runs at 03:00 UTC with the schedule monitor on.
"""

import json
import os
import uuid
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)


def record(kind: str, timer: func.TimerRequest, **extra: str) -> None:
    body = {"kind": kind, "past_due": timer.past_due, "schedule_status": timer.schedule_status, **extra}
    (Path(os.environ["TICK_DIR"]) / f"{kind}-{uuid.uuid4().hex}.json").write_text(json.dumps(body))


@app.timer_trigger(schedule="%TICK_SCHEDULE%", arg_name="timer")
@app.durable_client_input(client_name="client")
async def tick(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    instance_id = await client.start_new("greet", None, "timer")
    record("tick", timer, instance_id=instance_id)


@app.timer_trigger(schedule="0 0 3 * * *", arg_name="timer", use_monitor=True)
def nightly(timer: func.TimerRequest) -> None:
    record("nightly", timer)


@app.orchestration_trigger(context_name="context")
def greet(context: df.DurableOrchestrationContext):
    greeting = yield context.call_activity("say_hello", context.get_input())
    return greeting


@app.activity_trigger(input_name="name")
def say_hello(name: str) -> str:
    return f"Hello {name}"
