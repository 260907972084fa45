"""A bidirectional task's items compiled for the merge: which way each flows, what it reads, its two functions."""

from __future__ import annotations

import pytest

from shared.errors import InvalidInput
from shared.models import Task
from shared.twoway.identity import identity_reader
from shared.twoway.mapping import compile_twoway
from tests.shared.twoway.pairs import accounts


def test_each_item_flows_its_way_through_its_own_transforms() -> None:
    mapping = compile_twoway(accounts())
    items = {item.cds_field: item for item in mapping.items}
    assert {field: item.direction for field, item in items.items()} == {
        "accountnumber": "both", "name": "both", "address1_country": "both", "telephone1": "toTarget",
        "statuscode": "toSource", "display": "toTarget"}
    country = items["address1_country"]
    assert country.forward is not None and country.reverse is not None and country.source_field == "country"
    assert country.forward({"country": " USA "}) == "US" and country.reverse({"address1_country": "de"}) == "deu"
    assert items["telephone1"].reverse is None and items["telephone1"].source_field is None
    assert items["statuscode"].forward is None and items["statuscode"].source_field == "status"
    display = items["display"]
    assert display.reads == ("name", "no") and display.forward is not None
    assert display.forward({"name": "Zoë", "no": "A-1"}) == "Zoë / A-1"
    assert mapping.constants == {"origin": "sync"}
    assert mapping.cds_key == ("accountnumber",) and mapping.source_key == ("no",)


def test_the_baseline_tracks_what_flows_out_of_each_side() -> None:
    mapping = compile_twoway(accounts())
    assert mapping.source_fields == ("no", "name", "country", "phone")
    assert mapping.cds_fields == ("accountnumber", "name", "address1_country", "statuscode")


def test_both_sides_are_identified_by_the_cds_key_and_the_source_key_is_mapped_back() -> None:
    mapping = compile_twoway(accounts())
    task = accounts()
    assert identity_reader(task, "source")({"no": " A-1 "}) == identity_reader(task, "cds")(
        {"accountnumber": "a-1"}) == ("a-1",)
    assert mapping.source_key_of({"accountnumber": "A-1"}) == {"no": "A-1"}


def test_a_source_key_not_mapped_back_gives_no_key_to_find_the_counterpart_by() -> None:
    task = Task.model_validate({
        "name": "Lines", "direction": "bidirectional",
        "source": {"entity": "lines", "key": ["order", "line"]}, "cds": {"entity": "lines", "key": ["order"]},
        "sourceToCds": [{"source": "order", "target": "order"}, {"source": "line", "target": "line",
                                                                 "direction": "toTarget"}],
    })
    assert compile_twoway(task).source_key_of({"order": "1", "line": 2}) is None


def test_a_constant_its_transforms_refuse_is_refused_when_compiled() -> None:
    task = accounts()
    bad = {"target": "count", "transforms": [{"transformType": "Default", "defaultValue": "many"},
                                             {"transformType": "Format", "to": "integer"}]}
    broken = Task.model_validate({**task.model_dump(), "sourceToCds": [*task.model_dump()["sourceToCds"], bad]})
    with pytest.raises(InvalidInput, match="count"):
        compile_twoway(broken)
