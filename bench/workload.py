"""What every contender moves: N Sales accounts, the 20-field mapping to CDS, and the target service.

The project maps the records itself; the reference clients get the same records already
mapped by the same mapping (`target_payloads`), so they only write. The target Dataverse
sandbox behaves as `TARGET_KNOBS` says for every contender; the source has the same latency.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from shared.mapping import MappedRecord, compile_mapping
from shared.models import FieldMapping

ENTITY_SET = "accounts"
KEY = "accountnumber"
TARGET_KNOBS: dict[str, Any] = {
    "latency_ms": 20,
    "record_cost_ms": 1,
    "max_concurrency": 52,
    "requests_per_window": 2000,
    "window_s": 10,
}
"""20 ms a request, 1 ms of server work a record written, 52 concurrent, 2,000 requests per 10 s."""
SOURCE_KNOBS: dict[str, Any] = {"latency_ms": 20}
CHANGED_SHARE = 100
"""One source record in this many changes before an incremental run."""


def changed_accounts(records: int) -> list[dict[str, Any]]:
    """The changes made to one source record in CHANGED_SHARE of `records` before an incremental run."""
    return [{KEY: account[KEY], "telephone1": "+1 425 555 0199", "name": account["name"] + " (moved)"}
            for account in (sales_accounts(1, n)[0] for n in range(0, records, CHANGED_SHARE))]

COUNTRIES = {"us": "US", "usa": "US", "united states of america": "US", "u.s.": "US", "germany": "DE",
             "deutschland": "DE", "deu": "DE", "united kingdom": "GB", "uk": "GB", "": "US"}
STATES = {"wa": "Washington", "ny": "New York", "ca": "California", "tx": "Texas", "by": "Bavaria"}
CUSTOMER_TYPES = {"1": 3, "2": 1, "3": 11}
COUNTRY_SPELLINGS = ("United States of America ", "usa", "U.S.", "germany", "Deutschland", "UK", "", None)
STATE_SPELLINGS = ("WA", "ny", "Ca ", "tx", "BY", None)
CITIES = ("Redmond", "Seattle", "Munich", "London", "Austin")

_COPIED = ("accountnumber", "name", "address1_line1", "address1_line2", "address1_city", "address1_postalcode",
           "telephone1", "telephone2", "emailaddress1", "websiteurl", "description", "revenue", "creditlimit",
           "creditonhold", "numberofemployees", "statecode", "statuscode")
_VALUE_MAPS = {"address1_country": COUNTRIES, "address1_stateorprovince": STATES, "customertypecode": CUSTOMER_TYPES}


def field_mappings() -> list[dict[str, Any]]:
    """The task's `sourceToCds`: 17 copies and 3 value maps, 20 target fields."""
    mappings: list[dict[str, Any]] = [{"source": name, "target": name} for name in _COPIED]
    for name, table in _VALUE_MAPS.items():
        mappings.append({"source": name, "target": name,
                         "transforms": [{"transformType": "ValueMap", "valueMap": table}]})
    return mappings


def project(name: str, source: str = "sales", cds: str = "cds") -> dict[str, Any]:
    """A project with one task that ends in CDS (no destination)."""
    key = {"entity": ENTITY_SET, "key": [KEY]}
    task = {"name": "Accounts", "source": key, "cds": key, "sourceToCds": field_mappings()}
    return {"name": name, "connections": {"source": source, "cds": cds}, "tasks": [task]}


def sales_accounts(count: int, start: int = 0) -> list[dict[str, Any]]:
    """Sales accounts `start` .. `start + count - 1`, with the spellings real data has.

    Each record depends on its number only, so the same numbers give the same records
    however they are generated in chunks.
    """
    return [_account(n) for n in range(start, start + count)]


def _pick(options: Sequence[Any], n: int, salt: int) -> Any:
    return options[((n + salt) * 2654435761 % 2**32) % len(options)]


def _account(n: int) -> dict[str, Any]:
    return {
        "accountid": f"00000000-0000-4000-8000-{n:012d}",
        "accountnumber": account_number(n),
        "name": f"Account {n} Holdings",
        "address1_line1": f"{n % 9000 + 1} Main Street",
        "address1_line2": f"Suite {n % 700}",
        "address1_city": _pick(CITIES, n, 1),
        "address1_stateorprovince": _pick(STATE_SPELLINGS, n, 2),
        "address1_postalcode": f"{98000 + n % 1000}",
        "address1_country": _pick(COUNTRY_SPELLINGS, n, 3),
        "telephone1": f"+1 425 555 {n % 10000:04d}",
        "telephone2": f"+1 206 555 {n % 10000:04d}",
        "emailaddress1": f"contact{n}@example.com",
        "websiteurl": f"https://account{n}.example.com",
        "description": f"Customer since {2000 + n % 25}; account {n}.",
        "customertypecode": _pick((1, 2, 3), n, 4),
        "revenue": float(n % 100_000) * 1000.0,
        "creditlimit": float(n % 50) * 1000.0,
        "creditonhold": n % 17 == 0,
        "numberofemployees": n % 5000,
        "statecode": 0,
        "statuscode": 1,
        "modifiedon": "2024-01-01T00:00:00Z",
    }


def account_number(n: int) -> str:
    return f"A-{n:07d}"


def target_payloads(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records as the project writes them to CDS: mapped by the same 20-field mapping."""
    mappings = TypeAdapter(list[FieldMapping]).validate_python(field_mappings())
    apply = compile_mapping(mappings, [KEY])
    mapped = [apply(record) for record in records]
    assert all(outcome.__class__ is MappedRecord for outcome in mapped)
    return [outcome.values for outcome in mapped]  # type: ignore[union-attr]
