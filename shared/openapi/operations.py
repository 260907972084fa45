"""The connector's words for every HTTP route, keyed by the route function's name: the one place they live.

tests/api/test_openapi.py fails when a route of the app has no entry here, or an entry names
no route. The examples are real: the run on the twin (tests/api/test_connector_on_twin.py)
sends them to the API, in the order of a maker's day.
"""

from __future__ import annotations

from typing import Any

from shared.models import ConflictResolution, Connection, ConsentRecord, ProjectRequest
from shared.openapi.operation import Answer, Body, Dropdown, Operation, Param
from shared.openapi.shapes import (
    ConflictPage,
    ConflictView,
    ConnectionView,
    ErrorPage,
    Health,
    ProjectChange,
    ProjectView,
    RunStarted,
    RunStopping,
    RunSummary,
    RunView,
    TemplateSummary,
    ValidationResult,
)
from shared.runs import RunRequest
from shared.subscriptions import SubscriptionRequest
from shared.templates import template

PROJECTS = Dropdown("ListProjects")
TEMPLATES = Dropdown("ListTemplates")
CONNECTIONS = Dropdown("ListConnections")

PROJECT = "accounts-sales-to-operations"
TEMPLATE = "accounts"
RUN = "r20260101120000a1b2c3d4"
CONSENT = {
    "accepted": True, "acceptedBy": "admin@contoso.com", "noticeVersion": "2026-01",
    "dataResidency": {"from": "West Europe", "to": "West Europe"},
}
ASYNC = ("Location", "Retry-After")


def _project_param(description: str = "The project's name.") -> dict[str, Param]:
    return {"id": Param("Project", description, PROJECT, dropdown=PROJECTS)}


def _run_param() -> dict[str, Param]:
    return {"runId": Param("Run ID", "The run's id, as Sync Now answered it.", RUN)}


def _page_token() -> dict[str, Param]:
    return {"continuationToken": Param(
        "Continuation Token", "The continuationToken of the previous page; leave it out for the first page.",
        visibility="advanced", required=False,
    )}


def _changed_project() -> dict[str, Any]:
    """The accounts template as a project of its own, customized: runs every hour."""
    definition = template(TEMPLATE).model_dump(mode="json", exclude_none=True)
    return {**definition, "name": PROJECT, "template": TEMPLATE, "companyCode": "USMF", "schedule": "0 0 * * * *"}


