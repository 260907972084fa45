"""Keys: every string of any length encodes to a safe key that fits, decodes back while unshortened, and no
two strings share a key."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shared.store.keys import (
    MAX_KEY_LENGTH,
    SEPARATOR,
    SHORTENED,
    decode_composite,
    decode_key,
    encode_composite,
    encode_key,
    encode_path_segment,
)
from tests.shared.store.awkward import AWKWARD

any_character = st.characters(exclude_categories=())
any_text = st.text(any_character, max_size=40)
part_lists = st.lists(st.text(any_character, max_size=10), min_size=1, max_size=4)
long_text = st.text(any_character, min_size=50, max_size=300)
"""Up to 12 encoded characters each: long enough to need shortening, or just short enough not to."""
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


def test_a_key_that_fits_is_kept_whole() -> None:
    assert encode_key("a" * MAX_KEY_LENGTH) == "a" * MAX_KEY_LENGTH
    assert encode_composite(["a" * 255, "b" * 256]) == "a" * 255 + SEPARATOR + "b" * 256


@pytest.mark.parametrize("name", ["表" * 128, "🚀" * 128, "\ud800" * 128, "/" * 600, "a" * (MAX_KEY_LENGTH + 1)])
def test_a_long_name_is_shortened_to_a_readable_prefix_and_a_digest(name: str) -> None:
    key = encode_key(name)
    assert len(key) <= MAX_KEY_LENGTH
    prefix, digest = key.split(SHORTENED)
    assert prefix and decode_key(prefix) == name[: len(decode_key(prefix))]
    assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")
    with pytest.raises(ValueError):
        decode_key(key)


@given(long_text, long_text)
def test_long_strings_never_share_a_key(a: str, b: str) -> None:
    assume(a != b)
    assert encode_key(a) != encode_key(b)
    assert encode_composite(["project", a, "sourceToCds"]) != encode_composite(["project", b, "sourceToCds"])


@given(long_text)
def test_long_strings_fit_and_hold_only_safe_characters(value: str) -> None:
    for key in (encode_key(value), encode_composite([value, value]), encode_path_segment(value)):
        assert len(key) <= MAX_KEY_LENGTH
        assert not FORBIDDEN & set(key)
        assert key.isascii()
    assert SEPARATOR not in encode_key(value)


def test_a_shortened_key_never_equals_a_whole_one() -> None:
    shortened = encode_key("é" * 100)
    assert SHORTENED in shortened
    assert all(SHORTENED not in encode_key(name) for name in AWKWARD)


@pytest.mark.parametrize(
    ("value", "segment"),
    [("Accounts", "Accounts"), (".", "~2E"), ("..", "~2E~2E"), ("Acc.", "Acc~2E"), (".a.b", ".a.b"), ("a/b", "a~2Fb")],
)
def test_path_segments_never_end_with_a_dot(value: str, segment: str) -> None:
    assert encode_path_segment(value) == segment


@given(any_text, any_text)
def test_different_strings_get_different_path_segments(a: str, b: str) -> None:
    assume(a != b)
    assert encode_path_segment(a) != encode_path_segment(b)


def test_composite_needs_a_part() -> None:
    with pytest.raises(ValueError):
        encode_composite([])
