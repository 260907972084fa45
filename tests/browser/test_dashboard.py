"""The operator dashboard in a real browser, served by devhost on the twin: Sync Now, live counts, history,
error records and their filters, consent, conflicts settled by a button, roles, escaping.

Every page is also checked for script errors and Content-Security-Policy violations (both reach the console).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect

from api.parsing import ADMIN, OPERATOR
from tests.browser.conftest import VIEWPORT
from tests.orchestrators.conftest import create_project, seed, sync_now
from tests.orchestrators.test_sync_project import account, accounts_project, dirty_sales
from tests.orchestrators.test_twoway import edit, sales_account, two_way_project
from twin.local_twin import LocalTwin

FINISHED = 120_000
"""Milliseconds a page may take to show a run's end (the run itself is a few seconds on the twin)."""
HOSTILE = "<img src=x onerror=window.__pwned=1>"


class Tab:
    """A browser page on the twin's dashboard that records every console error and dialog it meets."""

    def __init__(self, context: BrowserContext, twin: LocalTwin, key: bool = True) -> None:
        self.twin, self.key = twin, key
        self.page: Page = context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"{m.text} {m.location}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        if dialog.type != "confirm":
            self.problems.append(f"{dialog.type}: {dialog.message}")
        dialog.accept()

    def open(self, path: str) -> Page:
        query = f"?code={self.twin.host.key}" if self.key else ""
        answer = self.page.goto(f"{self.twin.url}/api/ui{path}{query}")
        assert answer is not None and answer.status in (200, 404), answer and answer.status
        return self.page


@pytest.fixture
def context(browser: Any) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport=VIEWPORT)
    yield opened
    opened.close()


def as_role(browser: Any, role: str) -> BrowserContext:
    claims = {"auth_typ": "aad", "claims": [{"typ": "roles", "val": role}]}
    principal = base64.b64encode(json.dumps(claims).encode()).decode()
    return browser.new_context(viewport=VIEWPORT, extra_http_headers={"X-MS-CLIENT-PRINCIPAL": principal})


def slow(twin: LocalTwin, latency_ms: int) -> None:
    """Make every answer of the Sales system take `latency_ms`, so that a run is seen going before it ends."""
    requests.post(f"{twin.systems['sales'].url}/_sandbox/config", json={"latency_ms": latency_ms},
                  timeout=10).raise_for_status()


def cells(page: Page, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"{selector} tbody tr", "rows => rows.map(r => Array.from(r.cells, c => c.textContent.trim()))")


