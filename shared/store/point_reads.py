"""Rows read by their keys, side by side.

A point read (partition and row key) is Table Storage's cheapest lookup, whatever the size of the
partition. A filter naming several row keys joined by `or` is not: Table Storage scans the whole
partition for it. So rows whose keys are known are read one by one, READ_THREADS at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, TableEntity

READ_THREADS = 8
"""Point reads sent side by side."""


def read_rows(table: TableClient, keys: Iterable[tuple[str, str]],
              select: list[str] | None = None) -> dict[tuple[str, str], TableEntity]:
    """The rows of `keys` (partition and encoded row key), by key; keys without a row are left out."""

    def read(key: tuple[str, str]) -> tuple[tuple[str, str], TableEntity | None]:
        try:
            return key, table.get_entity(*key, select=select)
        except ResourceNotFoundError:
            return key, None

    wanted = sorted(set(keys))
    if not wanted:
        return {}
    with ThreadPoolExecutor(min(READ_THREADS, len(wanted)), thread_name_prefix="point-read") as pool:
        return {key: row for key, row in pool.map(read, wanted) if row is not None}
