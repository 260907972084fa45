"""The dashboard's pages in-process: keys on links, roles deciding the buttons, headers, 404 pages, assets.

The pages in a real browser on the twin: tests/browser/test_dashboard.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import azure.functions as func
import pytest

from api.parsing import ADMIN, OPERATOR
from api.responses import store
from api.ui.routes import ASSET_TYPES
from shared.models import Run
from tests.api.conftest import Api
from tests.api.test_connections_and_projects import create, principal

KEY = "k3y-from-the-url"


def page(functions: dict[str, Any], name: str, path: str, route: dict[str, str] | None = None,
         headers: dict[str, str] | None = None, code: str | None = KEY) -> func.HttpResponse:
    params = {"code": code} if code else {}
    query = f"?code={code}" if code else ""
    request = func.HttpRequest("GET", f"http://127.0.0.1:7071/api/{path}{query}", headers=headers or {},
                               route_params=route or {}, params=params, body=b"")
    return functions[name].get_user_function()(request)


class Links(HTMLParser):
    """Every href and src of a page, and the ids of its elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.urls += [value for name, value in attrs if name in ("href", "src") and value]
        if found.get("id"):
            self.ids.add(str(found["id"]))


def parsed(response: func.HttpResponse) -> Links:
    links = Links()
    links.feed(response.get_body().decode())
    return links


@pytest.fixture
def project(api: Api) -> str:
    for name in ("sales", "cds", "operations"):
        api("put_connection", "PUT", f"connections/{name}", {"kind": "dataverse", "url": f"https://{name}.crm.dynamics.com",
            "auth": {"type": "managedIdentity"}}, route={"name": name})
    create(api, {"name": "accounts-sync", "template": "accounts",
                 "connections": {"source": "sales", "cds": "cds", "destination": "operations"},
                 "consent": {"accepted": True, "acceptedBy": "a@contoso.com", "noticeVersion": "1"}})
    return "accounts-sync"


def test_the_overview_is_html_with_a_strict_policy_and_the_key_only_on_the_apps_own_links(
    api: Api, functions: dict[str, Any]
) -> None:
    answer = page(functions, "ui_overview", "ui")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    text = answer.get_body().decode()
    assert re.findall(r"<script[^>]*>", text) == [f'<script src="http://127.0.0.1:7071/api/ui/assets/dashboard.js?code={KEY}" defer>']
    assert not re.search(r"\son\w+=", text), "no inline event handlers"
    links = parsed(answer)
    assert links.urls and all(url.startswith("http://127.0.0.1:7071/api/ui") for url in links.urls)
    assert all(url.endswith(f"?code={KEY}") for url in links.urls)
    without_key = page(functions, "ui_overview", "ui", code=None, headers=principal(OPERATOR))
    assert KEY not in without_key.get_body().decode()
    assert all("code=" not in url for url in parsed(without_key).urls)


def test_an_operator_gets_no_admin_buttons_and_an_admin_or_a_key_holder_does(
    api: Api, functions: dict[str, Any], project: str
) -> None:
    def ids(headers: dict[str, str]) -> set[str]:
        answer = page(functions, "ui_project", f"ui/projects/{project}", {"id": project}, headers)
        assert answer.status_code == 200
        return parsed(answer).ids

    assert "delete-project" not in ids(principal(OPERATOR))
    assert "delete-project" in ids(principal(ADMIN))
    assert "delete-project" in ids({})
    assert {"sync-now", "history", "conflicts", "consent"} <= ids(principal(OPERATOR))
    refused = page(functions, "ui_project", f"ui/projects/{project}", {"id": project}, principal("Someone.Else"))
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"


def test_an_unknown_project_or_run_is_a_404_page_and_a_bad_name_a_400(api: Api, functions: dict[str, Any]) -> None:
    missing = page(functions, "ui_project", "ui/projects/nope", {"id": "nope"})
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "Project nope does not exist" in missing.get_body().decode()
    assert "Content-Security-Policy" in missing.headers
    missing_run = page(functions, "ui_run", "ui/runs/r1", {"runId": "r1"})
    assert missing_run.status_code == 404 and "Run r1 does not exist" in missing_run.get_body().decode()
    odd = page(functions, "ui_project", "ui/projects/a b", {"id": "<b>a b</b>"})
    assert odd.status_code == 400 and odd.mimetype == "application/problem+json"


def test_a_run_page_names_its_project(api: Api, functions: dict[str, Any], project: str) -> None:
    now = datetime.now(UTC)
    store().runs.create(Run(runId="r-ui-1", projectId=project, createdTime=now, lastUpdatedTime=now))
    answer = page(functions, "ui_run", "ui/runs/r-ui-1", {"runId": "r-ui-1"})
    assert answer.status_code == 200
    text = answer.get_body().decode()
    assert 'data-run="r-ui-1"' in text and f'data-project="{project}"' in text
    assert {"progress", "errors", "error-filter", "terminate"} <= parsed(answer).ids


@pytest.mark.parametrize("name", sorted(ASSET_TYPES))
def test_assets_are_served_with_their_type(api: Api, functions: dict[str, Any], name: str) -> None:
    answer = page(functions, "ui_asset", f"ui/assets/{name}", {"name": name})
    assert answer.status_code == 200 and answer.mimetype == ASSET_TYPES[name]
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and answer.get_body()


@pytest.mark.parametrize("name", ["routes.py", "..", "x.js"])
def test_nothing_but_the_assets_is_served(api: Api, functions: dict[str, Any], name: str) -> None:
    answer = page(functions, "ui_asset", f"ui/assets/{name}", {"name": name})
    assert answer.status_code in (400, 404) and answer.mimetype == "application/problem+json"


def test_the_script_writes_values_as_text_never_as_markup() -> None:
    from api.ui.routes import ASSETS

    script = (ASSETS / "dashboard.js").read_text()
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function", script)


def test_a_hostile_key_in_the_url_stays_inside_its_attribute(api: Api, functions: dict[str, Any]) -> None:
    hostile = '"><script>alert(1)</script>'
    text = page(functions, "ui_overview", "ui", code=hostile).get_body().decode()
    assert "<script>alert" not in text and "%22%3E%3Cscript%3Ealert%281%29" in text
