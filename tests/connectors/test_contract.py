"""The contract every connector keeps, run against each system over real HTTP (or real blobs)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from sandbox.process import start_sandbox
from shared.auth import StaticToken
from shared.connectors import build_connector
from shared.connectors.base import ReadRequest
from shared.connectors.blobfiles import BlobFilesConnector
from shared.errors import AuthenticationError, InvalidInput
from shared.models import Connection
from shared.store import Store
from tests.connectors.harness import Harness, blob_files, dataverse, finops

AWKWARD = ["O'Brien", "a/b", "x#y", "100%", "a+b", "Ünïcødé-✓", "q?x", "back\\slash", "a:b&c*d<e>"]


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[dict[str, str]]:
    with start_sandbox("dataverse") as dv, start_sandbox("finops", companies=["usmf", "usrt"]) as fo:
        yield {"dataverse": dv.url, "finops": fo.url}


@pytest.fixture(params=["dataverse", "finops", "blob"])
def system(request, sandboxes, storage) -> Iterator[Harness]:
    if request.param == "blob":
        with Store(storage) as store:
            container = f"files-{storage.table_prefix.lower()}"
            store._clients._blob_service().create_container(container)
            files = store.files(container)
            yield blob_files(files, BlobFilesConnector(files))
        return
    url = sandboxes[request.param]
    requests.post(f"{url}/_sandbox/reset", timeout=10).raise_for_status()
    requests.post(f"{url}/_sandbox/config", json={"requests_per_window": 0, "fault_rate": 0, "throttle_rate": 0},
                  timeout=10).raise_for_status()
    yield dataverse(url) if request.param == "dataverse" else finops(url)


def read_all(system: Harness, **request) -> list:
    connector = system.connect(None)
    return list(connector.read_pages(ReadRequest(entity=system.entity, **request)))


def write(system: Harness, records: list[dict], connector=None) -> list:
    connector = connector or system.connect(None)
    return connector.write_batch(system.write_entity or system.entity, system.key, records)


def test_full_read_equals_the_data_set_across_many_pages(system: Harness) -> None:
    records = [system.record(f"K-{n:05d}", n) for n in range(1_234)]
    system.seed(records)
    pages = read_all(system, page_size=200)
    assert len(pages) >= 7
    assert sorted(system.key_of(r) for p in pages for r in p.records) == sorted(system.key_of(r) for r in records)
    assert pages[-1].state is not None
    assert all(p.next for p in pages[:-1]) and pages[-1].next is None


def test_a_read_resumes_from_a_page_it_handed_out(system: Harness) -> None:
    system.seed([system.record(f"K-{n:05d}", n) for n in range(500)])
    first = read_all(system, page_size=100)
    connector = system.connect(None)
    resumed = list(connector.read_pages(
        ReadRequest(entity=system.entity, page_size=100, resume=first[1].next)
    ))
    assert [system.key_of(r) for p in resumed for r in p.records] == [
        system.key_of(r) for p in first[2:] for r in p.records
    ]


def test_incremental_read_returns_exactly_the_changes(system: Harness) -> None:
    records = [system.record(f"K-{n:05d}", n) for n in range(300)]
    system.seed(records)
    state = read_all(system, page_size=100)[-1].state
    for record in records[10:13]:
        system.change(record)
    deleted = []
    if system.delete is not None:
        system.delete(records[20])
        deleted = [records[20]]
    pages = read_all(system, page_size=100, incremental=True, state=state)
    changed = sorted(system.key_of(r) for p in pages for r in p.records)
    assert changed == sorted(system.key_of(r) for r in records[10:13])
    assert sum(len(p.deleted) for p in pages) == len(deleted)
    assert pages[-1].state is not None


def test_writing_the_same_batch_twice_changes_nothing_the_second_time(system: Harness) -> None:
    batch = [system.record(f"W-{n:04d}", n) for n in range(120)]
    assert all(r.ok for r in write(system, batch))
    first = sorted((system.business(r) for r in system.dump()), key=str)
    assert all(r.ok for r in write(system, batch))
    second = sorted((system.business(r) for r in system.dump()), key=str)
    assert first == second
    assert len([r for r in second if str(r.get(system.key[-1], "")).startswith("W-")]) == 120


def test_one_bad_record_in_a_bulk_write_fails_alone_with_the_service_code(system: Harness) -> None:
    if system.bad is None:
        pytest.skip("files take any record")
    batch = [system.record(f"B-{n:04d}", n) for n in range(30)]
    batch[7] = system.bad(batch[7])
    results = write(system, batch)
    assert [n for n, r in enumerate(results) if not r.ok] == [7]
    assert results[7].code and results[7].message
    assert results[7].field == ("name" if system.kind == "dataverse" else "OrganizationName")
    assert "length" in results[7].message.lower() or "long" in results[7].message.lower()
    stored = {system.key_of(r) for r in system.dump()}
    assert {system.key_of(r) for n, r in enumerate(batch) if n != 7} <= stored
    assert system.key_of(batch[7]) not in stored


def test_awkward_keys_round_trip_or_fail_clearly(system: Harness) -> None:
    batch = [system.record(key, n) for n, key in enumerate(AWKWARD)]
    results = write(system, batch)
    assert all(r.ok for r in results), results
    stored = {system.key_of(r) for r in system.dump()}
    assert set(AWKWARD) <= stored
    again = write(system, batch)
    for key, result in zip(AWKWARD, again, strict=True):
        if not result.ok:
            assert system.kind == "finops", (key, result)
            assert result.code == "UnaddressableKey" and "cannot be updated" in result.message
            assert any(c in result.message for c in "/#%+?\\&")
    assert [r.ok for r in again].count(True) >= 2
    assert sorted(system.key_of(r) for r in system.dump() if system.key_of(r) in AWKWARD) == sorted(AWKWARD)


def test_a_throttling_storm_slows_the_writes_but_every_record_lands_once(system: Harness) -> None:
    if system.admin is None:
        pytest.skip("blob storage is not throttled here")
    system.knobs(throttle_rate=0.3)
    connector = system.connect(None)
    if hasattr(connector, "bulk_size"):
        connector.bulk_size = 20
    if hasattr(connector, "batch_size"):
        connector.batch_size = 20
    chunks = [[system.record(f"S-{t}-{n:03d}", n) for n in range(60)] for t in range(4)]
    results: list = []
    threads = [threading.Thread(target=lambda c=c: results.extend(write(system, c, connector))) for c in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    system.knobs(throttle_rate=0)
    assert len(results) == 240 and all(r.ok for r in results)
    keys = [system.key_of(r) for r in system.dump() if system.key_of(r).startswith("S-")]
    assert len(keys) == len(set(keys)) == 240
    assert system.stats()["throttled"] > 0


def test_a_wrong_token_is_a_clear_authentication_error_without_retries(system: Harness) -> None:
    if system.admin is None:
        pytest.skip("blob files use the app's own storage credentials")
    with start_sandbox(system.kind, token="right-token") as guarded:
        harness = dataverse(guarded.url) if system.kind == "dataverse" else finops(guarded.url)
        connector = harness.connect(StaticToken("wrong-token"))
        with pytest.raises(AuthenticationError, match="401"):
            list(connector.read_pages(ReadRequest(entity=harness.entity)))
        assert requests.get(f"{guarded.url}/_sandbox/stats", timeout=10).json()["requests"] <= 2
        good = harness.connect(StaticToken("right-token"))
        assert list(good.read_pages(ReadRequest(entity=harness.entity)))


def keys_of(system: Harness, records: list[dict]) -> list[list]:
    return [[record[k] for k in system.key] for record in records]


def test_a_read_by_keys_answers_each_key_in_order_with_the_record_as_it_is_now(system: Harness) -> None:
    records = [system.record(key, n) for n, key in enumerate([*AWKWARD, *(f"R-{n:04d}" for n in range(111))])]
    system.seed(records)
    system.change(records[-1])
    asked = [records[-1], *records[:-1], system.record("nobody", 0)]
    found = system.connect(None).read_by_keys(system.entity, system.key, keys_of(system, asked))
    assert found[-1] is None
    assert [system.key_of(record) for record in found[:-1]] == [system.key_of(record) for record in asked[:-1]]
    assert any(str(value).endswith(" changed") for value in found[0].values())
    assert system.connect(None).read_by_keys(system.entity, system.key, []) == []


def test_a_read_by_keys_compares_keys_as_the_system_does(system: Harness) -> None:
    record = system.record("Mixed-Case-1", 1)
    system.seed([record])
    key = keys_of(system, [record])[0]
    folded = [*key[:-1], key[-1].lower()]
    again = system.connect(None).read_by_keys(system.entity, system.key, [folded, key], select=system.key)
    assert again[1] is not None and system.key_of(again[1]) == "Mixed-Case-1"
    assert (again[0] is not None) is system.folds_case


def test_a_scope_confines_reads_and_fixes_what_every_record_writes(system: Harness) -> None:
    connector = system.connect(None)
    if system.company is None:
        assert connector.scoped("USMF") is connector and dict(connector.fixed_values) == {}
        assert type(connector).scope_problem(None) is None and connector.takes_chosen_ids
        return
    assert dict(connector.fixed_values) == {"dataAreaId": system.company}
    assert type(connector).scope_problem(None) and type(connector).scope_problem("USMF") is None
    assert not connector.takes_chosen_ids
    here, there = system.record("Both-1", 1), {**system.record("Both-1", 2), "dataAreaId": "usrt"}
    system.seed([here, there])
    other = connector.scoped("USRT")
    assert dict(other.fixed_values) == {"dataAreaId": "usrt"} and other.http is connector.http
    for scoped, company in ((connector, system.company), (other, "usrt")):
        read = [r for page in scoped.read_pages(ReadRequest(entity=system.entity)) for r in page.records]
        assert {r["dataAreaId"] for r in read} == {company}
        found = scoped.read_by_keys(system.entity, system.key, keys_of(system, [here, there]))
        expected = [r["dataAreaId"] if r["dataAreaId"] == company else None for r in (here, there)]
        assert [r["dataAreaId"] if r is not None else None for r in found] == expected
    with pytest.raises(InvalidInput, match="companyCode"):
        list(build_connector(Connection.model_validate(
            {"kind": system.kind, "url": system.admin, "auth": {"type": "none"}})).read_pages(
            ReadRequest(entity=system.entity)))


def delete(system: Harness, records: list[dict]) -> list:
    return system.connect(None).delete_by_keys(system.write_entity or system.entity, system.key, keys_of(system, records))


def test_a_delete_by_keys_removes_each_record_and_a_missing_key_is_deleted_already(system: Harness) -> None:
    kept = [system.record(f"D-keep-{n}", n) for n in range(3)]
    doomed = [system.record(key, n) for n, key in enumerate([*AWKWARD, "Mixed-Case-2"])]
    system.seed([*kept, *doomed])
    asked = [*doomed[:-1], system.record("mixed-case-2", 0), system.record("nobody", 0)]
    results = delete(system, asked)
    if system.kind == "blob":
        assert [(r.status, r.code) for r in results] == [("failed", "DeleteUnsupported")] * len(asked)
        return
    refused = [key for key, r in zip([*AWKWARD, "Mixed-Case-2", "nobody"], results, strict=True) if not r.ok]
    if system.kind == "finops":
        assert refused and all(any(c in key for c in "/#%+?\\&:*<>") for key in refused)
        assert all(r.code == "UnaddressableKey" and "cannot be deleted" in r.message for r in results if not r.ok)
    else:
        assert refused == []
    assert all(r.status == "deleted" for r in results if r.ok)
    stored = {system.key_of(r) for r in system.dump()}
    assert stored == {system.key_of(r) for r in kept} | set(refused)
    assert all(r.status == "deleted" for r in delete(system, [r for r in asked if system.key_of(r) not in refused]))


def test_a_delete_of_many_keys_goes_in_batches_and_answers_every_key_in_order(system: Harness) -> None:
    if system.kind == "blob":
        pytest.skip("files refuse deletes (above)")
    records = [system.record(f"M-{n:05d}", n) for n in range(1_300)]
    system.seed(records)
    asked = [*records[:1_200:2], system.record("nobody", 0), *records[1:1_200:2]]
    before = system.stats()["requests"]
    results = delete(system, asked)
    assert len(results) == len(asked) and all(r.status == "deleted" for r in results)
    assert sorted(system.key_of(r) for r in system.dump()) == [system.key_of(r) for r in records[1_200:]]
    assert system.stats()["requests"] - before <= 40
