"""A host killed in the middle of a two-way run: the run resumes and both sides and the baseline end consistent.

The twin of this module pages by 10 records and cuts a task into 16 buckets merged two at a
time, and both sandbox systems take 40 ms per record written, so a run's writes spread over
many steps and the kill lands between them. Expectations are worked out from the edits made;
outcomes are read from the sandbox systems, the API and the task's baselines.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import requests

from shared.settings import StorageSettings
from shared.store import Store
from shared.store.baselines import PARTITIONS
from shared.twoway.values import same
from tests.orchestrators.conftest import CONSENT, assert_balanced, seed
from twin.local_twin import LocalTwin

TWIN_SETTINGS = {"DI_PAGE_SIZE": "10", "DI_PAGES_PER_STEP": "3", "DI_PAGES_PER_WINDOW": "2", "DI_KEY_BUCKETS": "16"}
PROJECT, TASK = "kill-two-way", "Accounts"
FIELDS = ("accountnumber", "name", "telephone1", "address1_city")
PAIRS, NEW_EACH_SIDE = 200, 20
RUN_TIMEOUT_S = 300



def account(n: int, prefix: str = "A") -> dict[str, Any]:
    return {"accountnumber": f"{prefix}-{n:05d}", "name": f"Account {prefix}{n}", "telephone1": f"+1 425 555 {n:04d}",
            "address1_city": "Seattle", "modifiedon": "2023-01-01T00:00:00Z"}


def upsert(twin: LocalTwin, system: str, records: list[dict[str, Any]]) -> None:
    """Change records the way another client of the system does: one UpsertMultiple (stamped and tracked)."""
    targets = [{"@odata.type": "Microsoft.Dynamics.CRM.account", **record} for record in records]
    url = f"{twin.systems[system].url}/api/data/v9.2/accounts/Microsoft.Dynamics.CRM.UpsertMultiple"
    requests.post(url, json={"Targets": targets}, timeout=60).raise_for_status()


def knobs(twin: LocalTwin, **values: Any) -> None:
    for system in ("sales", "cds"):
        requests.post(f"{twin.systems[system].url}/_sandbox/config", json=values, timeout=10).raise_for_status()


def start(twin: LocalTwin, mode: str) -> str:
    started = twin.api("POST", f"projects/{PROJECT}/runs", json={"mode": mode})
    assert started.status_code == 202, started.text
    return str(started.json()["runId"])


def follow(twin: LocalTwin, run_id: str) -> dict[str, Any]:
    """The run once it ended, asked of whichever devhost is running now."""
    return twin.follow(twin.api("GET", f"runs/{run_id}"), timeout_s=RUN_TIMEOUT_S)


def written(run: dict[str, Any]) -> dict[str, int]:
    return {leg["leg"]: leg["written"] for leg in run["tasks"][0]["legs"]}


def by_number(twin: LocalTwin, system: str) -> dict[str, dict[str, Any]]:
    records = twin.records(system, "accounts")
    numbers = Counter(record["accountnumber"] for record in records)
    assert [n for n, count in numbers.items() if count > 1] == [], f"duplicates in {system}"
    return {record["accountnumber"]: record for record in records}


def baselines(twin: LocalTwin) -> list[Any]:
    settings = StorageSettings(connection_string=twin.storage, table_prefix=twin.table_prefix)
    with Store(settings) as store:
        return [b for p in range(PARTITIONS) for b in store.baselines.read_bucket(PROJECT, TASK, p)]


def test_a_host_killed_while_a_two_way_run_writes_both_ways_converges_without_loss_or_duplicates(twin) -> None:
    linked = [account(n) for n in range(PAIRS)]
    seed(twin, "sales", "accounts", linked)
    seed(twin, "cds", "accounts", linked)
    task = {"name": TASK, "direction": "bidirectional", "conflicts": "manual",
            "source": {"entity": "accounts", "key": ["accountnumber"]},
            "cds": {"entity": "accounts", "key": ["accountnumber"]},
            "sourceToCds": [{"source": field, "target": field} for field in FIELDS]}
    answer = twin.api("POST", "projects", json={"name": PROJECT, "connections": {"source": "sales", "cds": "cds"},
                                                "tasks": [task], "consent": CONSENT})
    assert answer.status_code == 201, answer.text
    first = follow(twin, start(twin, "full"))
    assert written(first) == {"sourceToCds": 0, "cdsToSource": 0}, first

    # Sales edits the phone of every account n % 3 == 0, CDS the city of every n % 3 != 2: both fields
    # of every third account change, one on each side; each side enters accounts of its own
    phones = {f"A-{n:05d}": f"+1 206 555 {n:04d}" for n in range(0, PAIRS, 3)}
    cities = {f"A-{n:05d}": f"City {n}" for n in range(PAIRS) if n % 3 != 2}
    upsert(twin, "sales", [{"accountnumber": number, "telephone1": phone} for number, phone in phones.items()]
           + [account(n, "S") for n in range(NEW_EACH_SIDE)])
    upsert(twin, "cds", [{"accountnumber": number, "address1_city": city} for number, city in cities.items()]
           + [account(n, "C") for n in range(NEW_EACH_SIDE)])
    before = twin.records_written("cds") + twin.records_written("sales")
    knobs(twin, record_cost_ms=40)
    run_id = start(twin, "incremental")
    deadline = time.monotonic() + 120
    while twin.records_written("cds") + twin.records_written("sales") < before + 20:
        assert time.monotonic() < deadline, "the run wrote nothing within 120 s"
        time.sleep(0.02)
    twin.restart_devhost(kill=True)
    held = twin.records_written("cds") + twin.records_written("sales") - before
    knobs(twin, record_cost_ms=0)
    resumed = follow(twin, run_id)

    to_write = len(phones) + len(cities) + 2 * NEW_EACH_SIDE
    assert held < to_write, f"the kill came after every write ({held} of {to_write})"
    assert resumed["runtimeStatus"] == "Succeeded", resumed
    assert_balanced(resumed)
    sales, cds = by_number(twin, "sales"), by_number(twin, "cds")
    assert set(sales) == set(cds) and len(sales) == PAIRS + 2 * NEW_EACH_SIDE
    for number in sales:
        for field in FIELDS:
            assert sales[number].get(field) == cds[number].get(field), (number, field)
    assert all(sales[number]["telephone1"] == phone for number, phone in phones.items()), "a Sales edit was lost"
    assert all(cds[number]["address1_city"] == city for number, city in cities.items()), "a CDS edit was lost"

    kept = baselines(twin)
    assert sorted(b.cds_key["accountnumber"] for b in kept) == sorted(cds)
    for baseline in kept:
        number = baseline.cds_key["accountnumber"]
        assert baseline.state == "linked"
        assert all(same(sales[number].get(f), baseline.source[f]) and same(cds[number].get(f), baseline.cds[f])
                   for f in FIELDS), baseline
    again = follow(twin, start(twin, "full"))
    assert written(again) == {"sourceToCds": 0, "cdsToSource": 0} and again["runtimeStatus"] == "Succeeded", again
