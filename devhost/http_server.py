"""devhost's HTTP front: the app's HTTP functions and the Durable management API.

- `/{routePrefix}/{route}`: the HTTP-triggered functions, matched by route template and
  method (no match: 404), guarded by their auth level (401 without the key), called with a
  `func.HttpRequest` and, for `durableClient` inputs, the client binding JSON.
- `/runtime/webhooks/durabletask/...`: the management API, with the system key (401 for
  none or a function key).
- `/durabletask/{systemKey}/...`: the same API as the durable client's RPC base, which stands
  for the Durable extension's loopback RPC endpoint (see client_binding.py); 401 without the
  system key in its path.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devhost.app_index import AppIndex, HttpFunction
from devhost.auth import HostKeys, is_authorized, presented_key, same_key
from devhost.client_binding import RPC_PATH, WEBHOOK_PATH, DurableUrls
from devhost.invoker import REASON_HTTP, FunctionInvoker, InvocationFailed
from devhost.management_api import ManagementApi
from devhost.routes import RouteTemplate
from devhost.worker_protocol import HttpResponseData, HttpTrigger

log = logging.getLogger("devhost")

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]
JSON_TYPE = "application/json; charset=utf-8"


class HttpFront:
    """Builds the ASGI app that serves one function app and its task hub."""

    def __init__(
        self, index: AppIndex, invoker: FunctionInvoker, api: ManagementApi, urls: DurableUrls, route_prefix: str,
        keys: HostKeys,
    ) -> None:
        self._routes = sorted(((RouteTemplate(f.route), f) for f in index.http), key=lambda r: r[0].specificity)
        self._invoker = invoker
        self._api = api
        self._urls = urls
        self._keys = keys
        self._prefix = f"/{route_prefix}" if route_prefix else ""

    def asgi_app(self) -> Starlette:
        """The ASGI application to serve."""
        return Starlette(routes=[Route("/{path:path}", self._dispatch, methods=METHODS)])

    def function_urls(self) -> list[str]:
        """One line per HTTP function, as `func start` lists them."""
        return [
            f"{f.name}: [{','.join(sorted(f.methods or METHODS))}] {self._urls.base_url}{self._prefix}/{f.route}"
            for _, f in self._routes
        ]

    async def _dispatch(self, request: Request) -> Response:
        path = request.scope["path"]  # percent-decoded, unlike request.url.path
        if path == WEBHOOK_PATH or path.startswith(WEBHOOK_PATH + "/"):
            key = presented_key(request.headers, request.query_params)
            if not is_authorized("function", key, self._keys.system):
                return Response(status_code=401)
            return await self._management(request, path[len(WEBHOOK_PATH):])
        if path == RPC_PATH or path.startswith(RPC_PATH + "/"):
            rest = self._after_rpc_key(path[len(RPC_PATH) + 1:])
            if rest is None:
                return Response(status_code=401)
            return await self._management(request, rest)
        if self._prefix and path != self._prefix and not path.startswith(self._prefix + "/"):
            return Response(status_code=404)
        return await self._function(request, path[len(self._prefix):])

    def _after_rpc_key(self, path: str) -> str | None:
        """The RPC path after its leading system key, or None when the key is not there."""
        # Compared as a prefix, not as a path segment: a key set in DEVHOST_SYSTEM_KEY may hold a '/'.
        key = self._keys.system
        rest = path[len(key):]
        if not same_key(path[:len(key)], key) or not rest.startswith("/"):
            return None
        return rest

    async def _management(self, request: Request, path: str) -> Response:
        body = await request.body()
        answer = await run_in_threadpool(
            self._api.handle, request.method, path, dict(request.query_params), request.headers, body
        )
        if answer.body is None:
            return Response(status_code=answer.status, headers=answer.headers)
        return Response(json.dumps(answer.body), answer.status, answer.headers, media_type=JSON_TYPE)

    async def _function(self, request: Request, path: str) -> Response:
        matched = self._match(path, request.method)
        if matched is None:
            return Response(status_code=404)
        function, route_values = matched
        key = presented_key(request.headers, request.query_params)
        if not is_authorized(function.auth_level, key, self._keys.function):
            return Response(status_code=401)
        http_request = HttpTrigger(
            request.method,
            str(request.url),
            headers=_joined(request.headers.items(), ", "),
            params=_joined(request.query_params.multi_items(), ","),
            route_params=route_values,
            body=await request.body(),
        )
        arguments: dict[str, Any] = {function.trigger_param: http_request}
        arguments.update({name: self._urls.client_binding() for name in function.client_params})
        try:
            answer: HttpResponseData = await asyncio.wrap_future(
                self._invoker.submit(function, arguments, REASON_HTTP)
            )
        except InvocationFailed:
            return Response(status_code=500)
        return Response(answer.body, answer.status, answer.headers)

    def _match(self, path: str, method: str) -> tuple[HttpFunction, dict[str, str]] | None:
        for template, function in self._routes:
            if function.methods is not None and method.upper() not in function.methods:
                continue
            values = template.match(path)
            if values is not None:
                return function, values
        return None


def _joined(items: Iterable[tuple[str, str]], separator: str) -> dict[str, str]:
    """Repeated headers or query parameters as one value each, the way the host passes them."""
    joined: dict[str, str] = {}
    for name, value in items:
        joined[name] = f"{joined[name]}{separator}{value}" if name in joined else value
    return joined

