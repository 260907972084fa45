"""A sandbox at scale: records are counted without dumping them, and they live on disk, not in the process."""

from __future__ import annotations

from pathlib import Path

import requests

from sandbox.process import SandboxProcess, start_sandbox

CHUNK = 5_000
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
        growth = _peak_rss_mb(server.pid) - after_first_chunk
    assert growth < 90, f"the sandbox grew {growth:.0f} MB for about 110 MB of records"
