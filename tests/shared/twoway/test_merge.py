"""The merge's rules, one example each: a change on one side, on both, conflicts under each policy and
resolution, first runs, creates, deletes under each policy, one-way items, the circuit breaker, no echoes."""

from __future__ import annotations

from dataclasses import replace

from shared.models import ConflictResolution
from shared.twoway.baseline import UNLINKED
from shared.twoway.mapping import compile_twoway
from shared.twoway.merge import unchanged_since
from shared.twoway.outcome import (
    CONFLICT,
    DELETED_IN_SOURCE,
    IN_SYNC,
    LOOP_HELD,
    PAIR_FAILED,
    WRITE,
    FieldConflict,
    Pair,
    Verdict,
    Write,
    skip,
)
from shared.twoway.values import stored
from tests.shared.twoway.pairs import ID, NOW, accounts, after, linked, run

SOURCE = {"no": "A-1", "name": "Contoso", "country": "usa", "phone": "555", "status": "x", "id": "s-1"}


def test_a_new_source_record_is_created_in_cds_with_every_field_flowing_there() -> None:
    outcome = run(Pair(ID, SOURCE, None, source_id="s-1"))
    assert outcome.to_cds == Write({"accountnumber": "A-1", "name": "Contoso", "address1_country": "US",
                                    "telephone1": "555", "display": "Contoso / A-1", "origin": "sync"}, create=True)
    assert outcome.to_source is None and outcome.source == WRITE and outcome.cds is None
    baseline = outcome.save
    assert baseline is not None and baseline.identity == ID and baseline.recent == "S"
    assert baseline.source == {"no": "A-1", "name": "Contoso", "country": "usa", "phone": "555"}
    assert baseline.cds == {"accountnumber": "A-1", "name": "Contoso", "address1_country": "US", "statuscode": None}
    assert baseline.cds_key == {"accountnumber": "A-1"} and baseline.source_key == {"no": "A-1"}
    assert baseline.ids == {"source": "s-1", "cds": None} and (baseline.run_id, baseline.updated_at) == ("r2", NOW)


def test_a_new_cds_record_is_created_in_the_source_through_the_reverse_transforms() -> None:
    cds = {"accountnumber": "A-1", "name": "Contoso", "address1_country": "DE", "telephone1": "1", "statuscode": 3}
    outcome = run(Pair(ID, None, cds, cds_id="c-1"))
    assert outcome.to_source == Write({"no": "A-1", "name": "Contoso", "country": "deu", "status": 3}, create=True)
    assert outcome.to_cds is None and outcome.cds == WRITE and outcome.source is None
    assert outcome.save is not None and outcome.save.recent == "C" and outcome.save.ids == {"source": None, "cds": "c-1"}
    assert run(after(Pair(ID, None, cds), outcome)).save is None


def test_the_run_after_a_run_writes_nothing_either_way() -> None:
    pair = linked(SOURCE)
    outcome = run(pair)
    assert (outcome.to_cds, outcome.to_source, outcome.save, outcome.remove) == (None, None, None, False)
    assert outcome.source == skip(IN_SYNC) and outcome.cds == skip(IN_SYNC)


def test_a_change_on_one_side_is_copied_to_the_other_with_the_key() -> None:
    pair = linked(SOURCE)
    outcome = run(replace(pair, source={**SOURCE, "name": "Fabrikam"}))
    assert outcome.to_cds == Write({"accountnumber": "A-1", "name": "Fabrikam", "display": "Fabrikam / A-1"})
    assert outcome.to_source is None and outcome.source == WRITE and outcome.cds == skip(IN_SYNC)
    assert outcome.save is not None and outcome.save.recent == "SS"

    assert pair.cds is not None
    outcome = run(replace(pair, cds={**pair.cds, "address1_country": "DE", "statuscode": 2}))
    assert outcome.to_source == Write({"no": "A-1", "country": "deu", "status": 2}) and outcome.to_cds is None
    assert outcome.save is not None and outcome.save.recent == "SC" and outcome.cds == WRITE


