"""Staged pages of records: gzip JSON Lines blobs under `{runId}/{task}/{leg}/page-NNNNNN.jsonl.gz`.

Blob names are derived from their coordinates only, and writing a page overwrites it, so an
extract activity that runs twice leaves the same blobs. Each coordinate is one encoded path
segment (shared.store.keys), so a task name of any script and allowed length gives a blob
name well inside the 1,024 characters Blob Storage allows.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from contextlib import suppress
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContainerClient, ContentSettings
from pydantic_core import from_json, to_json

from shared.errors import NotFound
from shared.store.keys import encode_path_segment

PAGE_PREFIX = "page-"
PAGE_SUFFIX = ".jsonl.gz"
DELETE_BATCH = 256
"""The most blobs one batch request may delete."""


def page_blob_name(run_id: str, task: str, leg: str, page_no: int) -> str:
    """The blob name of one staged page (a task name may hold spaces, slashes, any character)."""
    return f"{staging_prefix(run_id, task, leg)}{PAGE_PREFIX}{page_no:06d}{PAGE_SUFFIX}"


class Staging:
    """The staging container: pages of source records on their way to a target."""

    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    def write_page(self, run_id: str, task: str, leg: str, page_no: int, records: list[dict[str, Any]]) -> str:
        """Stage `records` as one page, replacing any page already staged there; return its blob name."""
        name = page_blob_name(run_id, task, leg, page_no)
        write_lines(self._container, name, records)
        return name

    def read_page(self, blob_name: str) -> list[dict[str, Any]]:
        """The records of a staged page; NotFound if there is no such page."""
        return read_lines(self._container, blob_name)

    def delete_page(self, run_id: str, task: str, leg: str, page_no: int) -> None:
        """Remove one page if it exists."""
        with suppress(ResourceNotFoundError):
            self._container.delete_blob(page_blob_name(run_id, task, leg, page_no))

    def write_document(self, run_id: str, name: str, document: Any) -> None:
        """Keep one JSON document of a run (its project snapshot, its duplicate index…), replacing it."""
        self._container.upload_blob(
            f"{staging_prefix(run_id)}{encode_path_segment(name)}.json",
            json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
            overwrite=True,
            content_settings=ContentSettings(content_type="application/json"),
        )

    def read_document(self, run_id: str, name: str) -> Any:
        """A document kept with `write_document`; NotFound if there is none."""
        blob = f"{staging_prefix(run_id)}{encode_path_segment(name)}.json"
        try:
            return json.loads(self._container.download_blob(blob).readall())
        except ResourceNotFoundError:
            raise NotFound(f"run {run_id!r} has no document {name!r}", field="name") from None

    def list_pages(self, run_id: str, task: str | None = None, leg: str | None = None) -> list[str]:
        """The blob names of the pages staged for a run, or one task of it, or one leg of that task; sorted."""
        if leg is not None and task is None:
            raise ValueError("a leg is only given together with its task")
        return sorted(name for name in self._names(staging_prefix(run_id, task, leg)) if _is_page(name))

    def delete_run(self, run_id: str) -> int:
        """Delete every page and document kept for a run; return how many blobs were deleted."""
        names = list(self._names(staging_prefix(run_id)))
        deleted = 0
        for start in range(0, len(names), DELETE_BATCH):
            responses = self._container.delete_blobs(*names[start : start + DELETE_BATCH], raise_on_any_failure=False)
            deleted += sum(1 for response in responses if response.status_code == 202)
        return deleted

    def _names(self, prefix: str) -> Iterable[str]:
        return self._container.list_blob_names(name_starts_with=prefix)


def write_lines(
    container: ContainerClient, name: str, lines: Iterable[Any], metadata: dict[str, str] | None = None
) -> None:
    """Write `lines` as one gzip JSON Lines blob called `name`, replacing any blob of that name."""
    data = b"".join(to_json(line) + b"\n" for line in lines)
    container.upload_blob(
        name, gzip.compress(data, compresslevel=1, mtime=0), overwrite=True, metadata=metadata,
        content_settings=ContentSettings(content_type="application/gzip"),
    )


def read_lines(container: ContainerClient, name: str) -> list[Any]:
    """The lines of a gzip JSON Lines blob; NotFound if there is no such blob."""
    try:
        data = container.download_blob(name).readall()
    except ResourceNotFoundError:
        raise NotFound(f"no staged blob {name!r}", field="blobName") from None
    # split on b"\n" only: a JSON line escapes its newlines, and str.splitlines would also cut at U+2028
    return [from_json(line) for line in gzip.decompress(data).split(b"\n") if line]


def _is_page(name: str) -> bool:
    return name.rsplit("/", 1)[-1].startswith(PAGE_PREFIX) and name.endswith(PAGE_SUFFIX)


def staging_prefix(run_id: str, task: str | None = None, leg: str | None = None) -> str:
    """The folder of a run, of one task of it, or of one leg of that task (each coordinate one encoded segment)."""
    return "".join(f"{encode_path_segment(value)}/" for value in (run_id, task, leg) if value is not None)
