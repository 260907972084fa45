"""How a baseline keeps values and compares later ones: JSON terms, unicode, hashes past the threshold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.twoway.values import STORED_CHARS, compact, equal, hashed, is_hash, same, shown, stored

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
HUGE = st.text(min_size=STORED_CHARS + 1, max_size=STORED_CHARS + 40)


def test_values_compare_in_json_terms() -> None:
    assert equal(1, 1.0) and equal({"a": 1, "b": [2]}, {"b": [2.0], "a": 1})
    assert not equal(True, 1) and not equal(False, 0) and not equal("1", 1) and not equal(None, "")
    assert not equal("Straße", "STRASSE") and not equal("a ", "a")


def test_a_short_value_is_kept_as_itself_and_a_long_one_as_its_hash() -> None:
    assert stored("Zoë, Ωmega ✓") == "Zoë, Ωmega ✓" and stored(2.0) == 2 and stored((1, "x")) == [1, "x"]
    long = "é" * STORED_CHARS
    kept = stored(long)
    assert is_hash(kept) and len(kept["sha256"]) == 64 and shown(kept) is None
    assert same(long, kept) and not same(long[:-1] + "e", kept) and not same("é", kept)
    assert len(compact("é" * (STORED_CHARS - 2))) == STORED_CHARS and stored("é" * (STORED_CHARS - 2)) == "é" * 1022


def test_a_value_that_is_not_json_equals_nothing_read_from_a_system() -> None:
    class Reference:
        def __repr__(self) -> str:
            return "Reference(accounts)"

    assert not equal(Reference(), None) and not equal(Reference(), "accounts") and same(Reference(), stored(Reference()))


@given(JSON)
def test_a_value_is_the_same_as_what_was_kept_of_it(value: object) -> None:
    assert same(value, stored(value))
    assert compact(stored(value)) == compact(value) or is_hash(stored(value))


@given(JSON, JSON)
def test_two_values_are_the_same_as_kept_exactly_when_equal(first: object, second: object) -> None:
    assert same(first, stored(second)) == equal(first, second)


@given(HUGE, HUGE)
def test_huge_values_compare_by_hash_as_they_would_by_value(first: str, second: str) -> None:
    assert is_hash(stored(first))
    assert same(first, stored(second)) == (first == second)


def test_values_kept_as_hashes_to_fit_a_column_still_compare() -> None:
    kept = {"short": stored("a"), "long": stored("x" * 900), "number": stored(7)}
    fitted = hashed(kept, 400)
    assert is_hash(fitted["long"]) and fitted["short"] == "a"
    assert same("x" * 900, fitted["long"]) and not same("x" * 899, fitted["long"])
    assert hashed(kept, 100_000) == kept
    assert same("a", {"sha256": hashed({"v": "a"}, 0)["v"]["sha256"]})