def test_a_source_field_written_back_updates_what_cds_builds_from_it() -> None:
    pair = linked(SOURCE)
    assert pair.cds is not None
    edited = replace(pair, cds={**pair.cds, "name": "Northwind"})
    outcome = run(edited)
    assert outcome.to_source == Write({"no": "A-1", "name": "Northwind"})
    assert outcome.to_cds == Write({"accountnumber": "A-1", "display": "Northwind / A-1"})
    assert outcome.save is not None and outcome.save.recent == "SB" and run(after(edited, outcome)).save is None


def test_an_item_flowing_one_way_ignores_changes_on_the_other_side() -> None:
    pair = linked(SOURCE)
    assert pair.cds is not None
    outcome = run(replace(pair, source={**SOURCE, "status": "changed"}, cds={**pair.cds, "telephone1": "999"}))
    assert (outcome.to_cds, outcome.to_source) == (None, None)
    both = run(replace(pair, source={**SOURCE, "phone": "1"}, cds={**pair.cds, "telephone1": "2", "statuscode": 7}))
    assert both.to_cds == Write({"accountnumber": "A-1", "telephone1": "1"})
    assert both.to_source == Write({"no": "A-1", "status": 7}) and not both.conflicts


def test_both_sides_changed_to_the_same_value_is_no_conflict_and_nothing_to_write() -> None:
    pair = linked(SOURCE)
    assert pair.cds is not None
    outcome = run(replace(pair, source={**SOURCE, "country": "deu"}, cds={**pair.cds, "address1_country": "DE"}))
    assert (outcome.to_cds, outcome.to_source, outcome.conflicts) == (None, None, ())
    assert outcome.save is not None and outcome.save.source["country"] == "deu"
    assert outcome.save.cds["address1_country"] == "DE" and outcome.save.recent == "S-"


def edited_on_both_sides() -> Pair:
    pair = linked(SOURCE)
    assert pair.cds is not None
    return replace(pair, source={**SOURCE, "name": "From source", "phone": "1"},
                   cds={**pair.cds, "name": "From CDS", "statuscode": 5})


def test_a_manual_conflict_writes_neither_side_and_the_rest_of_the_record_merges() -> None:
    pair = edited_on_both_sides()
    outcome = run(pair)
    assert outcome.conflicts == (FieldConflict("name", "name", "Contoso", "From source", "From CDS", None),)
    assert outcome.open_conflicts == outcome.conflicts
    # what CDS builds from the source's name flows on: only the conflicting field waits
    assert outcome.to_cds == Write({"accountnumber": "A-1", "telephone1": "1", "display": "From source / A-1"})
    assert outcome.to_source == Write({"no": "A-1", "status": 5})
    assert outcome.save is not None and outcome.save.source["name"] == outcome.save.cds["name"] == "Contoso"
    again = run(after(pair, outcome))
    assert again.conflicts == outcome.conflicts and (again.to_cds, again.to_source, again.save) == (None, None, None)
    assert again.source == skip(CONFLICT) and again.cds == skip(CONFLICT)


def test_the_policy_settles_a_conflict_for_its_side() -> None:
    pair = edited_on_both_sides()
    source_wins = run(pair, policy="sourceWins")
    assert source_wins.conflicts[0].winner == "source" and not source_wins.open_conflicts
    assert source_wins.to_cds is not None and source_wins.to_cds.values["name"] == "From source"
    assert source_wins.to_source == Write({"no": "A-1", "status": 5})
    cds_wins = run(pair, policy="cdsWins")
    assert cds_wins.conflicts[0].winner == "cds"
    assert cds_wins.to_source == Write({"no": "A-1", "name": "From CDS", "status": 5})
    for outcome in (source_wins, cds_wins):
        settled = after(pair, outcome)
        assert settled.source is not None and settled.cds is not None
        assert settled.source["name"] == settled.cds["name"] and run(settled).save is None


