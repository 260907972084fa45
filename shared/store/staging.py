"""The staging container's run documents, and the blob layout every run's blobs share.

A run's blobs live under `{runId}/`, a leg's under `{runId}/{task}/{leg}/`, each coordinate one
encoded path segment (shared.store.keys), so a task name of any script and allowed length gives
a blob name well inside the 1,024 characters Blob Storage allows. Names are derived from their
coordinates only and every write replaces, so a step that runs twice leaves the same blobs.

    Staging                    a run's documents (its project snapshot) and the deletion of all it staged
    RunStaging / LegStaging    a leg's staged pages and their states, key buckets, superseded records
                               (shared/store/run_staging.py)
    ErrorPages                 a run's error records, one page per staged page (shared/store/error_pages.py)
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
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


class Staging:
    """The staging container, run by run: the documents a run keeps, and the deletion of everything it staged."""

    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    def write_document(self, run_id: str, name: str, document: Any) -> None:
        """Keep one JSON document of a run (its project snapshot), replacing it."""
        self._container.upload_blob(
            _document(run_id, name),
            json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
            overwrite=True,
            content_settings=ContentSettings(content_type="application/json"),
        )

    def read_document(self, run_id: str, name: str) -> Any:
        """A document kept with `write_document`; NotFound if there is none."""
        try:
            return json.loads(self._container.download_blob(_document(run_id, name)).readall())
        except ResourceNotFoundError:
            raise NotFound(f"run {run_id!r} has no document {name!r}", field="name") from None

    def delete_run(self, run_id: str) -> int:
        """Delete every page, key, document the run staged; return how many blobs were deleted."""
        return delete_under(self._container, staging_prefix(run_id))


def _document(run_id: str, name: str) -> str:
    return f"{staging_prefix(run_id)}{encode_path_segment(name)}.json"


def page_blob_name(run_id: str, task: str, leg: str, page_no: int) -> str:
    """The blob name of one page of a leg (a task name may hold spaces, slashes, any character)."""
    return f"{staging_prefix(run_id, task, leg)}{PAGE_PREFIX}{page_no:06d}{PAGE_SUFFIX}"


def is_page(name: str) -> bool:
    """Whether a blob name is a page's (not a key bucket's, a document's…)."""
    return name.rsplit("/", 1)[-1].startswith(PAGE_PREFIX) and name.endswith(PAGE_SUFFIX)


def staging_prefix(run_id: str, task: str | None = None, leg: str | None = None) -> str:
    """The folder of a run, of one task of it, or of one leg of that task (each coordinate one encoded segment)."""
    if leg is not None and task is None:
        raise ValueError("a leg is only given together with its task")
    return "".join(f"{encode_path_segment(value)}/" for value in (run_id, task, leg) if value is not None)


def delete_under(container: ContainerClient, prefix: str) -> int:
    """Delete every blob whose name starts with `prefix`, in batches; return how many were deleted."""
    names = list(container.list_blob_names(name_starts_with=prefix))
    deleted = 0
    for start in range(0, len(names), DELETE_BATCH):
        responses = container.delete_blobs(*names[start : start + DELETE_BATCH], raise_on_any_failure=False)
        deleted += sum(1 for response in responses if response.status_code == 202)
    return deleted


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
