"""The budgets derived from functionTimeout: where they are read from, and that their arithmetic keeps the promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.budgets import Budgets, step_budget, step_deadline
from shared.errors import SettingError
from shared.settings import function_timeout


def host_json(tmp_path: Path, value: str | None) -> Path:
    path = tmp_path / "host.json"
    path.write_text(json.dumps({"version": "2.0", **({"functionTimeout": value} if value else {})}))
    return path


def test_the_app_setting_overrides_host_json(tmp_path: Path) -> None:
    path = host_json(tmp_path, "00:05:00")
    assert function_timeout({}, path).total_seconds() == 300
    assert function_timeout({"AzureFunctionsJobHost__functionTimeout": "00:00:20"}, path).total_seconds() == 20
    assert function_timeout({}, host_json(tmp_path, None)).total_seconds() == 600
    assert function_timeout({}, tmp_path / "absent.json").total_seconds() == 600


@pytest.mark.parametrize(("value", "seconds"), [("1.02:00:00", 93_600), ("00:00:01.5", 1.5), ("-1", 600)])
def test_time_spans_are_read_as_the_host_reads_them(tmp_path: Path, value: str, seconds: float) -> None:
    assert function_timeout({}, host_json(tmp_path, value)).total_seconds() == seconds


@pytest.mark.parametrize("value", ["10 minutes", "00:00:00", "600"])
def test_a_timeout_the_host_would_refuse_is_named(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingError, match="functionTimeout"):
        function_timeout({}, host_json(tmp_path, value))


@pytest.mark.parametrize("timeout_s", [20, 60, 300, 600, 1800, 3600])
def test_every_step_ends_well_inside_the_timeout(timeout_s: float) -> None:
    budgets = Budgets(timeout_s)
    assert budgets.step_s <= timeout_s / 2
    assert budgets.request_s <= budgets.step_s
    assert budgets.attempt_timeout_s <= budgets.request_s
    assert budgets.circuit_open_s <= budgets.step_interval_s


def test_a_system_that_stays_down_fails_the_run_within_ten_minutes_by_default() -> None:
    budgets = Budgets(600)
    assert budgets.down_system_fails_within_s == 500
    assert budgets.step_attempts * (budgets.request_s + budgets.step_interval_s) <= 600


@pytest.mark.parametrize("timeout_s", [20, 120, 600, 1800, 3600])
def test_the_outage_budget_never_passes_ten_minutes_or_the_timeout(timeout_s: float) -> None:
    budgets = Budgets(timeout_s)
    assert budgets.down_system_fails_within_s <= min(timeout_s, 600) * 5 / 6 + 1e-9


def test_a_step_budget_keeps_the_earlier_deadline_of_an_enclosing_step() -> None:
    now = [100.0]
    assert step_deadline() is None
    with step_budget(10, clock=lambda: now[0]) as outer:
        assert outer == 110
        with step_budget(60, clock=lambda: now[0]):
            assert step_deadline() == 110
        with step_budget(5, clock=lambda: now[0]):
            assert step_deadline() == 105
    assert step_deadline() is None
