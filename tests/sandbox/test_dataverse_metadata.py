"""The Dataverse metadata, bulk-target and query-option behaviours, each after the article it follows."""

from __future__ import annotations

from xml.etree import ElementTree

import requests

from sandbox.process import SandboxProcess

ACCOUNT = "Microsoft.Dynamics.CRM.account"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def records(http: requests.Session, server: SandboxProcess, entity_set: str) -> list[dict]:
    return http.get(f"{server.url}/_sandbox/records/{entity_set}").json()


def error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


def test_type_cast_attribute_segment_with_expanded_option_sets(dataverse_dataset, http):
    """Web API "Query metadata": `/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata`."""
    base = dataverse_dataset.service_url + "EntityDefinitions(LogicalName='account')/Attributes/"
    response = http.get(
        base + "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
    )
    assert response.status_code == 200
    picklists = {a["LogicalName"]: a for a in response.json()["value"]}
    assert set(picklists) == {"customertypecode", "statecode", "statuscode"}
    assert [o["Value"] for o in picklists["statecode"]["OptionSet"]["Options"]] == [0, 1]
    assert set(picklists["statecode"]) == {"@odata.type", "MetadataId", "LogicalName", "OptionSet"}
    strings = http.get(base + "Microsoft.Dynamics.CRM.StringAttributeMetadata?$select=LogicalName,MaxLength").json()
    assert "name" in {a["LogicalName"] for a in strings["value"]}
    assert all(a["@odata.type"] == "#Microsoft.Dynamics.CRM.StringAttributeMetadata" for a in strings["value"])
    assert http.get(base + "Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata").json()["value"] == []
    assert error(http.get(base + "Microsoft.Dynamics.CRM.NoSuchAttributeMetadata"))[:2] == (404, "0x8006088a")
    plain = http.get(dataverse_dataset.service_url + "EntityDefinitions(LogicalName='account')/Attributes").json()
    assert all("OptionSet" not in a for a in plain["value"])


def test_metadata_filter_over_primitive_and_enum_properties(dataverse_dataset, http):
    """"Query table definitions using the Web API": comparisons joined with and / or / not."""
    url = dataverse_dataset.service_url + "EntityDefinitions"

    def names(expression: str) -> list[str]:
        response = http.get(url, params={"$select": "LogicalName", "$filter": expression})
        assert response.status_code == 200, response.text
        return sorted(d["LogicalName"] for d in response.json()["value"])

    every = names("IsPrivate eq false")
    assert "account" in every and "contact" in every
    assert names("LogicalName eq 'account'") == ["account"]
    assert names("LogicalName eq 'account' or LogicalName eq 'contact'") == ["account", "contact"]
    assert names("IsPrivate eq false and (LogicalName eq 'account' or EntitySetName eq 'contacts')") == [
        "account",
        "contact",
    ]
    assert names("OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned' and LogicalName eq 'quote'") == [
        "quote"
    ]
    assert names("not (ChangeTrackingEnabled eq true)") == sorted(
        set(every) - set(names("ChangeTrackingEnabled eq true"))
    )
    assert names("IsPrivate eq true") == []
    assert error(http.get(url, params={"$filter": "NoSuchProperty eq 1"}))[0] == 400
    assert error(http.get(url, params={"$filter": "contains(LogicalName,'acc')"}))[0] == 400


def test_expand_keys_and_attributes_and_many_to_many(dataverse_dataset, http):
    """Web API EntityMetadata: Keys, Attributes and ManyToManyRelationships are navigation properties."""
    url = dataverse_dataset.service_url + "EntityDefinitions(LogicalName='contact')"
    plain = http.get(url).json()
    assert "Keys" not in plain and "Attributes" not in plain
    expanded = http.get(
        url, params={"$select": "LogicalName", "$expand": "Keys($select=KeyAttributes),Attributes($select=LogicalName)"}
    ).json()
    assert [k["KeyAttributes"] for k in expanded["Keys"]] == [["msdyn_contactpersonid"], ["firstname", "emailaddress1"]]
    assert "emailaddress1" in {a["LogicalName"] for a in expanded["Attributes"]}
    listed = http.get(
        dataverse_dataset.service_url + "EntityDefinitions",
        params={"$select": "LogicalName", "$filter": "LogicalName eq 'contact'", "$expand": "Keys"},
    ).json()["value"]
    assert [len(d["Keys"]) for d in listed] == [2]
    many = http.get(url + "/ManyToManyRelationships")
    assert many.status_code == 200
    assert many.json()["value"] == []
    assert many.json()["@odata.context"].endswith("EntityDefinitions('contact')/ManyToManyRelationships")
    assert error(http.get(url, params={"$expand": "NoSuchNavigation"}))[0] == 400


def test_unknown_query_options_are_refused(dataverse_dataset, http):
    """"Query data using the Web API" lists the system query options; any other is an error, not the table."""
    base = dataverse_dataset.service_url
    for params in ({"sql": "SELECT TOP 2 name FROM account"}, {"$foo": "1"}, {"select": "name"}):
        status, code, message = error(http.get(base + "accounts", params=params))
        assert (status, code) == (400, "0x0")
        assert next(iter(params)) in message
    some = http.get(base + "accounts?$top=1&$select=accountid").json()["value"][0]["accountid"]
    assert error(http.get(f"{base}accounts({some})?$filter=name eq 'x'"))[0] == 400
    assert error(http.get(base + "accounts/$count?$top=1"))[0] == 400
    assert error(http.get(base + "EntityDefinitions?$top=1"))[0] == 400


