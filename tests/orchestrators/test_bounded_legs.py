"""Legs cut into bounded orchestrations, end to end on strict devhost with small batching.

The twin of this module pages by 10 records, reads 3 pages per extract step (one source read
of 30 records), loads 2 pages per `load_pages` window and keeps keys in 16 buckets, so a leg
of a few hundred records takes several extract steps, continue-as-new generations and many
windows. Expectations are worked out from the seeded records by the rules the product
documents; outcomes are read from the sandbox systems, the task hub's tables, the run's staging
blobs and devhost's log.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from devhost.table_keys import decode_key, encode_key
from shared.mapping.duplicates import LATER, NEWER, SKIP_REASONS
from shared.store.staging import staging_prefix
from shared.sync.batching import CALLS_PER_GENERATION
from tests.orchestrators.conftest import assert_balanced, create_project, seed
from tests.orchestrators.test_sync_project import account, accounts_project
from twin.local_twin import LocalTwin

PAGE_SIZE, PAGES_PER_STEP, PAGES_PER_WINDOW, KEY_BUCKETS = 10, 3, 2, 16
TWIN_SETTINGS = {"DI_PAGE_SIZE": str(PAGE_SIZE), "DI_PAGES_PER_STEP": str(PAGES_PER_STEP),
            "DI_PAGES_PER_WINDOW": str(PAGES_PER_WINDOW), "DI_KEY_BUCKETS": str(KEY_BUCKETS)}
READ = PAGE_SIZE * PAGES_PER_STEP
"""Records of one extract step: the source is read in requests of this many."""
FIRST_LOAD_CHUNK = CALLS_PER_GENERATION * PAGES_PER_WINDOW * PAGE_SIZE
"""The most records one generation of a leg can load: a kill past it is in a later chunk of loads."""
RUN_TIMEOUT_S = 240
SAMPLE_S = 0.1



# the task hub's tables


class HubTables:
    """The instances and history sizes of one run, read from the task hub's tables in Table Storage."""

    def __init__(self, twin: LocalTwin, run_id: str) -> None:
        service = TableServiceClient.from_connection_string(twin.storage)
        self._history = service.get_table_client(f"{twin.hub}History")
        self._instances = service.get_table_client(f"{twin.hub}Instances")
        low = encode_key(f"{run_id}-")
        self._range = {"low": low, "high": low[:-1] + chr(ord(low[-1]) + 1)}
        self.largest: dict[str, int] = {}

    def sample(self) -> None:
        """Keep, per instance, the largest event count its current generation's checkpoint shows now."""
        rows = self._history.query_entities(
            "PartitionKey ge @low and PartitionKey lt @high and RowKey eq 'checkpoint'",
            parameters=self._range, select=["PartitionKey", "EventCount"])
        for row in rows:
            instance = decode_key(row["PartitionKey"])
            self.largest[instance] = max(self.largest.get(instance, 0), int(row["EventCount"]))

    def instances(self) -> dict[str, dict[str, Any]]:
        """The run's instances by id, with their name, status, generation, custom status and times."""
        rows = self._instances.query_entities("PartitionKey ge @low and PartitionKey lt @high", parameters=self._range)
        return {row["InstanceId"]: dict(row) for row in rows}


class SupersededRecords:
    """The superseded records one leg's staging shows while the run goes on (see shared/store/run_staging.py)."""

    def __init__(self, twin: LocalTwin, run_id: str, task: str, leg: str) -> None:
        service = BlobServiceClient.from_connection_string(twin.storage)
        self._container = service.get_container_client(f"{twin.table_prefix.lower()}-staging")
        self._folder = f"{staging_prefix(run_id, task, leg)}superseded/"
        self.documents: dict[str, dict[str, dict[str, str]]] = {}

    def sample(self) -> None:
        """Keep every document of superseded records the leg's staging holds now (the run deletes them at its end)."""
        with suppress(ResourceNotFoundError):  # the container is made by the run's first step
            names = list(self._container.list_blob_names(name_starts_with=self._folder))
            for name in names:
                if name not in self.documents:
                    self.documents[name] = json.loads(self._container.download_blob(name).readall())

    def buckets(self) -> set[str]:
        """The buckets that found superseded records (each document is named after its bucket)."""
        return {name.rsplit("/", 1)[1].removesuffix(".json") for name in self.documents}

    def positions(self) -> dict[int, str]:
        """Each superseded record's place in source order (pages of PAGE_SIZE, nothing filtered), with why it lost."""
        return {(int(page) - 1) * PAGE_SIZE + int(row): why
                for document in self.documents.values() for page, rows in document.items() for row, why in rows.items()}


