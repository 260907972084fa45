"""The outcome rules: a leg's status from its counts, a task's from its legs and its error, a run's from its tasks;
and the JSON they build is what the run record stores."""

from __future__ import annotations

import pytest

from shared.models import RunStatus, TaskOutcome
from shared.outcomes import (
    MAX_MESSAGE,
    TWO_WAY_COUNTS,
    add_two_way,
    leg_outcome,
    leg_status,
    run_status,
    task_outcome,
    two_way_leg_outcome,
)


def leg(name: str = "sourceToCds", read: int = 3, written: int = 3, skipped: int = 0, failed: int = 0) -> dict:
    return leg_outcome(name, {"read": read, "written": written, "skipped": skipped, "failed": failed}, {}, 0, 0)


def test_filtered_records_count_as_read_and_skipped_with_their_reason() -> None:
    outcome = leg_outcome("sourceToCds", {"read": 5, "written": 3, "skipped": 2, "failed": 0},
                          {"unchanged": 1, "filtered": 1}, 4, 2)
    assert outcome == {"read": 9, "written": 3, "skipped": 6, "failed": 0, "leg": "sourceToCds",
                       "skippedReasons": {"unchanged": 1, "filtered": 5}, "deletedInSource": 2}


@pytest.mark.parametrize(("written", "failed", "status"), [
    (3, 0, RunStatus.SUCCEEDED), (0, 0, RunStatus.SUCCEEDED), (2, 1, RunStatus.WARNING), (0, 3, RunStatus.FAILED),
])
def test_a_legs_status_follows_its_failed_and_written_records(written: int, failed: int, status: RunStatus) -> None:
    assert leg_status(leg(read=written + failed, written=written, failed=failed)) is status


def test_a_task_sums_its_legs_and_takes_the_worst_status() -> None:
    outcome = task_outcome("Accounts", [leg(), leg("cdsToDestination", written=2, failed=1)])
    assert {k: outcome[k] for k in ("read", "written", "skipped", "failed", "status", "message")} == {
        "read": 6, "written": 5, "skipped": 0, "failed": 1, "status": "Warning", "message": None}
    assert task_outcome("Accounts", [leg(), leg(written=0, failed=3)])["status"] == "Failed"
    assert task_outcome("Accounts", [leg()])["status"] == "Succeeded"


def test_a_task_error_fails_the_task_whatever_the_counts_and_its_message_is_bounded() -> None:
    outcome = task_outcome("Accounts", [leg()], "x" * (MAX_MESSAGE + 10))
    assert outcome["status"] == "Failed" and outcome["message"] == "x" * MAX_MESSAGE
    assert task_outcome("Accounts", [], "sourceToCds: the source refused the read")["read"] == 0


def test_the_json_built_is_what_the_run_record_stores() -> None:
    outcome = task_outcome("Accounts", [leg(), leg("cdsToDestination", written=2, failed=1)])
    assert TaskOutcome.model_validate(outcome).model_dump(mode="json") == outcome


def test_a_run_fails_with_a_failed_task_a_task_missing_or_a_message_before_any_task() -> None:
    ok, warned = task_outcome("A", [leg()]), task_outcome("B", [leg(written=2, failed=1)])
    failed = task_outcome("C", [], "boom")
    assert run_status([ok, warned], 2) is RunStatus.WARNING
    assert run_status([ok, ok], 2) is RunStatus.SUCCEEDED
    assert run_status([ok, failed], 3) is RunStatus.FAILED
    assert run_status([ok], 2) is RunStatus.FAILED
    assert run_status([], 0, "the project failed its checks") is RunStatus.FAILED
    assert run_status([ok], 1, "the notification step failed") is RunStatus.SUCCEEDED


def test_a_two_way_task_counts_conflicts_and_deletes_per_leg_and_warns_while_conflicts_stay_open() -> None:
    to_cds, to_source = ({**dict.fromkeys(TWO_WAY_COUNTS, 0), "skippedReasons": {}} for _ in range(2))
    add_two_way(to_cds, {"read": 3, "written": 1, "skipped": 2, "failed": 0, "conflicts": 1, "deleted": 1,
                         "skippedReasons": {"conflict": 1, "in-sync": 1}})
    add_two_way(to_cds, {"read": 1, "written": 0, "skipped": 1, "failed": 0, "conflicts": 0, "deleted": 0,
                         "skippedReasons": {"in-sync": 1}})
    legs = [two_way_leg_outcome("sourceToCds", to_cds, 2), two_way_leg_outcome("cdsToSource", to_source, 0)]
    assert legs[0] == {"leg": "sourceToCds", "read": 4, "written": 1, "skipped": 3, "failed": 0, "conflicts": 1,
                       "deleted": 1, "deletedInSource": 2, "skippedReasons": {"conflict": 1, "in-sync": 2}}
    task = TaskOutcome.model_validate(task_outcome("Accounts", legs))
    assert task.status == RunStatus.WARNING and task.conflicts == 1
    settled = [two_way_leg_outcome(leg["leg"], {**leg, "conflicts": 0}, 0) for leg in legs]
    assert task_outcome("Accounts", settled)["status"] == RunStatus.SUCCEEDED
