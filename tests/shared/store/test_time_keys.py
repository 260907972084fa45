"""Time keys sort as the instants they come from, either way round."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from shared.store.time_keys import ascending_time_key, descending_time_key

instants = st.datetimes(timezones=st.just(UTC))


@given(instants, instants)
def test_keys_sort_like_instants(a: datetime, b: datetime) -> None:
    assert (ascending_time_key(a) < ascending_time_key(b)) == (a < b)
    assert (descending_time_key(a) < descending_time_key(b)) == (a > b)


def test_keys_have_one_width() -> None:
    assert len(ascending_time_key(datetime(1, 1, 1, tzinfo=UTC))) == len(ascending_time_key(datetime(9999, 1, 1)))


def test_same_instant_in_another_zone_or_naive_utc_gives_the_same_key() -> None:
    utc = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert ascending_time_key(utc) == ascending_time_key(utc.astimezone(timezone(timedelta(hours=2))))
    assert descending_time_key(utc) == descending_time_key(utc.replace(tzinfo=None))