class Sampler(Protocol):
    """Something read again and again while a run goes on."""

    def sample(self) -> None: ...


@dataclass
class Watched:
    """A run followed to its end while its histories (and whatever else was asked) were sampled."""

    run: dict[str, Any]
    tables: HubTables
    samplers: list[Sampler]

    @property
    def largest_history(self) -> int:
        return max(self.tables.largest.values())


def start_run(twin: LocalTwin, project: str) -> str:
    started = twin.api("POST", f"projects/{project}/runs")
    assert started.status_code == 202, started.text
    return str(started.json()["runId"])


def follow(twin: LocalTwin, run_id: str) -> dict[str, Any]:
    """The run's status once it ended, asked of whichever devhost is running now."""
    return twin.follow(twin.api("GET", f"runs/{run_id}"), timeout_s=RUN_TIMEOUT_S)


def watch(twin: LocalTwin, project: str, *also: Callable[[str], Sampler]) -> Watched:
    """Run `project` to its end, sampling the histories of its instances (and `also`, made from the run id)
    every SAMPLE_S and once after."""
    run_id = start_run(twin, project)
    tables = HubTables(twin, run_id)
    samplers: list[Sampler] = [tables, *(make(run_id) for make in also)]
    done = threading.Event()
    failures: list[BaseException] = []

    def sample_until_done() -> None:
        try:
            while not done.wait(SAMPLE_S):
                for sampler in samplers:
                    sampler.sample()
        except Exception as failure:  # raised again by the test's thread below
            failures.append(failure)

    thread = threading.Thread(target=sample_until_done, daemon=True)
    thread.start()
    try:
        run = follow(twin, run_id)
    finally:
        done.set()
        thread.join()
    if failures:
        raise failures[0]
    tables.sample()
    return Watched(run, tables, samplers[1:])


def status_of(twin: LocalTwin, instance_id: str) -> dict[str, Any] | None:
    """An instance's status from the Durable management endpoint, or None while it does not exist."""
    answer = requests.get(f"{twin.url}/runtime/webhooks/durabletask/instances/{instance_id}",
                          params={"code": twin.host.system_key}, timeout=10)
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    return answer.json()


def wait_for(what: str, condition: Callable[[], bool], timeout_s: float = 120, every_s: float = 0.02) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting for {what} after {timeout_s} s")
        time.sleep(every_s)


def count_in(twin: LocalTwin, system: str, entity_set: str) -> int:
    answer = requests.get(f"{twin.systems[system].url}/_sandbox/records/{entity_set}/$count", timeout=10)
    answer.raise_for_status()
    return int(answer.json()["count"])


def slow_writes(twin: LocalTwin, system: str, record_cost_ms: float) -> None:
    requests.post(f"{twin.systems[system].url}/_sandbox/config", json={"record_cost_ms": record_cost_ms},
                  timeout=10).raise_for_status()


def executions(log: str, function: str) -> int:
    return log.count(f"Executing 'Functions.{function}'")


# the project and its records


def contact(n: int) -> dict[str, Any]:
    """A Sales contact whose id sorts in `n` order."""
    return {"contactid": f"00000000-0000-0000-0001-{n:012d}", "msdyn_contactpersonid": f"CP-{n:05d}",
            "firstname": f"First{n}", "lastname": f"Last{n}"}


def contacts_task() -> dict[str, Any]:
    return {
        "name": "Contacts",
        "source": {"entity": "contacts", "key": ["msdyn_contactpersonid"]},
        "cds": {"entity": "contacts", "key": ["msdyn_contactpersonid"]},
        "destination": {"entity": "ContactPersonsV2", "key": ["dataAreaId", "ContactPersonId"]},
        "sourceToCds": [{"source": name, "target": name} for name in ("msdyn_contactpersonid", "firstname", "lastname")],
        "cdsToDestination": [{"source": "msdyn_contactpersonid", "target": "ContactPersonId"},
                             {"source": "firstname", "target": "FirstName"},
                             {"source": "lastname", "target": "LastName"}],
    }


