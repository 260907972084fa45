"""Entity descriptions are kept for a while, then asked for again."""

from __future__ import annotations

import pytest

from shared.connectors.base import EntityInfo, MetadataCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def info(entity: str, generation: int) -> EntityInfo:
    return EntityInfo(entity, entity, None, {}, [[f"key{generation}"]])


def test_a_description_is_asked_for_once_within_its_lifetime_and_again_after() -> None:
    clock, asked = Clock(), []

    def describe(entity: str) -> EntityInfo:
        asked.append(entity)
        return info(entity, len(asked))

    cache = MetadataCache(ttl_s=300, clock=clock)
    first = cache.get("accounts", describe)
    clock.now += 299
    assert cache.get("accounts", describe) is first
    assert cache.get("contacts", describe).keys == [["key2"]]
    clock.now += 2
    assert cache.get("accounts", describe).keys == [["key3"]]
    assert asked == ["accounts", "contacts", "accounts"]


def test_a_failed_description_is_not_kept() -> None:
    cache, calls = MetadataCache(clock=Clock()), []

    def describe(entity: str) -> EntityInfo:
        calls.append(entity)
        if len(calls) == 1:
            raise ConnectionError("reset by peer")
        return info(entity, 1)

    with pytest.raises(ConnectionError):
        cache.get("accounts", describe)
    assert cache.get("accounts", describe).entity_set == "accounts"
    assert calls == ["accounts", "accounts"]
