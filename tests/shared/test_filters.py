"""Source filters: the names they refer to, how they are read, and how they evaluate on records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shared.errors import InvalidInput
from shared.filters import Filter, FilterSyntaxError, filter_fields, parse_filter


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("statecode eq 0", {"statecode"}),
        ("name eq 'O''Brien and sons' and revenue gt 1000.5", {"name", "revenue"}),
        ("contains(name, 'x') or startswith(accountnumber,'A-')", {"name", "accountnumber"}),
        ("modifiedon ge 2024-01-01T00:00:00Z and accountid ne 5d1c0e3a-0000-0000-0000-000000000001", {"modifiedon", "accountid"}),
        ("CreditLimitIsMandatory eq Microsoft.Dynamics.DataEntities.NoYes'Yes'", {"CreditLimitIsMandatory"}),
        ("primarycontactid/fullname eq null", {"primarycontactid"}),
        ("not (Status eq 'and or')", {"Status"}),
    ],
)
def test_filter_fields(expression: str, names: set[str]) -> None:
    assert filter_fields(expression) == names


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("accountid eq a1b2c3d4-0000-0000-0000-000000000001", {"accountid"}),
        ("name eq 'x' and", {"name"}),
        ("name Eq 'x' or (city eq 'y'", {"name", "city"}),
    ],
)
def test_filter_fields_of_guids_and_malformed_filters(expression: str, names: set[str]) -> None:
    assert filter_fields(expression) == names


def test_a_parsed_filter_names_its_fields_and_paths() -> None:
    parsed = parse_filter(
        "primarycontactid/fullname eq 'Ann' and contains(tolower(name), 'x') or year(createdon) eq 2024 "
        "and primarycontactid/address1_city in ('Oslo') and revenue add 1 gt 2"
    )

    assert isinstance(parsed, Filter)
    assert parsed.fields == frozenset({"primarycontactid", "name", "createdon", "revenue"})
    assert parsed.paths == frozenset(
        {"primarycontactid/fullname", "primarycontactid/address1_city", "name", "createdon", "revenue"}
    )


def test_a_filter_is_parsed_once() -> None:
    assert parse_filter("statecode eq 0") is parse_filter("statecode eq 0")
    assert parse_filter("statecode eq 0") == Filter("statecode eq 0", frozenset({"statecode"}),
                                                    frozenset({"statecode"}), lambda _record: True)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "the filter is empty"),
        ("   ", "the filter is empty"),
        ("name eq 'abc", "unterminated string starting at position 9 of the filter"),
        ("name eq 'O''Brien", "unterminated string starting at position 9 of the filter"),
        ("x eq Microsoft.Dynamics.DataEntities.NoYes'Yes", "unterminated string starting at position 6 of the filter"),
        ("name eq", "the filter ends in the middle of an expression"),
        ("name eq 'a' and", "the filter ends in the middle of an expression"),
        ("not", "the filter ends in the middle of an expression"),
        ("name eq eq 1", "unexpected 'eq' at position 9 of the filter"),
        ("name eq 'a' and or b eq 1", "unexpected 'or' at position 17 of the filter"),
        ("eq 1", "unexpected 'eq' at position 1 of the filter"),
        ("name 'a'", "unexpected 'a' at position 6 of the filter"),
        ("name Eq 'a'", "unexpected 'Eq' at position 6 of the filter (operators and keywords are lowercase: 'eq')"),
        ("a eq 1 AND b eq 2", "unexpected 'AND' at position 8 of the filter (operators and keywords are lowercase: 'and')"),
        ("foo(name)", "unknown function 'foo' at position 1 of the filter"),
        ("a eq 1 or Contains(name, 'x')",
         "unknown function 'Contains' at position 11 of the filter (function names are lowercase: 'contains')"),
        ("contains(name)", "contains() at position 1 of the filter takes 2 arguments, not 1"),
        ("length(name, 'x') eq 1", "length() at position 1 of the filter takes 1 argument, not 2"),
        ("substring(name) eq 'a'", "substring() at position 1 of the filter takes 2 or 3 arguments, not 1"),
        ("contains(name 'x')", "unexpected 'x' at position 15 of the filter"),
        ("(a eq 1", "the '(' at position 1 of the filter is never closed"),
        ("contains(name, 'x'", "the '(' at position 9 of the filter is never closed"),
        ("a eq 1)", "unexpected ')' at position 7 of the filter"),
        ("(a eq 1))", "unexpected ')' at position 9 of the filter"),
        ("a eq 1 eq 2", "unexpected 'eq' at position 8 of the filter"),
        ("a # 1", "unexpected '#' at position 3 of the filter"),
        ("a eq 12abc", "unexpected '12abc' at position 6 of the filter"),
        ("a eq -b", "unexpected '-b' at position 6 of the filter"),
        ("a eq 2024-13-01", "'2024-13-01' at position 6 of the filter is not a valid date"),
        ("a eq 2024-01-01T25:00:00Z", "'2024-01-01T25:00:00Z' at position 6 of the filter is not a valid datetime"),
        ("a has Microsoft.Dynamics.DataEntities.NoYes'Yes'", "the 'has' operator at position 3 of the filter is not supported"),
        ("a in 'x'", "'in' at position 3 of the filter takes a list of literals in parentheses, like ('a', 'b')"),
        ("a in ('x', b)", "unexpected 'b' at position 12 of the filter: 'in' takes literals"),
        ("a in ()", "unexpected ')' at position 7 of the filter: 'in' takes literals"),
        ("tolower(name)", "'tolower(name)' at position 1 of the filter is not a condition"),
        ("a eq 1 and 'x'", "'x' at position 12 of the filter is not a condition"),
        ("not statecode eq 0",
         "'not statecode' at position 1 of the filter is a condition and cannot be compared with '0' "
         "('not' applies to what directly follows it: write 'not (a eq b)')"),
        ("(" * 101 + "a eq 1" + ")" * 101, "the filter nests more than 100 levels deep at position 102 of the filter"),
    ],
)
def test_syntax_errors_say_what_and_where(expression: str, message: str) -> None:
    with pytest.raises(FilterSyntaxError) as raised:
        parse_filter(expression)

    assert raised.value.message == message
    assert str(raised.value) == message


def test_a_syntax_error_is_invalid_input_on_the_source_filter() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_filter("name eq")

    assert raised.value.field == "source.filter"
    assert FilterSyntaxError("x", field="tasks.0.source.filter").field == "tasks.0.source.filter"


ACCOUNT: dict[str, Any] = {
    "name": "Contoso Ltd",
    "statecode": 0,
    "revenue": 1500.25,
    "employees": "  42 ",
    "city": "Zürich",
    "motto": "We ❤️ data",
    "owner": "O'Brien",
    "accountid": "5D1C0E3A-0000-0000-0000-000000000001",
    "createdon": "2024-03-05T23:30:00-02:00",
    "birthday": "1990-07-14",
    "isactive": "TRUE",
    "CreditLimitIsMandatory": "Yes",
    "primarycontactid": {"fullname": "Ann Smith", "parentcustomerid": None},
    "description": None,
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # comparisons
        ("statecode eq 0", True),
        ("statecode ne 0", False),
        ("statecode gt -1", True),
        ("statecode ge 0", True),
        ("statecode lt 0", False),
        ("statecode le 0", True),
        ("0 eq statecode", True),
        ("1 gt statecode", True),
        ("1 lt statecode", False),
        ("revenue gt 1500.2", True),
        ("revenue eq 1500.25", True),
        ("revenue eq 1500.250M", True),
        ("revenue lt 1.5e3", False),
        ("revenue ne 1500.25d", False),
        ("statecode eq 0L", True),
        # logic
        ("statecode eq 0 and name eq 'Contoso Ltd'", True),
        ("statecode eq 1 and name eq 'Contoso Ltd'", False),
        ("statecode eq 1 or name eq 'Contoso Ltd'", True),
        ("not (statecode eq 1)", True),
        ("not not (statecode eq 0)", True),
        ("not contains(name, 'fabrikam')", True),
        ("(statecode eq 1 or statecode eq 0) and (name eq 'x' or name eq 'contoso ltd')", True),
        ("true", True),
        ("false or statecode eq 0", True),
        ("isactive", True),
        ("not isactive", False),
        ("name", False),
        ("(statecode eq 0) eq true", True),
        ("(statecode eq 0) ne false", True),
        # strings: case, quotes, unicode
        ("name eq 'CONTOSO LTD'", True),
        ("name eq 'Contoso'", False),
        ("name gt 'contoso'", True),
        ("name lt 'CONTOSO M'", True),
        ("name eq 'Contoso Ltd '", False),
        ("owner eq 'O''Brien'", True),
        ("owner eq 'o''brien'", True),
        ("owner eq 'OBrien'", False),
        ("city eq 'zürich'", True),
        ("city eq 'ZÜRICH'", True),
        ("city eq 'Zurich'", False),
        ("motto eq 'we ❤️ DATA'", True),
        ("contains(motto, '❤️')", True),
        ("'Contoso Ltd' eq name", True),
        # numbers carried as strings
        ("employees eq 42", True),
        ("employees gt 41.99", True),
        ("employees lt 42", False),
        ("employees eq '  42 '", True),
        ("employees eq '42'", False),
        ("revenue eq '1500.25'", True),
        ("name eq 42", False),
        ("name ne 42", True),
        ("name gt 42", False),
        ("name lt 42", False),
        # dates and datetimes against ISO strings
        ("createdon eq 2024-03-06T01:30:00Z", True),
        ("createdon eq 2024-03-06T02:30:00+01:00", True),
        ("createdon gt 2024-03-06T01:29:59.9999999Z", True),
        ("createdon lt 2024-03-06T01:30:00.000001Z", True),
        ("createdon eq 2024-03-06", True),
        ("createdon eq 2024-03-05", False),
        ("createdon ge 2024-03-06 and createdon lt 2024-03-07", True),
        ("birthday eq 1990-07-14", True),
        ("birthday eq 1990-07-14T00:00:00Z", True),
        ("birthday lt 1990-07-14T00:00:01Z", True),
        ("birthday gt 1990-07-13", True),
        ("name eq 2024-01-01", False),
        ("name ne 2024-01-01T00:00:00Z", True),
        ("year(createdon) eq 2024 and month(createdon) eq 3 and day(createdon) eq 6", True),
        ("year(birthday) eq 1990", True),
        ("year(name) eq null", True),
        # GUIDs and enum members
        ("accountid eq 5d1c0e3a-0000-0000-0000-000000000001", True),
        ("accountid eq 5D1C0E3A-0000-0000-0000-000000000001", True),
        ("accountid ne 5d1c0e3a-0000-0000-0000-000000000002", True),
        ("CreditLimitIsMandatory eq Microsoft.Dynamics.DataEntities.NoYes'Yes'", True),
        ("CreditLimitIsMandatory eq Microsoft.Dynamics.DataEntities.NoYes'yes'", True),
        ("CreditLimitIsMandatory eq Microsoft.Dynamics.DataEntities.NoYes'No'", False),
        # nulls and missing fields
        ("description eq null", True),
        ("description ne null", False),
        ("missing eq null", True),
        ("missing ne null", False),
        ("null eq missing", True),
        ("name eq null", False),
        ("name ne null", True),
        ("description eq 'x'", False),
        ("description ne 'x'", True),
        ("missing gt 0", False),
        ("missing le 0", False),
        ("not (missing gt 0)", True),
        ("missing ge null", False),
        ("missing eq 0 or missing ne 0", True),
        # navigation
        ("primarycontactid/fullname eq 'ann smith'", True),
        ("primarycontactid/fullname ne null", True),
        ("primarycontactid/missing eq null", True),
        ("primarycontactid/parentcustomerid/name eq null", True),
        ("description/name eq null", True),
        ("name/first eq null", True),
        ("missing/fullname ne 'x'", True),
        # in
        ("name in ('Fabrikam', 'contoso ltd')", True),
        ("name in ('Fabrikam')", False),
        ("statecode in (0, 1)", True),
        ("employees in (41, 42)", True),
        ("description in ('x', null)", True),
        ("description in ('x')", False),
        ("missing in (null)", True),
        ("accountid in (5d1c0e3a-0000-0000-0000-000000000001, 'other')", True),
        ("not (name in ('x', 'y'))", True),
        ("isactive in (true)", True),
        ("createdon in (2024-03-06, 2025-01-01)", True),
        # functions
        ("contains(name, 'TOSO')", True),
        ("contains(name, 'x')", False),
        ("startswith(name, 'contoso')", True),
        ("endswith(name, 'LTD')", True),
        ("endswith(name, 'contoso')", False),
        ("contains(description, 'x')", False),
        ("contains(statecode, '0')", False),
        ("startswith(missing, '')", False),
        ("tolower(name) eq 'contoso ltd'", True),
        ("toupper(name) eq 'CONTOSO LTD'", True),
        ("trim(employees) eq '42'", True),
        ("length(name) eq 11", True),
        ("length(trim(employees)) eq 2", True),
        ("length(description) eq null", True),
        ("indexof(name, 'LTD') eq 8", True),
        ("indexof(name, 'x') eq -1", True),
        ("substring(name, 8) eq 'Ltd'", True),
        ("substring(name, 0, 7) eq 'contoso'", True),
        ("substring(name, -3, 2) eq 'co'", True),
        ("substring(name, 1.5) eq null", True),
        ("substring(name, 0, -1) eq null", True),
        ("concat(concat(name, ', '), city) eq 'Contoso Ltd, Zürich'", True),
        ("concat(name, statecode) eq null", True),
        ("contains(concat('a', 'b'), 'AB')", True),
        # arithmetic
        ("statecode add 1 eq 1", True),
        ("revenue sub 0.25 eq 1500", True),
        ("employees mul 2 eq 84", True),
        ("employees div 8 eq 5.25", True),
        ("employees mod 5 eq 2", True),
        ("statecode add 2 mul 3 eq 6", True),
        ("(statecode add 2) mul 3 eq 6", True),
        ("employees div 0 eq null", True),
        ("name add 1 eq null", True),
        ("0.1 add 0.2 eq 0.3", True),
    ],
)
def test_matches(expression: str, expected: bool) -> None:
    assert parse_filter(expression).matches(ACCOUNT) is expected


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"a": 1, "b": 0, "c": 0}, True),
        ({"a": 0, "b": 2, "c": 3}, True),
        ({"a": 0, "b": 2, "c": 0}, False),
        ({"a": 0, "b": 0, "c": 3}, False),
    ],
)
def test_and_binds_tighter_than_or(record: dict[str, Any], expected: bool) -> None:
    assert parse_filter("a eq 1 or b eq 2 and c eq 3").matches(record) is expected
    assert parse_filter("(a eq 1 or b eq 2) and c eq 3").matches(record) is (expected and record["c"] == 3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1000.5", True),
        ("1000.50", True),
        (" 1000.5\t", True),
        ("1.0005e3", True),
        (1000.5, True),
        (Decimal("1000.5"), True),
        ("1000.4", False),
        ("1,000.5", False),
        ("1_000.5", False),
        ("abc", False),
        ("", False),
        ("NaN", False),
        ("Infinity", False),
        (float("nan"), False),
        (float("inf"), False),
        (True, False),
        ([1000.5], False),
        ({"value": 1000.5}, False),
        (None, False),
    ],
)
def test_numbers_as_read_from_any_source(value: Any, expected: bool) -> None:
    assert parse_filter("amount eq 1000.5").matches({"amount": value}) is expected
    assert parse_filter("amount ne 1000.5").matches({"amount": value}) is (not expected)
    assert parse_filter("amount in (1, 1000.5)").matches({"amount": value}) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("true", True), ("True", True), ("1", True), (" TRUE ", True), (False, False), ("false", False),
     ("0", False), ("yes", False), (1, False), (None, False)],
)
def test_booleans_as_read_from_any_source(value: Any, expected: bool) -> None:
    assert parse_filter("flag eq true").matches({"flag": value}) is expected
    assert parse_filter("flag").matches({"flag": value}) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01T00:00:00Z", True),
        ("2024-01-01T00:00:00", True),
        ("2024-01-01 00:00:00", True),
        ("2024-01-01T01:00:00+01:00", True),
        ("2023-12-31T19:00:00-05:00", True),
        ("2024-01-01T00:00:00.0000000Z", True),
        ("2024-01-01", True),
        ("2024-01-01T00:00:01Z", False),
        ("2024-02-30", False),
        ("01/01/2024", False),
        ("yesterday", False),
        (20240101, False),
    ],
)
def test_datetimes_as_read_from_any_source(value: Any, expected: bool) -> None:
    assert parse_filter("modifiedon eq 2024-01-01T00:00:00Z").matches({"modifiedon": value}) is expected


@pytest.mark.parametrize(
    "record",
    [
        {},
        {"name": 12, "revenue": "lots", "createdon": 3.5, "tags": ["a"], "primarycontactid": "not a lookup"},
        {"name": ["a", "b"], "revenue": {"value": 1}, "createdon": None, "tags": object(), "primarycontactid": [1]},
        {"name": object(), "revenue": float("nan"), "createdon": "2024-99-99T99:99:99Z", "primarycontactid": {}},
    ],
)
def test_record_data_never_raises(record: dict[str, Any]) -> None:
    expression = (
        "name eq 'x' or revenue gt 1 or createdon ge 2024-01-01 or year(createdon) eq 2024 or contains(name, 'x') "
        "or substring(name, 1) eq 'x' or revenue div 0 eq 1 or primarycontactid/fullname eq 'x' or name in ('x', 1) "
        "or tags eq 'x' or length(name) gt 1 or revenue gt name"
    )
    assert parse_filter(expression).matches(record) is False


def test_two_record_values_compare_by_the_same_rules() -> None:
    parsed = parse_filter("amount eq limit and tolower(city) eq tolower(town) and created lt modified")

    assert parsed.matches({"amount": "10.0", "limit": 10, "city": "OSLO", "town": "oslo",
                           "created": "2024-01-01", "modified": "2024-01-01T00:00:01Z"})
    assert not parsed.matches({"amount": "ten", "limit": 10, "city": "OSLO", "town": "oslo",
                               "created": "2024-01-01", "modified": "2024-01-01T00:00:01Z"})


def test_a_huge_string_value() -> None:
    huge = "ä" * 1_000_000
    parsed = parse_filter(f"name eq '{huge.upper()}' and contains(motto, 'needle')")

    assert parsed.matches({"name": huge, "motto": "x" * 1_000_000 + "NEEDLE"})
    assert not parsed.matches({"name": huge[:-1], "motto": "needle"})
    assert parse_filter("length(name) eq 1000000").matches({"name": huge})


def test_a_long_expression() -> None:
    clauses = [f"code eq 'C{i}'" for i in range(200)]
    either = parse_filter(" or ".join(clauses))
    every = parse_filter(" and ".join(f"code ne 'C{i}'" for i in range(1000)))
    total = parse_filter(" add ".join(["amount"] * 500) + " eq 500")

    assert either.matches({"code": "c199"})
    assert not either.matches({"code": "C200"})
    assert every.matches({"code": "C1000"})
    assert not every.matches({"code": "C999"})
    assert total.matches({"amount": "1"})
    assert either.fields == frozenset({"code"})


def test_nesting_up_to_the_limit() -> None:
    deep = parse_filter("(" * 100 + "a eq 1" + ")" * 100)
    calls = parse_filter("tolower(" * 99 + "a" + ")" * 99 + " eq 'x'")
    negations = parse_filter("not (" * 50 + "a eq 1" + ")" * 50)

    assert deep.matches({"a": 1})
    assert calls.matches({"a": "X"})
    assert negations.matches({"a": 1})
