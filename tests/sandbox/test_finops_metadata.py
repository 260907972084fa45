"""F&O's metadata service, `$metadata`, PUT and the environment actions, over HTTP.

Each test names the documentation its expectations come from:
- "Open Data Protocol (OData)", Finance & Operations docs (learn.microsoft.com, fin-ops-core/
  dev-itpro/data-entities/odata): CRUD through POST, PATCH, PUT and DELETE; actions bound to a
  collection invoked with POST `{set}/Microsoft.Dynamics.DataEntities.{Action}`; the metadata
  document at `/data/$metadata`;
- OData Version 4.0 Part 1 (Protocol), 11.4.3 "Update an Entity": PUT replaces, properties left
  out get their default value; Part 2 (URL Conventions), 5.1.1.5 string functions in `$filter`;
  Part 3 (CSDL) for the document's shape;
- the metadata API's resources (`/Metadata/DataEntities`, `PublicEntities`, `PublicEnumerations`,
  `Labels(Id=…,Language=…)`) as the d365fo.integrations module and d365fo-client read them.
"""

from __future__ import annotations

from xml.etree import ElementTree

from sandbox.entities import load_entities

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
CUSTOMER = {"CustomerAccount": "PUT-1", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}


def test_data_entities_name_the_public_entity_and_collection(finops, http):
    listed = http.get(finops.url + "/Metadata/DataEntities").json()["value"]
    assert {e["PublicCollectionName"] for e in listed} == set(load_entities("finops"))
    one = http.get(finops.url + "/Metadata/DataEntities('CustomerV3Entity')").json()
    assert (one["PublicEntityName"], one["PublicCollectionName"]) == ("CustomerV3", "CustomersV3")
    assert http.get(finops.url + "/Metadata/DataEntities('Nope')").status_code == 404


def test_metadata_filter_takes_string_functions_and_any_primitive_property(finops, http):
    def names(collection: str, expression: str) -> list[str]:
        answer = http.get(f"{finops.url}/Metadata/{collection}", params={"$filter": expression, "$select": "Name"})
        assert answer.status_code == 200, answer.text
        return [item["Name"] for item in answer.json()["value"]]

    assert names("PublicEntities", "contains(tolower(Name), 'customer')") == ["CustomerV3"]
    assert names("DataEntities", "startswith(Name, 'SalesOrder') and IsReadOnly eq false") == [
        "SalesOrderHeaderV2Entity",
        "SalesOrderLineV2Entity",
    ]
    assert names("PublicEntities", "endswith(toupper(EntitySetName), 'V3') or length(Name) lt 0") == ["CustomerV3"]
    assert names("PublicEnumerations", "Name eq 'NoYes'") == ["NoYes"]
    category = "EntityCategory eq Microsoft.Dynamics.Metadata.EntityCategory'Master'"
    assert names("DataEntities", category) == ["ContactPersonV2Entity", "CustomerV3Entity", "ReleasedProductV2Entity"]
    assert names("PublicEntities", "not contains(Name, 'Sales') and ConfigurationEnabled eq true") == [
        "ContactPersonV2",
        "CustomerV3",
        "ReleasedProductV2",
    ]
    for refused in ("Properties eq 'x'", "Nope eq 1", "Name in ('CustomerV3')", "contains(Name)", "Name eq"):
        answer = http.get(finops.url + "/Metadata/PublicEntities", params={"$filter": refused})
        assert answer.status_code == 400, refused
        assert answer.json()["error"]["message"]
    assert http.get(finops.url + "/Metadata/PublicEntities", params={"$expand": "Properties"}).status_code == 400


def test_metadata_collections_page_and_count(finops, http):
    everything = http.get(finops.url + "/Metadata/PublicEntities", params={"$select": "Name"}).json()["value"]
    page = http.get(
        finops.url + "/Metadata/PublicEntities", params={"$select": "Name", "$top": "2", "$skip": "1", "$count": "true"}
    ).json()
    assert page["@odata.count"] == len(everything) and page["value"] == everything[1:3]


