"""What the Dataverse and F&O connectors share as connectors: the names they take and their reads by key.

A read by keys asks for the keys in OData filters (`key eq 'a' or key eq 'b' ...`) of
`keys_per_read` keys each, so that every URL stays short, several such reads side by side,
and answers each key with the record whose key compares equal the way the system compares
(`key_identity`).
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from shared.budgets import carry_step_budget
from shared.connectors.base import MetadataConnector, Page, ReadRequest
from shared.connectors.odata import any_of
from shared.models import ODATA_FIELD_PATTERN

KEYS_PER_READ = 50
"""Keys in one filtered read: the filter travels in the URL."""
PARALLEL_READS = 4
"""Filtered reads of one read by keys in flight at once; the HTTP client bounds the connector's total."""


class ODataConnector(MetadataConnector):
    """A system reached over OData: entities and fields are OData identifiers, keys are read with filters."""

    entity_names = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
    field_names = re.compile(ODATA_FIELD_PATTERN)
    keys_per_read: ClassVar[int] = KEYS_PER_READ

    def read_pages(self, request: ReadRequest) -> Iterator[Page]:
        return self._read(request, None)

    @abstractmethod
    def _read(self, request: ReadRequest, filter: str | None) -> Iterator[Page]:
        """Pages of `request`, only the records matching the OData `filter` when there is one."""

    @abstractmethod
    def key_identity(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """What two keys that the system takes for the same one share."""

    def key_literals(self, entity: str, key_fields: Sequence[str], values: Sequence[Any]) -> list[Any] | None:
        """The values to put in a filter for one key, or None when no record can hold it (it is not asked for)."""
        return list(values)

    def read_by_keys(
        self, entity: str, key_fields: Sequence[str], keys: Sequence[Sequence[Any]],
        select: list[str] | None = None, expand: Mapping[str, list[str]] | None = None,
    ) -> list[dict[str, Any] | None]:
        asked: dict[tuple[Any, ...], list[Any]] = {}
        for values in keys:
            literals = self.key_literals(entity, key_fields, values)
            if literals is not None:
                asked.setdefault(self.key_identity(values), literals)
        unique = list(asked.values())
        chunks = [unique[start : start + self.keys_per_read] for start in range(0, len(unique), self.keys_per_read)]
        request = ReadRequest(entity=entity, select=sorted({*select, *key_fields}) if select else None,
                              expand=dict(expand or {}))

        def read(chunk: list[list[Any]]) -> list[dict[str, Any]]:
            return [record for page in self._read(request, any_of(key_fields, chunk)) for record in page.records]

        found: dict[tuple[Any, ...], dict[str, Any]] = {}
        if chunks:
            with ThreadPoolExecutor(min(PARALLEL_READS, len(chunks)), thread_name_prefix="read-by-keys") as pool:
                for records in pool.map(carry_step_budget(read), chunks):
                    found.update((self.key_identity([r.get(f) for f in key_fields]), r) for r in records)
        return [found.get(self.key_identity(values)) for values in keys]
