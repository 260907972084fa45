"""Compiled mappings: copies, dotted paths, constants, business-key skips, failed fields."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from shared.errors import InvalidInput
from shared.mapping import Failed, MappedRecord, Skipped, compile_mapping
from shared.models import FieldMapping

MAPPINGS = TypeAdapter(list[FieldMapping])


def mapping(json_text: str, key: list[str]):
    return compile_mapping(MAPPINGS.validate_json(json_text), key)


ACCOUNTS = mapping(
    """[
    {"source": "accountnumber", "target": "accountnumber"},
    {"source": "name", "target": "name"},
    {"source": "address1_country", "target": "address1_country",
     "transforms": [{"transformType": "ValueMap", "valueMap": {"us": "US", "usa": "US",
                     "united States of America": "US", "germany": "DE", "": "US"}}]},
    {"target": "customertypecode", "transforms": [{"transformType": "Default", "defaultValue": "Organization"}]},
    {"source": "primarycontactid.fullname", "target": "contactname"},
    {"source": "industry", "target": "industry",
     "transforms": [{"transformType": "Default", "defaultValue": "Other"}]}
    ]""",
    ["accountnumber"],
)


def test_maps_a_record() -> None:
    outcome = ACCOUNTS(
        {
            "accountnumber": "A-1",
            "name": "Contoso",
            "address1_country": "United States of America ",
            "primarycontactid": {"fullname": "Ada Lovelace"},
            "industry": " ",
            "ignored": "x",
        }
    )
    assert outcome == MappedRecord(
        ("A-1",),
        {
            "accountnumber": "A-1",
            "name": "Contoso",
            "address1_country": "US",
            "customertypecode": "Organization",
            "contactname": "Ada Lovelace",
            "industry": "Other",
        },
    )


def test_unknown_country_passes_through_and_missing_values_are_none() -> None:
    outcome = ACCOUNTS({"accountnumber": "A-2", "address1_country": "Narnia"})
    assert isinstance(outcome, MappedRecord)
    assert outcome.values["address1_country"] == "Narnia"
    assert outcome.values["name"] is None
    assert outcome.values["contactname"] is None


def test_blank_country_takes_the_blank_entry() -> None:
    outcome = ACCOUNTS({"accountnumber": "A-3", "address1_country": None})
    assert isinstance(outcome, MappedRecord)
    assert outcome.values["address1_country"] == "US"


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"])
def test_missing_or_blank_business_key_is_skipped(value: str | None) -> None:
    assert ACCOUNTS({"accountnumber": value, "name": "No number"}) == Skipped("missing-business-key")
    assert ACCOUNTS({"name": "No number at all"}) == Skipped("missing-business-key")


def test_composite_key_needs_every_part() -> None:
    customers = mapping(
        """[{"source": "accountnumber", "target": "CustomerAccount"},
            {"target": "dataAreaId", "transforms": [{"transformType": "Default", "defaultValue": "USMF"}]}]""",
        ["dataAreaId", "CustomerAccount"],
    )
    assert customers({"accountnumber": "C-9"}) == MappedRecord(
        ("USMF", "C-9"), {"CustomerAccount": "C-9", "dataAreaId": "USMF"}
    )
    assert customers({"accountnumber": " "}) == Skipped("missing-business-key")


def test_key_reached_through_a_transform_is_not_skipped() -> None:
    keyed = mapping(
        '[{"source": "code", "target": "code", "transforms": [{"transformType": "Default", "defaultValue": "X"}]}]',
        ["code"],
    )
    assert keyed({}) == MappedRecord(("X",), {"code": "X"})


def test_dotted_paths_reach_into_nested_objects_lists_and_literal_annotation_keys() -> None:
    nested = mapping(
        """[{"source": "id", "target": "id"},
            {"source": "parent.owner.name", "target": "owner"},
            {"source": "lines.1.sku", "target": "second_sku"},
            {"source": "_parentaccountid_value@OData.Community.Display.V1.FormattedValue", "target": "parent"}]""",
        ["id"],
    )
    outcome = nested(
        {
            "id": 1,
            "parent": {"owner": {"name": "Grace"}},
            "lines": [{"sku": "a"}, {"sku": "b"}],
            "_parentaccountid_value@OData.Community.Display.V1.FormattedValue": "Fabrikam",
        }
    )
    assert isinstance(outcome, MappedRecord)
    assert outcome.values == {"id": 1, "owner": "Grace", "second_sku": "b", "parent": "Fabrikam"}
    missing = nested({"id": 2, "parent": "not an object", "lines": []})
    assert isinstance(missing, MappedRecord)
    assert missing.values["owner"] is None
    assert missing.values["second_sku"] is None


def test_value_map_error_fails_the_record_naming_the_field() -> None:
    strict = mapping(
        """[{"source": "n", "target": "n"},
            {"source": "c", "target": "country",
             "transforms": [{"transformType": "ValueMap", "valueMap": {"us": "US"}, "onUnmapped": "error"}]}]""",
        ["n"],
    )
    outcome = strict({"n": "1", "c": "Narnia"})
    assert isinstance(outcome, Failed)
    assert outcome.field == "country"
    assert "Narnia" in outcome.message
    assert strict({"n": "2", "c": "US"}) == MappedRecord(("2",), {"n": "2", "country": "US"})


def test_unicode_and_huge_values_pass_unchanged() -> None:
    huge = "ü" * 200_000
    outcome = ACCOUNTS({"accountnumber": "Ä-✓-😀", "name": huge})
    assert isinstance(outcome, MappedRecord)
    assert outcome.key == ("Ä-✓-😀",)
    assert outcome.values["name"] == huge


def test_business_key_must_be_a_mapped_target() -> None:
    with pytest.raises(InvalidInput, match="accountnumber"):
        mapping('[{"source": "name", "target": "name"}]', ["accountnumber"])


def test_constant_that_cannot_be_computed_is_a_compile_error() -> None:
    with pytest.raises(InvalidInput, match="flag"):
        mapping(
            """[{"source": "n", "target": "n"},
                {"target": "flag", "transforms": [{"transformType": "ValueMap", "valueMap": {"a": "b"},
                                                   "onUnmapped": "error"}]}]""",
            ["n"],
        )


def test_fixed_values_fill_unmapped_targets_only() -> None:
    fields = MAPPINGS.validate_json('[{"source": "no", "target": "CustomerAccount"}]')
    with_company = compile_mapping(fields, ["dataAreaId", "CustomerAccount"], fixed={"dataAreaId": "usmf"})
    assert with_company({"no": "C-1"}) == MappedRecord(("usmf", "C-1"), {"CustomerAccount": "C-1", "dataAreaId": "usmf"})
    mapped_company = MAPPINGS.validate_json(
        '[{"source": "no", "target": "CustomerAccount"}, {"source": "co", "target": "dataAreaId"}]'
    )
    own = compile_mapping(mapped_company, ["dataAreaId", "CustomerAccount"], fixed={"dataAreaId": "usmf"})
    assert own({"no": "C-1", "co": "usrt"}) == MappedRecord(("usrt", "C-1"), {"CustomerAccount": "C-1", "dataAreaId": "usrt"})