def test_a_resolution_overrides_the_policy_and_is_used_up() -> None:
    pair = edited_on_both_sides()
    take_cds = run(pair, policy="sourceWins", resolutions={(ID, "name"): ConflictResolution(take="cds")})
    assert take_cds.applied == ("name",) and not take_cds.conflicts
    assert take_cds.to_source is not None and take_cds.to_source.values["name"] == "From CDS"
    take_source = run(pair, resolutions={(ID, "name"): ConflictResolution(take="source")})
    assert take_source.to_cds is not None and take_source.to_cds.values["name"] == "From source"
    values = run(pair, resolutions={(ID, "name"): ConflictResolution(values={"name": "Agreed ✓"})})
    assert values.to_cds is not None and values.to_cds.values["name"] == "Agreed ✓"
    assert values.to_source is not None and values.to_source.values["name"] == "Agreed ✓"
    assert run(after(pair, values)).save is None
    moot = run(linked(SOURCE), resolutions={(ID, "name"): ConflictResolution(take="cds")})
    assert moot.applied == ("name",) and (moot.to_cds, moot.to_source) == (None, None)


def test_a_first_run_merges_records_created_on_both_sides_field_by_field() -> None:
    cds = {"accountnumber": "a-1 ", "name": "Contoso", "address1_country": "DE", "telephone1": "0", "statuscode": "x",
           "display": "Contoso / A-1"}
    outcome = run(Pair(ID, SOURCE, cds))
    assert [c.cds_field for c in outcome.conflicts] == ["accountnumber", "address1_country"]
    assert outcome.conflicts[1] == FieldConflict("address1_country", "country", None, "usa", "DE", None)
    assert outcome.to_cds == Write({"accountnumber": "a-1 ", "telephone1": "555"}) and outcome.to_source is None
    assert outcome.save is not None and "address1_country" not in outcome.save.cds and outcome.save.recent == "S"
    again = run(after(Pair(ID, SOURCE, cds), outcome))
    assert len(again.conflicts) == 2 and again.to_cds is None


def test_deletes_ignore_unlinks_the_pair_for_good() -> None:
    pair = linked(SOURCE)
    outcome = run(replace(pair, source=None))
    assert outcome.save is not None and outcome.save.state == UNLINKED and outcome.cds == skip("unlinked")
    assert (outcome.to_cds, outcome.to_source, outcome.delete_cds) == (None, None, None)
    unlinked = Pair(ID, {**SOURCE, "name": "back"}, pair.cds, outcome.save)
    later = run(unlinked)
    assert (later.to_cds, later.to_source, later.save) == (None, None, None) and later.source == skip("unlinked")
    assert run(Pair(ID, None, None, outcome.save)).remove


def test_deletes_propagate_deletes_the_other_side_and_forgets_the_pair() -> None:
    pair = linked(SOURCE)
    outcome = run(replace(pair, source=None), deletes="propagate")
    assert outcome.delete_cds == {"accountnumber": "A-1"} and outcome.remove and outcome.cds == skip(DELETED_IN_SOURCE)
    assert pair.cds is not None
    back = run(replace(pair, cds=None), deletes="propagate")
    assert back.delete_source == {"no": "A-1"} and back.remove and back.source == skip("deleted-in-cds")


def test_deletes_restore_creates_the_deleted_record_again_from_the_other_side() -> None:
    pair = linked(SOURCE)
    outcome = run(replace(pair, cds=None), deletes="restore")
    assert outcome.to_cds is not None and outcome.to_cds.create and outcome.to_cds.values["name"] == "Contoso"
    assert outcome.save is not None and outcome.save.recent == "SS" and outcome.save.ids["cds"] is None


def test_a_pair_gone_from_both_sides_is_forgotten() -> None:
    pair = linked(SOURCE)
    for deletes in ("ignore", "propagate", "restore"):
        outcome = run(replace(pair, source=None, cds=None), deletes=deletes)
        assert outcome.remove and (outcome.to_cds, outcome.to_source, outcome.delete_cds) == (None, None, None)


