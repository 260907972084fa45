"""`/api/subscriptions`: the webhook subscriptions of the connector's "When a run finishes" trigger.

Operators may subscribe and unsubscribe: a subscription only tells its callback what an
operator can read already (a run's summary, no records), and the makers who build flows on
the connector hold that role.
"""

from __future__ import annotations

import re

import azure.functions as func

from api.blueprint import blueprint
from api.links import api_link
from api.parsing import OPERATOR, object_body, require
from api.problems import answers_problems
from api.responses import json_response, store, utc_now
from shared.errors import InvalidInput
from shared.subscriptions import SubscriptionRequest, subscribe, unsubscribe

_ID = re.compile(r"^[0-9a-f]{32}$")


@blueprint.route(route="subscriptions", methods=["POST"])
@answers_problems
def create_subscription(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    subscription = subscribe(store(), SubscriptionRequest.model_validate(object_body(req)), utc_now())
    location = api_link(req, "subscriptions", subscription.id)
    return json_response({"id": subscription.id}, 201, {"Location": location})


@blueprint.route(route="subscriptions/{id}", methods=["DELETE"])
@answers_problems
def delete_subscription(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    subscription_id = req.route_params.get("id", "")
    if _ID.fullmatch(subscription_id) is None:
        raise InvalidInput("id must be a subscription id: 32 hexadecimal digits", field="id")
    unsubscribe(store(), subscription_id)
    return func.HttpResponse(status_code=204)
