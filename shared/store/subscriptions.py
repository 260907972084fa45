"""Run subscriptions (the connector's "When a run finishes" trigger): one entity each, in one partition.

A subscription's callback URL carries the caller's signature (`sig=`), so the record holds it
only encrypted (`callback`, a Fernet token made by shared/subscriptions.py): nothing readable
from the table reaches the receiver.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient

from shared.errors import NotFound
from shared.models import Name, Strict
from shared.store.documents import document_properties, load_document

_PARTITION = "subscription"

RunEnd = Literal["Succeeded", "Warning", "Failed"]
"""The final statuses of a run a subscriber can ask to hear about."""


class Subscription(Strict):
    """Who to call when a run of `projects` (None: any project) ends with one of `on`."""

    id: str
    projects: list[Name] | None = None
    on: list[RunEnd]
    createdAt: datetime
    callback: str
    """The callback URL, encrypted."""

    def wants(self, project: str, status: str) -> bool:
        return status in self.on and (self.projects is None or project in self.projects)


class SubscriptionRepository:
    """The subscriptions by id; ids are random, so knowing one is what lets a caller delete it."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def add(self, subscription: Subscription) -> None:
        entity = {
            "PartitionKey": _PARTITION,
            "RowKey": subscription.id,
            **document_properties(subscription, field="body"),
        }
        self._table.create_entity(entity)

    def get(self, subscription_id: str) -> Subscription:
        """The subscription `subscription_id`; NotFound if there is none."""
        try:
            entity = self._table.get_entity(_PARTITION, subscription_id)
        except ResourceNotFoundError:
            raise _not_found(subscription_id) from None
        return load_document(entity, Subscription)

    def list(self) -> list[Subscription]:
        entities = self._table.query_entities("PartitionKey eq @pk", parameters={"pk": _PARTITION})
        return [load_document(entity, Subscription) for entity in entities]

    def delete(self, subscription_id: str) -> None:
        """Forget `subscription_id`; NotFound if there is none."""
        self.get(subscription_id)
        self._table.delete_entity(_PARTITION, subscription_id)


def _not_found(subscription_id: str) -> NotFound:
    return NotFound(f"no subscription {subscription_id!r}", field="id")
