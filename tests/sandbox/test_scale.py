"""A sandbox at scale: records are counted without dumping them, live on disk rather than in the process,
and a page deep into a large set costs what the first page costs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.cli import load_entities
from sandbox.process import SandboxProcess, start_sandbox
from sandbox.storage import Query, Store

CHUNK = 5_000
PAGED_ROWS = 20_000
PAGE = 1_000
DESCRIPTION = "x" * 2_000
"""Two kilobytes a record: 60,000 records are about twice SQLite's 64 MB page cache."""


def _accounts(count: int, start: int) -> list[dict[str, str]]:
    return [{"accountid": f"00000000-0000-4000-8000-{n:012d}", "accountnumber": f"A-{n:07d}", "name": f"Account {n}",
             "description": DESCRIPTION} for n in range(start, start + count)]


def _count(server: SandboxProcess, http: requests.Session, entity_set: str) -> requests.Response:
    return http.get(f"{server.url}/_sandbox/records/{entity_set}/$count")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


def test_the_count_endpoint_counts_what_was_seeded_and_nothing_after_a_reset(dataverse, http: requests.Session):
    assert _count(dataverse, http, "accounts").json() == {"count": 0}
    http.post(f"{dataverse.url}/_sandbox/records/accounts", json=_accounts(1_234, 0)).raise_for_status()
    assert _count(dataverse, http, "accounts").json() == {"count": 1_234}
    assert _count(dataverse, http, "contacts").json() == {"count": 0}
    http.post(f"{dataverse.url}/_sandbox/reset").raise_for_status()
    assert _count(dataverse, http, "accounts").json() == {"count": 0}
    unknown = _count(dataverse, http, "nothing")
    assert unknown.status_code == 404 and "nothing" in unknown.json()["error"]


def test_the_count_endpoint_counts_every_company_of_finops(finops, http: requests.Session):
    customers = [{"dataAreaId": company, "CustomerAccount": f"C-{n}", "OrganizationName": f"Customer {n}"}
                 for company in ("usmf", "usrt") for n in range(7)]
    http.post(f"{finops.url}/_sandbox/records/CustomersV3", json=customers).raise_for_status()
    assert _count(finops, http, "CustomersV3").json() == {"count": 14}


def test_records_past_the_page_cache_do_not_grow_the_process(http: requests.Session):
    with start_sandbox("dataverse") as server:
        http.post(f"{server.url}/_sandbox/records/accounts", json=_accounts(CHUNK, 0)).raise_for_status()
        after_first_chunk = _peak_rss_mb(server.pid)
        for start in range(CHUNK, 60_000, CHUNK):
            http.post(f"{server.url}/_sandbox/records/accounts", json=_accounts(CHUNK, start)).raise_for_status()
        assert _count(server, http, "accounts").json() == {"count": 60_000}
        seeded = _peak_rss_mb(server.pid)
        dump = http.get(f"{server.url}/_sandbox/records/accounts")
        dumped = _peak_rss_mb(server.pid)
    assert dump.headers["content-type"] == "application/json"
    assert len(dump.content) > 60_000 * len(DESCRIPTION)
    growth = seeded - after_first_chunk
    assert growth < 90, f"the sandbox grew {growth:.0f} MB for about 110 MB of records"
    assert dumped - seeded < 50, f"dumping about 110 MB of records grew the sandbox {dumped - seeded:.0f} MB"


def test_a_dump_of_several_pages_holds_every_record_once_in_key_order(dataverse, http: requests.Session):
    for start in range(0, 10_000, CHUNK):
        accounts = [{**record, "description": None} for record in _accounts(CHUNK, start)]
        http.post(f"{dataverse.url}/_sandbox/records/accounts", json=accounts[::-1]).raise_for_status()
    dump = http.get(f"{dataverse.url}/_sandbox/records/accounts").json()
    assert [record["accountnumber"] for record in dump] == [f"A-{n:07d}" for n in range(10_000)]
    assert http.get(f"{dataverse.url}/_sandbox/records/contacts").json() == []


def _instructions_for_page(
    store: Store, entity_set: str, order: tuple[tuple[str, bool], ...], after: tuple[Any, ...] | None
) -> tuple[int, list[dict[str, Any]]]:
    """SQLite virtual-machine steps (in hundreds) spent reading one keyset page, and the page."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    store.conn.set_progress_handler(count, 100)
    try:
        rows = store.fetch(store.entities[entity_set], Query(order=order, limit=PAGE, after=after),
                           [column for column, _ in order])
    finally:
        store.conn.set_progress_handler(None, 0)
    return steps, rows


KEYSET_CASES = {
    "dataverse, by primary id": (
        "dataverse", "accounts", (("accountid", False),),
        lambda n: {"accountid": f"00000000-0000-4000-8000-{n:012d}", "accountnumber": f"A-{n:07d}", "name": f"A {n}"},
    ),
    "finops, by company and account": (
        "finops", "CustomersV3", (("dataAreaId", False), ("CustomerAccount", False)),
        lambda n: {"dataAreaId": "usmf", "CustomerAccount": f"C-{n:07d}", "OrganizationName": f"C {n}"},
    ),
}


@pytest.mark.parametrize("case", KEYSET_CASES)
def test_a_keyset_page_deep_into_the_set_reads_no_more_than_the_first(case: str):
    system, entity_set, order, record = KEYSET_CASES[case]
    store = Store(system, load_entities(system))
    entity = store.entities[entity_set]
    try:
        with store.transaction():
            store.insert(entity, [record(n) for n in range(PAGED_ROWS)])
        _, first = _instructions_for_page(store, entity_set, order, None)
        second_cost, second = _instructions_for_page(store, entity_set, order, _cursor(first[-1], order))
        deep = store.fetch(entity, Query(order=order, limit=1, offset=PAGED_ROWS - PAGE - 1),
                           [column for column, _ in order])[0]
        deep_cost, last = _instructions_for_page(store, entity_set, order, _cursor(deep, order))
    finally:
        store.close()
    column = order[-1][0]
    assert [page[0][column] for page in (first, second)] == [record(n)[column] for n in (0, PAGE)]
    assert len(last) == PAGE and last[-1][column] == record(PAGED_ROWS - 1)[column]
    assert deep_cost <= 2 * second_cost, f"the last page took {deep_cost} steps, the second {second_cost}"


def _cursor(row: dict[str, Any], order: tuple[tuple[str, bool], ...]) -> tuple[Any, ...]:
    return (*(row[column] for column, _ in order), row["$rowid"])
