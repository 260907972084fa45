"""Baselines of two-way tasks in Table Storage: keys of any shape round-trip, partitions stay apart, ids lead back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest

from shared.settings import StorageSettings
from shared.store.baselines import (
    PARTITIONS,
    BaselineRepository,
    bucket_of_identity,
    id_partition,
    partition_of,
    partitions_of_bucket,
)
from shared.store.clients import StorageClients
from shared.twoway.baseline import UNLINKED, Baseline
from shared.twoway.identity import identity_text
from shared.twoway.values import is_hash, same, stored
from tests.shared.store.awkward import AWKWARD
from tests.shared.store.resetting_proxy import resetting_proxy


@pytest.fixture
def baselines(storage: StorageSettings) -> Iterator[BaselineRepository]:
    clients = StorageClients(storage)
    yield BaselineRepository(clients.table("baselines"))
    clients.close()


def baseline(key: str, n: int = 0, **changes) -> Baseline:
    identity = identity_text([key.strip().casefold()])
    fields = {"identity": identity, "cds_key": {"accountnumber": key}, "source_key": {"accountnumber": key},
              "source": {"name": f"Name {n}", "revenue": n}, "cds": {"name": f"Name {n}", "revenue": n},
              "ids": {"source": f"s-{key}", "cds": f"c-{key}"}, "recent": "S", "run_id": "r1",
              "updated_at": "2026-11-30T10:00:00+00:00"}
    return Baseline(**{**fields, **changes})


def by_partition(baselines: list[Baseline]) -> dict[int, list[Baseline]]:
    grouped: dict[int, list[Baseline]] = {}
    for b in baselines:
        grouped.setdefault(partition_of(b.identity), []).append(b)
    return grouped


def test_baselines_of_awkward_and_long_keys_round_trip(baselines) -> None:
    keys = [*AWKWARD[:-4], "x" * 900, "表" * 300, 'a"b\'c/d#e?f\\g', "🚀 launch"]
    saved = [baseline(key, n) for n, key in enumerate(keys) if key.strip()]
    baselines.save_many("p", "Accounts", saved)
    for partition, group in by_partition(saved).items():
        found = baselines.get_many("p", "Accounts", partition, [b.identity for b in group] + ['["nobody"]'])
        assert found == {b.identity: b for b in group}
        assert sorted(baselines.read_bucket("p", "Accounts", partition), key=lambda b: b.identity) == sorted(
            group, key=lambda b: b.identity)
    assert baselines.get_many("p", "Other task", partition_of(saved[0].identity), [saved[0].identity]) == {}
    assert baselines.get_all("p", "Accounts", [b.identity for b in saved] + ['["nobody"]']) == {
        b.identity: b for b in saved}


def test_a_crowded_partition_saves_in_several_transactions_and_reads_by_one_query(baselines, monkeypatch) -> None:
    crowded = [b for b in (baseline(f"ACC-{n:06d}", n) for n in range(60_000)) if partition_of(b.identity) == 7]
    assert len(crowded) > 200  # two transactions and more
    baselines.save_many("p", "T", crowded)
    wanted = [b.identity for b in crowded[::2]]
    assert baselines.get_many("p", "T", 7, wanted) == {b.identity: b for b in crowded[::2]}
    other = next(b for b in (baseline(f"X-{n}") for n in range(50)) if partition_of(b.identity) != 7)
    baselines.save_many("p", "T", [other])  # read by a point read, beside the crowded partition's query
    assert baselines.get_all("p", "T", [*wanted, other.identity]) == {
        **{b.identity: b for b in crowded[::2]}, other.identity: other}
    monkeypatch.setattr("shared.store.baselines.POINT_READS", 1_000)
    assert baselines.get_many("p", "T", 7, wanted[:50]) == {b.identity: b for b in crowded[:100:2]}
    assert sum(1 for _ in baselines.read_bucket("p", "T", 7)) == len(crowded)


def test_ids_lead_back_to_their_pair_and_follow_changes_and_deletes(baselines) -> None:
    first = baseline("A/1")
    baselines.save_many("p", "T", [first])
    assert baselines.identities_of_ids("p", "T", "cds", ["c-A/1", "c-none"]) == {"c-A/1": first.identity}
    moved = baseline("A/1", 2, ids={"source": "s-A/1", "cds": "c-new"}, state=UNLINKED, recent="SC")
    baselines.save_many("p", "T", [moved], replaced={first.identity: first})
    assert baselines.identities_of_ids("p", "T", "cds", ["c-A/1", "c-new"]) == {"c-new": first.identity}
    baselines.delete_many("p", "T", [moved, moved])
    assert baselines.get_many("p", "T", partition_of(first.identity), [first.identity]) == {}
    assert baselines.identities_of_ids("p", "T", "source", ["s-A/1"]) == {}
    baselines.delete_many("p", "T", [moved])  # already gone: no error


def test_id_index_rows_spread_over_partitions_by_a_hash_of_the_id(baselines, storage) -> None:
    """A side's ids are not one partition's rows: Table Storage serves one partition about 2,000 entities a second."""
    saved = [baseline(f"ACC-{n:04d}") for n in range(600)]
    baselines.save_many("p", "Spread", saved)
    clients = StorageClients(storage)
    rows = list(clients.table("baselines").query_entities(
        "PartitionKey ge @low and PartitionKey lt @high", parameters={"low": "p!Spread!ids-", "high": "p!Spread!idt"},
        select=["PartitionKey"]))
    clients.close()
    assert len(rows) == 1200
    assert len({row["PartitionKey"] for row in rows}) == len({(side, id_partition(b.ids[side])) for b in saved
                                                            for side in ("source", "cds")}) > PARTITIONS
    assert baselines.identities_of_ids("p", "Spread", "cds", [b.ids["cds"] for b in saved]) == {
        b.ids["cds"]: b.identity for b in saved}
    assert baselines.delete_task("p", "Spread") == 1800


def test_a_transaction_whose_connection_drops_before_its_answer_is_sent_again(storage) -> None:
    """The SDK sends a POST once; a baseline transaction (upserts and deletes) leaves the same rows sent twice."""
    table_port = int(re.search(r"TableEndpoint=http://127\.0\.0\.1:(\d+)/", storage.connection_string).group(1))
    with resetting_proxy(table_port, b"$batch") as proxy:
        proxied = replace(storage, connection_string=storage.connection_string.replace(
            f"127.0.0.1:{table_port}/", f"127.0.0.1:{proxy.port}/"))
        clients = StorageClients(proxied)
        saved = [baseline(f"R{n}", n) for n in range(3)]
        BaselineRepository(clients.table("baselines")).save_many("p", "Reset", saved)
        clients.close()
    assert proxy.resets == 1
    clients = StorageClients(storage)
    found = BaselineRepository(clients.table("baselines"))
    for b in saved:
        assert found.get_many("p", "Reset", partition_of(b.identity), [b.identity]) == {b.identity: b}
    clients.close()


def test_pairs_whose_write_failed_are_kept_for_a_retry_until_settled(baselines) -> None:
    keys = {"cdsKey": {"accountnumber": "A/1 ü"}, "sourceKey": {"accountnumber": "A/1 ü"}}
    baselines.keep_retries("p", "T", {'["a/1 ü"]': keys, '["b"]': keys}, [])
    assert baselines.retries("p", "T") == {'["a/1 ü"]': keys, '["b"]': keys}
    baselines.keep_retries("p", "T", {}, ['["b"]', '["never kept"]'])
    assert baselines.retries("p", "T") == {'["a/1 ü"]': keys}
    assert baselines.retries("p", "Other") == {}


def test_deleting_a_task_leaves_other_tasks_alone(baselines) -> None:
    baselines.save_many("p", "Gone", [baseline(f"K{n}") for n in range(20)])
    baselines.keep_retries("p", "Gone", {'["k1"]': {"cdsKey": {}, "sourceKey": {}}}, [])
    baselines.save_many("p", "Kept", [baseline("K1")])
    assert baselines.delete_task("p", "Gone") == 61  # a baseline and two index rows each, a retry
    kept = baseline("K1")
    assert baselines.get_many("p", "Kept", partition_of(kept.identity), [kept.identity]) == {
        kept.identity: kept}


def test_a_runs_buckets_cover_every_partition_once_whatever_their_number() -> None:
    for buckets in (1, 3, 16, 32, 100, 256):
        covered = [p for bucket in range(buckets) for p in partitions_of_bucket(bucket, buckets)]
        assert covered == list(range(PARTITIONS))
        identity = identity_text(["acc-1"])
        assert partition_of(identity) in partitions_of_bucket(bucket_of_identity(identity, buckets), buckets)


def test_a_wide_record_whose_values_outgrow_a_table_column_keeps_its_longest_values_as_hashes(baselines) -> None:
    wide = {f"field{n:02d}": ("ü" * 900) + str(n) for n in range(60)}  # ~54,000 characters, beyond 64 KiB
    kept = baseline("W-1", source={name: stored(value) for name, value in wide.items()},
                    cds={"name": stored("short")})
    baselines.save_many("p", "t", [kept])
    [read] = baselines.get_many("p", "t", partition_of(kept.identity), [kept.identity]).values()
    assert read.cds == {"name": "short"}
    assert any(is_hash(value) for value in read.source.values())
    assert all(same(value, read.source[name]) for name, value in wide.items())  # a change is still told
    assert not same(wide["field00"] + "!", read.source["field00"])
