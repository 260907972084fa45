"""Lookup references resolved against a sandbox Dataverse: by key, case-insensitively, each key once a run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from sandbox.process import SandboxProcess
from shared.connectors import build_connector
from shared.connectors.base import Connector
from shared.connectors.odata_connector import KEYS_PER_READ
from shared.mapping import LookupKey, MappedRecord
from shared.models import Connection
from shared.sync.lookups import LookupCache, resolve_lookups
from shared.sync.workspace import RunWorkspace
from tests.shared.sync.conftest import dataverse_with_accounts

FIELD = "parentcustomerid_account@odata.bind"
NUMBERS = ["A-1", "O'Brien/01", "Zürich ✓", "with space", *(f"B-{n:03d}" for n in range(120))]


@pytest.fixture(scope="module")
def cds() -> Iterator[SandboxProcess]:
    with dataverse_with_accounts(NUMBERS) as server:
        yield server


@pytest.fixture
def connector(cds: SandboxProcess) -> Connector:
    return build_connector(Connection.model_validate({"kind": "dataverse", "url": cds.url, "auth": {"type": "none"}}))


def reads(cds: SandboxProcess) -> int:
    stats = requests.get(f"{cds.url}/_sandbox/stats", timeout=10).json()
    return stats["by_route"].get("GET accounts", {}).get("requests", 0)


def row(n: int, value: object) -> tuple[int, MappedRecord]:
    key = None if value is None else LookupKey("accounts", "accountnumber", value)
    return n, MappedRecord((f"C-{n}",), {"lastname": f"C {n}", FIELD: key})


def test_keys_resolve_to_ids_whatever_their_case_quotes_slashes_or_unicode(cds, connector) -> None:
    rows = [row(0, "a-1"), row(1, "O'BRIEN/01"), row(2, " Zürich ✓ "), row(3, None), row(4, "nobody"),
            row(5, "x" * 1_000_000)]
    before = reads(cds)
    written, misses = resolve_lookups(connector, LookupCache(), [FIELD], rows)
    assert reads(cds) - before == 1, "an oversized key is a miss without being asked for"
    assert [(n, m.values[FIELD]) for n, m in written] == [
        (0, "/accounts(00000000-0000-0000-0000-000000000000)"),
        (1, "/accounts(00000000-0000-0000-0000-000000000001)"),
        (2, "/accounts(00000000-0000-0000-0000-000000000002)"),
        (3, None),
    ]
    assert [(m.row, m.field, m.message) for m in misses] == [
        (4, FIELD, "no accounts record has accountnumber 'nobody'"),
        (5, FIELD, "no accounts record has accountnumber '" + "x" * 99 + "..."),
    ]


def test_a_run_asks_for_each_key_once_found_or_not(cds, connector) -> None:
    cache = LookupCache()
    rows = [row(n, number) for n, number in enumerate([*NUMBERS, "nobody"])]
    before = reads(cds)
    first, misses = resolve_lookups(connector, cache, [FIELD], rows)
    asked = reads(cds) - before
    assert asked == -(-len(rows) // KEYS_PER_READ)
    assert len(first) == len(NUMBERS) and len(misses) == 1
    again, misses_again = resolve_lookups(connector, cache, [FIELD], [row(n + 500, v.lower()) for n, v in
                                                                     enumerate([*NUMBERS, "nobody"])])
    assert reads(cds) - before == asked
    assert [m.values[FIELD] for _, m in again] == [m.values[FIELD] for _, m in first]
    assert len(misses_again) == 1
    resolve_lookups(connector, LookupCache(), [FIELD], rows[:1])
    assert reads(cds) - before == asked + 1, "another run asks again"


def test_each_target_system_of_a_run_has_its_own_lookup_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DI_ALLOW_UNAUTHENTICATED_CONNECTIONS", "true")
    endpoint = {"entity": "contacts", "key": ["msdyn_contactpersonid"]}
    copy = [{"source": "msdyn_contactpersonid", "target": "msdyn_contactpersonid"}]
    project = {"name": "two-systems", "connections": {"source": "sales", "cds": "cds", "destination": "service"},
               "tasks": [{"name": "Contacts", "source": endpoint, "cds": endpoint, "destination": endpoint,
                          "sourceToCds": copy, "cdsToDestination": copy}]}
    connections = {role: {"kind": "dataverse", "url": f"https://{role}.crm.dynamics.com",
                          "auth": {"type": "none"}} for role in ("source", "cds", "destination")}
    workspace = RunWorkspace("r1", {"project": project, "connections": connections}, build_connector)
    to_cds, to_destination = workspace.leg("Contacts", "sourceToCds"), workspace.leg("Contacts", "cdsToDestination")
    assert to_cds.lookups is not to_destination.lookups
    assert workspace.leg("Contacts", "sourceToCds").lookups is to_cds.lookups
