"""A function app of the devhost tests' own: HTTP routes, a durable client, small orchestrations.

Its task hub is the app setting DEVHOST_TEST_HUB, so each test runs in a hub of its own.
Activities that count their runs write one file per run into a folder named by their input.
"""

import json
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

# HTTP


@app.route(route="ping", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("pong")


@app.route(route="hello/{name:alpha}/{times:int?}", methods=["GET"])
async def hello(req: func.HttpRequest) -> func.HttpResponse:
    body = {"route": dict(req.route_params), "query": dict(req.params), "agent": req.headers.get("x-agent")}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="echo", methods=["POST", "PUT"])
def echo(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return func.HttpResponse(
        req.get_body(), status_code=201, headers={"x-method": req.method, "x-invocation": context.invocation_id},
        mimetype="application/octet-stream",
    )


@app.route(route="orchestrators/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_orchestration(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    instance_id = await client.start_new(
        req.route_params["name"], req.params.get("instance_id"), json.loads(body) if body else None
    )
    return client.create_check_status_response(req, instance_id)


@app.route(route="instances/{instance_id}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def instance_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    status = await client.get_status(req.route_params["instance_id"], show_history=True, show_input=True)
    if not status:
        return func.HttpResponse(status_code=404)
    body = status.to_json()
    body["historyEvents"] = getattr(status, "historyEvents", None)
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="instances", methods=["GET"])
@app.durable_client_input(client_name="client")
async def list_instances(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    statuses = [df.OrchestrationRuntimeStatus(s) for s in req.params.get("status", "").split(",") if s]
    found = await client.get_status_by(runtime_status=statuses or None)
    return func.HttpResponse(json.dumps(sorted(s.instance_id for s in found)), mimetype="application/json")


@app.route(route="instances/{instance_id}/{operation}", methods=["POST", "DELETE"])
@app.durable_client_input(client_name="client")
async def manage_instance(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id, operation = req.route_params["instance_id"], req.route_params["operation"]
    if operation == "terminate":
        await client.terminate(instance_id, req.params.get("reason", "stopped"))
    elif operation == "purge":
        result = await client.purge_instance_history(instance_id)
        return func.HttpResponse(json.dumps({"deleted": result.instances_deleted}), mimetype="application/json")
    else:
        await client.raise_event(instance_id, operation, json.loads(req.get_body() or b"null"))
    return func.HttpResponse(status_code=202)


# Orchestrators


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    count = context.get_input()["count"]
    results = yield context.task_all([context.call_activity("double", i) for i in range(count)])
    return results


@app.orchestration_trigger(context_name="context")
def fan_out_noop(context: df.DurableOrchestrationContext):
    results = yield context.task_all([context.call_activity("noop", i) for i in range(context.get_input())])
    return len(results)


@app.orchestration_trigger(context_name="context")
def retry_flaky(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=200, max_number_of_attempts=3)
    first = yield context.call_activity_with_retry("flaky", options, context.get_input())
    together = yield context.task_all([
        context.call_activity("double", 1),
        context.call_activity_with_retry("double", options, 2),
    ])
    return {"attempts": first, "after": together}


@app.orchestration_trigger(context_name="context")
def retry_fan_out(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=100, max_number_of_attempts=3)
    tasks = [context.call_activity_with_retry("double", options, i) for i in range(3)]
    results = yield context.task_all([*tasks, context.call_activity("double", 10)])
    return results


@app.orchestration_trigger(context_name="context")
def parent_of_failing(context: df.DurableOrchestrationContext):
    result = yield context.call_sub_orchestrator("failing_child", context.get_input())
    return result


@app.orchestration_trigger(context_name="context")
def failing_child(context: df.DurableOrchestrationContext):
    yield context.call_activity("explode", context.get_input())
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def parent_with_children(context: df.DurableOrchestrationContext):
    doubled = yield context.task_all([context.call_sub_orchestrator("fan_out", {"count": n}) for n in (1, 2, 3)])
    return doubled


@app.orchestration_trigger(context_name="context")
def waits_for_a_timer(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=context.get_input()))
    return "woke up"


@app.orchestration_trigger(context_name="context")
def parent_of_waiting(context: df.DurableOrchestrationContext):
    children = [context.call_sub_orchestrator("waits_for_a_timer", 2), context.call_sub_orchestrator("approval")]
    results = yield context.task_all(children)
    return results


@app.orchestration_trigger(context_name="context")
def timers(context: df.DurableOrchestrationContext):
    seconds = context.get_input()["seconds"]
    started = context.current_utc_datetime
    for _ in range(2):
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    deadline = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    winner = yield context.task_any([context.call_activity("double", 21), deadline])
    deadline.cancel()
    elapsed = (context.current_utc_datetime - started).total_seconds()
    return {"elapsed": elapsed, "winner": winner.result}


@app.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext):
    state = context.get_input()
    doubled = yield context.call_activity("double", state["n"])
    if state["n"] < state["limit"]:
        context.continue_as_new({"n": state["n"] + 1, "limit": state["limit"], "last": doubled})
        return None
    return {"n": state["n"], "last": doubled}


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    context.set_custom_status({"stage": "waiting for approval"})
    decision = yield context.wait_for_external_event("approve")
    context.set_custom_status({"stage": "approved"})
    return decision


@app.orchestration_trigger(context_name="context")
def slow_fan_out(context: df.DurableOrchestrationContext):
    work = context.get_input()
    tasks = [
        context.call_activity("slow_square", {"i": i, "dir": work["dir"], "seconds": work["seconds"]})
        for i in range(work["count"])
    ]
    results = yield context.task_all(tasks)
    return results


@app.orchestration_trigger(context_name="context")
def large_payload(context: df.DurableOrchestrationContext):
    text = context.get_input()["text"]
    echoed = yield context.call_activity("echo_text", text + text)
    return {"length": len(echoed), "same": echoed == text + text}


@app.orchestration_trigger(context_name="context")
def clock_dependent(context: df.DurableOrchestrationContext):
    stamp = yield context.call_activity("double", datetime.now().microsecond)
    return stamp


@app.orchestration_trigger(context_name="context")
def reads_file(context: df.DurableOrchestrationContext):
    text = Path(context.get_input()).read_text()
    doubled = yield context.call_activity("double", len(text))
    return doubled


@app.orchestration_trigger(context_name="context")
def double_then_wait(context: df.DurableOrchestrationContext):
    doubled = yield context.call_activity("double", context.get_input())
    yield context.wait_for_external_event("go")
    return doubled


@app.orchestration_trigger(context_name="context")
def sets_custom_status(context: df.DurableOrchestrationContext):
    context.set_custom_status(context.get_input())
    yield context.call_activity("double", 1)
    return "done"


@app.orchestration_trigger(context_name="context")
def parent_of_custom_status(context: df.DurableOrchestrationContext):
    result = yield context.call_sub_orchestrator("sets_custom_status", context.get_input())
    return result


@app.orchestration_trigger(context_name="context")
def calls_flaky_once(context: df.DurableOrchestrationContext):
    attempts = yield context.call_activity("flaky", context.get_input())
    return attempts


@app.orchestration_trigger(context_name="context")
def parent_of_flaky(context: df.DurableOrchestrationContext):
    attempts = yield context.call_sub_orchestrator("calls_flaky_once", context.get_input())
    return {"child": attempts}


@app.orchestration_trigger(context_name="context")
def calls_an_entity(context: df.DurableOrchestrationContext):
    total = yield context.call_entity(df.EntityId("counter", "k"), "add", 1)
    return total


# Activities


@app.activity_trigger(input_name="value")
def double(value: int) -> int:
    return value * 2


@app.activity_trigger(input_name="value")
def noop(value: int) -> int:
    return value


@app.activity_trigger(input_name="work")
def flaky(work: dict) -> int:
    folder = Path(work["dir"])
    (folder / f"attempt-{uuid.uuid4().hex}").touch()
    attempts = len(list(folder.glob("attempt-*")))
    if attempts <= work["failures"]:
        raise RuntimeError(f"transient failure number {attempts}")
    return attempts


@app.activity_trigger(input_name="message")
def explode(message: str) -> None:
    raise ValueError(message)


@app.activity_trigger(input_name="work")
def slow_square(work: dict) -> int:
    folder, run = Path(work["dir"]), uuid.uuid4().hex
    (folder / f"start-{work['i']}-{run}").touch()
    time.sleep(work["seconds"])
    (folder / f"done-{work['i']}-{run}").touch()
    return work["i"] * work["i"]


@app.activity_trigger(input_name="text")
def echo_text(text: str) -> str:
    return text