def test_sync_now_live_counts_history_errors_and_consent(clean: LocalTwin, context: BrowserContext,
                                                         screenshots: Path) -> None:
    twin = clean
    seed(twin, "sales", "accounts", dirty_sales(40))
    create_project(twin, {**accounts_project("accounts-ui"), "schedule": "0 0 3 * * *",
                          "description": "Sales accounts to Operations customers"})
    create_project(twin, {**accounts_project("accounts-nightly"), "schedule": "0 30 1 * * *"})
    tab = Tab(context, twin)
    page = tab.open("")
    row = page.locator("#projects tbody tr", has_text="accounts-ui")
    expect(row).to_contain_text("0 0 3 * * *")
    row.get_by_role("link", name="accounts-ui").click()

    expect(page.locator("h1")).to_have_text("Project accounts-ui")
    slow(twin, 3000)
    page.select_option("#sync-now select[name=mode]", "full")
    page.click("#sync-now button[type=submit]")
    expect(page).to_have_url(re.compile(r"/api/ui/runs/r\w+\?code="))
    expect(page.locator("body")).to_have_attribute("data-state", "running")
    expect(page.locator("#terminate")).to_be_visible()
    # the leg going, from its orchestration's status, with what it counted so far
    expect(page.locator("#progress tbody tr.current").first).to_contain_text("sourceToCds", timeout=FINISHED)
    expect(page.locator("#progress tbody tr.current").first).to_contain_text("Accounts")
    expect(page.locator("#current")).to_have_text("task 1 of 1: Accounts")
    page.screenshot(path=str(screenshots / "run-live.png"))
    slow(twin, 0)
    expect(page.locator("body")).to_have_attribute("data-state", "finished", timeout=FINISHED)
    expect(page.locator("#terminate")).to_be_hidden()
    run_id = page.get_attribute("body", "data-run")
    run = twin.api("GET", f"runs/{run_id}").json()
    assert run["runtimeStatus"] == "Warning", run
    expect(page.locator("#status")).to_have_text(run["runtimeStatus"])
    task = run["tasks"][0]
    shown = cells(page, "#progress")
    assert [r[:2] for r in shown] == [[task["name"], task["legs"][0]["leg"]], ["", task["legs"][1]["leg"]]]
    for row_cells, leg in zip(shown, task["legs"], strict=True):
        assert row_cells[3:] == [str(leg[k]) for k in ("read", "written", "skipped", "failed")]
    footer = page.eval_on_selector_all("#progress tfoot td", "cs => cs.map(c => c.textContent)")
    assert footer == [str(sum(t[k] for t in run["tasks"])) for k in ("read", "written", "skipped", "failed")]

    errors = twin.api("GET", f"runs/{run_id}/errors").json()["value"]
    expect(page.locator("#errors tbody tr")).to_have_count(len(errors))
    assert errors, "the dirty accounts leave error records"
    first = errors[0]
    page.fill("#error-filter input[name=code]", first["code"])
    page.select_option("#error-filter select[name=leg]", first["leg"])
    if first["field"]:
        page.fill("#error-filter input[name=field]", first["field"])
    page.click("#error-filter button[type=submit]")
    matching = [e for e in errors if e["code"] == first["code"] and e["leg"] == first["leg"]
                and (not first["field"] or e["field"] == first["field"])]
    expect(page.locator("#errors tbody tr")).to_have_count(len(matching))
    page.locator("#errors tbody tr details summary").first.click()
    expect(page.locator("#errors tbody tr pre").first).to_contain_text(json.dumps(first["record"]["accountnumber"]))
    page.screenshot(path=str(screenshots / "run.png"))
    page.fill("#error-filter input[name=code]", "no-such-code")
    page.click("#error-filter button[type=submit]")
    expect(page.locator("#errors + p.empty")).to_be_visible()

    page.click("#project-link")
    history = page.locator("#history tbody tr", has_text=run_id)
    expect(history).to_contain_text("Warning")
    expect(page.locator("#consent tbody tr")).to_contain_text("admin@contoso.example")
    page.screenshot(path=str(screenshots / "project.png"))
    tab.open("")
    expect(page.locator("#projects tbody tr", has_text="accounts-ui")).to_contain_text("Warning")
    page.screenshot(path=str(screenshots / "projects.png"))
    assert tab.problems == []


def test_an_operator_sees_no_admin_buttons_and_an_admin_deletes_a_project(clean: LocalTwin, browser: Any) -> None:
    twin = clean
    create_project(twin, accounts_project("roles-ui"))
    operator = as_role(browser, OPERATOR)
    page = Tab(operator, twin).open("/projects/roles-ui")
    expect(page.locator("#sync-now button")).to_be_visible()
    expect(page.locator("#consent tbody tr")).to_have_count(1)
    expect(page.locator("#delete-project")).to_have_count(0)
    expect(page.locator(".who")).to_have_text("Operator")
    page.select_option("#sync-now select[name=mode]", "incremental")
    page.check("#sync-now input[name=dryRun]")
    page.click("#sync-now button[type=submit]")
    expect(page.locator("body")).to_have_attribute("data-state", "finished", timeout=FINISHED)
    expect(page.locator("#mode")).to_contain_text("incremental (dry run")
    run = twin.api("GET", f"runs/{page.get_attribute('body', 'data-run')}").json()
    assert (run["mode"], run["dryRun"]) == ("incremental", True)
    operator.close()

    admin = as_role(browser, ADMIN)
    tab = Tab(admin, twin)
    page = tab.open("/projects/roles-ui")
    expect(page.locator(".who")).to_have_text("Admin")
    page.click("#delete-project")
    expect(page.locator("h1")).to_have_text("Projects")
    assert twin.api("GET", "projects/roles-ui").status_code == 404
    assert tab.problems == []
    admin.close()


