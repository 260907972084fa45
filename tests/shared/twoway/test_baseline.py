"""A baseline's JSON round trip and the history the circuit breaker reads."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from shared.twoway.baseline import LOOP_RUNS, RECENT_RUNS, Baseline, is_looping, run_letter, with_run
from shared.twoway.values import stored


def test_a_baseline_survives_its_json_round_trip() -> None:
    baseline = Baseline(identity='["a\'1/#?ü"]', cds_key={"accountnumber": "A'1/#?Ü"}, source_key={"no": "A'1/#?Ü"},
                        source={"name": "Zoë", "notes": stored("x" * 2000)}, cds={"name": "Zoë"},
                        ids={"source": "s-1", "cds": None}, state="unlinked", recent="SC-B", run_id="r1",
                        updated_at="2026-11-30T10:00:00Z")
    document = json.loads(json.dumps(baseline.to_json()))
    assert Baseline.from_json({**document, "Timestamp": "ignored"}) == baseline
    assert Baseline.from_json({"identity": "[1]"}) == Baseline(identity="[1]")


def test_recent_keeps_the_last_runs_newest_last() -> None:
    recent = ""
    for to_cds, to_source in [(True, False), (False, True), (True, True), (False, False)] * 3:
        recent = with_run(recent, run_letter(to_cds, to_source))
    assert recent == "SCB-SCB-"


def test_the_breaker_holds_after_writes_alternating_directions_run_after_run() -> None:
    assert is_looping("SCSC") and is_looping("--BCSCS") and is_looping("CSCS")
    assert not is_looping("SCS") and not is_looping("SCSS") and not is_looping("SCBC") and not is_looping("SC-SC")


@given(st.text(alphabet="SCB-", max_size=RECENT_RUNS))
def test_the_breaker_holds_exactly_when_the_last_runs_alternate(recent: str) -> None:
    last = recent[-LOOP_RUNS:]
    alternating = last in (("SC" * LOOP_RUNS)[:LOOP_RUNS], ("CS" * LOOP_RUNS)[:LOOP_RUNS])
    assert is_looping(recent) == alternating
