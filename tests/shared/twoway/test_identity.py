"""A pair's identity: the CDS business key from either side, trimmed and case-folded, as compact JSON."""

from __future__ import annotations

import json

from shared.models import Task
from shared.twoway.identity import identity_of, identity_reader, identity_text


def task() -> Task:
    return Task.model_validate({
        "name": "Accounts", "direction": "bidirectional",
        "source": {"entity": "accounts", "key": ["number", "company"]},
        "cds": {"entity": "accounts", "key": ["accountnumber", "dataareaid"]},
        "sourceToCds": [
            {"source": "number", "target": "accountnumber",
             "transforms": [{"transformType": "Trim"}], "reverseTransforms": [{"transformType": "Trim"}]},
            {"source": "company", "target": "dataareaid"},
            {"source": "name", "target": "name"},
        ],
    })


def test_both_sides_of_a_pair_meet_on_one_identity() -> None:
    source = identity_reader(task(), "source")
    cds = identity_reader(task(), "cds")
    assert source({"number": " A'1/#?Ü ", "company": "USMF", "name": "x"}) == ("a'1/#?ü", "usmf")
    assert cds({"accountnumber": "A'1/#?ü", "dataareaid": "usmf"}) == ("a'1/#?ü", "usmf")
    assert cds({"accountnumber": 7.0, "dataareaid": "x"}) == (7, "x")


def test_a_blank_key_part_gives_no_identity() -> None:
    assert identity_reader(task(), "source")({"number": "  ", "company": "USMF"}) is None
    assert identity_reader(task(), "cds")({"accountnumber": "A-1"}) is None
    assert identity_of(["A-1", None]) is None


def test_the_identity_text_is_compact_json_that_keeps_unicode() -> None:
    text = identity_text(("straße ✓", 7))
    assert text == '["straße ✓",7]' and json.loads(text) == ["straße ✓", 7]
