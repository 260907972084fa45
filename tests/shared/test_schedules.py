"""Due times of scheduled projects, claimed once per due time even by racing schedulers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from api.body_problems import body_problems
from shared.models import ProjectDefinition
from shared.schedules import claim_due, latest_due, next_due
from shared.store import Store
from tests.shared.test_models import PROJECT

T0 = datetime(2026, 11, 26, 10, 0, 30, tzinfo=UTC)


def scheduled(expression: str | None) -> ProjectDefinition:
    return ProjectDefinition.model_validate({**PROJECT, "schedule": expression})


def test_latest_due_is_the_last_occurrence_in_the_window() -> None:
    every_minute = "0 * * * * *"
    assert latest_due(every_minute, T0, T0 + timedelta(seconds=20)) is None
    assert latest_due(every_minute, T0, T0 + timedelta(seconds=31)) == datetime(2026, 11, 26, 10, 1, tzinfo=UTC)
    assert latest_due(every_minute, T0, T0 + timedelta(minutes=5)) == datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
    assert next_due("0 */15 * * * *", T0) == datetime(2026, 11, 26, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["every minute", "0 * * * *", "61 * * * * *", "0 0 25 * * *", "0 0 0 31 2 *"])
def test_a_bad_schedule_is_refused_on_save_naming_the_field(expression: str) -> None:
    with pytest.raises(ValidationError) as info:
        scheduled(expression)
    assert body_problems(info.value)[0]["field"] == "schedule"


def test_each_due_time_is_claimed_once(storage) -> None:
    project = scheduled("0 * * * * *")
    with Store(storage) as store:
        assert claim_due(store, project, T0) == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
        assert claim_due(store, project, T0 + timedelta(seconds=20)) is None
        first = claim_due(store, project, T0 + timedelta(seconds=31))
        assert first == datetime(2026, 11, 26, 10, 1, tzinfo=UTC)
        assert claim_due(store, project, T0 + timedelta(seconds=45)) is None
        winners: list[datetime | None] = []
        barrier = threading.Barrier(6)

        def tick() -> None:
            barrier.wait()
            winners.append(claim_due(store, project, T0 + timedelta(seconds=95)))

        threads = [threading.Thread(target=tick) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(w is not None for w in winners) == [False] * 5 + [True]
        assert claim_due(store, scheduled(None), T0 + timedelta(hours=1)) is None
