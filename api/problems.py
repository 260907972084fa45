"""Every API error as `application/problem+json`, mapped from the domain's errors in one place."""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import azure.functions as func
from pydantic import ValidationError

from api.body_problems import body_problems
from api.links import run_link
from shared.errors import RunActive, ServiceError, Unauthorized, request_path

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> func.HttpResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "errors": errors or [], **extra}
    return func.HttpResponse(
        json.dumps(body, ensure_ascii=False), status_code=status, mimetype=PROBLEM_JSON, headers=headers or {},
        charset="utf-8",
    )


def from_exception(exc: Exception, req: func.HttpRequest) -> func.HttpResponse:
    """The problem response for `exc`, raised while answering `req`."""
    if isinstance(exc, RunActive):
        location = run_link(req, exc.run_id)
        return problem(
            409, exc.title, exc.message, [{"field": "runId", "message": exc.run_id}],
            headers={"Location": location}, runId=exc.run_id, location=location,
        )
    if isinstance(exc, ServiceError):
        errors = [{"field": exc.field, "message": exc.message}] if exc.field else []
        # a 401 names the scheme to authenticate with (RFC 9110)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return problem(exc.status, exc.title, exc.message, errors, headers)
    if isinstance(exc, ValidationError):
        found = body_problems(exc)
        return problem(400, "Invalid body", f"{len(found)} problem(s) in the request body", found)
    # the path names the route and its ids; the query string may carry the function key
    log.exception("unhandled error answering %s %s", req.method, request_path(req.url))
    return problem(500, "Internal error", "the request failed; see the function's logs")


Handler = Callable[..., func.HttpResponse] | Callable[..., Awaitable[func.HttpResponse]]


def answers_problems(handler: Handler) -> Handler:
    """Turn any error raised by `handler` (a plain or an async function) into its problem response.

    Handlers that only call storage are plain functions, which the Functions host runs on its
    thread pool; the ones that await the Durable client are async. The request is the one
    `func.HttpRequest` among the handler's arguments.
    """
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def awaiting(*args: Any, **kwargs: Any) -> func.HttpResponse:
            try:
                return await handler(*args, **kwargs)  # type: ignore[misc]
            except Exception as exc:
                return from_exception(exc, _request(args, kwargs))

        return awaiting

    @functools.wraps(handler)
    def calling(*args: Any, **kwargs: Any) -> func.HttpResponse:
        try:
            return handler(*args, **kwargs)  # type: ignore[return-value]
        except Exception as exc:
            return from_exception(exc, _request(args, kwargs))

    return calling


def _request(args: tuple[Any, ...], kwargs: dict[str, Any]) -> func.HttpRequest:
    return next(value for value in (*args, *kwargs.values()) if isinstance(value, func.HttpRequest))
