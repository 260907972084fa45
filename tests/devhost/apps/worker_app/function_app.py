"""A function app for devhost's worker processes: it reports where its code runs, how long, and how often.

Functions that sleep past the test host.json's functionTimeout (3 s) do so only on their first
attempt, which they mark with a file in the folder their input names; each run of `record`ed
functions writes when it started and ended, and in which process, into that folder.
"""

import json
import os
import threading
import time
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

# Per process, as any module-level state of an app is: each worker process counts its own calls.
_calls = 0
_calls_lock = threading.Lock()


def _count_call() -> int:
    global _calls
    with _calls_lock:
        _calls += 1
        return _calls


def _first_attempt(folder: str, name: str) -> bool:
    """True the first time `name` is asked about in `folder` (across processes and restarts)."""
    try:
        (Path(folder) / f"{name}.first").touch(exist_ok=False)
    except FileExistsError:
        return False
    return True


def _record(folder: str, name: str, seconds: float) -> dict:
    """Sleep `seconds`, then write when this run started and ended and its process id."""
    started = time.time()
    (Path(folder) / f"{name}.started").write_text(str(os.getpid()))
    time.sleep(seconds)
    run = {"name": name, "pid": os.getpid(), "start": started, "end": time.time()}
    (Path(folder) / f"{name}.run").write_text(json.dumps(run))
    return run


# HTTP


@app.route(route="orchestrators/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_orchestration(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    instance_id = await client.start_new(req.route_params["name"], None, json.loads(body) if body else None)
    return client.create_check_status_response(req, instance_id)


@app.route(route="where", methods=["GET"])
def where(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps({"pid": os.getpid(), "calls": _count_call()}), mimetype="application/json")


@app.route(route="sleep/{name}", methods=["POST"])
def sleep(req: func.HttpRequest) -> func.HttpResponse:
    params = req.get_json()
    run = _record(params["dir"], req.route_params["name"], params["seconds"])
    return func.HttpResponse(json.dumps(run), mimetype="application/json")


# Activities


@app.activity_trigger(input_name="job")
def recorded_sleep(job: dict) -> dict:
    return _record(job["dir"], job["name"], job["seconds"])


@app.activity_trigger(input_name="job")
def slow_first_time(job: dict) -> str:
    if _first_attempt(job["dir"], "slow_first_time"):
        _record(job["dir"], "slow_first_time", 30)
    return f"attempt after the timeout, in process {os.getpid()}"


@app.activity_trigger(input_name="job")
def exits_first_time(job: dict) -> str:
    if _first_attempt(job["dir"], "exits_first_time"):
        os._exit(3)
    return "attempt after the exit"


@app.activity_trigger(input_name="job")
def process_id(job: dict) -> int:
    time.sleep(job["seconds"])
    return os.getpid()


# Orchestrators


@app.orchestration_trigger(context_name="context")
def retried(context: df.DurableOrchestrationContext):
    job = context.get_input()
    return (yield context.call_activity_with_retry(job["activity"], df.RetryOptions(500, 3), job))


@app.orchestration_trigger(context_name="context")
def single(context: df.DurableOrchestrationContext):
    job = context.get_input()
    return (yield context.call_activity(job["activity"], job))


@app.orchestration_trigger(context_name="context")
def spread(context: df.DurableOrchestrationContext):
    job = context.get_input()
    return (yield context.task_all([context.call_activity("process_id", job) for _ in range(job["count"])]))


@app.orchestration_trigger(context_name="context")
def recorded_fan_out(context: df.DurableOrchestrationContext):
    job = context.get_input()
    calls = [context.call_activity("recorded_sleep", {**job, "name": f"activity-{i}"}) for i in range(job["count"])]
    return (yield context.task_all(calls))


@app.orchestration_trigger(context_name="context")
def slow_first_replay(context: df.DurableOrchestrationContext):
    # Test-only I/O in an orchestrator: the first replay hangs past functionTimeout, later ones do not.
    if _first_attempt(context.get_input()["dir"], "slow_first_replay"):
        time.sleep(30)
    return "replayed after the timeout"
