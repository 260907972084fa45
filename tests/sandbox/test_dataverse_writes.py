"""Dataverse writes over HTTP: upserts by key, conditions, bulk messages, validation codes."""

from __future__ import annotations

import requests

from sandbox.process import SandboxProcess

ACCOUNT = "Microsoft.Dynamics.CRM.account"


def records(http: requests.Session, server: SandboxProcess, entity_set: str) -> list[dict]:
    return http.get(f"{server.url}/_sandbox/records/{entity_set}").json()


def error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


def test_patch_on_an_alternate_key_creates_then_updates(dataverse, http):
    url = dataverse.service_url + "accounts(accountnumber='A-1')"
    created = http.patch(url, json={"name": "First"})
    assert created.status_code == 204
    entity_id = created.headers["OData-EntityId"]
    assert entity_id.startswith(dataverse.service_url + "accounts(")
    updated = http.patch(url, json={"name": "Second"}, headers={"Prefer": "return=representation"})
    assert updated.status_code == 200
    assert updated.json()["name"] == "Second"
    stored = records(http, dataverse, "accounts")
    assert [(a["accountnumber"], a["name"]) for a in stored] == [("A-1", "Second")]
    assert entity_id.endswith(f"({stored[0]['accountid']})")
    assert stored[0]["modifiedon"] >= stored[0]["createdon"]


def test_keys_match_case_insensitively_and_quotes_are_doubled(dataverse, http):
    base = dataverse.service_url
    assert http.patch(base + "accounts(accountnumber='O''Brien-1')", json={"name": "O'Brien Ltd"}).status_code == 204
    assert http.patch(base + "accounts(accountnumber='o''brien-1')", json={"name": "Renamed"}).status_code == 204
    assert [(a["accountnumber"], a["name"]) for a in records(http, dataverse, "accounts")] == [("O'Brien-1", "Renamed")]


def test_composite_and_unicode_keys(dataverse, http):
    base = dataverse.service_url
    url = base + "contacts(firstname='Zoë',emailaddress1='zoë.o''hara@example.com')"
    assert http.patch(url, json={"lastname": "O'Hara"}).status_code == 204
    assert http.patch(url, json={"jobtitle": "Buyer"}).status_code == 204
    [contact] = records(http, dataverse, "contacts")
    assert (contact["firstname"], contact["emailaddress1"], contact["fullname"], contact["jobtitle"]) == (
        "Zoë",
        "zoë.o'hara@example.com",
        "Zoë O'Hara",
        "Buyer",
    )


def test_composite_key_with_a_lookup_column(dataverse, http):
    base = dataverse.service_url
    http.patch(base + "accounts(accountnumber='C-1')", json={"name": "Customer"}).raise_for_status()
    quote = http.post(
        base + "quotes",
        json={"name": "Q", "quotenumber": "Q-1", "customerid_account@odata.bind": "/accounts(accountnumber='C-1')"},
    )
    quote_id = quote.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    line_url = f"{base}quotedetails(_quoteid_value={quote_id},lineitemnumber=1)"
    body = {"quoteid@odata.bind": f"/quotes({quote_id})", "quantity": 2, "productdescription": "Widget"}
    assert http.patch(line_url, json=body).status_code == 204
    assert http.patch(line_url, json={"quantity": 3}).status_code == 204
    [line] = records(http, dataverse, "quotedetails")
    assert (line["_quoteid_value"], line["lineitemnumber"], line["quantity"]) == (quote_id, 1, 3)


def test_if_match_star_updates_only_and_if_none_match_star_creates_only(dataverse, http):
    url = dataverse.service_url + "accounts(accountnumber='A-2')"
    missing = http.patch(url, json={"name": "x"}, headers={"If-Match": "*"})
    assert error(missing)[:2] == (404, "0x80040217")
    assert records(http, dataverse, "accounts") == []
    assert http.patch(url, json={"name": "x"}, headers={"If-None-Match": "*"}).status_code == 204
    again = http.patch(url, json={"name": "y"}, headers={"If-None-Match": "*"})
    assert error(again)[:2] == (412, "0x80060892")
    assert http.patch(url, json={"name": "z"}, headers={"If-Match": "*"}).status_code == 204
    etag = http.get(url).json()["@odata.etag"]
    assert http.patch(url, json={"name": "w"}, headers={"If-Match": etag}).status_code == 204
    stale = http.patch(url, json={"name": "v"}, headers={"If-Match": etag})
    assert error(stale)[0] == 412
    assert [a["name"] for a in records(http, dataverse, "accounts")] == ["w"]


