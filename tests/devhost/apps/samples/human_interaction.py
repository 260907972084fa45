"""Human interaction: text a challenge code, then wait for the answer (an external event) or a deadline."""

import random
from datetime import timedelta

import azure.durable_functions as df

bp = df.Blueprint()

ATTEMPTS = 3


@bp.orchestration_trigger(context_name="context")
def verify_phone(context: df.DurableOrchestrationContext):
    request = context.get_input() or {}
    phone = request.get("phone", "")
    if not (phone.startswith("+") and phone[1:].isdigit()):
        raise ValueError("the phone number must start with + and the country code, e.g. +1425XXXXXXX")
    challenge = yield context.call_activity("send_challenge", phone)
    deadline = context.create_timer(context.current_utc_datetime + timedelta(seconds=request.get("timeout_s", 180)))
    authorized = False
    answer = None
    for attempt in range(ATTEMPTS):
        context.set_custom_status({"attempts_left": ATTEMPTS - attempt, "last_answer": answer})
        response = context.wait_for_external_event("challenge_response")
        winner = yield context.task_any([response, deadline])
        if winner != response:
            break
        answer = response.result
        if answer == challenge:
            authorized = True
            break
    if not deadline.is_completed:
        deadline.cancel()
    context.set_custom_status({"attempts_left": 0, "last_answer": answer})
    return authorized


@bp.activity_trigger(input_name="phone")
def send_challenge(phone: str) -> str:
    # An SMS gateway would deliver the code; it is the activity's output, in the instance's history.
    return str(random.randint(1000, 9999))
