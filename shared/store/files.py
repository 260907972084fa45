"""Files in a blob container that users import from or export to (CSV, JSON Lines)."""

from __future__ import annotations

from datetime import datetime

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContainerClient, ContentSettings

from shared.errors import NotFound


class BlobFiles:
    """The files of one container, by name."""

    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    @classmethod
    def from_url(cls, container_url: str, credential: object) -> BlobFiles:
        return cls(ContainerClient.from_container_url(container_url, credential=credential))

    def list(self, prefix: str) -> list[tuple[str, datetime]]:
        """`(name, last modified)` of every file whose name starts with `prefix`, by name."""
        try:
            blobs = [(b.name, b.last_modified) for b in self._container.list_blobs(name_starts_with=prefix)]
        except ResourceNotFoundError:
            raise NotFound(f"container {self._container.container_name!r} does not exist", field="url") from None
        return sorted(blobs)

    def read(self, name: str) -> bytes:
        try:
            return self._container.download_blob(name).readall()
        except ResourceNotFoundError:
            raise NotFound(f"no file {name!r}", field="entity") from None

    def write(self, name: str, data: bytes, content_type: str) -> None:
        """Write `name`, replacing what was there."""
        self._container.upload_blob(
            name, data, overwrite=True, content_settings=ContentSettings(content_type=content_type)
        )
