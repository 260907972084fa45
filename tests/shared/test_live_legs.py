"""A run's legs while they go: read from the custom statuses of the run's task orchestrations."""

from __future__ import annotations

from orchestrators.progress import leg_progress
from shared.runs import live_legs

RUN = "r20261130120000abcdef12"
COUNTS = {"read": 40, "written": 30, "skipped": 6, "failed": 4}


def test_the_legs_of_unfinished_tasks_show_their_counts_so_far() -> None:
    statuses = [
        (f"{RUN}-task000", None),  # sync_task sets no status
        (f"{RUN}-task000-leg0", leg_progress("Products", "sourceToCds", "done", COUNTS)),  # a finished task's
        (f"{RUN}-task001-leg1", leg_progress("Accounts", "cdsToDestination", "extract", dict.fromkeys(COUNTS, 0))),
        (f"{RUN}-task001-leg0", leg_progress("Accounts", "sourceToCds", "load", COUNTS, pages=3)),
        (f"{RUN}-task001-leg0-window001", {"unrelated": True}),
        ("r2026other-task001-leg0", leg_progress("Other run", "sourceToCds", "load", COUNTS)),
    ]
    assert live_legs(RUN, statuses, finished=1) == [
        {"task": "Accounts", "leg": "sourceToCds", "stage": "load", **COUNTS},
        {"task": "Accounts", "leg": "cdsToDestination", "stage": "extract", **dict.fromkeys(COUNTS, 0)},
    ]


def test_a_two_way_task_shows_both_directions() -> None:
    status = {"task": "Accounts", "stage": "merge", "legs": [
        leg_progress("Accounts", "sourceToCds", "merge", COUNTS),
        leg_progress("Accounts", "cdsToSource", "merge", {**COUNTS, "read": 7})]}
    found = live_legs(RUN, [(f"{RUN}-task000-twoway", status)], finished=0)
    assert [(leg["leg"], leg["read"]) for leg in found] == [("sourceToCds", 40), ("cdsToSource", 7)]
