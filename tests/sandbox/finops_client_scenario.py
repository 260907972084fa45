"""d365fo-client's public API against an F&O service: run by tests/sandbox/test_finops_client.py.

Runs in the interpreter d365fo-client is installed in (`make setup` builds `.venv-fo/`), so it
imports nothing from this project. Usage: `finops_client_scenario.py BASE_URL CACHE_DIR`; the
client signs in with its default credential chain (the test points it at a local managed
identity endpoint). Prints one JSON object: what each step returned, for the test to check
against the service's records.

The client's metadata cache needs SQLite's FTS5 `contentless_delete` (SQLite 3.43+), which the
SQLite of Python 3.11 lacks: the client then answers every metadata question from the service
(its documented fallback), so each lookup below reaches the sandbox. `get_label_text` caches
through a method whose signature differs from the cache's in 0.3.7 and returns None even on a
200; `get_labels_batch` is the client's path that reads the label without that bug.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from d365fo_client import FOClient, FOClientConfig, QueryOptions

COMPANY = "usmf"
ACCOUNT = "FO-CLIENT-1"


async def scenario(base_url: str, cache_dir: str) -> dict[str, Any]:
    config = FOClientConfig(base_url=base_url, metadata_cache_dir=cache_dir, trace_client_id="conformance-suite")
    out: dict[str, Any] = {}
    async with FOClient(config) as client:
        out["connected"] = await client.test_connection()
        out["metadata_connected"] = await client.test_metadata_connection()
        out["application_version"] = await client.get_application_version()
        out["platform_version"] = await client.get_platform_build_version()
        out["installed_modules"] = await client.get_installed_modules()

        found = await client.metadata_api_ops.search_public_entities("customer")
        out["entities_named_customer"] = [e.entity_set_name for e in found]
        data_entities = await client.metadata_api_ops.search_data_entities("salesorder")
        out["data_entities_named_salesorder"] = [e.public_collection_name for e in data_entities]
        masters = await client.metadata_api_ops.search_data_entities(entity_category="Master")
        out["master_data_entities"] = sorted(e.public_collection_name for e in masters)
        schema = await client.get_public_entity_schema_by_entityset("CustomersV3")
        out["schema"] = {
            "name": schema.name,
            "keys": [p.name for p in schema.properties if p.is_key],
            "mandatory": [p.name for p in schema.properties if p.is_mandatory],
            "label_id": schema.label_id,
        }
        labels = await client.get_labels_batch([schema.label_id], "en-US")
        out["entity_label"] = labels.get(schema.label_id)
        no_yes = await client.metadata_api_ops.get_public_enumeration_info("NoYes", resolve_labels=True)
        out["no_yes"] = [(m.name, m.value, m.label_text) for m in no_yes.members]

        key = {"dataAreaId": COMPANY, "CustomerAccount": ACCOUNT}
        created = await client.create_entity(
            "CustomersV3",
            {
                "CustomerAccount": ACCOUNT,
                "OrganizationName": "Created by d365fo-client",
                "CustomerGroupId": "10",
                "SalesCurrencyCode": "USD",
                "CreditLimit": 2500,
                "CreditLimitIsMandatory": "Yes",
            },
        )
        out["created"] = {k: created.get(k) for k in ("dataAreaId", "CustomerAccount", "OrganizationName")}
        read = await client.get_entity("CustomersV3", key)
        out["read"] = {k: read.get(k) for k in ("CustomerAccount", "OrganizationName", "CreditLimitIsMandatory")}

        query = QueryOptions(
            select=["CustomerAccount", "CustomerGroupId"],
            filter="CustomerGroupId eq '10'",
            orderby=["CustomerAccount"],
            count=True,
        )
        queried = await client.get_entities("CustomersV3", query)
        out["query"] = {
            "count": queried.get("@odata.count"),
            "accounts": [r["CustomerAccount"] for r in queried["value"]],
        }

        pages, skip = [], 0
        while True:
            page = await client.get_entities("CustomersV3", QueryOptions(orderby=["CustomerAccount"], top=7, skip=skip))
            pages.append([r["CustomerAccount"] for r in page["value"]])
            if len(page["value"]) < 7:
                break
            skip += 7
        out["pages"] = pages

        out["patched"] = await client.update_entity("CustomersV3", key, {"OrganizationName": "Patched"})
        out["put"] = await client.update_entity(
            "CustomersV3",
            key,
            {
                "CustomerAccount": ACCOUNT,
                "OrganizationName": "Replaced",
                "CustomerGroupId": "20",
                "SalesCurrencyCode": "EUR",
            },
            method="PUT",
        )
        replaced = await client.get_entity("CustomersV3", key)
        out["after_put"] = {
            k: replaced.get(k) for k in ("OrganizationName", "CustomerGroupId", "CreditLimit", "CreditLimitIsMandatory")
        }

        out["deleted"] = await client.delete_entity("CustomersV3", key)
        out["read_after_delete"] = await client.get_entity_by_key("CustomersV3", key)
    return out


def main() -> None:
    base_url, cache_dir = sys.argv[1], sys.argv[2]
    print(json.dumps(asyncio.run(scenario(base_url, cache_dir))))


if __name__ == "__main__":
    main()
