"""F&O OData over HTTP: companies, composite keys, update-only PATCH, enums, paging, validation."""

from __future__ import annotations

import requests

from tests.sandbox.batch_helpers import batch_body, part, statuses

CUSTOMER = {"CustomerGroupId": "10", "SalesCurrencyCode": "USD", "AddressCountryRegionId": "USA"}


def records(http: requests.Session, server, entity_set: str) -> list[dict]:
    return http.get(f"{server.url}/_sandbox/records/{entity_set}").json()


def message(response: requests.Response) -> str:
    body = response.json()["error"]
    assert body["code"] == "" and body["innererror"]["message"] == body["message"]
    return body["message"]


def test_only_the_default_company_is_visible_without_cross_company(finops_dataset, http):
    everything = records(http, finops_dataset, "CustomersV3")
    companies = {c["dataAreaId"] for c in everything}
    assert companies == {"usmf", "usrt"}
    base = finops_dataset.service_url + "CustomersV3?$select=dataAreaId,CustomerAccount&$count=true"
    default = http.get(base).json()
    assert {c["dataAreaId"] for c in default["value"]} == {"usmf"}
    assert default["@odata.count"] == sum(c["dataAreaId"] == "usmf" for c in everything)
    cross = http.get(base + "&cross-company=true").json()
    assert cross["@odata.count"] == len(everything)
    one = http.get(base + "&cross-company=true&$filter=dataAreaId eq 'usrt'").json()
    assert one["@odata.count"] == sum(c["dataAreaId"] == "usrt" for c in everything)
    assert http.get(base + "&$filter=dataAreaId eq 'usrt'").json()["@odata.count"] == 0


def test_composite_keys_address_one_record_in_one_company(finops_dataset, http):
    usrt = next(c for c in records(http, finops_dataset, "CustomersV3") if c["dataAreaId"] == "usrt")
    url = f"{finops_dataset.service_url}CustomersV3(dataAreaId='USRT',CustomerAccount='{usrt['CustomerAccount']}')"
    assert http.get(url).status_code == 404
    found = http.get(url + "?cross-company=true").json()
    assert (found["dataAreaId"], found["CustomerAccount"]) == ("usrt", usrt["CustomerAccount"])
    line = records(http, finops_dataset, "SalesInvoiceLinesV2")[0]
    line_url = (
        f"{finops_dataset.service_url}SalesInvoiceLinesV2(dataAreaId='usmf',"
        f"InvoiceNumber='{line['InvoiceNumber']}',LineNumber={line['LineNumber']:g})"
    )
    assert http.get(line_url).json()["ItemNumber"] == line["ItemNumber"]
    partial = http.get(f"{finops_dataset.service_url}CustomersV3('{usrt['CustomerAccount']}')")
    assert partial.status_code == 400 and "key in the request URI is not valid" in message(partial)


def test_paging_with_skip_and_top(finops_dataset, http):
    url = finops_dataset.service_url + "ReleasedProductsV2?$select=ItemNumber&$orderby=ItemNumber&$skip=5&$top=25"
    items, pages = [], 0
    while url:
        body = http.get(url, headers={"Prefer": "odata.maxpagesize=10"}).json()
        items += [p["ItemNumber"] for p in body["value"]]
        pages += 1
        url = body.get("@odata.nextLink")
    expected = sorted(
        p["ItemNumber"] for p in records(http, finops_dataset, "ReleasedProductsV2") if p["dataAreaId"] == "usmf"
    )[5:30]
    assert (items, pages) == (expected, 3)


def test_enum_literals_in_filters_and_plain_names_in_bodies(finops_dataset, http):
    base = finops_dataset.service_url + "CustomersV3?$select=CreditLimitIsMandatory"
    enum = http.get(base + "&$filter=CreditLimitIsMandatory eq Microsoft.Dynamics.DataEntities.NoYes'Yes'").json()
    assert enum["value"] and {c["CreditLimitIsMandatory"] for c in enum["value"]} == {"Yes"}
    assert http.get(base + "&$filter=CreditLimitIsMandatory eq 'Yes'").status_code == 400
    assert http.get(base + "&$filter=CustomerAccount in ('a','b')").status_code == 400
    has = "&$filter=OnHoldStatus has Microsoft.Dynamics.DataEntities.CustVendorBlocked'All'"
    assert http.get(base + has).status_code == 400
    wildcard = http.get(finops_dataset.service_url + "CustomersV3?$filter=OrganizationName eq '*Contoso*'").json()
    assert all("contoso" in c["OrganizationName"].lower() for c in wildcard["value"])


def test_patch_updates_only_and_post_creates(finops, http):
    base = finops.service_url
    missing = http.patch(base + "CustomersV3(dataAreaId='usmf',CustomerAccount='C-1')", json={"OrganizationName": "x"})
    assert missing.status_code == 404
    created = http.post(base + "CustomersV3", json={"CustomerAccount": "C-1", "OrganizationName": "One", **CUSTOMER})
    assert created.status_code == 201
    body = created.json()
    assert (body["dataAreaId"], body["NameAlias"], body["CreditLimit"], body["OnHoldStatus"]) == ("usmf", "", 0, "No")
    duplicate = http.post(base + "CustomersV3", json={"CustomerAccount": "c-1", "OrganizationName": "Two", **CUSTOMER})
    assert duplicate.status_code == 400 and "already exists" in message(duplicate)
    url = base + "CustomersV3(dataAreaId='USMF',CustomerAccount='C-1')"
    assert http.patch(url, json={"OrganizationName": "Renamed", "CreditLimitIsMandatory": "Yes"}).status_code == 204
    assert http.patch(url, json={"CustomerAccount": "C-2"}).status_code == 400
    [stored] = records(http, finops, "CustomersV3")
    assert (stored["OrganizationName"], stored["CreditLimitIsMandatory"]) == ("Renamed", "Yes")
    assert http.delete(url).status_code == 204
    assert http.delete(url).status_code == 404


