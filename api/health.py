"""`GET /api/health`: anonymous liveness, plus whether the service's storage answers."""

import json

import azure.functions as func

from api.blueprint import blueprint
from shared.errors import SettingError
from shared.settings import storage_settings
from shared.store import Store


@blueprint.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    try:
        storage = "ok" if Store(storage_settings()).ping() else "unreachable"
    except SettingError:
        storage = "not configured"
    ok = storage == "ok"
    body = {"status": "ok" if ok else "degraded", "storage": storage}
    return func.HttpResponse(json.dumps(body), status_code=200 if ok else 503, mimetype="application/json")
