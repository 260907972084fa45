"""Dataverse reads over HTTP: paging, query options, keys, and the errors the service gives."""

from __future__ import annotations

import requests

from sandbox.datasets.prospect_to_cash import DIRT
from sandbox.process import SandboxProcess


def read_all(http: requests.Session, url: str, page_size: int) -> tuple[list[dict], int]:
    """Follow @odata.nextLink to the end; returns the records and the number of pages."""
    records, pages = [], 0
    headers = {"Prefer": f"odata.maxpagesize={page_size}"}
    while url:
        response = http.get(url, headers=headers)
        response.raise_for_status()
        body = response.json()
        assert len(body["value"]) <= page_size
        records += body["value"]
        pages += 1
        url = body.get("@odata.nextLink")
    return records, pages


def dump(http: requests.Session, server: SandboxProcess, entity_set: str) -> list[dict]:
    return http.get(f"{server.url}/_sandbox/records/{entity_set}").json()


def test_paging_across_many_pages_returns_the_data_set_once(dataverse_dataset, http):
    expected = dump(http, dataverse_dataset, "accounts")
    records, pages = read_all(http, dataverse_dataset.service_url + "accounts?$select=accountnumber,name", 37)
    assert pages == -(-len(expected) // 37)
    assert sorted(r["accountid"] for r in records) == [r["accountid"] for r in expected]
    by_id = {r["accountid"]: r for r in expected}
    assert all(r["name"] == by_id[r["accountid"]]["name"] for r in records)


def test_page_size_is_announced_and_capped_at_5000(dataverse_dataset, http):
    response = http.get(
        dataverse_dataset.service_url + "contacts?$select=fullname", headers={"Prefer": "odata.maxpagesize=9000"}
    )
    assert response.headers["Preference-Applied"] == "odata.maxpagesize=5000"
    assert "@odata.nextLink" not in response.json()


def test_paging_with_orderby_and_filter_keeps_order_and_completeness(dataverse_dataset, http):
    url = dataverse_dataset.service_url + (
        "accounts?$select=name,accountnumber&$filter=statecode eq 0 and accountnumber ne null&$orderby=name desc"
    )
    records, _ = read_all(http, url, 25)
    expected = [r for r in dump(http, dataverse_dataset, "accounts") if r["statecode"] == 0 and r["accountnumber"]]
    assert len(records) == len(expected)
    names = [r["name"].casefold() for r in records]
    assert names == sorted(names, reverse=True)
    assert {r["accountid"] for r in records} == {r["accountid"] for r in expected}


def test_select_returns_the_named_columns_the_primary_id_and_the_etag(dataverse_dataset, http):
    body = http.get(dataverse_dataset.service_url + "accounts?$select=name&$top=2").json()
    assert body["@odata.context"].endswith("$metadata#accounts(name)")
    assert [sorted(r) for r in body["value"]] == [["@odata.etag", "accountid", "name"]] * 2


def test_filter_functions_null_and_case_insensitive_equality(dataverse_dataset, http):
    accounts = dump(http, dataverse_dataset, "accounts")
    url = dataverse_dataset.service_url + "accounts?$select=name&$filter=accountnumber eq null"
    assert len(http.get(url).json()["value"]) == sum(1 for a in accounts if a["accountnumber"] is None)
    url = dataverse_dataset.service_url + "accounts?$select=address1_country&$filter=address1_country eq 'NARNIA'"
    assert [r["address1_country"] for r in http.get(url).json()["value"]] == ["Narnia"]
    url = dataverse_dataset.service_url + "accounts?$select=name&$filter=startswith(name,'Contoso')&$count=true"
    body = http.get(url).json()
    assert body["@odata.count"] == sum(1 for a in accounts if a["name"].lower().startswith("contoso"))


def test_top_and_count(dataverse_dataset, http):
    body = http.get(dataverse_dataset.service_url + "contacts?$select=lastname&$top=5&$count=true").json()
    assert len(body["value"]) == 5
    assert body["@odata.count"] == len(dump(http, dataverse_dataset, "contacts"))
    assert "@odata.nextLink" not in body


def test_expand_a_lookup_with_nested_select(dataverse_dataset, http):
    url = dataverse_dataset.service_url + (
        "contacts?$select=lastname,_parentcustomerid_value"
        "&$expand=parentcustomerid_account($select=name,accountnumber)&$top=20"
    )
    accounts = {a["accountid"]: a for a in dump(http, dataverse_dataset, "accounts")}
    for contact in http.get(url).json()["value"]:
        parent = contact["parentcustomerid_account"]
        if contact["_parentcustomerid_value"] is None:
            assert parent is None
        else:
            assert parent["name"] == accounts[contact["_parentcustomerid_value"]]["name"]


def test_single_record_by_id_and_by_alternate_keys(dataverse_dataset, http):
    contact = next(c for c in dump(http, dataverse_dataset, "contacts") if c["firstname"] and c["emailaddress1"])
    base = dataverse_dataset.service_url
    by_id = http.get(f"{base}contacts({contact['contactid']})?$select=fullname").json()
    assert by_id["fullname"] == contact["fullname"]
    first = contact["firstname"].replace("'", "''")
    email = contact["emailaddress1"].replace("'", "''")
    composite = http.get(f"{base}contacts(firstname='{first}',emailaddress1='{email}')?$select=contactid")
    assert composite.json()["contactid"] == contact["contactid"]
    assert http.get(f"{base}contacts(msdyn_contactpersonid='NOPE')").status_code == 404


def test_keys_with_quotes_and_unicode(dataverse_dataset, http):
    accounts = dump(http, dataverse_dataset, "accounts")
    quoted = accounts_with(accounts, "O'NEIL-01")
    response = http.get(dataverse_dataset.service_url + "accounts(accountnumber='O''NEIL-01')?$select=name")
    assert response.json()["accountid"] == quoted["accountid"]
    contacts = dump(http, dataverse_dataset, "contacts")
    unicode_contact = next(c for c in contacts if c["firstname"] in ("Zoë", "Łukasz", "Björn") and c["emailaddress1"])
    url = (
        f"{dataverse_dataset.service_url}contacts(firstname='{unicode_contact['firstname']}',"
        f"emailaddress1='{unicode_contact['emailaddress1'].replace(chr(39), chr(39) * 2)}')"
    )
    assert http.get(url).json()["contactid"] == unicode_contact["contactid"]


def accounts_with(accounts: list[dict], number: str) -> dict:
    return next(a for a in accounts if a["accountnumber"] == number)


def test_key_values_with_url_breaking_characters_are_refused(dataverse_dataset, http):
    base = dataverse_dataset.service_url
    for raw in ("ACME%2FEU-7", "R%26D%2B42", "50%25-OFF", "%C3%96KO%231", "a:b", "a*b"):
        response = http.get(f"{base}accounts(accountnumber='{raw}')")
        assert response.status_code == 400, raw
        assert "potentially dangerous" in response.json()["error"]["message"]


def test_query_errors_are_the_services(dataverse_dataset, http):
    base = dataverse_dataset.service_url
    skip = http.get(base + "accounts?$skip=10").json()["error"]
    assert skip == {"code": "0x0", "message": "The query parameter $skip is not supported"}
    unknown = http.get(base + "accounts?$select=Name").json()["error"]
    assert unknown["message"] == "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'."
    typed = http.get(base + "accounts?$filter=statecode eq '0'")
    assert typed.status_code == 400 and "incompatible types" in typed.json()["error"]["message"]
    assert http.get(base + "Account").json()["error"]["code"] == "0x8006088a"
    wrong_key = http.get(base + "accounts(name='x')")
    assert wrong_key.status_code == 400 and "The key in the request URI is not valid" in wrong_key.text


def test_the_data_set_dirt_is_there(dataverse_dataset, http):
    accounts = dump(http, dataverse_dataset, "accounts")
    by_creation = sorted(accounts, key=lambda a: a["versionnumber"])
    assert by_creation[DIRT["narnia"]]["address1_country"] == "Narnia"
    assert by_creation[DIRT["deu"]]["address1_country"] == "deu"
    assert (
        by_creation[DIRT["united_states_of_america_trailing_space"]]["address1_country"] == "United States of America "
    )
    assert len(by_creation[DIRT["long_name"]]["name"]) > 100
    first, second = (by_creation[i]["accountnumber"] for i in DIRT["duplicate_account_number"])
    assert first == second.strip() and first != second
    assert all(by_creation[i]["accountnumber"] is None for i in DIRT["no_account_number"] if i < len(accounts))


def test_metadata_count_and_service_document(dataverse_dataset, http):
    base = dataverse_dataset.service_url
    definition = http.get(base + "EntityDefinitions(LogicalName='account')?$select=EntitySetName,PrimaryIdAttribute")
    assert definition.json()["EntitySetName"] == "accounts" and definition.json()["PrimaryIdAttribute"] == "accountid"
    attributes = {
        a["LogicalName"]: a
        for a in http.get(base + "EntityDefinitions(LogicalName='account')/Attributes").json()["value"]
    }
    assert attributes["name"]["MaxLength"] == 160
    assert attributes["name"]["RequiredLevel"]["Value"] == "SystemRequired"
    assert attributes["primarycontactid"]["Targets"] == ["contact"]
    by_set = http.get(base + "EntityDefinitions?$select=LogicalName&$filter=EntitySetName eq 'Contacts'").json()
    assert [d["LogicalName"] for d in by_set["value"]] == ["contact"]
    assert http.get(base + "EntityDefinitions?$filter=startswith(EntitySetName,'c')").status_code == 400
    keys = http.get(base + "EntityDefinitions(LogicalName='contact')/Keys").json()["value"]
    assert [k["KeyAttributes"] for k in keys] == [["msdyn_contactpersonid"], ["firstname", "emailaddress1"]]
    assert http.get(base + "accounts/$count?$filter=statecode eq 0").text.isdigit()
    assert "accounts" in {s["name"] for s in http.get(base).json()["value"]}
    assert "UserId" in http.get(base + "WhoAmI").json()


def test_bodies_must_be_declared_json(dataverse_dataset, http):
    response = http.post(dataverse_dataset.service_url + "accounts", data=b'{"name": "x"}')
    assert response.status_code == 415