def test_terminate_stops_a_run_from_its_page(clean: LocalTwin, context: BrowserContext) -> None:
    twin = clean
    seed(twin, "sales", "accounts", dirty_sales(20))
    create_project(twin, accounts_project("stop-ui"))
    slow(twin, 3000)
    tab = Tab(context, twin)
    page = tab.open("/projects/stop-ui")
    page.click("#sync-now button[type=submit]")
    expect(page.locator("#terminate")).to_be_visible()
    page.click("#terminate")
    expect(page.locator("#notice")).to_contain_text("Terminating")
    slow(twin, 0)
    expect(page.locator("#status")).to_have_text("Terminated", timeout=FINISHED)
    expect(page.locator("#terminate")).to_be_hidden()
    run = twin.api("GET", f"runs/{page.get_attribute('body', 'data-run')}").json()
    assert run["runtimeStatus"] == "Terminated"
    assert tab.problems == []


def test_a_conflict_is_listed_and_settled_with_its_button(clean: LocalTwin, context: BrowserContext,
                                                          screenshots: Path) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [sales_account(n) for n in range(3)])
    create_project(twin, two_way_project("twoway-ui"))
    sync_now(twin, "twoway-ui")
    edit(twin, "sales", "A-00001", name="Sales says")
    edit(twin, "cds", "A-00001", name="CDS says")
    assert sync_now(twin, "twoway-ui")["runtimeStatus"] == "Warning"
    [conflict] = twin.api("GET", "projects/twoway-ui/conflicts").json()["value"]

    tab = Tab(context, twin)
    page = tab.open("/projects/twoway-ui")
    row = page.locator(f"#conflicts tbody tr[data-conflict='{conflict['conflictId']}']")
    expect(row).to_contain_text('"Sales says"')
    expect(row).to_contain_text('"CDS says"')
    page.screenshot(path=str(screenshots / "conflicts.png"))
    row.get_by_role("button", name="Take source").click()
    expect(page.locator("#notice")).to_contain_text("Conflict settled")
    expect(page.locator("#conflicts tbody tr")).to_have_count(0)
    assert twin.api("GET", "projects/twoway-ui/conflicts").json()["value"] == []
    [settled] = twin.api("GET", "projects/twoway-ui/conflicts", params={"state": "resolved"}).json()["value"]
    assert settled["conflictId"] == conflict["conflictId"]
    assert tab.problems == []


def test_hostile_names_and_record_values_render_as_text(clean: LocalTwin, context: BrowserContext) -> None:
    twin = clean
    records = dirty_sales(12)
    records[8]["address1_country"] = f"Narnia {HOSTILE}"
    seed(twin, "sales", "accounts", records)
    project = {**accounts_project("hostile-ui"), "description": "<script>alert(1)</script>"}
    project["tasks"][0]["name"] = HOSTILE
    create_project(twin, project)
    run = sync_now(twin, "hostile-ui")
    tab = Tab(context, twin)
    page = tab.open("/projects/hostile-ui")
    expect(page.locator("#summary")).to_contain_text("<script>alert(1)</script>")
    page = tab.open(f"/runs/{run['runId']}")
    expect(page.locator("body")).to_have_attribute("data-state", "finished", timeout=FINISHED)
    expect(page.locator("#progress tbody tr").first).to_contain_text(HOSTILE)
    page.locator("#errors details summary").first.click()
    expect(page.locator("#errors pre", has_text="Narnia")).to_contain_text(HOSTILE)
    assert page.locator("main img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert tab.problems == []


def test_error_records_past_the_first_page_come_with_more(clean: LocalTwin, context: BrowserContext) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n, address1_country="Narnia") for n in range(130)])
    create_project(twin, accounts_project("many-errors-ui"))
    run = sync_now(twin, "many-errors-ui")
    assert run["tasks"][0]["failed"] == 130
    tab = Tab(context, twin)
    page = tab.open(f"/runs/{run['runId']}")
    expect(page.locator("#errors tbody tr")).to_have_count(100)
    page.click("#more-errors")
    expect(page.locator("#errors tbody tr")).to_have_count(130)
    expect(page.locator("#more-errors")).to_be_hidden()
    assert tab.problems == []


def test_an_unknown_run_or_project_is_a_clear_page(twin: LocalTwin, context: BrowserContext) -> None:
    tab = Tab(context, twin)
    page = tab.open("/runs/r-nowhere")
    expect(page.locator("main")).to_contain_text("Run r-nowhere does not exist")
    page = tab.open("/projects/nowhere")
    expect(page.locator("main")).to_contain_text("Project nowhere does not exist")
    page.get_by_role("link", name="All projects").click()
    expect(page.locator("h1")).to_have_text("Projects")
