"""Concat, Lookup, Truncate, Trim, Upper, Lower and Constant, compiled by the engine."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from api.body_problems import body_problems
from shared.mapping import LookupKey, MappedRecord, compile_mapping
from shared.models import FieldMapping

MAPPINGS = TypeAdapter(list[FieldMapping])


def mapped(items: list[dict], record: dict, key: str = "id") -> dict:
    outcome = compile_mapping(MAPPINGS.validate_python([{"source": "id", "target": "id"}, *items]), [key])(record)
    assert isinstance(outcome, MappedRecord), outcome
    return outcome.values


def test_concat_joins_fields_and_literals_leaving_blanks_out() -> None:
    line = [{"target": "lot", "transforms": [{"transformType": "Concat", "separator": "-", "parts": [
        {"field": "quote.number"}, {"field": "line"}, {"literal": "Q"}]}]}]
    assert mapped(line, {"id": 1, "quote": {"number": "Q-7"}, "line": 3})["lot"] == "Q-7-3-Q"
    assert mapped(line, {"id": 1, "quote": {"number": " "}, "line": 3})["lot"] == "3-Q"
    assert mapped(line, {"id": 1})["lot"] is None


def test_concat_then_other_transforms() -> None:
    items = [{"target": "name", "transforms": [
        {"transformType": "Concat", "separator": " ", "parts": [{"field": "first"}, {"field": "last"}]},
        {"transformType": "Upper"}, {"transformType": "Truncate", "maxLength": 5},
        {"transformType": "Default", "defaultValue": "NONE"}]}]
    assert mapped(items, {"id": 1, "first": "ada", "last": "lovelace"})["name"] == "ADA L"
    assert mapped(items, {"id": 1})["name"] == "NONE"


def test_concat_must_come_first_and_without_a_source() -> None:
    with pytest.raises(ValidationError) as info:
        MAPPINGS.validate_python([{"source": "a", "target": "b", "transforms": [
            {"transformType": "Concat", "parts": [{"field": "x"}]}]}])
    assert body_problems(info.value)[0]["field"] == "0.transforms.0"
    with pytest.raises(ValidationError) as info:
        MAPPINGS.validate_python([{"target": "b", "transforms": [
            {"transformType": "Concat", "parts": [{"field": "x", "literal": "y"}]}]}])
    assert body_problems(info.value)[0]["field"] == "0.transforms.0.parts.0.field"


def test_lookup_leaves_a_key_to_resolve_before_writing() -> None:
    items = [{"source": "account", "target": "customerid_account@odata.bind",
              "transforms": [{"transformType": "Lookup", "entitySet": "accounts", "keyField": "accountnumber"}]}]
    reference = mapped(items, {"id": 1, "account": " O'NEIL-01"})["customerid_account@odata.bind"]
    assert reference == LookupKey("accounts", "accountnumber", " O'NEIL-01")
    assert reference.folded == LookupKey("accounts", "accountnumber", "o'neil-01").folded
    assert mapped(items, {"id": 1, "account": "  "})["customerid_account@odata.bind"] is None
    assert mapped(items, {"id": 1})["customerid_account@odata.bind"] is None
    number = [{"source": "n", "target": "x@odata.bind",
               "transforms": [{"transformType": "Lookup", "entitySet": "things", "keyField": "no"}]}]
    assert mapped(number, {"id": 1, "n": 42})["x@odata.bind"] == LookupKey("things", "no", 42)


def test_trim_lower_constant_and_non_text_values() -> None:
    items = [
        {"source": "a", "target": "a", "transforms": [{"transformType": "Trim"}, {"transformType": "Lower"}]},
        {"source": "b", "target": "b", "transforms": [{"transformType": "Upper"}]},
        {"source": "c", "target": "c", "transforms": [{"transformType": "Constant", "value": {"k": [1]}}]},
        {"target": "d", "transforms": [{"transformType": "Constant", "value": 7}]},
    ]
    assert mapped(items, {"id": 1, "a": "  MiXed ", "b": 5, "c": "ignored"}) == {
        "id": 1, "a": "mixed", "b": 5, "c": {"k": [1]}, "d": 7,
    }


def test_truncate_needs_a_positive_length() -> None:
    with pytest.raises(ValidationError) as info:
        MAPPINGS.validate_python([{"source": "a", "target": "b", "transforms": [
            {"transformType": "Truncate", "maxLength": 0}]}])
    assert body_problems(info.value)[0]["field"] == "0.transforms.0.maxLength"


def test_format_converts_to_the_target_type() -> None:
    items = [
        {"source": "line", "target": "line", "transforms": [{"transformType": "Format", "to": "integer"}]},
        {"source": "price", "target": "price", "transforms": [{"transformType": "Format", "to": "number"}]},
        {"source": "code", "target": "code", "transforms": [{"transformType": "Format", "to": "text"}]},
        {"source": "due", "target": "due", "transforms": [{"transformType": "Format", "to": "date"}]},
        {"source": "at", "target": "at", "transforms": [{"transformType": "Format", "to": "datetime"}]},
    ]
    record = {"id": 1, "line": 3.0, "price": "12.50", "code": 0.1, "due": "2023-07-28T12:00:00Z",
              "at": "2024-06-27"}
    assert mapped(items, record) == {"id": 1, "line": 3, "price": 12.5, "code": "0.1", "due": "2023-07-28",
                                     "at": "2024-06-27T00:00:00Z"}
    assert mapped(items, {"id": 2})["line"] is None


def test_format_errors_fail_the_record_on_that_field() -> None:
    from shared.mapping import Failed

    fields = MAPPINGS.validate_python([{"source": "id", "target": "id"}, {"source": "n", "target": "n",
                                       "transforms": [{"transformType": "Format", "to": "integer"}]}])
    outcome = compile_mapping(fields, ["id"])({"id": 1, "n": 1.5})
    assert isinstance(outcome, Failed) and outcome.field == "n" and "whole number" in outcome.message
    outcome = compile_mapping(fields, ["id"])({"id": 1, "n": "abc"})
    assert isinstance(outcome, Failed) and "not a number" in outcome.message
