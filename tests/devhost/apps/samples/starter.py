"""The HTTP starter: start any orchestration by name and answer with its management URLs."""

import json
import logging

import azure.durable_functions as df
import azure.functions as func

bp = df.Blueprint()


@bp.route(route="orchestrators/{functionName}", methods=["POST"])
@bp.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        return func.HttpResponse("the body must be JSON", status_code=400)
    instance_id = await client.start_new(req.route_params["functionName"], client_input=payload)
    logging.info("Started orchestration with ID = '%s'.", instance_id)
    return client.create_check_status_response(req, instance_id)
