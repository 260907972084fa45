"""Function chaining: activities one after the other, progress in the custom status."""

import azure.durable_functions as df
from shared.greetings import greeting

bp = df.Blueprint()

DEFAULT_CITIES = ["Tokyo", "Seattle", "London"]


@bp.orchestration_trigger(context_name="context")
def hello_cities(context: df.DurableOrchestrationContext):
    cities = context.get_input() or DEFAULT_CITIES
    greetings = []
    for city in cities:
        context.set_custom_status({"greeting": city, "done": len(greetings)})
        greetings.append((yield context.call_activity("say_hello", city)))
    context.set_custom_status({"greeting": None, "done": len(greetings)})
    return greetings


@bp.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    return greeting(city)
