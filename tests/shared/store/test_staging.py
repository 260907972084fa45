"""Staged pages, run documents and error pages in real blobs: deterministic names, overwrite on rewrite,
listed and deleted per run."""

from __future__ import annotations

import pytest

from shared.errors import NotFound
from shared.store import Store
from shared.store.run_staging import PageState
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
    name = page_blob_name("r" * 64, task, "cdsToDestination", 999_999)
    assert len(name) <= 1024 and name.count("/") == 3
    assert not any(segment.endswith(".") for segment in name.split("/"))


@pytest.mark.parametrize("task", LONGEST_TASKS)
def test_pages_documents_and_error_pages_of_the_longest_task_names_round_trip(store: Store, task: str) -> None:
    staging = store.run_staging("run-1").leg(task, "sourceToCds")
    staging.write_page(1, RECORDS)
    store.run_staging("run-1").leg(task[:-1], "sourceToCds").write_page(1, RECORDS[:1])
    assert staging.read_page(1) == RECORDS
    assert list(staging.page_states()) == [1]
    store.staging.write_document("run-1", f"project {task}", {"1": [0]})
    assert store.staging.read_document("run-1", f"project {task}") == {"1": [0]}
    name = store.errors.write_page("run-1", task, "sourceToCds", 1, RECORDS)
    store.errors.write_page("run-1", task[:-1], "sourceToCds", 1, RECORDS[:1])
    assert store.errors.list_pages("run-1", task) == [name]
    assert store.errors.read_page(name) == RECORDS


def test_a_staged_page_round_trips_unicode_records_and_starts_extracted(store: Store) -> None:
    staging = store.run_staging("run-1").leg("Accounts", "sourceToCds")
    staging.write_page(1, RECORDS)
    assert staging.read_page(1) == RECORDS
    assert staging.page_states() == {1: {"state": PageState.EXTRACTED.value, "records": "3"}}


def test_rewriting_a_page_replaces_it_and_its_state(store: Store) -> None:
    staging = store.run_staging("run-1").leg("Accounts", "sourceToCds")
    staging.write_page(1, RECORDS)
    staging.mark_page(1, PageState.LOADED, {"written": 3})
    staging.write_page(1, RECORDS[1:])
    assert staging.read_page(1) == RECORDS[1:]
    assert staging.page_states() == {1: {"state": PageState.EXTRACTED.value, "records": "2"}}


def test_an_empty_page_reads_as_no_records(store: Store) -> None:
    staging = store.run_staging("run-1").leg("Accounts", "sourceToCds")
    staging.write_page(1, [])
    assert staging.read_page(1) == []


def test_a_missing_page_or_document_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.run_staging("run-1").leg("Accounts", "sourceToCds").read_page(1)
    with pytest.raises(NotFound):
        store.errors.read_page(page_blob_name("run-1", "Accounts", "sourceToCds", 1))
    with pytest.raises(NotFound):
        store.staging.read_document("run-1", "project")


def test_error_pages_list_by_run_task_and_leg_with_awkward_task_names(store: Store) -> None:
    tasks = ["Accounts", "Kunden / Konten ✓", "..", "a#b?c"]
    written = {
        (task, leg, page): store.errors.write_page("run-1", task, leg, page, [{"page": page}])
        for task in tasks
        for leg in ("sourceToCds", "cdsToDestination")
        for page in (2, 1)
    }
    store.errors.write_page("run-10", "Accounts", "sourceToCds", 1, [{"other": "run"}])
    assert store.errors.list_pages("run-1") == sorted(written.values())
    for task in tasks:
        assert store.errors.list_pages("run-1", task) == sorted(n for (t, _, _), n in written.items() if t == task)
        assert store.errors.list_pages("run-1", task, "sourceToCds") == [
            written[(task, "sourceToCds", 1)],
            written[(task, "sourceToCds", 2)],
        ]
        assert store.errors.read_page(written[(task, "cdsToDestination", 2)]) == [{"page": 2}]


def test_deleting_an_error_page_twice_is_harmless(store: Store) -> None:
    store.errors.write_page("run-1", "Accounts", "sourceToCds", 1, RECORDS)
    store.errors.delete_page("run-1", "Accounts", "sourceToCds", 1)
    store.errors.delete_page("run-1", "Accounts", "sourceToCds", 1)
    assert store.errors.list_pages("run-1") == []


def test_delete_run_removes_what_the_run_staged_only(store: Store) -> None:
    staging = store.run_staging("run-1").leg("Accounts", "sourceToCds")
    for page in range(1, 4):
        staging.write_page(page, RECORDS)
    store.staging.write_document("run-1", "project", {"name": "accounts"})
    kept = store.run_staging("run-10").leg("Accounts", "sourceToCds")
    kept.write_page(1, RECORDS)
    assert store.staging.delete_run("run-1") == 4
    assert staging.page_states() == {}
    assert list(kept.page_states()) == [1]
    assert store.staging.delete_run("run-1") == 0
    store.errors.write_page("run-1", "Accounts", "sourceToCds", 1, RECORDS)
    assert store.errors.delete_run("run-1") == 1
    assert store.errors.list_pages("run-1") == []
