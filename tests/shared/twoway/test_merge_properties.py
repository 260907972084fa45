"""Properties of the merge over any values (unicode, huge ones kept as hashes) and any edits on either side:
no echoes, disjoint edits meet, a winning policy leaves both sides agreeing, manual conflicts touch nothing,
and the circuit breaker holds exactly after writes alternating run after run."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.models import Task
from shared.twoway.baseline import LOOP_RUNS, RECENT_RUNS
from shared.twoway.mapping import compile_twoway
from shared.twoway.outcome import LOOP_HELD, Outcome, Pair, skip
from shared.twoway.values import STORED_CHARS, equal
from tests.shared.twoway.pairs import ID, after, linked, run

BOTH = {"name": "name", "city": "address1_city", "notes": "description"}
"""Source field -> CDS field of the items flowing both ways (the key aside)."""
TO_CDS = {"phone": "telephone1"}
TO_SOURCE = {"status": "statuscode"}
MAPPING = compile_twoway(Task.model_validate({
    "name": "Contacts", "direction": "bidirectional",
    "source": {"entity": "contacts", "key": ["no"]}, "cds": {"entity": "contacts", "key": ["code"]},
    "sourceToCds": [{"source": "no", "target": "code"}]
    + [{"source": s, "target": c} for s, c in BOTH.items()]
    + [{"source": s, "target": c, "direction": "toTarget"} for s, c in TO_CDS.items()]
    + [{"source": s, "target": c, "direction": "toSource"} for s, c in TO_SOURCE.items()],
}))
SOURCE_FIELDS = [*BOTH, *TO_CDS, *TO_SOURCE]
CDS_FIELDS = [*BOTH.values(), *TO_CDS.values(), *TO_SOURCE.values()]

HUGE = st.builds(lambda text, n: (text or "ü") * n, st.text(min_size=1, max_size=3), st.integers(STORED_CHARS, 1100))
VALUES = st.none() | st.text(max_size=6) | st.sampled_from(["Zoë ✓", "🚀", " a ", "A"]) | st.integers(-3, 3) | HUGE
POLICIES = st.sampled_from(["sourceWins", "cdsWins", "manual"])
RECENT = st.builds(lambda history, tail: (history + tail)[-RECENT_RUNS:], st.text(alphabet="SCB-", max_size=RECENT_RUNS),
                   st.sampled_from(["", "C", "SC", "CSC", "SCSC", "CSCS", "BCSC"]))
"""Run histories, alternating ones often."""


def records(fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={name: VALUES for name in fields})


def start(values: dict[str, Any]) -> Pair:
    return linked({"no": "A-1", **values}, MAPPING)


def edited(pair: Pair, source_edits: dict[str, Any], cds_edits: dict[str, Any]) -> Pair:
    assert pair.source is not None and pair.cds is not None
    return replace(pair, source={**pair.source, **source_edits}, cds={**pair.cds, **cds_edits})


def merged(pair: Pair, policy: str) -> tuple[Outcome, Pair]:
    outcome = run(pair, MAPPING, policy=policy)
    return outcome, after(pair, outcome)


def changed(before: dict[str, Any], edits: dict[str, Any], name: str) -> bool:
    return name in edits and not equal(edits[name], before.get(name))


@settings(max_examples=150, deadline=None)
@given(records(SOURCE_FIELDS), records(SOURCE_FIELDS), records(CDS_FIELDS), POLICIES)
def test_no_echoes_the_run_after_a_merge_writes_nothing_and_keeps_the_baseline(
    values: dict[str, Any], source_edits: dict[str, Any], cds_edits: dict[str, Any], policy: str
) -> None:
    _, synced = merged(edited(start(values), source_edits, cds_edits), policy)
    again = run(synced, MAPPING, policy=policy)
    assert (again.to_cds, again.to_source, again.delete_cds, again.delete_source) == (None, None, None, None)
    assert again.save is None and not again.remove


@settings(max_examples=150, deadline=None)
@given(records(SOURCE_FIELDS), records(SOURCE_FIELDS), records(CDS_FIELDS), POLICIES)
def test_disjoint_edits_on_the_two_sides_merge_into_both(
    values: dict[str, Any], source_edits: dict[str, Any], cds_edits: dict[str, Any], policy: str
) -> None:
    source_edits = {s: v for s, v in source_edits.items() if BOTH.get(s, TO_CDS.get(s)) not in cds_edits}
    pair = start(values)
    outcome, synced = merged(edited(pair, source_edits, cds_edits), policy)
    assert not outcome.conflicts and synced.source is not None and synced.cds is not None
    assert pair.source is not None and pair.cds is not None
    for source_field, cds_field in {**BOTH, **TO_CDS}.items():
        if changed(pair.source, source_edits, source_field):
            assert equal(synced.cds.get(cds_field), source_edits[source_field])
    for source_field, cds_field in {**BOTH, **TO_SOURCE}.items():
        if changed(pair.cds, cds_edits, cds_field):
            assert equal(synced.source.get(source_field), cds_edits[cds_field])


@settings(max_examples=150, deadline=None)
@given(records(SOURCE_FIELDS), records(SOURCE_FIELDS), records(CDS_FIELDS), st.sampled_from(["sourceWins", "cdsWins"]))
def test_under_a_winning_policy_both_sides_end_agreeing_on_every_field_flowing_both_ways(
    values: dict[str, Any], source_edits: dict[str, Any], cds_edits: dict[str, Any], policy: str
) -> None:
    pair = start(values)
    outcome, synced = merged(edited(pair, source_edits, cds_edits), policy)
    assert pair.source is not None and synced.source is not None and synced.cds is not None
    assert not outcome.open_conflicts and all(c.winner == policy[:-4] for c in outcome.conflicts)
    for source_field, cds_field in BOTH.items():
        assert equal(synced.source.get(source_field), synced.cds.get(cds_field))
        if changed(pair.source, source_edits, source_field) and policy == "sourceWins":
            assert equal(synced.cds.get(cds_field), source_edits[source_field])


@settings(max_examples=150, deadline=None)
@given(records(SOURCE_FIELDS), records(SOURCE_FIELDS), records(CDS_FIELDS))
def test_manual_conflicts_are_the_fields_changed_differently_on_both_sides_and_stay_as_they_are(
    values: dict[str, Any], source_edits: dict[str, Any], cds_edits: dict[str, Any]
) -> None:
    pair = start(values)
    assert pair.source is not None and pair.cds is not None
    before = edited(pair, source_edits, cds_edits)
    outcome, synced = merged(before, "manual")
    assert before.source is not None and before.cds is not None and synced.source is not None and synced.cds is not None
    expected = {cds_field for source_field, cds_field in BOTH.items()
                if changed(pair.source, source_edits, source_field) and changed(pair.cds, cds_edits, cds_field)
                and not equal(source_edits[source_field], cds_edits[cds_field])}
    assert {conflict.cds_field for conflict in outcome.conflicts} == expected == {c.cds_field for c in outcome.open_conflicts}
    for conflict in outcome.conflicts:
        assert synced.cds.get(conflict.cds_field) is before.cds.get(conflict.cds_field)
        assert synced.source.get(conflict.source_field) is before.source.get(conflict.source_field)
    assert run(synced, MAPPING).conflicts == outcome.conflicts


@settings(max_examples=200, deadline=None)
@given(RECENT, records(SOURCE_FIELDS), records(SOURCE_FIELDS),
       records(CDS_FIELDS), POLICIES)
def test_the_breaker_holds_exactly_when_the_last_runs_wrote_alternating_and_this_one_would_write(
    recent: str, values: dict[str, Any], source_edits: dict[str, Any], cds_edits: dict[str, Any], policy: str
) -> None:
    pair = edited(start(values), source_edits, cds_edits)
    assert pair.baseline is not None
    unguarded = run(replace(pair, baseline=replace(pair.baseline, recent="")), MAPPING, policy=policy)
    outcome = run(replace(pair, baseline=replace(pair.baseline, recent=recent)), MAPPING, policy=policy)
    last = recent[-LOOP_RUNS:]
    looping = last in (("SC" * LOOP_RUNS)[:LOOP_RUNS], ("CS" * LOOP_RUNS)[:LOOP_RUNS])
    would_write = unguarded.to_cds is not None or unguarded.to_source is not None
    held = outcome.source == skip(LOOP_HELD)
    assert held == (looping and would_write)
    if held:
        assert (outcome.to_cds, outcome.to_source, outcome.save, outcome.cds) == (None, None, None, skip(LOOP_HELD))
    else:
        assert (outcome.to_cds, outcome.to_source, outcome.conflicts) == (
            unguarded.to_cds, unguarded.to_source, unguarded.conflicts)


@settings(max_examples=150, deadline=None)
@given(records(SOURCE_FIELDS), records(CDS_FIELDS), POLICIES)
def test_no_echoes_after_a_first_run_over_records_created_on_both_sides(
    source: dict[str, Any], cds: dict[str, Any], policy: str
) -> None:
    first = Pair(ID, {"no": "A-1", **source}, {"code": "a-1", **cds})
    outcome, synced = merged(first, policy)
    again = run(synced, MAPPING, policy=policy)
    assert (again.to_cds, again.to_source, again.save) == (None, None, None)
    assert again.conflicts == outcome.open_conflicts
