"""`/api/ui`: the dashboard's pages and its own script and style sheet.

Same keys and roles as the API: a page needs the function key (`?code=`, carried on to the
assets and the other pages' links) or an Easy Auth principal, and an Operator gets pages
without the admin's buttons. An unknown project or run is a 404 page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import azure.functions as func

from api.blueprint import blueprint
from api.links import api_link
from api.parsing import ADMIN, OPERATOR, path_name, require, roles
from api.problems import answers_problems, problem
from api.responses import store
from api.ui import pages
from shared.errors import NotFound
from shared.settings import route_prefix

ASSETS = Path(__file__).parent / "assets"
ASSET_TYPES = {"dashboard.js": "text/javascript", "dashboard.css": "text/css", "favicon.svg": "image/svg+xml"}


@blueprint.route(route="ui", methods=["GET"])
@answers_problems
def ui_overview(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    return _html(pages.overview(_frame(req)))


@blueprint.route(route="ui/projects/{id}", methods=["GET"])
@answers_problems
def ui_project(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    project_id = path_name(req, "id")
    return _page(req, f"Project {project_id}", lambda frame, _: pages.project(frame, project_id),
                 lambda: store().projects.etag(project_id))


@blueprint.route(route="ui/runs/{runId}", methods=["GET"])
@answers_problems
def ui_run(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    run_id = path_name(req, "runId")
    return _page(req, f"Run {run_id}", lambda frame, run: pages.run(frame, run_id, run.projectId),
                 lambda: store().runs.get(run_id))


@blueprint.route(route="ui/assets/{name}", methods=["GET"])
@answers_problems
def ui_asset(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    name = path_name(req, "name")
    if name not in ASSET_TYPES:
        return problem(404, "Not found", f"the dashboard has no asset {name!r}", [{"field": "name", "message": name}])
    return func.HttpResponse(
        (ASSETS / name).read_bytes(), mimetype=ASSET_TYPES[name], charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )


def _page(req: func.HttpRequest, title: str, render: Callable[[pages.Frame, Any], str], find: Callable[[], Any]
          ) -> func.HttpResponse:
    """The page `render` makes of what `find` reads, or a 404 page naming `title` when it finds nothing."""
    frame = _frame(req)
    try:
        found = find()
    except NotFound:
        return _html(pages.not_found(frame, title), 404)
    return _html(render(frame, found))


def _frame(req: func.HttpRequest) -> pages.Frame:
    held = roles(req)
    prefix = route_prefix()
    return pages.Frame(
        api_base=f"/{prefix}" if prefix else "",
        home=api_link(req, "ui"),
        script=api_link(req, "ui", "assets", "dashboard.js"),
        style=api_link(req, "ui", "assets", "dashboard.css"),
        icon=api_link(req, "ui", "assets", "favicon.svg"),
        # without Easy Auth the function key alone decides, as it does for the API
        admin=held is None or ADMIN in held,
        who="Function key" if held is None else ("Admin" if ADMIN in held else "Operator"),
    )


def _html(text: str, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(text, status_code=status, mimetype="text/html", charset="utf-8",
                             headers=pages.SECURITY_HEADERS)
