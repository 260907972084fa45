"""$filter to SQL and key literals, without a server."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.entities import load_entities
from sandbox.odata_filter import DATAVERSE, FINOPS, FilterError, compile_filter
from sandbox.odata_query import UNSAFE_KEY_CHARACTERS, QueryError, key_literal, parse_key, resolve_key

DATAVERSE_ENTITIES = load_entities("dataverse")
FINOPS_ENTITIES = load_entities("finops")


def dataverse(text: str, entity_set: str = "accounts") -> tuple[str, tuple]:
    return compile_filter(text, DATAVERSE_ENTITIES[entity_set], DATAVERSE_ENTITIES, DATAVERSE)


def finops(text: str, entity_set: str = "CustomersV3") -> tuple[str, tuple]:
    return compile_filter(text, FINOPS_ENTITIES[entity_set], FINOPS_ENTITIES, FINOPS)


@given(st.text())
def test_string_literals_become_parameters_never_sql(value):
    literal = "'" + value.replace("'", "''") + "'"
    sql, params = dataverse(f"name eq {literal}")
    assert (sql, params) == ('t."name" = ?', (value,))


def test_every_literal_kind_is_a_parameter():
    sql, params = dataverse(
        "statecode eq 0 and revenue gt 1.5 and creditonhold eq true and modifiedon ge 2024-01-01T10:00:00+02:00 "
        "and _primarycontactid_value eq 00000000-0000-0000-0000-0000000000AB and accountnumber ne null"
    )
    assert "'" not in sql and "2024" not in sql
    assert params == (0, 1.5, 1, "2024-01-01T08:00:00Z", "00000000-0000-0000-0000-0000000000ab")


def test_string_functions_are_like_patterns_with_escaping():
    assert dataverse("contains(name,'50%_off')") == ("t.\"name\" LIKE ? ESCAPE '\\'", ("%50\\%\\_off%",))
    assert dataverse("startswith(name,'A')")[1] == ("A%",)
    assert dataverse("endswith(name,'Z')")[1] == ("%Z",)


def test_navigation_paths_become_subqueries():
    sql, params = dataverse("parentcustomerid_account/name eq 'x'", "contacts")
    assert sql.startswith('(SELECT n1."name" FROM "accounts" AS n1')
    assert params == ("accounts", "x")


def test_finops_enums_and_wildcards():
    assert finops("CreditLimitIsMandatory eq Microsoft.Dynamics.DataEntities.NoYes'Yes'")[1] == ("Yes",)
    assert finops("OrganizationName eq '*Contoso*'") == ("t.\"OrganizationName\" LIKE ? ESCAPE '\\'", ("%Contoso%",))


@pytest.mark.parametrize(
    ("compile_", "text"),
    [
        (dataverse, "statecode eq '0'"),
        (dataverse, "nosuch eq 1"),
        (dataverse, "name in ('a','b')"),
        (dataverse, "tolower(name) eq 'a'"),
        (dataverse, "revenue add 1 gt 2"),
        (dataverse, "name eq"),
        (dataverse, "primarycontactid/nosuch eq 'x'"),
        (finops, "CreditLimitIsMandatory eq 'Yes'"),
        (finops, "CreditLimitIsMandatory eq Microsoft.Dynamics.DataEntities.NoYes'Maybe'"),
        (finops, "OnHoldStatus has Microsoft.Dynamics.DataEntities.CustVendorBlocked'All'"),
        (finops, "contains(OrganizationName,'x')"),
    ],
)
def test_what_the_services_refuse(compile_, text):
    with pytest.raises(FilterError):
        compile_(text)


def test_the_sql_runs_in_sqlite():
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (name TEXT COLLATE NOCASE, statecode INTEGER)")
    connection.executemany("INSERT INTO t VALUES (?, ?)", [("O'Brien", 0), ("o'brien", 1), ("Other", 0)])
    sql, params = dataverse("name eq 'O''BRIEN' and statecode eq 0")
    assert connection.execute(f"SELECT name FROM t WHERE {sql}", params).fetchall() == [("O'Brien",)]


safe_text = st.text(min_size=1).filter(lambda s: not UNSAFE_KEY_CHARACTERS & set(s))


@given(safe_text, st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_key_literals_round_trip(text, number):
    entity = DATAVERSE_ENTITIES["quotedetails"]
    predicate = parse_key(f"_quoteid_value=00000000-0000-0000-0000-000000000001,lineitemnumber={key_literal(number)}")
    assert resolve_key(entity, predicate)["lineitemnumber"] == number
    accounts = DATAVERSE_ENTITIES["accounts"]
    assert resolve_key(accounts, parse_key(f"accountnumber={key_literal(text)}")) == {"accountnumber": text}


@given(st.text(min_size=1).filter(lambda s: bool(UNSAFE_KEY_CHARACTERS & set(s))))
def test_keys_with_url_breaking_characters_are_refused(text):
    with pytest.raises(QueryError):
        parse_key(f"accountnumber={key_literal(text)}")
