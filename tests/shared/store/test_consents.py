"""Consent records in real tables: appended, listed oldest first, never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.models import ConsentRecord
from shared.store import Store

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def record(project: str = "accounts", *, minutes: int = 0, by: str = "admin@contoso.com") -> ConsentRecord:
    return ConsentRecord.model_validate(
        {
            "project": project,
            "acceptedBy": by,
            "acceptedAt": (START + timedelta(minutes=minutes)).isoformat(),
            "noticeVersion": "2024-01",
            "systems": ["sales", "cds", "operations"],
            "dataResidency": {"from": "West Europe", "to": "East US"},
            "definitionHash": "sha256:0f3a",
        }
    )


def test_records_come_back_oldest_first(store: Store) -> None:
    later, earlier, latest = record(minutes=5), record(minutes=-30, by="Zoë Ünal"), record(minutes=60 * 24 * 400)
    for each in (later, earlier, latest):
        store.consents.append(each)
    assert store.consents.list("accounts") == [earlier, later, latest]


def test_two_consents_at_the_same_instant_are_both_kept(store: Store) -> None:
    store.consents.append(record(by="first@contoso.com"))
    store.consents.append(record(by="second@contoso.com"))
    assert sorted(r.acceptedBy for r in store.consents.list("accounts")) == ["first@contoso.com", "second@contoso.com"]


def test_appending_the_same_record_again_adds_nothing(store: Store) -> None:
    store.consents.append(record())
    store.consents.append(record())
    assert store.consents.list("accounts") == [record()]


def test_projects_keep_their_own_records(store: Store) -> None:
    store.consents.append(record("accounts"))
    store.consents.append(record("orders"))
    assert store.consents.list("orders") == [record("orders")]
    assert store.consents.list("x' or PartitionKey ne '") == []


def test_the_residency_alias_survives_the_round_trip(store: Store) -> None:
    store.consents.append(record())
    (kept,) = store.consents.list("accounts")
    assert kept.dataResidency is not None
    assert kept.dataResidency.from_ == "West Europe"
