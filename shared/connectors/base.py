"""The one small interface every system kind implements.

A connector can describe an entity, read it in pages (all of it, or what changed since a
saved state), read the records holding given keys, write a batch of mapped records by
business key and delete records by business key, answering one result per record. What
differs between kinds of systems is said by the connector too: the names it takes, the scope
it applies (an F&O company) and the values that scope writes with every record, and whether
its targets can take ids this service chooses. The sync never needs to know which kind of system it talks to.
"""

from __future__ import annotations

import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal

WriteStatus = Literal["created", "updated", "upserted", "deleted", "failed"]
"""`deleted` also answers a delete of a key no record holds: what the caller asked for is so."""


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
    """A system the sync reads from or writes to.

    Subclasses implement one method per role (describe, read pages, read by keys, write a
    batch, delete by keys) and say, in class attributes, what their kind of system allows.
    """

    entity_names: ClassVar[re.Pattern[str] | None] = None
    """The entity names this kind of system takes (None: any name a definition allows, such as a path)."""
    field_names: ClassVar[re.Pattern[str] | None] = None
    """The field names this kind of system takes (None: any name a definition allows, such as a file header)."""
    takes_chosen_ids: ClassVar[bool] = True
    """Whether a target can be created with an id this service chooses (what matching by key map needs)."""

    @abstractmethod
    def describe(self, entity: str) -> EntityInfo:
        """The fields and keys of `entity` (an entity set name)."""

    @abstractmethod
    def read_pages(self, request: ReadRequest) -> Iterator[Page]:
        """Pages of records in source order; incremental reads start from `request.state`."""

    @abstractmethod
    def read_by_keys(
        self, entity: str, key_fields: Sequence[str], keys: Sequence[Sequence[Any]],
        select: list[str] | None = None, expand: Mapping[str, list[str]] | None = None,
    ) -> list[dict[str, Any] | None]:
        """The record holding each of `keys` (values of `key_fields`, in order), or None; one answer per key.

        Keys compare as the system compares them (case, surrounding spaces); `select` and
        `expand` say what to read as in a ReadRequest.
        """

    @abstractmethod
    def write_batch(self, entity: str, key: Sequence[str], records: Sequence[dict[str, Any]]) -> list[WriteResult]:
        """Create or update `records` matched by `key`; one result per record, in order."""

    @abstractmethod
    def delete_by_keys(
        self, entity: str, key_fields: Sequence[str], keys: Sequence[Sequence[Any]]
    ) -> list[WriteResult]:
        """Delete the record holding each of `keys` (values of `key_fields`); one result per key, in order.

        Keys compare as in `read_by_keys`. A key no record holds is `deleted` too: deleting
        again after a lost answer must succeed.
        """

    @classmethod
    def scope_problem(cls, company: str | None) -> str | None:
        """Why a project with this `company` (its companyCode) cannot use this kind of system, if it cannot."""
        return None

    def scoped(self, company: str | None) -> Connector:
        """This connector confined to `company`, for systems that hold several (others: itself).

        A scoped connector shares its session, its token cache and its throttle with this one.
        """
        return self

    @property
    def fixed_values(self) -> Mapping[str, Any]:
        """Values written with every record, those of the connector's scope (`dataAreaId` of a company)."""
        return _NO_VALUES

    def close(self) -> None:  # noqa: B027 - most connectors hold nothing to release
        """Release pooled connections."""


_NO_VALUES: Mapping[str, Any] = MappingProxyType({})


class MetadataConnector(Connector):
    """A connector whose descriptions come from slow metadata requests: each is kept in a MetadataCache."""

    def __init__(self) -> None:
        self.metadata = MetadataCache()

    def describe(self, entity: str) -> EntityInfo:
        return self.metadata.get(entity, self.read_description)

    @abstractmethod
    def read_description(self, entity: str) -> EntityInfo:
        """Ask the service for the description of `entity` (the cache calls this when it has none)."""
