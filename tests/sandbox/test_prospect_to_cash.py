"""The prospect-to-cash data set: deterministic, consistent across systems, and dirty where it should be."""

from __future__ import annotations

import pytest
import requests

from sandbox.datasets.prospect_to_cash import DIRT, LONG_NAME, UNSAFE_ACCOUNT_NUMBERS, generate
from tests.sandbox.conftest import DATASET_RECORDS


def test_the_same_seed_gives_the_same_records_and_another_seed_others():
    assert generate("dataverse", records=200, seed=3) == generate("dataverse", records=200, seed=3)
    assert generate("finops", records=200, seed=3) == generate("finops", records=200, seed=3)
    assert generate("dataverse", records=200, seed=3) != generate("dataverse", records=200, seed=4)


def test_records_scale_the_accounts_and_contacts():
    small, large = generate("dataverse", records=100), generate("dataverse", records=1000)
    assert (len(small["accounts"]), len(small["contacts"])) == (100, 100)
    assert (len(large["accounts"]), len(large["contacts"])) == (1000, 1000)
    assert len(large["products"]) > len(small["products"])
    with pytest.raises(ValueError):
        generate("dataverse", records=10)


def test_the_dirt_is_where_dirt_says():
    accounts = generate("dataverse", records=300)["accounts"]
    assert accounts[DIRT["narnia"]]["address1_country"] == "Narnia"
    assert accounts[DIRT["deu"]]["address1_country"] == "deu"
    assert accounts[DIRT["united_states_of_america_trailing_space"]]["address1_country"] == "United States of America "
    assert accounts[DIRT["long_name"]]["name"] == LONG_NAME and 100 < len(LONG_NAME) <= 160
    first, second = (accounts[i]["accountnumber"] for i in DIRT["duplicate_account_number"])
    assert first == second.strip() != second
    assert [accounts[i]["accountnumber"] for i in DIRT["unsafe_key_characters"]] == list(UNSAFE_ACCOUNT_NUMBERS)
    assert all(accounts[i]["accountnumber"] is None for i in DIRT["no_account_number"])
    assert any(not a["name"].isascii() for a in accounts)
    countries = {a["address1_country"] for a in accounts}
    assert {"United States", "USA", "us", "Germany", "DE", None} <= countries


def test_the_finops_view_references_what_it_holds():
    data = generate("finops", records=300, companies=["usmf", "usrt"])
    customers = {(c["dataAreaId"], c["CustomerAccount"]) for c in data["CustomersV3"]}
    items = {(p["dataAreaId"], p["ItemNumber"]) for p in data["ReleasedProductsV2"]}
    orders = {(o["dataAreaId"], o["SalesOrderNumber"]) for o in data["SalesOrderHeadersV2"]}
    assert all((o["dataAreaId"], o["OrderingCustomerAccountNumber"]) in customers for o in data["SalesOrderHeadersV2"])
    assert all((line["dataAreaId"], line["ItemNumber"]) in items for line in data["SalesOrderLinesV2"])
    assert all((line["dataAreaId"], line["SalesOrderNumber"]) in orders for line in data["SalesOrderLinesV2"])
    assert {i["SalesOrderNumber"] for i in data["SalesInvoiceHeadersV2"]} == {o[1] for o in orders}
    assert {c["dataAreaId"] for c in data["CustomersV3"]} == {"usmf", "usrt"}
    dataverse = generate("dataverse", records=300)
    assert {o[1] for o in orders} <= {o["ordernumber"] for o in dataverse["salesorders"]}
    assert {p["productnumber"] for p in dataverse["products"]} < {p["ItemNumber"] for p in data["ReleasedProductsV2"]}


def test_the_server_serves_the_generated_records(dataverse_dataset, finops_dataset):
    served = requests.get(dataverse_dataset.url + "/_sandbox/records/accounts").json()
    generated = generate("dataverse", records=DATASET_RECORDS)["accounts"]
    assert {(a["accountid"], a["name"], a["modifiedon"]) for a in served} == {
        (a["accountid"], a["name"], a["modifiedon"]) for a in generated
    }
    lines = requests.get(finops_dataset.url + "/_sandbox/records/SalesOrderLinesV2").json()
    assert len(lines) == len(generate("finops", records=DATASET_RECORDS)["SalesOrderLinesV2"])


def test_a_dump_seeds_back_to_the_same_dump(dataverse, dataverse_dataset, http: requests.Session):
    for entity_set in ("accounts", "contacts"):
        dump = http.get(f"{dataverse_dataset.url}/_sandbox/records/{entity_set}").json()
        response = http.post(f"{dataverse.url}/_sandbox/records/{entity_set}", json=dump)
        assert response.json() == {"inserted": len(dump)}
        copy = http.get(f"{dataverse.url}/_sandbox/records/{entity_set}").json()
        strip = [{k: v for k, v in r.items() if k != "versionnumber"} for r in dump]
        assert [{k: v for k, v in r.items() if k != "versionnumber"} for r in copy] == strip
    first_account = http.get(f"{dataverse_dataset.url}/_sandbox/records/accounts").json()[:1]
    clash = http.post(f"{dataverse.url}/_sandbox/records/accounts", json=first_account)
    assert clash.status_code == 409
    unknown = http.post(f"{dataverse.url}/_sandbox/records/accounts", json=[{"nope": 1}])
    assert unknown.status_code == 400
    assert http.get(f"{dataverse.url}/_sandbox/records/nothing").status_code == 404