OPERATIONS: dict[str, Operation] = {
    "health": Operation(
        "GetHealth", "Check the service", "Tells whether the service runs and reaches its storage; needs no key.",
        {200: Answer("The service and its storage answer.", Health), 503: Answer("Storage does not answer.", Health)},
        visibility="internal",
    ),
    "get_openapi": Operation(
        "GetConnectorDefinition", "Get the connector definition",
        "The Swagger 2.0 definition of this API, for importing it as a custom connector.",
        {200: Answer("The definition, with this app's host.")}, visibility="internal",
    ),
    "put_connection": Operation(
        "PutConnection", "Create or replace a connection",
        "Saves how to reach one system (Dataverse, F&O or blob files), with references to secrets, never secrets.",
        {201: Answer("The connection was created.", ConnectionView), 200: Answer("It was replaced.", ConnectionView)},
        params={"name": Param("Connection", "The connection's name.", "contoso-sales")},
        body=Body(Connection, "Connection", "The system's kind, URL and authentication.", {
            "kind": "dataverse", "url": "https://contoso.crm.dynamics.com", "auth": {"type": "managedIdentity"},
        }),
        visibility="advanced",
    ),
    "list_connections": Operation(
        "ListConnections", "List connections", "Every saved connection, by name, without secret values.",
        {200: Answer("The connections.", ConnectionView, many=True)}, visibility="advanced",
    ),
    "get_connection": Operation(
        "GetConnection", "Get a connection", "One saved connection: its system, URL and how it authenticates.",
        {200: Answer("The connection.", ConnectionView)},
        params={"name": Param("Connection", "The connection's name.", "contoso-sales", dropdown=CONNECTIONS)},
        visibility="advanced",
    ),
    "delete_connection": Operation(
        "DeleteConnection", "Delete a connection", "Removes a connection that no project uses.",
        {204: Answer("The connection is gone.")},
        params={"name": Param("Connection", "The connection's name.", "contoso-sales", dropdown=CONNECTIONS)},
        visibility="advanced",
    ),
    "list_templates": Operation(
        "ListTemplates", "List templates", "The project templates shipped with the service, with their tasks.",
        {200: Answer("The templates.", TemplateSummary, many=True)},
    ),
    "get_template": Operation(
        "GetTemplate", "Get a template", "A template's full definition: tasks, mappings and transforms.",
        {200: Answer("The template.", ProjectView)},
        params={"name": Param("Template", "The template's name.", TEMPLATE, dropdown=TEMPLATES)},
    ),
    "create_project": Operation(
        "CreateProject", "Create a project",
        "Creates a project from a template or from tasks, once an admin's consent is given and recorded.",
        {201: Answer("The project was created.", ProjectView, headers=("ETag",))},
        body=Body(ProjectRequest, "Project", "The project's name, connections, template or tasks, and consent.", {
            "name": PROJECT, "template": TEMPLATE, "companyCode": "USMF", "consent": CONSENT,
            "connections": {"source": "sales", "cds": "cds", "destination": "operations"},
        }),
        visibility="advanced",
    ),
    "list_projects": Operation(
        "ListProjects", "List projects", "Every project, with its tasks and when its schedule next runs.",
        {200: Answer("The projects.", ProjectView, many=True)},
    ),
    "get_project": Operation(
        "GetProject", "Get a project", "One project's definition, with the ETag that a change must send back.",
        {200: Answer("The project.", ProjectView, headers=("ETag",))}, params=_project_param(),
    ),
    "replace_project": Operation(
        "ReplaceProject", "Change a project",
        "Replaces a project's tasks, mappings, transforms or schedule; If-Match must hold its current ETag.",
        {200: Answer("The project was changed.", ProjectView, headers=("ETag",))},
        params=_project_param(),
        headers={"If-Match": Param("ETag", "The ETag that Get a project answered.", '"0x8DC0000000000000"')},
        body=Body(ProjectChange, "Project", "The whole new definition.", _changed_project()),
        visibility="advanced",
    ),
    "delete_project": Operation(
        "DeleteProject", "Delete a project", "Removes a project without an active run; its consent stays on record.",
        {204: Answer("The project is gone.")}, params=_project_param(), visibility="advanced",
    ),
    "get_consent": Operation(
        "GetConsent", "Get a project's consent", "Who accepted what, and when, for the project's systems and regions.",
        {200: Answer("The consent records, oldest first.", ConsentRecord, many=True)}, params=_project_param(),
        visibility="advanced",
    ),
    "validate_project": Operation(
        "ValidateProject", "Check a project",
        "Runs the checks made before every run: connections, entities, fields, keys, duplicates, types.",
        {200: Answer("What the checks found.", ValidationResult)}, params=_project_param(),
    ),
    "start_run": Operation(
        "StartRun", "Sync now",
        "Starts a run of the project and waits for it to finish, following Location while the run goes on.",
        {
            202: Answer("The run started: follow Location.", RunStarted, headers=ASYNC),
            200: Answer("The run finished: what following Location ends with.", RunView),
        },
        params=_project_param("The project to run."),
        body=Body(RunRequest, "Run options", "The mode of the run and whether it only tries.",
                  {"mode": "full", "dryRun": False}, required=False),
        visibility="important",
    ),
    "get_run": Operation(
        "GetRun", "Get a run", "A run's status and counts by task; answers 202 with Location while it runs.",
        {
            200: Answer("The run has finished.", RunView),
            202: Answer("The run goes on: follow Location.", RunView, headers=ASYNC),
        },
        params=_run_param(),
    ),
    "list_runs": Operation(
        "ListRuns", "List a project's runs", "The execution history, newest first, with counts and statuses.",
        {200: Answer("The runs.", RunView, many=True)},
        params=_project_param(),
        query={"top": Param("Top", "How many runs, from 1 to 500.", 50, visibility="advanced", required=False,
                            type="integer", default=50)},
    ),
    "list_errors": Operation(
        "ListRunErrors", "List a run's failed records",
        "The records a run could not write: task, leg, business key, field, the target's error and the source record.",
        {200: Answer("A page of error records.", ErrorPage)}, params=_run_param(),
        query={**{name: Param(name.capitalize(), f"Only the records whose {name} is this.", required=False,
                              visibility="advanced") for name in ("task", "field", "code")},
               "leg": Param("Leg", "Only the records of this leg.", required=False, visibility="advanced",
                            enum=("sourceToCds", "cdsToDestination", "cdsToSource")),
               **_page_token()},
    ),
    "terminate": Operation(
        "TerminateRun", "Stop a run", "Stops the whole run; nothing is written after it reads Terminated.",
        {202: Answer("The run is stopping or stopped.", RunStopping, headers=("Location",))}, params=_run_param(),
        visibility="advanced",
    ),
    "list_run_conflicts": Operation(
        "ListRunConflicts", "List a run's conflicts", "The fields a two-way run found changed on both sides.",
        {200: Answer("A page of conflicts.", ConflictPage)}, params=_run_param(), query=_page_token(),
        visibility="advanced",
    ),
    "list_project_conflicts": Operation(
        "ListProjectConflicts", "List a project's conflicts",
        "A two-way project's conflicts that wait for a person (open), or were settled (resolved).",
        {200: Answer("A page of conflicts.", ConflictPage)}, params=_project_param(),
        query={
            "state": Param("State", "open or resolved.", "open", required=False, default="open",
                           enum=("open", "resolved")),
            **_page_token(),
        },
    ),
    "resolve_conflict": Operation(
        "ResolveConflict", "Settle a conflict", "Takes one side's value, or gives the value; the next run applies it.",
        {200: Answer("The conflict is settled.", ConflictView)},
        params={
            **_project_param(),
            "conflictId": Param("Conflict ID", "The conflict's id.", "0123456789abcdef0123456789abcdef"),
        },
        body=Body(ConflictResolution, "Resolution", "Which side wins, or the value to write.", {"take": "source"}),
    ),
    "create_subscription": Operation(
        "WhenARunFinishes", "When a run finishes",
        "Triggers when a run of the chosen projects ends with one of the chosen statuses, with the run's summary.",
        {201: Answer("The run's summary, as the callback receives it.", RunSummary, headers=("Location",))},
        body=Body(SubscriptionRequest, "Subscription", "Which runs to hear about.", {
            "callbackUrl": "https://prod-00.westeurope.logic.azure.com/workflows/0/triggers/manual/paths/invoke",
            "projects": [PROJECT], "on": ["Warning", "Failed"],
        }),
        trigger=True,
    ),
    "delete_subscription": Operation(
        "DeleteSubscription", "Stop a run subscription", "Removes the subscription of a deleted or changed flow.",
        {204: Answer("The subscription is gone.")},
        params={"id": Param("Subscription ID", "The id the subscription was created with.",
                            "0123456789abcdef0123456789abcdef")},
        visibility="internal",
    ),
    "ui_overview": Operation(
        "OpenDashboard", "Open the operator dashboard",
        "The dashboard's first page: every project with its last run and its next scheduled run.",
        {200: Answer("The page.")}, visibility="internal", produces="text/html",
    ),
    "ui_project": Operation(
        "OpenProjectPage", "Open a project's page",
        "A project on the dashboard: Sync Now, its execution history, open conflicts and consent records.",
        {200: Answer("The page.")}, params=_project_param(), visibility="internal", produces="text/html",
    ),
    "ui_run": Operation(
        "OpenRunPage", "Open a run's page",
        "A run on the dashboard: its progress per task and leg while it goes, then its counts and error records.",
        {200: Answer("The page.")}, params=_run_param(), visibility="internal", produces="text/html",
    ),
    "ui_asset": Operation(
        "GetDashboardAsset", "Get a file of the dashboard",
        "The dashboard's script, style sheet or icon, served by the app itself.",
        {200: Answer("The file.")}, params={"name": Param("File", "The file's name.", "dashboard.js")},
        visibility="internal", produces="application/octet-stream",
    ),
}
"""Keyed by the route function's name (`api/*.py`)."""

PROPERTIES: dict[tuple[str, str], dict[str, Any]] = {
    ("ProjectRequest", "template"): {"x-ms-dynamic-values": TEMPLATES.extension()},
    ("ProjectConnections", "source"): {"x-ms-dynamic-values": CONNECTIONS.extension()},
    ("ProjectConnections", "cds"): {"x-ms-dynamic-values": CONNECTIONS.extension()},
    ("ProjectConnections", "destination"): {"x-ms-dynamic-values": CONNECTIONS.extension()},
    ("SubscriptionRequest", "callbackUrl"): {"x-ms-notification-url": True, "x-ms-visibility": "internal"},
    ("RunRequest", "mode"): {"x-ms-visibility": "important"},
    ("RunRequest", "dryRun"): {"x-ms-visibility": "advanced"},
}
"""Connector extensions on properties of the definitions, by definition and property name."""
