"""`$batch` over HTTP: order, change sets, continue-on-error, Content-ID references."""

from __future__ import annotations

import requests

from sandbox.process import SandboxProcess
from tests.sandbox.batch_helpers import batch_body, part, statuses


def post_batch(http: requests.Session, server: SandboxProcess, items: list, prefer: str | None = None):
    content_type, body = batch_body(items)
    headers = {"Content-Type": content_type, **({"Prefer": prefer} if prefer else {})}
    return http.post(server.service_url + "$batch", data=body.encode(), headers=headers)


def names(http: requests.Session, server: SandboxProcess) -> list[str]:
    return sorted(a["name"] for a in http.get(server.url + "/_sandbox/records/accounts").json())


def test_batch_stops_at_the_first_failure_without_continue_on_error(dataverse, http):
    root = dataverse.service_url
    items = [
        part("PATCH", root + "accounts(accountnumber='B-1')", {"name": "one"}),
        part("PATCH", root + "accounts(accountnumber='B-2')", {"name": "x" * 161}),
        part("PATCH", root + "accounts(accountnumber='B-3')", {"name": "three"}),
    ]
    assert statuses(post_batch(http, dataverse, items)) == [204, 400]
    assert names(http, dataverse) == ["one"]


def test_continue_on_error_answers_every_operation(dataverse, http):
    root = dataverse.service_url
    items = [
        part("PATCH", root + "accounts(accountnumber='B-1')", {"name": "one"}),
        part("PATCH", root + "accounts(accountnumber='B-2')", {"name": "x" * 161}),
        part("PATCH", "/api/data/v9.2/accounts(accountnumber='B-3')", {"name": "three"}),
        part("GET", "accounts?$select=name"),
    ]
    response = post_batch(http, dataverse, items, prefer="odata.continue-on-error")
    assert statuses(response) == [204, 400, 204, 200]
    assert "0x80044331" in response.text
    assert names(http, dataverse) == ["one", "three"]


def test_a_change_set_is_all_or_nothing(dataverse, http):
    root = dataverse.service_url
    failing = [
        part("PATCH", root + "accounts(accountnumber='C-1')", {"name": "in change set"}),
        part("POST", root + "accounts", {"accountnumber": "C-2"}),
    ]
    passing = [
        part("POST", root + "accounts", {"name": "parent", "accountnumber": "C-3"}, content_id="1"),
        part("POST", root + "contacts", {"lastname": "child", "parentcustomerid_account@odata.bind": "$1"}),
    ]
    response = post_batch(http, dataverse, [failing, passing], prefer="odata.continue-on-error")
    assert statuses(response) == [400, 204, 204]
    assert names(http, dataverse) == ["parent"]
    [contact] = http.get(dataverse.url + "/_sandbox/records/contacts").json()
    [parent] = http.get(dataverse.url + "/_sandbox/records/accounts").json()
    assert contact["_parentcustomerid_value"] == parent["accountid"]


def test_keys_that_break_urls_can_travel_in_a_batch_body(dataverse, http):
    target = {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountnumber": "R&D/42+%", "name": "odd"}
    items = [part("POST", "accounts/Microsoft.Dynamics.CRM.UpsertMultiple", {"Targets": [target]})]
    assert statuses(post_batch(http, dataverse, items)) == [204]
    assert [a["accountnumber"] for a in http.get(dataverse.url + "/_sandbox/records/accounts").json()] == ["R&D/42+%"]


def test_more_than_1000_operations_are_refused(dataverse, http):
    items = [part("GET", "accounts?$top=1")] * 1001
    assert post_batch(http, dataverse, items).status_code == 400
