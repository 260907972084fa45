"""Absolute links to the API's own resources: every `Location` and `errorsUri` is built here.

A Logic App's asynchronous pattern follows `Location` as given, so a link carries the scheme
and host the caller reached (`req.url`: on Azure, the front end's), the host's routePrefix,
and, when the caller authenticated with `?code=`, that same code, so that polling works with
the key the caller already holds. A key the caller sent in a header is never copied into a
URL, and no other key is ever added.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import azure.functions as func

from shared.settings import route_prefix

KEY_PARAMETER = "code"


def api_link(req: func.HttpRequest, *segments: str) -> str:
    """The absolute URL of the route made of `segments` (each percent-encoded), as `req`'s caller reaches it."""
    called = urlsplit(req.url)
    prefix = route_prefix()
    parts = ([quote(prefix, safe="/")] if prefix else []) + [quote(segment, safe="") for segment in segments]
    code = req.params.get(KEY_PARAMETER)
    query = urlencode({KEY_PARAMETER: code}) if code else ""
    return urlunsplit((called.scheme, called.netloc, "/" + "/".join(parts), query, ""))


def run_link(req: func.HttpRequest, run_id: str) -> str:
    """`GET /runs/{runId}`: where a run's caller polls until it ends."""
    return api_link(req, "runs", run_id)


def run_errors_link(req: func.HttpRequest, run_id: str) -> str:
    """`GET /runs/{runId}/errors`: the first page of a run's error records."""
    return api_link(req, "runs", run_id, "errors")


def conflict_resolve_link(req: func.HttpRequest, project_id: str, conflict_id: str) -> str:
    """`POST /projects/{id}/conflicts/{conflictId}/resolve`: where a person settles a conflict."""
    return api_link(req, "projects", project_id, "conflicts", conflict_id, "resolve")