def test_validation_errors_have_the_services_codes(dataverse, http):
    base = dataverse.service_url
    cases = [
        ({"accountnumber": "V-1"}, 400, "0x80040203"),
        ({"name": "x" * 161}, 400, "0x80044331"),
        ({"name": "x", "numberofemployees": "many"}, 400, "0x80048d19"),
        ({"name": "x", "nosuchfield": 1}, 400, "0x80048d19"),
        ({"name": "x", "customertypecode": 99}, 400, "0x8004431a"),
        ({"name": "x", "_primarycontactid_value": "00000000-0000-0000-0000-000000000001"}, 400, "0x80048d19"),
        (
            {"name": "x", "primarycontactid@odata.bind": "/contacts(00000000-0000-0000-0000-000000000001)"},
            404,
            "0x80040217",
        ),
    ]
    for body, status, code in cases:
        assert error(http.post(base + "accounts", json=body))[:2] == (status, code), body
    http.post(base + "accounts", json={"name": "x", "accountnumber": "DUP"}).raise_for_status()
    assert error(http.post(base + "accounts", json={"name": "y", "accountnumber": "dup"}))[:2] == (412, "0x80060892")
    assert records(http, dataverse, "accounts")[0]["accountnumber"] == "DUP"


def test_post_and_delete(dataverse, http):
    base = dataverse.service_url
    created = http.post(
        base + "accounts?$select=name", json={"name": "Kept"}, headers={"Prefer": "return=representation"}
    )
    assert created.status_code == 201
    assert created.json()["name"] == "Kept"
    account_id = created.json()["accountid"]
    assert http.delete(f"{base}accounts({account_id})").status_code == 204
    assert error(http.delete(f"{base}accounts({account_id})"))[:2] == (404, "0x80040217")


def test_upsert_multiple_matches_by_key_and_rolls_back_on_one_bad_record(dataverse, http):
    url = dataverse.service_url + "accounts/Microsoft.Dynamics.CRM.UpsertMultiple"
    good = [{"@odata.type": ACCOUNT, "accountnumber": f"U-{i}", "name": f"Account {i}"} for i in range(5)]
    response = http.post(url, json={"Targets": good})
    assert response.status_code == 204 and response.content == b""
    ids = sorted(a["accountid"] for a in records(http, dataverse, "accounts"))
    assert len(ids) == 5
    renamed = [{**t, "name": t["name"] + " renamed"} for t in good]
    bad = {"@odata.type": ACCOUNT, "accountnumber": "U-bad", "name": "x" * 200}
    failed = http.post(url, json={"Targets": [*renamed[:2], bad, *renamed[2:]]})
    status, code, message = error(failed)
    assert (status, code) == (400, "0x80044331")
    assert "Targets[2]" in message and "U-bad" in message
    assert sorted(a["name"] for a in records(http, dataverse, "accounts")) == [f"Account {i}" for i in range(5)]
    assert http.post(url, json={"Targets": renamed}).status_code == 204
    assert sorted(a["accountid"] for a in records(http, dataverse, "accounts")) == ids
    assert all(a["name"].endswith("renamed") for a in records(http, dataverse, "accounts"))


def test_create_multiple_and_update_multiple(dataverse, http):
    base = dataverse.service_url
    created = http.post(
        base + "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [{"@odata.type": ACCOUNT, "name": f"C{i}"} for i in range(3)]},
    )
    ids = created.json()["Ids"]
    assert len(ids) == 3
    update = [{"@odata.type": ACCOUNT, "accountid": i, "name": "updated"} for i in ids]
    assert (
        http.post(base + "accounts/Microsoft.Dynamics.CRM.UpdateMultiple", json={"Targets": update}).status_code == 204
    )
    missing = [{"@odata.type": ACCOUNT, "accountnumber": "none", "name": "x"}]
    failed = http.post(base + "accounts/Microsoft.Dynamics.CRM.UpdateMultiple", json={"Targets": missing})
    assert error(failed)[:2] == (404, "0x80040217")
    untyped = http.post(base + "accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": [{"name": "x"}]})
    assert error(untyped)[0] == 400
    too_many = [{"@odata.type": ACCOUNT, "name": "x"}] * 1001
    assert (
        http.post(base + "accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": too_many}).status_code
        == 400
    )
    assert {a["name"] for a in records(http, dataverse, "accounts")} == {"updated"}


def test_lookups_bind_by_id_and_by_alternate_key(dataverse, http):
    base = dataverse.service_url
    http.patch(base + "accounts(accountnumber='P-1')", json={"name": "Parent"}).raise_for_status()
    parent_id = records(http, dataverse, "accounts")[0]["accountid"]
    http.post(
        base + "contacts", json={"lastname": "A", "parentcustomerid_account@odata.bind": f"/accounts({parent_id})"}
    )
    http.post(
        base + "contacts",
        json={"lastname": "B", "parentcustomerid_account@odata.bind": "accounts(accountnumber='P-1')"},
    )
    contacts = records(http, dataverse, "contacts")
    assert [c["_parentcustomerid_value"] for c in contacts] == [parent_id, parent_id]
    annotated = http.get(
        base + "contacts?$select=_parentcustomerid_value", headers={"Prefer": 'odata.include-annotations="*"'}
    ).json()["value"][0]
    assert annotated["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"
