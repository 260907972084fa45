"""Keys: every string encodes to a safe key, decodes back, and no two strings share a key."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shared.errors import KeyTooLong
from shared.store.keys import (
    MAX_KEY_LENGTH,
    SEPARATOR,
    decode_composite,
    decode_key,
    encode_composite,
    encode_key,
)
from tests.shared.store.awkward import AWKWARD

any_character = st.characters(exclude_categories=())
any_text = st.text(any_character, max_size=40)
part_lists = st.lists(st.text(any_character, max_size=10), min_size=1, max_size=4)
FORBIDDEN = set("/\\#?'\"") | {chr(c) for c in range(0x20)} | {chr(c) for c in range(0x7F, 0xA0)}


@given(any_text)
def test_decode_reverses_encode(value: str) -> None:
    assert decode_key(encode_key(value)) == value


@given(any_text, any_text)
def test_different_strings_get_different_keys(a: str, b: str) -> None:
    assume(a != b)
    assert encode_key(a) != encode_key(b)


@given(any_text)
def test_keys_hold_only_safe_characters(value: str) -> None:
    key = encode_key(value)
    assert not FORBIDDEN & set(key)
    assert SEPARATOR not in key
    assert key.isascii()


@given(part_lists)
def test_decode_composite_reverses_encode_composite(parts: list[str]) -> None:
    assert decode_composite(encode_composite(parts)) == parts


@given(part_lists, part_lists)
def test_different_part_lists_get_different_composite_keys(a: list[str], b: list[str]) -> None:
    assume(a != b)
    assert encode_composite(a) != encode_composite(b)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("Accounts-2024_v1.0", "Accounts-2024_v1.0"),
        ("a/b", "a~2Fb"),
        ("~", "~7E"),
        ("%", "~25"),
        ("é", "~C3~A9"),
        ("🚀", "~F0~9F~9A~80"),
        ("", ""),
    ],
)
def test_known_encodings(value: str, key: str) -> None:
    assert encode_key(value) == key


def test_awkward_names_are_all_distinct_keys() -> None:
    keys = [encode_key(name) for name in AWKWARD]
    assert len(set(keys)) == len(AWKWARD)


def test_separator_inside_a_part_does_not_split_it() -> None:
    assert encode_composite(["a!b"]) != encode_composite(["a", "b"])
    assert decode_composite(encode_composite(["a!b", "c"])) == ["a!b", "c"]


@pytest.mark.parametrize("key", ["a/b", "~2f", "~4", "~41", "~FF", "a!b"])
def test_decode_refuses_what_encode_never_makes(key: str) -> None:
    with pytest.raises(ValueError):
        decode_key(key)


def test_too_long_key_names_its_field() -> None:
    assert len(encode_key("a" * MAX_KEY_LENGTH)) == MAX_KEY_LENGTH
    with pytest.raises(KeyTooLong) as raised:
        encode_key("/" * 171, field="businessKey")
    assert raised.value.field == "businessKey"


def test_too_long_composite_names_its_field() -> None:
    with pytest.raises(KeyTooLong) as raised:
        encode_composite(["a" * 300, "b" * 300], field="runId")
    assert raised.value.field == "runId"


def test_composite_needs_a_part() -> None:
    with pytest.raises(ValueError):
        encode_composite([])
