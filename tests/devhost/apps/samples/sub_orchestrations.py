"""Sub-orchestrations: provision each device in an orchestration of its own, all at once."""

import azure.durable_functions as df

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context")
def provision_devices(context: df.DurableOrchestrationContext):
    devices = context.get_input()
    provisioned = yield context.task_all([
        context.call_sub_orchestrator("provision_device", device, f"{context.instance_id}:{device}")
        for device in devices
    ])
    return provisioned


@bp.orchestration_trigger(context_name="context")
def provision_device(context: df.DurableOrchestrationContext):
    device = context.get_input()
    key = yield context.call_activity("register_device", device)
    settings = yield context.call_activity("configure_device", {"device": device, "key": key})
    return {"device": device, "key": key, "settings": settings}


@bp.activity_trigger(input_name="device")
def register_device(device: str) -> str:
    return f"key-{device}"


@bp.activity_trigger(input_name="registration")
def configure_device(registration: dict) -> dict:
    return {"telemetry": "on", "owner": registration["device"].split("-")[0]}