def two_task_project(name: str) -> dict[str, Any]:
    project = accounts_project(name)
    project["tasks"].append(contacts_task())
    return project


DUPLICATES: dict[str, list[tuple[int, str]]] = {
    # key: (position in source order, modifiedon) of each record that has it
    "A-90001": [(3, "2024-06-01T00:00:00Z"), (77, "2024-01-01T00:00:00Z"), (201, "2023-05-01T00:00:00Z")],
    "A-90002": [(12, "2023-03-01T00:00:00Z"), (100, "2023-04-01T00:00:00Z"), (233, "2024-02-02T00:00:00Z")],
    "A-90003": [(40, "2023-02-01T00:00:00Z"), (130, "2025-01-01T08:30:00Z"), (170, "2023-02-01T00:00:00Z")],
    "A-90004": [(20, "2023-09-09T00:00:00Z"), (55, "2024-03-03T10:00:00Z"), (190, "2024-03-03T10:00:00Z")],
    "A-90005": [(8, "2025-05-05T00:00:00Z"), (61, "2023-07-07T00:00:00Z"), (150, "2023-07-07T00:00:00Z")],
    "A-90006": [(90, "2024-04-04T00:00:00Z"), (91, "2024-04-03T23:59:59Z")],
    "A-90007": [(115, "2024-12-12T00:00:00Z"), (222, "2024-12-11T00:00:00Z"), (35, "2024-12-12T00:00:00Z")],
    "A-90008": [(69, "2023-08-08T00:00:00Z"), (180, "2023-08-08T00:00:00Z")],
}
"""Keys spread over extract steps (30 records each) and windows (20), two copies once in one page: the
newest read first, last, in the middle; three keys tie for newest (the one read later wins), and
one tied pair loses to a newer third."""
SPELLINGS = ("{}", " {}", "{} ", " {} ", "  {}", "{}  ")
"""How the records of one key spell it: Dataverse matches keys trimmed and case-insensitively."""


def accounts_with_duplicates(count: int) -> list[dict[str, Any]]:
    """`count` Sales accounts in source order, some sharing the keys of DUPLICATES spelled differently."""
    records = [account(n) for n in range(count)]
    for key, copies in DUPLICATES.items():
        for copy, (position, modified) in enumerate(copies):
            spelled = SPELLINGS[copy].format(key if copy % 2 == 0 else key.lower())
            records[position].update(accountnumber=spelled, modifiedon=modified, name=f"{key} copy {copy}")
    return records


@dataclass(frozen=True)
class Resolution:
    """What one resolution over the whole leg writes: each key's winner, and why each other record lost."""

    winners: dict[str, dict[str, Any]]
    losers: dict[int, str]
    """Each superseded record's position in source order, and NEWER or LATER."""
    reasons: dict[str, int]


def resolve_by_rule(records: list[dict[str, Any]]) -> Resolution:
    """The most recently modified record of each key wins; of equally recent ones, the one read later."""
    by_key: dict[str, list[tuple[datetime, int, dict[str, Any]]]] = {}
    for position, record in enumerate(records):
        moment = datetime.fromisoformat(record["modifiedon"].replace("Z", "+00:00"))
        by_key.setdefault(record["accountnumber"].strip().casefold(), []).append((moment, position, record))
    winners: dict[str, dict[str, Any]] = {}
    losers: dict[int, str] = {}
    for key, offered in by_key.items():
        won = max(offered, key=lambda entry: entry[:2])
        winners[key] = won[2]
        losers.update({position: NEWER if won[0] > moment else LATER
                       for moment, position, _ in offered if position != won[1]})
    reasons = Counter(SKIP_REASONS[why] for why in losers.values())
    return Resolution(winners, losers, dict(reasons))


