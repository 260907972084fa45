"""The Starlette app of one sandbox system: admin routes, then the service root.

A service request goes: token check (401) -> service protection (429) -> fault draw
(503, or a dropped connection after the work) -> latency -> the service, on the database
thread -> per-record cost. Sleeps are `asyncio.sleep`, so slow requests overlap and the
concurrency cap sees them all. Every service request is counted in the stats.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from sandbox.admin import admin_routes
from sandbox.messages import ApiRequest, ApiResponse, Service
from sandbox.odata_query import route_label
from sandbox.protection import Protection, Stats
from sandbox.storage import Store

METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]
METADATA_ROOT = "/Metadata/"


class DroppedConnection(Response):
    """Starts a response, then stops: the server closes the connection mid-response."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"1024")],
            }
        )


def _to_response(response: ApiResponse) -> Response:
    return Response(response.body, response.status, headers=response.headers)


async def _api_request(request: Request, root: str) -> ApiRequest:
    raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
    path = raw_path.decode("utf-8", "replace").split(root.rstrip("/"), 1)[-1].lstrip("/")
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    query = parse_qsl(request.scope["query_string"].decode("utf-8", "replace"), keep_blank_values=True)
    base_url = f"{request.url.scheme}://{request.url.netloc}{root}"
    return ApiRequest(request.method, path, query, headers, await request.body(), base_url)


def _authorized(request: Request, token: str | None) -> bool:
    if token is None:
        return True
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and value.strip() == token


def create_app(
    service: Service,
    store: Store,
    protection: Protection,
    stats: Stats,
    token: str | None = None,
    default_company: str | None = None,
) -> Starlette:
    """The ASGI app serving one system."""

    async def serve(request: Request) -> Response:
        return await _serve(request, service.root, service.handle)

    async def serve_metadata(request: Request) -> Response:
        return await _serve(request, METADATA_ROOT, service.handle_metadata)  # type: ignore[attr-defined]

    async def _serve(request: Request, service_root: str, handle: Any) -> Response:
        api_request = await _api_request(request, service_root)
        route = route_label(api_request.method, api_request.path)
        if not _authorized(request, token):
            stats.count(route)
            return _to_response(service.error_response(service.auth_error()))
        rejection = protection.admit()
        if rejection is not None:
            stats.count(route, throttled=True)
            error = service.throttle_error(
                rejection.reason, rejection.limit, protection.knobs.window_s, rejection.retry_after
            )
            return _to_response(service.error_response(error))
        try:
            fault = protection.draw_fault()
            if fault == "unavailable":
                stats.count(route, fault=True)
                return _to_response(service.error_response(service.unavailable_error()))
            knobs = protection.knobs
            if knobs.latency_ms:
                await asyncio.sleep(knobs.latency_ms / 1000)
            response = await store.run(handle, api_request)
            if response.records_written and knobs.record_cost_ms:
                await asyncio.sleep(knobs.record_cost_ms * response.records_written / 1000)
            stats.count(route, written=response.records_written, fault=fault == "drop")
            return DroppedConnection() if fault == "drop" else _to_response(response)
        finally:
            protection.release()

    root = service.root.rstrip("/")
    routes = [
        *admin_routes(service, store, protection, stats, default_company),
        Route(root, serve, methods=METHODS),
        Route(root + "/{path:path}", serve, methods=METHODS),
    ]
    if hasattr(service, "handle_metadata"):
        routes.append(Route(METADATA_ROOT + "{path:path}", serve_metadata, methods=["GET"]))
    return Starlette(routes=routes)