def test_enumerations_and_labels_come_from_the_entity_definitions(finops, http):
    no_yes = http.get(finops.url + "/Metadata/PublicEnumerations('NoYes')").json()
    assert [(m["Name"], m["Value"]) for m in no_yes["Members"]] == [("No", 0), ("Yes", 1)]
    used = {f.enum_type for e in load_entities("finops").values() for f in e.fields.values() if f.enum_type}
    listed = http.get(finops.url + "/Metadata/PublicEnumerations").json()["value"]
    assert {e["Name"] for e in listed} == used

    entity = http.get(finops.url + "/Metadata/PublicEntities('CustomerV3')").json()
    account = next(p for p in entity["Properties"] if p["Name"] == "CustomerAccount")
    label = http.get(f"{finops.url}/Metadata/Labels(Id='{account['LabelId']}',Language='en-US')")
    assert label.status_code == 200
    assert (label.json()["Id"], label.json()["Value"]) == (account["LabelId"], "Customer account")
    assert http.get(f"{finops.url}/Metadata/Labels(Id='{account['LabelId']}',Language='da')").status_code == 404
    assert http.get(f"{finops.url}/Metadata/Labels(Id='@SYS0',Language='en-us')").status_code == 404


def test_csdl_document_matches_the_entity_definitions(finops, http):
    answer = http.get(finops.service_url + "$metadata")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/xml")
    schema = ElementTree.fromstring(answer.content).find(f".//{EDM}Schema")
    assert schema is not None and schema.get("Namespace") == "Microsoft.Dynamics.DataEntities"
    sets = {s.get("Name"): s.get("EntityType") for s in schema.iter(f"{EDM}EntitySet")}
    entities = load_entities("finops")
    assert sets == {name: e.type_name for name, e in entities.items()}
    types = {t.get("Name"): t for t in schema.iter(f"{EDM}EntityType")}
    for entity in entities.values():
        described = types[entity.logical_name]
        keys = [ref.get("Name") for ref in described.iter(f"{EDM}PropertyRef")]
        assert keys == list(entity.entity_key.fields)
        properties = {p.get("Name"): p for p in described.iter(f"{EDM}Property")}
        assert list(properties) == [f.prop for f in entity.fields.values()]
        for fld in entity.fields.values():
            assert properties[fld.prop].get("Type") == fld.edm_type
            if fld.max_length is not None:
                assert properties[fld.prop].get("MaxLength") == str(fld.max_length)
    enums = {e.get("Name") for e in schema.iter(f"{EDM}EnumType")}
    assert "NoYes" in enums
    context = http.get(finops.service_url + "CustomersV3").json()["@odata.context"]
    assert context.startswith(finops.service_url + "$metadata#")


def test_put_replaces_the_record_and_never_creates(finops, http):
    url = finops.service_url + "CustomersV3(dataAreaId='usmf',CustomerAccount='PUT-1')"
    missing = http.put(url, json={**CUSTOMER, "OrganizationName": "Nobody"})
    assert missing.status_code == 404
    created = http.post(
        finops.service_url + "CustomersV3", json={**CUSTOMER, "OrganizationName": "Before", "CreditLimit": 9}
    )
    assert created.status_code == 201

    replaced = http.put(url, json={**CUSTOMER, "CustomerGroupId": "20", "OrganizationName": "After"})
    assert replaced.status_code == 204
    record = http.get(url).json()
    assert (record["OrganizationName"], record["CustomerGroupId"], record["CreditLimit"]) == ("After", "20", 0)

    without_mandatory = http.put(url, json={"OrganizationName": "No group"})
    assert without_mandatory.status_code == 400
    assert "must be filled in" in without_mandatory.json()["error"]["message"]
    moved = http.put(url, json={**CUSTOMER, "CustomerAccount": "PUT-2"})
    assert moved.status_code == 400
    assert http.get(url).json()["OrganizationName"] == "After"


def test_environment_actions_answer_post_only(finops, http):
    action = finops.service_url + "DataManagementEntities/Microsoft.Dynamics.DataEntities.GetApplicationVersion"
    answer = http.post(action, json={})
    assert answer.status_code == 200
    assert answer.json()["@odata.context"].endswith("$metadata#Edm.String") and answer.json()["value"]
    modules = http.post(
        finops.service_url + "SystemNotifications/Microsoft.Dynamics.DataEntities.GetInstalledModules", json={}
    ).json()["value"]
    assert all(len(m.split(" | ")) == 5 for m in modules)
    assert http.get(action).status_code == 405
    unknown = finops.service_url + "DataManagementEntities/Microsoft.Dynamics.DataEntities.Nope"
    assert http.post(unknown, json={}).status_code == 404
