"""Default and ValueMap, from the exact JSON a user pastes."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.mapping import TransformError, compile_transforms
from shared.models import Transform

TRANSFORMS = TypeAdapter(list[Transform])


def compiled(json_text: str):
    return compile_transforms(TRANSFORMS.validate_json(json_text))


COUNTRY_MAP = (
    '[{"transformType":"ValueMap","valueMap":{"us":"US","usa":"US",'
    '"united States of America":"US","germany":"DE","deu":"DE"}}]'
)


def test_seed_default_json_fills_missing_null_and_blank() -> None:
    fill = compiled('[{"transformType":"Default","defaultValue":"Organization"}]')
    assert fill(None) == "Organization"
    assert fill("") == "Organization"
    assert fill("   \t") == "Organization"
    assert fill("Person") == "Person"
    assert fill(0) == 0
    assert fill(False) is False


def test_seed_value_map_json_matches_case_insensitively_after_trimming() -> None:
    country = compiled(COUNTRY_MAP)
    assert country("United States of America ") == "US"
    assert country("  UNITED STATES OF AMERICA") == "US"
    assert country("germany") == "DE"
    assert country("Deu") == "DE"
    assert country("us") == "US"


def test_value_map_passes_unknown_values_through_unchanged() -> None:
    country = compiled(COUNTRY_MAP)
    assert country("Narnia") == "Narnia"
    assert country(" Narnia ") == " Narnia "
    assert country(None) is None
    assert country(42) == 42


def test_value_map_repeated_values_give_the_same_answer() -> None:
    country = compiled(COUNTRY_MAP)
    assert [country(v) for v in ["usa", "Narnia", "usa", "Narnia"]] == ["US", "Narnia", "US", "Narnia"]


def test_value_map_blank_key_maps_missing_and_blank_values() -> None:
    country = compiled('[{"transformType":"ValueMap","valueMap":{"":"US","deu":"DE"}}]')
    assert country(None) == "US"
    assert country("  ") == "US"
    assert country("DEU") == "DE"


def test_value_map_non_string_values_match_their_text() -> None:
    status = compiled('[{"transformType":"ValueMap","valueMap":{"0":"Active","1":"Inactive","true":"Yes"}}]')
    assert status(0) == "Active"
    assert status(1) == "Inactive"
    assert status(True) == "Yes"


def test_value_map_unmapped_default_and_error() -> None:
    to_default = compiled(
        '[{"transformType":"ValueMap","valueMap":{"us":"US"},"onUnmapped":"default","defaultValue":"ZZ"}]'
    )
    assert to_default("Narnia") == "ZZ"
    assert to_default("US ") == "US"
    strict = compiled('[{"transformType":"ValueMap","valueMap":{"us":"US"},"onUnmapped":"error"}]')
    assert strict("us") == "US"
    with pytest.raises(TransformError, match="Narnia"):
        strict("Narnia")


def test_transforms_run_in_order() -> None:
    default_then_map = compiled(
        '[{"transformType":"Default","defaultValue":"usa"},'
        '{"transformType":"ValueMap","valueMap":{"usa":"US"}}]'
    )
    assert default_then_map(None) == "US"
    map_then_default = compiled(
        '[{"transformType":"ValueMap","valueMap":{"x":""}},{"transformType":"Default","defaultValue":"D"}]'
    )
    assert map_then_default("X") == "D"
    three = compiled(
        '[{"transformType":"Default","defaultValue":"a"},{"transformType":"ValueMap","valueMap":{"a":"b"}},'
        '{"transformType":"ValueMap","valueMap":{"b":"c"}}]'
    )
    assert three("") == "c"


@pytest.mark.parametrize(
    ("json_text", "field"),
    [
        ('[{"transformType":"Upcase"}]', "0"),
        ('[{"transformType":"Default","defaultValue":"x","colour":"red"}]', "colour"),
        ('[{"defaultValue":"x"}]', "0"),
        ('[{"transformType":"ValueMap"}]', "valueMap"),
        ('[{"transformType":"ValueMap","valueMap":{"a":"1"},"onUnmapped":"sometimes"}]', "onUnmapped"),
        ('[{"transformType":"ValueMap","valueMap":{"a":"1"},"onUnmapped":"default"}]', "0"),
        ('[{"transformType":"ValueMap","valueMap":{"usa":"US"," USA":"US"}}]', "0"),
    ],
)
def test_invalid_transforms_are_errors_naming_the_field(json_text: str, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        TRANSFORMS.validate_json(json_text)
    locations = [".".join(str(p) for p in error["loc"]) for error in info.value.errors()]
    assert any(field in loc for loc in locations), locations
