"""The one small interface every system kind implements.

A connector can describe an entity, read it in pages (all of it, or what changed since a
saved state), and write a batch of mapped records by business key, answering one result
per record. The sync never needs to know which kind of system it talks to.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

WriteStatus = Literal["created", "updated", "upserted", "failed"]


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: str
    max_length: int | None = None
    required: bool = False


@dataclass(frozen=True)
class EntityInfo:
    """What a system says about one entity: its fields and the keys it can be matched by."""

    entity_set: str
    logical_name: str
    primary_id: str | None
    fields: dict[str, FieldInfo]
    keys: list[list[str]]
    change_tracking: bool = False
    navigation: dict[str, str] = field(default_factory=dict)
    """Lookups by navigation property: `customerid_account` -> the lookup field `customerid`."""
    modified_field: str | None = None
    """The field the system stamps when a record changes (`modifiedon`), if the entity has one."""


class MetadataCache:
    """Entity descriptions kept for `ttl_s` seconds: metadata is slow to ask for and rarely changes.

    A connector lives as long as its process, so descriptions expire: a field added to an
    entity is seen by the next check after at most `ttl_s`.
    """

    def __init__(self, ttl_s: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._kept: dict[str, tuple[float, EntityInfo]] = {}
        self._lock = threading.Lock()

    def get(self, entity: str, describe: Callable[[str], EntityInfo]) -> EntityInfo:
        """The kept description of `entity`, or a fresh one from `describe` (then kept)."""
        with self._lock:
            kept = self._kept.get(entity)
        if kept is not None and self.clock() - kept[0] < self.ttl_s:
            return kept[1]
        info = describe(entity)
        with self._lock:
            self._kept[entity] = (self.clock(), info)
        return info


@dataclass
class ReadRequest:
    entity: str
    select: list[str] | None = None
    expand: dict[str, list[str]] = field(default_factory=dict)
    """Lookups to follow: navigation property -> fields of the record it points to."""
    filter: str | None = None
    page_size: int = 5000
    incremental: bool = False
    state: dict[str, Any] | None = None
    resume: str | None = None
    """A `Page.next` from an earlier read of the same request: continue from there."""
    company: str | None = None


@dataclass
class Page:
    """One page of source records.

    `next` is where a later read resumes after this page (None on the last page); the last
    page carries the `state` an incremental read starts from next time.
    """

    records: list[dict[str, Any]]
    deleted: list[str] = field(default_factory=list)
    next: str | None = None
    state: dict[str, Any] | None = None
    modified: list[str] | None = None
    """When each record last changed, for systems whose records do not say so themselves (files)."""


@dataclass(frozen=True)
class WriteResult:
    status: WriteStatus
    code: str | None = None
    message: str | None = None
    field: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


class Connector(ABC):
    """A system the sync reads from or writes to."""

    @abstractmethod
    def describe(self, entity: str) -> EntityInfo:
        """The fields and keys of `entity` (an entity set name)."""

    @abstractmethod
    def read_pages(self, request: ReadRequest) -> Iterator[Page]:
        """Pages of records in source order; incremental reads start from `request.state`."""

    @abstractmethod
    def write_batch(self, entity: str, key: Sequence[str], records: Sequence[dict[str, Any]]) -> list[WriteResult]:
        """Create or update `records` matched by `key`; one result per record, in order."""

    def close(self) -> None:  # noqa: B027 - most connectors hold nothing to release
        """Release pooled connections."""


class MetadataConnector(Connector):
    """A connector whose descriptions come from slow metadata requests: each is kept in a MetadataCache."""

    def __init__(self) -> None:
        self.metadata = MetadataCache()

    def describe(self, entity: str) -> EntityInfo:
        return self.metadata.get(entity, self.read_description)

    @abstractmethod
    def read_description(self, entity: str) -> EntityInfo:
        """Ask the service for the description of `entity` (the cache calls this when it has none)."""
