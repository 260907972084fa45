"""Text values of any size in table rows: inline, split across properties, or in a blob.

A Table Storage string property holds at most 32,000 characters. Longer values are split
across numbered properties (`Input`, `Input_1`, …) up to 45 KB; beyond that, where Durable
moves its messages to blobs, a value is gzipped into a blob and the row keeps its name
(`InputBlob`). Blob names derive from the value's hash, so writing a value twice uploads it
once.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from typing import Any

from azure.storage.blob import ContainerClient

MAX_PROPERTY_CHARS = 32_000
MAX_INLINE_BYTES = 45 * 1024


class LargeValues:
    """Packs values into row properties and unpacks them, using one blob container; thread-safe."""

    def __init__(self, container: ContainerClient) -> None:
        self._container = container
        self._uploaded: set[str] = set()
        self._lock = threading.Lock()

    def pack(self, folder: str, name: str, text: str | None) -> dict[str, str]:
        """The properties holding `text` as `name`; a blob, when needed, goes under `folder/`."""
        if text is None:
            return {}
        if len(text) <= MAX_PROPERTY_CHARS:
            return {name: text}
        if len(text.encode()) <= MAX_INLINE_BYTES:
            chunks = [text[i:i + MAX_PROPERTY_CHARS] for i in range(0, len(text), MAX_PROPERTY_CHARS)]
            return {name: chunks[0], **{f"{name}_{i}": chunk for i, chunk in enumerate(chunks[1:], start=1)}}
        blob = f"{folder}/{name}-{hashlib.sha256(text.encode()).hexdigest()[:32]}.json.gz"
        with self._lock:
            uploaded = blob in self._uploaded
        if not uploaded:
            self._container.upload_blob(blob, gzip.compress(text.encode()), overwrite=True)
            with self._lock:
                self._uploaded.add(blob)
        return {f"{name}Blob": blob}

    def unpack(self, row: dict[str, Any], name: str) -> str | None:
        """The value `pack` stored as `name` in `row`, or None."""
        if f"{name}Blob" in row:
            return gzip.decompress(self._container.download_blob(row[f"{name}Blob"]).readall()).decode()
        if name not in row:
            return None
        parts, index = [row[name]], 1
        while f"{name}_{index}" in row:
            parts.append(row[f"{name}_{index}"])
            index += 1
        return "".join(parts)

    def blobs(self, folder: str) -> list[str]:
        """The names of the blobs under `folder/`."""
        return [blob.name for blob in self._container.list_blobs(name_starts_with=folder + "/")]

    def delete(self, folder: str) -> None:
        """Delete every blob under `folder/`."""
        for blob in self.blobs(folder):
            self._container.delete_blob(blob)
