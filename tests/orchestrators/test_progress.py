"""Custom status stays under the host's 16 KB (UTF-16) whatever the project's size and its names' script."""

from __future__ import annotations

import json
from typing import Any

from orchestrators.progress import CUSTOM_STATUS_LIMIT, NAME_CHARS, clip, run_outcome, status_size, task_progress

RUN_ID = "r20261130120000" + "f" * 8
SCRIPTS = ["é", "Ж", "語", "😀", "\U0001f9ea"]
"""Two-byte, three-byte and four-byte UTF-8; the last two are surrogate pairs in UTF-16 (12 escaped characters)."""


def long_name(n: int) -> str:
    return (SCRIPTS[n % len(SCRIPTS)] * 128)[:128]


def outcome(n: int, status: str = "Warning") -> dict[str, Any]:
    big = 10**12
    return {"name": long_name(n), "status": status, "read": big, "written": big, "skipped": big, "failed": big}


def test_every_status_of_a_run_of_1000_tasks_with_128_character_unicode_names_fits() -> None:
    names = [long_name(n) for n in range(1_000)]
    done: list[dict[str, Any]] = []
    largest = 0
    for index, name in enumerate(names):
        largest = max(largest, status_size(task_progress(RUN_ID, name, index + 1, len(names), done)))
        done.append(outcome(index, "Failed" if index % 2 else "Warning"))
    final = run_outcome(RUN_ID, "Failed", done)
    largest = max(largest, status_size({**final, "notification": "not delivered"}))
    assert largest < CUSTOM_STATUS_LIMIT // 2, largest
    assert final["tasksFinished"] == 1_000 and final["tasksFailed"] == 500
    assert final["totals"]["written"] == 1_000 * 10**12
    assert [task["name"] for task in final["recentTasks"]] == [clip(n) for n in names[-3:]]


def test_what_the_old_list_would_have_taken_is_over_the_limit() -> None:
    """The same run listed task by task would fail on the host: the summary is what keeps it running."""
    listed = {"runId": RUN_ID, "tasks": [outcome(n) for n in range(1_000)]}
    assert status_size(listed) > CUSTOM_STATUS_LIMIT


def test_names_are_cut_to_a_bounded_length_and_marked() -> None:
    assert clip("Accounts") == "Accounts"
    exact = "語" * NAME_CHARS
    assert clip(exact) == exact
    cut = clip("😀" * 128)
    assert len(cut) == NAME_CHARS and cut.endswith("…") and cut.startswith("😀" * (NAME_CHARS - 1))


def test_status_size_bounds_the_utf16_length_of_any_serialisation() -> None:
    status = task_progress(RUN_ID, "😀 Zoë 語", 1, 2, [outcome(3)])
    for text in (json.dumps(status), json.dumps(status, ensure_ascii=False),
                 json.dumps(status, ensure_ascii=False, separators=(",", ":"))):
        assert len(text.encode("utf-16-le")) <= status_size(status)
