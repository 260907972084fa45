"""Dataverse change tracking: the initial read, then exactly the changes and deletions since."""

from __future__ import annotations

import requests

from sandbox.process import SandboxProcess

ACCOUNT = "Microsoft.Dynamics.CRM.account"


def seed(http: requests.Session, server: SandboxProcess, count: int) -> None:
    targets = [{"@odata.type": ACCOUNT, "accountnumber": f"T-{i:03d}", "name": f"Account {i}"} for i in range(count)]
    url = server.service_url + "accounts/Microsoft.Dynamics.CRM.UpsertMultiple"
    http.post(url, json={"Targets": targets}).raise_for_status()


def read_tracked(http: requests.Session, url: str, page_size: int) -> tuple[list[dict], str]:
    """All pages of a tracked read or of a delta link; returns the items and the new delta link."""
    items = []
    headers = {"Prefer": f"odata.track-changes,odata.maxpagesize={page_size}"}
    while True:
        response = http.get(url, headers=headers)
        response.raise_for_status()
        body = response.json()
        items += body["value"]
        if "@odata.nextLink" in body:
            assert "@odata.deltaLink" not in body
            url = body["@odata.nextLink"]
        else:
            return items, body["@odata.deltaLink"]


def test_delta_link_returns_exactly_the_changes_and_deletions(dataverse, http):
    seed(http, dataverse, 30)
    first = http.get(
        dataverse.service_url + "accounts?$select=name,accountnumber", headers={"Prefer": "odata.track-changes"}
    )
    assert "odata.track-changes" in first.headers["Preference-Applied"]
    initial, delta = read_tracked(http, dataverse.service_url + "accounts?$select=name,accountnumber", 7)
    assert len(initial) == 30

    by_number = {a["accountnumber"]: a["accountid"] for a in initial}
    base = dataverse.service_url
    http.patch(base + "accounts(accountnumber='T-003')", json={"name": "changed"}).raise_for_status()
    http.patch(base + "accounts(accountnumber='T-999')", json={"name": "new"}).raise_for_status()
    http.delete(f"{base}accounts({by_number['T-010']})").raise_for_status()
    http.delete(f"{base}accounts({by_number['T-011']})").raise_for_status()

    changes, next_delta = read_tracked(http, delta, 2)
    changed = {c["accountnumber"]: c["name"] for c in changes if "reason" not in c}
    deleted = {c["id"] for c in changes if c.get("reason") == "deleted"}
    assert changed == {"T-003": "changed", "T-999": "new"}
    assert deleted == {by_number["T-010"], by_number["T-011"]}
    assert all(c["@odata.context"].endswith("$metadata#accounts/$deletedEntity") for c in changes if "reason" in c)

    assert read_tracked(http, next_delta, 100)[0] == []
    http.patch(base + "accounts(accountnumber='T-004')", json={"name": "later"}).raise_for_status()
    assert [c["accountnumber"] for c in read_tracked(http, next_delta, 100)[0]] == ["T-004"]


def test_changes_during_the_initial_read_are_not_lost(dataverse, http):
    seed(http, dataverse, 20)
    url = dataverse.service_url + "accounts?$select=accountnumber"
    first = http.get(url, headers={"Prefer": "odata.track-changes,odata.maxpagesize=5"}).json()
    http.patch(dataverse.service_url + "accounts(accountnumber='T-500')", json={"name": "during"}).raise_for_status()
    _, delta = read_tracked(http, first["@odata.nextLink"], 5)
    assert "T-500" in [c.get("accountnumber") for c in read_tracked(http, delta, 50)[0]]


def test_track_changes_refuses_filter_orderby_and_top(dataverse, http):
    for option in ("$filter=name eq 'x'", "$orderby=name", "$top=5"):
        response = http.get(dataverse.service_url + f"accounts?{option}", headers={"Prefer": "odata.track-changes"})
        assert response.status_code == 400, option


def test_tables_without_change_tracking_say_so(dataverse, http):
    response = http.get(dataverse.service_url + "sdkmessages", headers={"Prefer": "odata.track-changes"})
    assert response.status_code == 400
    assert "Change Tracking" in response.json()["error"]["message"]
