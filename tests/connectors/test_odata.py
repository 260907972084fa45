"""OData pieces both HTTP connectors share: key literals, filters, and $batch bodies."""

from __future__ import annotations

import pytest

from shared.connectors.odata import (
    BatchOperation,
    any_of,
    batch_body,
    error_of,
    field_named,
    key_segment,
    literal,
    name_list,
    odata_name,
    parse_batch_response,
    path_segment,
    server_watermark,
)
from shared.errors import InvalidInput


def test_literals_double_quotes_and_leave_numbers_bare() -> None:
    assert literal("O'Brien") == "'O''Brien'"
    assert literal(5) == "5"
    assert literal(True) == "true"
    assert literal(None) == "null"


def test_key_segment_is_percent_encoded_but_keeps_its_shape() -> None:
    assert key_segment(["dataAreaId", "CustomerAccount"], ["usmf", "A/1 #2"]) == (
        "(dataAreaId='usmf',CustomerAccount='A%2F1%20%232')"
    )
    assert key_segment(["no"], ["O'B"]) == "(no='O''B')"


def test_any_of_builds_or_clauses_for_composite_keys() -> None:
    assert any_of(["a"], [["x"], ["y"]]) == "a eq 'x' or a eq 'y'"
    assert any_of(["c", "a"], [["u", 1]]) == "(c eq 'u' and a eq 1)"


def test_error_of_reads_both_services_shapes() -> None:
    assert error_of(400, '{"error": {"code": "0x80040237", "message": "dup"}}') == ("0x80040237", "dup")
    assert error_of(400, '{"error": {"code": "", "message": {"lang": "en", "value": "bad"}}}') == ("400", "bad")
    assert error_of(502, "<html>gateway</html>") == ("502", "<html>gateway</html>")


def test_server_watermark_is_the_server_clock_less_a_margin() -> None:
    assert server_watermark("Thu, 26 Nov 2026 03:15:00 GMT") == "2026-11-26T03:13:00Z"
    assert server_watermark(None) is None


def test_batch_body_round_trips_through_the_response_parser_shape() -> None:
    content_type, body = batch_body(
        [BatchOperation("POST", "/data/CustomersV3", {"name": "Ünï"}), BatchOperation("PATCH", "/data/X('a')", {})],
        own_change_sets=True,
    )
    text = body.decode()
    assert content_type.startswith("multipart/mixed; boundary=batch_")
    assert text.count("Content-Type: multipart/mixed; boundary=changeset_") == 2
    assert "POST /data/CustomersV3 HTTP/1.1" in text and '{"name":"Ünï"}' in text
    answer = (
        "--b1\r\nContent-Type: multipart/mixed; boundary=c1\r\n\r\n"
        "--c1\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--c1--\r\n"
        "--b1\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n"
        '{"error":{"code":"0x1","message":"too long"}}\r\n--b1--\r\n'
    )
    responses = parse_batch_response("multipart/mixed; boundary=b1", answer.encode())
    assert [r.status for r in responses] == [204, 400]
    assert error_of(responses[1].status, responses[1].body) == ("0x1", "too long")


def test_field_named_picks_the_first_quoted_field_of_the_entity() -> None:
    message = "The value 'France' in field 'AddressCountryRegionId' is not found in the relating table 'X'."
    assert field_named(message, ["AddressCountryRegionId", "X"]) == "AddressCountryRegionId"
    assert field_named("nothing quoted", ["a"]) is None


@pytest.mark.parametrize("name", ["", "a b", "a,b", "a)", "a'", "a/b", "a?b", "ä", "accounts\r\nHost: x", "1abc"])
def test_names_that_are_not_odata_identifiers_never_reach_a_request(name: str) -> None:
    for build in (path_segment, lambda n: name_list(["ok", n]), lambda n: key_segment([n], ["v"]),
                  lambda n: any_of([n], [["v"]])):
        with pytest.raises(InvalidInput):
            build(name)


def test_odata_identifiers_pass_as_they_are() -> None:
    assert path_segment("CustomersV3") == "CustomersV3"
    assert name_list(["_parentaccountid_value", "name"]) == "_parentaccountid_value,name"
    assert odata_name("dataAreaId", "key") == "dataAreaId"


def test_a_batch_request_line_cannot_be_broken_by_its_url() -> None:
    _, body = batch_body([BatchOperation("POST", "/data/Customers V3\r\nHost: evil.example", {"a": 1})], True)
    text = body.decode()
    assert "POST /data/Customers%20V3%0D%0AHost:%20evil.example HTTP/1.1" in text
    assert "\r\nHost: evil.example" not in text
