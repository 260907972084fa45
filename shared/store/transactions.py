"""Table Storage writes cut into entity-group transactions: one partition, at most 100 operations, 4 MiB a request."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

TRANSACTION_ROWS = 100
"""The most operations Table Storage takes in one entity-group transaction."""
TRANSACTION_BYTES = 3_000_000
"""What one transaction's rows may add up to, with room to spare under the 4 MiB of a request."""

RESENDABLE = {"retry_on_methods": frozenset({"HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE", "POST"})}
"""Keyword arguments of `submit_transaction` that send a transaction again when its connection drops before the
answer (the SDK sends a POST once, as it may not be safe twice). Only for transactions that are safe twice: upserts
leave the same rows, and a create or delete that the first sending applied fails the second with a conflict or a
not-found the caller already handles."""

Operation = TypeVar("Operation", bound=tuple[Any, ...])
"""An operation as `TableClient.submit_transaction` takes it: `(kind, row, ...)`."""


def transactions(operations: Iterable[Operation]) -> Iterator[list[Operation]]:
    """The operations (all of one partition) in chunks that Table Storage takes as one transaction each."""
    chunk: list[Operation] = []
    taken = 0
    for operation in operations:
        weight = row_bytes(operation[1])
        if chunk and (len(chunk) == TRANSACTION_ROWS or taken + weight > TRANSACTION_BYTES):
            yield chunk
            chunk, taken = [], 0
        chunk.append(operation)
        taken += weight
    if chunk:
        yield chunk


def row_bytes(row: Mapping[str, Any]) -> int:
    """About what a row weighs on the wire (its values in UTF-16, and the property names and types around them)."""
    return sum(len(str(value)) * 2 for value in row.values()) + 512
