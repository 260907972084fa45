"""Staged pages in real blobs: deterministic names, overwrite on rewrite, listed and deleted per run."""

from __future__ import annotations

import pytest

from shared.errors import NotFound
from shared.store import Store
from shared.store.staging import page_blob_name

RECORDS = [
    {"accountnumber": "A-001", "name": "Müller & Söhne GmbH", "emoji": "🚀", "nested": {"list": [1, 2.5, None, True]}},
    {"accountnumber": "A/002#?", "name": "“Quoted” 'name'\twith\ncontrol", "empty": ""},
    {"accountnumber": "A-003", "name": "line\u2028separator and next\x85line", "nul": "\x00"},
]


def test_blob_names_are_deterministic_and_encode_the_task() -> None:
    assert page_blob_name("run-1", "Accounts", "sourceToCds", 1) == "run-1/Accounts/sourceToCds/page-000001.jsonl.gz"
    assert (
        page_blob_name("run-1", "Kunden / Konten ✓", "cdsToDestination", 42)
        == "run-1/Kunden~20~2F~20Konten~20~E2~9C~93/cdsToDestination/page-000042.jsonl.gz"
    )
    assert page_blob_name("run-1", "..", "sourceToCds", 1) == "run-1/~2E~2E/sourceToCds/page-000001.jsonl.gz"
    assert page_blob_name("run-1", "Acc.", "sourceToCds", 1) == "run-1/Acc~2E/sourceToCds/page-000001.jsonl.gz"


LONGEST_TASKS = ["表" * 128, "🚀" * 128, "." * 128, 'a"/\\#?' * 21]


@pytest.mark.parametrize("task", LONGEST_TASKS)
def test_the_longest_task_names_give_blob_names_that_fit(task: str) -> None:
    name = page_blob_name("r" * 64, task, "cdsToDestination.keys", 999_999)
    assert len(name) <= 1024 and name.count("/") == 3
    assert not any(segment.endswith(".") for segment in name.split("/"))


@pytest.mark.parametrize("task", LONGEST_TASKS)
def test_pages_and_documents_of_the_longest_task_names_round_trip(store: Store, task: str) -> None:
    name = store.staging.write_page("run-1", task, "sourceToCds", 1, RECORDS)
    store.staging.write_page("run-1", task[:-1], "sourceToCds", 1, RECORDS[:1])
    assert store.staging.list_pages("run-1", task) == [name]
    assert store.staging.read_page(name) == RECORDS
    store.staging.write_document("run-1", f"duplicates {task} sourceToCds", {"1": [0]})
    assert store.staging.read_document("run-1", f"duplicates {task} sourceToCds") == {"1": [0]}


def test_write_then_read_round_trips_unicode_records(store: Store) -> None:
    name = store.staging.write_page("run-1", "Accounts", "sourceToCds", 1, RECORDS)
    assert name == page_blob_name("run-1", "Accounts", "sourceToCds", 1)
    assert store.staging.read_page(name) == RECORDS


def test_rewriting_a_page_replaces_it(store: Store) -> None:
    store.staging.write_page("run-1", "Accounts", "sourceToCds", 1, RECORDS)
    name = store.staging.write_page("run-1", "Accounts", "sourceToCds", 1, RECORDS[1:])
    assert store.staging.read_page(name) == RECORDS[1:]
    assert store.staging.list_pages("run-1") == [name]


def test_an_empty_page_reads_as_no_records(store: Store) -> None:
    name = store.staging.write_page("run-1", "Accounts", "sourceToCds", 1, [])
    assert store.staging.read_page(name) == []


def test_a_missing_page_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.staging.read_page(page_blob_name("run-1", "Accounts", "sourceToCds", 1))


def test_list_by_run_task_and_leg_with_awkward_task_names(store: Store) -> None:
    tasks = ["Accounts", "Kunden / Konten ✓", "..", "a#b?c"]
    written = {
        (task, leg, page): store.staging.write_page("run-1", task, leg, page, [{"page": page}])
        for task in tasks
        for leg in ("sourceToCds", "cdsToDestination")
        for page in (2, 1)
    }
    store.staging.write_page("run-10", "Accounts", "sourceToCds", 1, [{"other": "run"}])
    assert store.staging.list_pages("run-1") == sorted(written.values())
    for task in tasks:
        assert store.staging.list_pages("run-1", task) == sorted(n for (t, _, _), n in written.items() if t == task)
        assert store.staging.list_pages("run-1", task, "sourceToCds") == [
            written[(task, "sourceToCds", 1)],
            written[(task, "sourceToCds", 2)],
        ]
        assert store.staging.read_page(written[(task, "cdsToDestination", 2)]) == [{"page": 2}]


def test_delete_run_removes_its_pages_only(store: Store) -> None:
    for page in range(1, 4):
        store.staging.write_page("run-1", "Accounts", "sourceToCds", page, RECORDS)
    kept = store.staging.write_page("run-10", "Accounts", "sourceToCds", 1, RECORDS)
    assert store.staging.delete_run("run-1") == 3
    assert store.staging.list_pages("run-1") == []
    assert store.staging.list_pages("run-10") == [kept]
    assert store.staging.delete_run("run-1") == 0