def test_the_breaker_holds_a_pair_written_in_alternating_directions_run_after_run() -> None:
    pair = linked(SOURCE)
    assert pair.baseline is not None
    looping = replace(pair, baseline=replace(pair.baseline, recent="SSCSC"), source={**SOURCE, "name": "again"})
    held = run(looping)
    assert (held.to_cds, held.to_source, held.save) == (None, None, None)
    assert held.source == skip(LOOP_HELD) and held.cds == skip(LOOP_HELD)
    assert run(replace(looping, source=SOURCE)).source == skip(IN_SYNC)
    assert run(replace(looping, baseline=replace(pair.baseline, recent="SCSS"))).to_cds is not None
    assert run(replace(looping, source=None), deletes="propagate").cds == skip(LOOP_HELD)


def test_a_value_a_transform_refuses_fails_that_record_and_writes_nothing_of_the_pair() -> None:
    mapping = compile_twoway(accounts(unmapped="error"))
    pair = linked(SOURCE, mapping)
    assert pair.cds is not None
    outcome = run(replace(pair, source={**SOURCE, "country": "fra"}, cds={**pair.cds, "name": "x"}), mapping)
    assert outcome.source == Verdict("fail", "value 'fra' has no entry in the value map", "address1_country")
    assert outcome.cds == skip(PAIR_FAILED) and (outcome.to_cds, outcome.to_source, outcome.save) == (None, None, None)


def test_a_record_id_learned_later_is_saved_with_the_baseline() -> None:
    pair = linked(SOURCE)
    outcome = run(replace(pair, cds_id="c-9"))
    assert outcome.save is not None and outcome.save.ids == {"source": None, "cds": "c-9"} and outcome.to_cds is None
    assert run(replace(pair, baseline=outcome.save)).save is None


def test_huge_and_unicode_values_merge_as_any_other() -> None:
    huge = "Ωmega ✓ " * 300
    pair = linked({**SOURCE, "name": huge})
    assert pair.baseline is not None and pair.baseline.source["name"] == stored(huge) != huge
    assert run(pair).save is None
    assert pair.cds is not None
    outcome = run(replace(pair, cds={**pair.cds, "name": huge + "!"}))
    assert outcome.to_source == Write({"no": "A-1", "name": huge + "!"})
    conflict = run(replace(pair, source={**SOURCE, "name": "ü"}, cds={**pair.cds, "name": huge + "!"}))
    assert conflict.conflicts[0].baseline is None and conflict.conflicts[0].cds == huge + "!"


def test_a_record_holding_what_its_baseline_kept_is_unchanged_and_any_change_shows() -> None:
    """What lets an incremental run leave a record alone without reading its counterpart."""
    mapping = compile_twoway(accounts())
    pair = linked(SOURCE)
    base = pair.baseline
    assert base is not None and pair.source is not None and pair.cds is not None
    assert unchanged_since(mapping, "source", pair.source, None, base)
    assert unchanged_since(mapping, "cds", pair.cds, None, base)
    assert unchanged_since(mapping, "source", {**pair.source, "unmapped": 1}, None, base)
    assert not unchanged_since(mapping, "source", {**pair.source, "phone": "556"}, None, base)  # flows to CDS only
    assert not unchanged_since(mapping, "cds", {**pair.cds, "statuscode": 4}, None, base)  # flows to the source only
    assert not unchanged_since(mapping, "source", {**pair.source, "no": "a-1"}, None, base)  # the key, as written
    assert not unchanged_since(mapping, "cds", pair.cds, "c-2", base)  # deleted and created again: another id
    assert not unchanged_since(mapping, "source", pair.source, None, replace(base, state=UNLINKED))
    untracked = {name: value for name, value in base.cds.items() if name != "name"}  # an item added since
    assert not unchanged_since(mapping, "cds", pair.cds, None, replace(base, cds=untracked))
