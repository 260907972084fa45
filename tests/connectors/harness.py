"""The systems the connector contract suite runs against, each behind one small harness.

A harness seeds records straight into its system (not through the connector), changes and
deletes them the way another user of the system would, dumps what the system holds, and
says which parts of the contract apply to its kind of system.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from shared.auth import TokenProvider
from shared.connectors import build_connector
from shared.connectors.base import Connector
from shared.models import Connection

OLD = "2023-01-01T00:00:00Z"
SYSTEM_FIELDS = {"@odata.etag", "createdon", "modifiedon", "versionnumber", "ModifiedDateTime", "accountid"}


@dataclass
class Harness:
    kind: str
    entity: str
    key: list[str]
    connect: Callable[[TokenProvider | None], Connector]
    record: Callable[[str, int], dict[str, Any]]
    seed: Callable[[list[dict[str, Any]]], None]
    dump: Callable[[], list[dict[str, Any]]]
    change: Callable[[dict[str, Any]], None]
    delete: Callable[[dict[str, Any]], None] | None
    bad: Callable[[dict[str, Any]], dict[str, Any]] | None
    admin: str | None
    company: str | None = None
    """The company the connector is scoped to, for systems that hold several."""
    write_entity: str | None = None
    folds_case: bool = True
    """Whether the system takes `a-1` and `A-1` for the same key."""

    def key_of(self, record: dict[str, Any]) -> str:
        return str(record[self.key[-1]])

    def business(self, record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k not in SYSTEM_FIELDS}

    def knobs(self, **values: Any) -> None:
        assert self.admin is not None
        requests.post(f"{self.admin}/_sandbox/config", json=values, timeout=10).raise_for_status()

    def stats(self) -> dict[str, Any]:
        assert self.admin is not None
        return requests.get(f"{self.admin}/_sandbox/stats", timeout=10).json()


def dataverse(url: str) -> Harness:
    service = url + "/api/data/v9.2/"

    def record(key: str, n: int) -> dict[str, Any]:
        return {"accountnumber": key, "name": f"Account {n}", "address1_city": f"City {n % 7}"}

    def change(record: dict[str, Any]) -> None:
        key = record["accountnumber"].replace("'", "''")
        requests.patch(f"{service}accounts(accountnumber='{key}')", json={"name": record["name"] + " changed"},
                       headers={"If-Match": "*"}, timeout=10).raise_for_status()

    def delete(record: dict[str, Any]) -> None:
        key = record["accountnumber"].replace("'", "''")
        requests.delete(f"{service}accounts(accountnumber='{key}')", timeout=10).raise_for_status()

    return Harness(
        kind="dataverse", entity="accounts", key=["accountnumber"],
        connect=lambda tokens: build_connector(_connection("dataverse", url), tokens),
        record=record, seed=_seeder(url, "accounts", {"modifiedon": OLD}), dump=_dumper(url, "accounts"),
        change=change, delete=delete, bad=lambda r: {**r, "name": "x" * 161}, admin=url,
    )


def finops(url: str) -> Harness:
    service = url + "/data/"

    def record(key: str, n: int) -> dict[str, Any]:
        return {"dataAreaId": "usmf", "CustomerAccount": key, "OrganizationName": f"Customer {n}",
                "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}

    def change(record: dict[str, Any]) -> None:
        key = record["CustomerAccount"].replace("'", "''")
        requests.patch(f"{service}CustomersV3(dataAreaId='usmf',CustomerAccount='{key}')?cross-company=true",
                       json={"OrganizationName": record["OrganizationName"] + " changed"}, timeout=10).raise_for_status()

    return Harness(
        kind="finops", entity="CustomersV3", key=["dataAreaId", "CustomerAccount"],
        connect=lambda tokens: build_connector(_connection("finops", url), tokens).scoped("USMF"),
        record=record, seed=_seeder(url, "CustomersV3", {"ModifiedDateTime": OLD}), dump=_dumper(url, "CustomersV3"),
        change=change, delete=None, bad=lambda r: {**r, "OrganizationName": "x" * 101}, admin=url, company="usmf",
    )


def blob_files(files: Any, connector: Connector) -> Harness:
    """Files in a container: read from `imports/accounts/`, written to `exports/accounts/`."""
    state = {"files": 0}

    def write_file(records: list[dict[str, Any]]) -> None:
        name = f"imports/accounts/part-{state['files']:04d}.jsonl"
        state["files"] += 1
        files.write(name, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode(), "x")

    def dump() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for name, _ in files.list("exports/accounts/"):
            rows.extend(json.loads(line) for line in files.read(name).decode().split("\n") if line)
        return rows

    return Harness(
        kind="blob", entity="imports/accounts/", key=["accountnumber"], connect=lambda tokens: connector,
        record=lambda key, n: {"accountnumber": key, "name": f"Account {n}"},
        seed=write_file, dump=dump, change=lambda r: write_file([{**r, "name": r["name"] + " changed"}]),
        delete=None, bad=None, admin=None, write_entity="exports/accounts/", folds_case=False,
    )


def _connection(kind: str, url: str) -> Connection:
    return Connection.model_validate({"kind": kind, "url": url, "auth": {"type": "none"}})


def _seeder(url: str, entity_set: str, extra: dict[str, Any]) -> Callable[[list[dict[str, Any]]], None]:
    def seed(records: list[dict[str, Any]]) -> None:
        body = [{**record, **extra} for record in records]
        requests.post(f"{url}/_sandbox/records/{entity_set}", json=body, timeout=60).raise_for_status()

    return seed


def _dumper(url: str, entity_set: str) -> Callable[[], list[dict[str, Any]]]:
    return lambda: requests.get(f"{url}/_sandbox/records/{entity_set}", timeout=60).json()
