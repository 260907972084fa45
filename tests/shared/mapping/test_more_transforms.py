"""Every transform on normal, missing, null, unicode and oversized values."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from api.body_problems import body_problems
from shared.mapping import Failed, MappedRecord, compile_mapping
from shared.models import FieldMapping

MAPPINGS = TypeAdapter(list[FieldMapping])
HUGE = "é" * 300_000
MISSING = object()


def run(transforms: list[dict[str, Any]], value: Any) -> Any:
    fields = MAPPINGS.validate_python([{"source": "id", "target": "id"},
                                       {"source": "v", "target": "out", "transforms": transforms}])
    record = {"id": 1} if value is MISSING else {"id": 1, "v": value}
    outcome = compile_mapping(fields, ["id"])(record)
    if isinstance(outcome, Failed):
        return outcome
    assert isinstance(outcome, MappedRecord)
    return outcome.values["out"]


CASES = [
    # transforms, normal in -> out, unicode in -> out
    ([{"transformType": "Split", "separator": ";", "index": 1}], ("a;b;c", "b"), ("ä;ö😀;ü", "ö😀")),
    ([{"transformType": "Split", "separator": ";", "index": -1}], ("a;b;c", "c"), ("ä;ö", "ö")),
    ([{"transformType": "Substring", "start": 2, "length": 3}], ("abcdefg", "cde"), ("日本語のテキスト", "語のテ")),
    ([{"transformType": "Replace", "find": "-", "replaceWith": "/"}], ("a-b-c", "a/b/c"), ("ü-ö", "ü/ö")),
    ([{"transformType": "Replace", "pattern": "\\s+", "replaceWith": " "}], ("a  \t b", "a b"), ("ä\u3000ö", "ä ö")),
    ([{"transformType": "Trim"}], ("  x ", "x"), ("\u00a0ü\u00a0", "ü")),
    ([{"transformType": "Upper"}], ("abc", "ABC"), ("straße", "STRASSE")),
    ([{"transformType": "Lower"}], ("ABC", "abc"), ("ÄÖ", "äö")),
    ([{"transformType": "Truncate", "maxLength": 4}], ("abcdef", "abcd"), ("😀😀😀😀😀", "😀😀😀😀")),
    ([{"transformType": "Conditional", "equals": "1", "then": "Active", "else": "Inactive"}], ("1", "Active"),
     ("2", "Inactive")),
    ([{"transformType": "Format", "to": "date", "pattern": "%d.%m.%Y"}], ("2024-06-27T10:00:00Z", "27.06.2024"),
     ("2024-01-02", "02.01.2024")),
    ([{"transformType": "Format", "to": "text", "decimals": 2}], (1.005, "1.00"), ("2.675", "2.68")),
]


@pytest.mark.parametrize(("transforms", "normal", "unicode"), CASES, ids=lambda c: str(c)[:40])
def test_normal_and_unicode_values(transforms, normal, unicode) -> None:
    assert run(transforms, normal[0]) == normal[1]
    assert run(transforms, unicode[0]) == unicode[1]


@pytest.mark.parametrize(("transforms", "normal", "unicode"), CASES, ids=lambda c: str(c)[:40])
def test_missing_and_null_values_stay_missing(transforms, normal, unicode) -> None:
    conditional = transforms[0]["transformType"] == "Conditional"
    for value in (MISSING, None):
        assert run(transforms, value) == ("Inactive" if conditional else None)


def test_oversized_values() -> None:
    assert run([{"transformType": "Truncate", "maxLength": 100}], HUGE) == "é" * 100
    assert run([{"transformType": "Substring", "start": 299_990}], HUGE) == "é" * 10
    assert run([{"transformType": "Split", "separator": "x", "index": 0}], HUGE) == HUGE
    assert run([{"transformType": "Replace", "find": "é", "replaceWith": "e"}], HUGE) == "e" * 300_000
    assert run([{"transformType": "Upper"}], HUGE) == "É" * 300_000
    failed = run([{"transformType": "Format", "to": "integer"}], HUGE)
    assert isinstance(failed, Failed) and len(failed.message) < 200


def test_conditional_is_empty_and_exact_types() -> None:
    empty = [{"transformType": "Conditional", "isEmpty": True, "then": "n/a"}]
    assert [run(empty, v) for v in (MISSING, None, "  ", "x")] == ["n/a", "n/a", "n/a", "x"]
    ones = [{"transformType": "Conditional", "equals": 1, "then": "one"}]
    assert [run(ones, v) for v in (1, 1.0, True, "1")] == ["one", "one", True, "1"]


def test_split_beyond_the_parts_is_missing() -> None:
    assert run([{"transformType": "Split", "separator": ",", "index": 5}], "a,b") is None


def test_replace_with_a_pattern_replaces_literally() -> None:
    assert run([{"transformType": "Replace", "pattern": "(\\d+)", "replaceWith": "\\1#"}], "a12b3") == "a\\1#b\\1#"


def test_a_backtracking_pattern_completes_on_a_crafted_value_and_maps_the_record() -> None:
    crafted = "a" + " " * 50_000 + "x"
    assert run([{"transformType": "Replace", "pattern": "(\\s*)+$", "replaceWith": ""}], crafted) == crafted
    assert run([{"transformType": "Replace", "pattern": "(\\s*)+$", "replaceWith": ""}], "a  ") == "a"


@pytest.mark.parametrize(
    ("transform", "value"),
    [
        # an empty match at every position of a long value
        ({"transformType": "Replace", "pattern": "x*", "replaceWith": "y" * 1000}, "é" * 2000),
        ({"transformType": "Replace", "find": "é", "replaceWith": "y" * 1000}, "é" * 2000),
        ({"transformType": "Replace", "pattern": "é", "replaceWith": "e"}, "é" * 1_000_001),
        ({"transformType": "Replace", "find": "é", "replaceWith": "e"}, "é" * 1_000_001),
    ],
)
def test_replacing_past_the_text_bound_fails_that_record_on_that_field(transform: dict[str, Any], value: str) -> None:
    failed = run([transform], value)
    assert isinstance(failed, Failed)
    assert failed.field == "out"
    assert "1000000 characters" in failed.message


@pytest.mark.parametrize(
    ("transform", "field"),
    [
        ({"transformType": "Replace", "pattern": "(a)\\1", "replaceWith": "x"}, "pattern"),
        ({"transformType": "Replace", "pattern": "a(?!b)", "replaceWith": "x"}, "pattern"),
        ({"transformType": "Replace", "replaceWith": "x"}, "find"),
        ({"transformType": "Replace", "pattern": "(", "replaceWith": "x"}, "pattern"),
        ({"transformType": "Conditional", "then": "x"}, "equals"),
        ({"transformType": "Split", "separator": "", "index": 0}, "separator"),
        ({"transformType": "Format", "to": "integer", "pattern": "%Y"}, "pattern"),
        ({"transformType": "Format", "to": "date", "decimals": 2}, "decimals"),
        ({"transformType": "Substring", "start": -1}, "start"),
    ],
)
def test_bad_settings_name_the_field(transform: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        MAPPINGS.validate_python([{"source": "v", "target": "out", "transforms": [transform]}])
    assert body_problems(info.value)[0]["field"] == f"0.transforms.0.{field}"