def assert_resolved(twin: LocalTwin, run: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """The run wrote each key's winner exactly once to CDS and to F&O, and counted every loser."""
    expected = resolve_by_rule(records)
    assert run["runtimeStatus"] == "Succeeded", run
    assert_balanced(run)
    to_cds, to_ops = run["tasks"][0]["legs"]
    losers = len(records) - len(expected.winners)
    assert (to_cds["read"], to_cds["written"], to_cds["skipped"], to_cds["failed"]) == (
        len(records), len(expected.winners), losers, 0)
    assert to_cds["skippedReasons"] == expected.reasons
    assert (to_ops["read"], to_ops["written"], to_ops["skipped"], to_ops["failed"]) == (
        len(expected.winners), len(expected.winners), 0, 0)

    cds = twin.records("cds", "accounts")
    assert len(cds) == len(expected.winners)
    held = {r["accountnumber"].strip().casefold(): r for r in cds}
    assert set(held) == set(expected.winners)
    for key, winner in expected.winners.items():
        assert (held[key]["accountnumber"], held[key]["name"]) == (winner["accountnumber"], winner["name"]), key

    ops = twin.records("operations", "CustomersV3")
    assert len(ops) == len(expected.winners)
    names = {r["CustomerAccount"].strip().casefold(): r["OrganizationName"] for r in ops}
    assert names == {key: winner["name"] for key, winner in expected.winners.items()}


# the tests


def test_a_split_leg_keeps_task_and_leg_order_exact_counts_and_a_bounded_history(clean: LocalTwin) -> None:
    twin = clean
    size = 240
    seed(twin, "sales", "accounts", [account(n) for n in range(size)])
    seed(twin, "sales", "contacts", [contact(n) for n in range(size)])
    create_project(twin, two_task_project("bounded-e2e"))

    small = watch(twin, "bounded-e2e")

    run = small.run
    assert run["runtimeStatus"] == "Succeeded", run
    assert_balanced(run)
    for task in run["tasks"]:
        assert [(leg["read"], leg["written"], leg["skipped"], leg["failed"]) for leg in task["legs"]] == [
            (size, size, 0, 0), (size, size, 0, 0)], task
    expected_accounts = {f"A-{n:05d}" for n in range(size)}
    expected_contacts = {f"CP-{n:05d}" for n in range(size)}
    cds_accounts = twin.records("cds", "accounts")
    cds_contacts = twin.records("cds", "contacts")
    assert sorted(r["accountnumber"] for r in cds_accounts) == sorted(expected_accounts)
    assert sorted(r["msdyn_contactpersonid"] for r in cds_contacts) == sorted(expected_contacts)
    assert sorted(r["CustomerAccount"] for r in twin.records("operations", "CustomersV3")) == sorted(expected_accounts)
    people = twin.records("operations", "ContactPersonsV2")
    assert sorted(r["ContactPersonId"] for r in people) == sorted(expected_contacts)
    assert all(r["dataAreaId"] == "usmf" for r in people)

    # CDS numbers its writes: every contact (task 2) was written after every account (task 1)
    assert max(r["versionnumber"] for r in cds_accounts) < min(r["versionnumber"] for r in cds_contacts)

    instances = small.tables.instances()
    task_ids = sorted(i for i, row in instances.items() if row["Name"] == "sync_task")
    assert len(task_ids) == 2
    legs = [[f"{task}-leg{n}" for n in range(2)] for task in task_ids]
    windows = {leg: sorted((row for i, row in instances.items() if i.startswith(f"{leg}-pages")),
                           key=lambda row: row["InstanceId"]) for task in legs for leg in task}
    pages = size // PAGE_SIZE
    for leg, found in windows.items():
        assert instances[leg]["RuntimeStatus"] == "Completed"
        assert instances[leg]["Generation"] >= 2, f"{leg} ran in one generation"
        assert len(found) == math.ceil(pages / PAGES_PER_WINDOW), leg
        assert [row["InstanceId"] for row in found] == [
            f"{leg}-pages{first:07d}" for first in range(1, pages + 1, PAGES_PER_WINDOW)]
    # writes happen only in windows: each leg's first window began after the leg before it loaded its last page
    ordered = [leg for task in legs for leg in task]
    for before, after in itertools.pairwise(ordered):
        assert max(r["LastUpdatedTime"] for r in windows[before]) <= min(r["CreatedTime"] for r in windows[after])
        assert instances[before]["LastUpdatedTime"] <= min(r["CreatedTime"] for r in windows[after])

    # three times the records: more windows and generations, the same largest history
    seed(twin, "sales", "accounts", [account(n) for n in range(size, 3 * size)])
    seed(twin, "sales", "contacts", [contact(n) for n in range(size, 3 * size)])
    large = watch(twin, "bounded-e2e")
    assert large.run["runtimeStatus"] == "Succeeded", large.run
    for task in large.run["tasks"]:
        assert [leg["written"] for leg in task["legs"]] == [3 * size, 3 * size]
    large_windows = [i for i, row in large.tables.instances().items() if row["Name"] == "load_pages"]
    assert len(large_windows) == 4 * math.ceil(3 * pages / PAGES_PER_WINDOW)
    assert len(large.tables.largest) > len(small.tables.largest)
    # a sample may fall between a generation's last two episodes: allow for that, not for growth
    assert abs(large.largest_history - small.largest_history) <= 4, (small.tables.largest, large.tables.largest)


def test_duplicates_across_buckets_and_windows_resolve_as_one_pass_over_the_leg(clean: LocalTwin) -> None:
    twin = clean
    records = accounts_with_duplicates(240)
    seed(twin, "sales", "accounts", records)
    create_project(twin, accounts_project("duplicates-e2e"))

    watched = watch(twin, "duplicates-e2e", lambda run_id: SupersededRecords(twin, run_id, "Accounts", "sourceToCds"))

    # the seeded keys lose 11 records to newer ones and 3 to equally recent ones read later
    expected = resolve_by_rule(records)
    assert expected.reasons == {SKIP_REASONS[NEWER]: 11, SKIP_REASONS[LATER]: 3}
    assert_resolved(twin, watched.run, records)
    # the buckets, each resolved on its own, found exactly the losers of one pass over the leg, for the same reasons
    (superseded,) = watched.samplers
    assert isinstance(superseded, SupersededRecords)
    assert superseded.positions() == expected.losers
    assert len(superseded.buckets()) >= 2, superseded.buckets()
    instances = watched.tables.instances()
    leg = next(i for i in instances if i.endswith("-task000-leg0"))
    assert instances[leg]["Generation"] >= 2
    assert sum(1 for i in instances if i.startswith(f"{leg}-pages")) == len(records) // PAGE_SIZE // PAGES_PER_WINDOW


def test_a_host_killed_while_buckets_resolve_loses_and_doubles_nothing(clean: LocalTwin) -> None:
    twin = clean
    records = accounts_with_duplicates(300)
    seed(twin, "sales", "accounts", records)
    create_project(twin, accounts_project("kill-resolve-e2e"))
    run_id = start_run(twin, "kill-resolve-e2e")
    leg = f"{run_id}-task000-leg0"

    def resolving() -> bool:
        status = status_of(twin, leg)
        return status is not None and (status["customStatus"] or {}).get("stage") == "resolve"

    wait_for("the first leg to resolve its buckets", resolving, every_s=0.01)
    twin.restart_devhost(kill=True)
    run = follow(twin, run_id)

    assert_resolved(twin, run, records)
    # after the restart the first leg read nothing again (only the second leg's extract steps ran),
    # and there were more resolve steps than the second leg's one per bucket: the first leg still
    # had buckets to resolve when devhost died
    logs = twin.host.logs()
    assert executions(logs, "extract_chunk") == math.ceil(len(resolve_by_rule(records).winners) / READ)
    assert executions(logs, "resolve_bucket") > KEY_BUCKETS


def test_a_host_killed_during_the_second_chunk_of_loads_loses_and_doubles_nothing(clean: LocalTwin) -> None:
    twin = clean
    records = accounts_with_duplicates(300)
    seed(twin, "sales", "accounts", records)
    create_project(twin, accounts_project("kill-load-e2e"))
    winners = len(resolve_by_rule(records).winners)
    slow_writes(twin, "cds", 40)
    run_id = start_run(twin, "kill-load-e2e")

    wait_for("a second chunk of loads", lambda: count_in(twin, "cds", "accounts") > FIRST_LOAD_CHUNK)
    held = count_in(twin, "cds", "accounts")
    twin.restart_devhost(kill=True)
    assert FIRST_LOAD_CHUNK < held < winners
    slow_writes(twin, "cds", 0)
    run = follow(twin, run_id)

    assert_resolved(twin, run, records)
    # the restarted host loaded the second leg's pages and those of the first it had not written
    assert executions(twin.host.logs(), "load_page") >= math.ceil(winners / PAGE_SIZE) + math.ceil(
        (winners - held) / PAGE_SIZE)