def test_upsert_multiple_targets_named_by_odata_id(dataverse, http):
    """UpsertMultiple action reference and "Use an alternate key to reference a record": 204, no duplicates."""
    url = dataverse.service_url + "accounts/Microsoft.Dynamics.CRM.UpsertMultiple"
    targets = [
        {"@odata.type": ACCOUNT, "@odata.id": f"accounts(accountnumber='UPS-{i}')", "name": f"First {i}"}
        for i in range(3)
    ]
    for _ in range(2):
        response = http.post(url, json={"Targets": targets})
        assert response.status_code == 204 and response.content == b""
    stored = sorted((a["accountnumber"], a["name"]) for a in records(http, dataverse, "accounts"))
    assert stored == [(f"UPS-{i}", f"First {i}") for i in range(3)]

    by_id = {a["accountnumber"]: a["accountid"] for a in records(http, dataverse, "accounts")}
    renamed = [
        {"@odata.type": ACCOUNT, "@odata.id": f"{dataverse.service_url}accounts({by_id['UPS-0'].upper()})", "name": "A"},
        {"@odata.type": ACCOUNT, "@odata.id": "accounts(accountnumber='UPS-1')", "name": "B"},
    ]
    assert http.post(url, json={"Targets": renamed}).status_code == 204
    names = {a["accountnumber"]: a["name"] for a in records(http, dataverse, "accounts")}
    assert names == {"UPS-0": "A", "UPS-1": "B", "UPS-2": "First 2"}

    contradicting = {"@odata.type": ACCOUNT, "@odata.id": "accounts(accountnumber='UPS-2')", "accountnumber": "X"}
    assert error(http.post(url, json={"Targets": [contradicting]}))[0] == 400
    elsewhere = {"@odata.type": ACCOUNT, "@odata.id": "contacts(accountnumber='UPS-2')", "name": "x"}
    assert error(http.post(url, json={"Targets": [elsewhere]}))[0] == 400
    assert len(records(http, dataverse, "accounts")) == 3


def test_update_multiple_targets_named_by_odata_id(dataverse, http):
    """UpdateMultiple action reference: the record must exist (404 otherwise), the answer is 204."""
    base = dataverse.service_url
    http.post(
        base + "accounts/Microsoft.Dynamics.CRM.UpsertMultiple",
        json={"Targets": [{"@odata.type": ACCOUNT, "@odata.id": "accounts(accountnumber='UPD-1')", "name": "old"}]},
    ).raise_for_status()
    update = {"@odata.type": ACCOUNT, "@odata.id": "accounts(accountnumber='UPD-1')", "name": "new"}
    response = http.post(base + "accounts/Microsoft.Dynamics.CRM.UpdateMultiple", json={"Targets": [update]})
    assert response.status_code == 204
    assert [a["name"] for a in records(http, dataverse, "accounts")] == ["new"]
    missing = {**update, "@odata.id": "accounts(accountnumber='UPD-missing')"}
    failed = http.post(base + "accounts/Microsoft.Dynamics.CRM.UpdateMultiple", json={"Targets": [missing]})
    assert error(failed)[:2] == (404, "0x80040217")
    assert len(records(http, dataverse, "accounts")) == 1


def test_csdl_metadata_document_matches_the_definitions(dataverse_dataset, http):
    """Web API "Service documents": `$metadata` is CSDL, generated from the same definitions."""
    base = dataverse_dataset.service_url
    response = http.get(base + "$metadata")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    schema = root.find(f"*/{EDM}Schema")
    assert schema is not None and schema.get("Namespace") == "Microsoft.Dynamics.CRM"
    types = {t.get("Name"): t for t in schema.findall(f"{EDM}EntityType")}
    sets = {s.get("Name"): s.get("EntityType") for s in schema.findall(f"{EDM}EntityContainer/{EDM}EntitySet")}
    definitions = http.get(base + "EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute").json()
    for definition in definitions["value"]:
        logical = definition["LogicalName"]
        assert sets[definition["EntitySetName"]] == f"Microsoft.Dynamics.CRM.{logical}"
        entity_type = types[logical]
        assert [r.get("Name") for r in entity_type.findall(f"{EDM}Key/{EDM}PropertyRef")] == [
            definition["PrimaryIdAttribute"]
        ]
        attributes = http.get(f"{base}EntityDefinitions(LogicalName='{logical}')/Attributes").json()["value"]
        properties = {p.get("Name") for p in entity_type.findall(f"{EDM}Property")}
        lookups = {a["LogicalName"] for a in attributes if a["AttributeType"] in ("Lookup", "Customer")}
        expected = {f"_{n}_value" if n in lookups else n for n in (a["LogicalName"] for a in attributes)}
        assert properties == expected
    account = types["account"]
    navigation = {n.get("Name"): n.get("Type") for n in account.findall(f"{EDM}NavigationProperty")}
    assert navigation["primarycontactid"] == "mscrm.contact"
    name = next(p for p in account.findall(f"{EDM}Property") if p.get("Name") == "name")
    assert (name.get("Type"), name.get("MaxLength")) == ("Edm.String", "160")