def test_writes_are_validated_like_the_service(finops, http):
    base = finops.service_url + "CustomersV3"
    cases = {
        "longer than the maximum length of 100": {"OrganizationName": "x" * 101},
        "relating table 'LogisticsAddressCountryRegion'": {"AddressCountryRegionId": "Narnia"},
        "must be filled in": {"CustomerGroupId": ""},
        "not a valid member of enum": {"CreditLimitIsMandatory": "Maybe"},
        "does not exist on type": {"Nope": 1},
        "relating table 'DataArea'": {"dataAreaId": "zzzz"},
    }
    for expected, change in cases.items():
        response = http.post(base, json={"CustomerAccount": "V-1", **CUSTOMER, **change})
        assert response.status_code == 400 and expected in message(response), expected
    order = {"SalesOrderNumber": "SO-1", "OrderingCustomerAccountNumber": "NOBODY", "CurrencyCode": "USD"}
    response = http.post(finops.service_url + "SalesOrderHeadersV2", json=order)
    assert "relating table 'CustomerV3'" in message(response)
    assert records(http, finops, "CustomersV3") == [] and records(http, finops, "SalesOrderHeadersV2") == []


def test_other_companies_by_body_and_number_sequences(finops, http):
    base = finops.service_url
    http.post(
        base + "CustomersV3", json={"dataAreaId": "USRT", "CustomerAccount": "R-1", **CUSTOMER}
    ).raise_for_status()
    order = http.post(
        base + "SalesOrderHeadersV2",
        json={"dataAreaId": "usrt", "OrderingCustomerAccountNumber": "R-1", "CurrencyCode": "USD"},
    ).json()
    assert order["SalesOrderNumber"] == "000001" and order["dataAreaId"] == "usrt"
    line = {"dataAreaId": "usrt", "SalesOrderNumber": "000001", "ItemNumber": "X"}
    assert http.post(base + "SalesOrderLinesV2", json=line).status_code == 400


def test_batch_change_set_is_atomic_in_finops(finops, http):
    root = finops.service_url
    http.post(root + "CustomersV3", json={"CustomerAccount": "B-1", **CUSTOMER}).raise_for_status()
    http.post(root + "ReleasedProductsV2", json={"ItemNumber": "I-1"}).raise_for_status()
    header = {"SalesOrderNumber": "SO-9", "OrderingCustomerAccountNumber": "B-1", "CurrencyCode": "USD"}
    good_line = {"SalesOrderNumber": "SO-9", "ItemNumber": "I-1", "OrderedSalesQuantity": 2}
    bad_line = {"SalesOrderNumber": "SO-9", "ItemNumber": "NOPE"}
    for lines, expected in (([good_line, bad_line], [400]), ([good_line, good_line], [201, 201, 201])):
        items = [
            [part("POST", root + "SalesOrderHeadersV2", header)]
            + [part("POST", root + "SalesOrderLinesV2", line) for line in lines]
        ]
        content_type, body = batch_body(items)
        response = http.post(root + "$batch", data=body.encode(), headers={"Content-Type": content_type})
        assert statuses(response) == expected
    assert len(records(http, finops, "SalesOrderHeadersV2")) == 1
    assert len(records(http, finops, "SalesOrderLinesV2")) == 2


def test_throttling_in_finops(finops, http):
    http.post(finops.url + "/_sandbox/config", json={"requests_per_window": 1, "window_s": 5}).raise_for_status()
    url = finops.service_url + "CustomersV3"
    assert http.get(url).status_code == 200
    throttled = http.get(url)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert "throttled" in message(throttled)


def test_metadata_service_describes_public_entities(finops, http):
    found = http.get(finops.url + "/Metadata/PublicEntities", params={"$filter": "EntitySetName eq 'CustomersV3'"})
    assert found.status_code == 200
    [entity] = found.json()["value"]
    assert entity["Name"] == "CustomerV3"
    keys = [p["Name"] for p in entity["Properties"] if p["IsKey"]]
    assert keys == ["dataAreaId", "CustomerAccount"]
    mandatory = {p["Name"] for p in entity["Properties"] if p["IsMandatory"]}
    assert {"CustomerGroupId", "SalesCurrencyCode"} <= mandatory
    one = http.get(finops.url + "/Metadata/PublicEntities('CustomerV3')")
    assert one.status_code == 200 and one.json()["EntitySetName"] == "CustomersV3"
    assert http.get(finops.url + "/Metadata/PublicEntities('Nope')").status_code == 404
    read_only = http.get(finops.url + "/Metadata/PublicEntities", params={"$filter": "IsReadOnly eq true"})
    assert read_only.status_code == 200 and read_only.json()["value"] == []
    assert http.get(finops.url + "/Metadata/PublicEntities", params={"$filter": "Nope eq 1"}).status_code == 400
