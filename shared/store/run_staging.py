"""A run's staging: what one leg of a run keeps in Blob Storage between its steps, in one place.

Under the leg's folder `{runId}/{task}/{leg}/` of the staging container (each coordinate one
encoded path segment, as in shared/store/staging.py):

    page-000001.jsonl.gz                      a page of source records; its metadata holds its state
    keys/bucket-007/from-000051.jsonl.gz      the business keys the extract step that began at page 51
                                              saw, those whose hash falls in bucket 7
    superseded/group-000002/bucket-007.json   the records of pages 65-128 that a newer record with the
                                              same key (found in bucket 7) supersedes

and, for a two-way task, under `{runId}/{task}/twoway/` (`TwoWayStaging`):

    source/bucket-007/from-000003.jsonl.gz    the source records (and tombstones) that extract step 3 of
                                              the source side read whose pair identity falls in bucket 7

A page's state is its blob's metadata: `state` is `extracted` when staged, then `loaded` (with
`written`, `skipped`, `failed`) or `failed` (with the `reason`), so anyone listing the run's
blobs with their metadata (Storage Explorer, `az storage blob list --include m`) sees which
pages are extracted, loaded or failed while the run goes on, without reading Durable history.
Every name is derived from its coordinates and every write replaces, so a step that runs
twice leaves the same blobs. The run's blobs go when the run ends (`Staging.delete_run`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import suppress
from enum import StrEnum
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContainerClient, ContentSettings

from shared.store.staging import (
    PAGE_PREFIX,
    PAGE_SUFFIX,
    delete_under,
    page_blob_name,
    read_lines,
    staging_prefix,
    write_lines,
)

SUPERSEDED_GROUP = 64
"""Pages whose superseded records share one document per bucket (a load step reads its group's)."""
TWOWAY_FOLDER = "twoway"
"""The folder of a two-way task's staging (a leg's folder is named after the leg, never this)."""
REASON_CHARS = 256
"""Characters of a failure reason a page's metadata keeps."""


class PageState(StrEnum):
    EXTRACTED = "extracted"
    LOADED = "loaded"
    FAILED = "failed"


Superseded = dict[int, dict[int, str]]
"""`{page: {row: why}}`: the staged records a newer one with the same key supersedes, and why it won."""


class RunStaging:
    """The staged blobs of one run."""

    def __init__(self, container: ContainerClient, run_id: str) -> None:
        self._container = container
        self.run_id = run_id

    def leg(self, task: str, leg: str) -> LegStaging:
        return LegStaging(self._container, self.run_id, task, leg)

    def twoway(self, task: str) -> TwoWayStaging:
        return TwoWayStaging(self._container, self.run_id, task)


class LegStaging:
    """One leg of a run: its pages and their states, its key buckets, its superseded records."""

    def __init__(self, container: ContainerClient, run_id: str, task: str, leg: str) -> None:
        self._container = container
        self._run_id, self._task, self._leg = run_id, task, leg
        self._folder = staging_prefix(run_id, task, leg)

    def clear(self) -> int:
        """Remove everything staged for the leg (its extraction starts afresh); return how many blobs went."""
        return delete_under(self._container, self._folder)

    # pages

    def write_page(self, page_no: int, records: list[dict[str, Any]]) -> None:
        """Stage `records` as page `page_no`, in state `extracted`, replacing any page staged there."""
        write_lines(self._container, self._page(page_no), records,
                    {"state": PageState.EXTRACTED.value, "records": str(len(records))})

    def read_page(self, page_no: int) -> list[dict[str, Any]]:
        """The records of page `page_no`; NotFound if it was never staged."""
        return read_lines(self._container, self._page(page_no))

    def mark_page(self, page_no: int, state: PageState, counts: Mapping[str, int] | None = None,
                  reason: str | None = None) -> None:
        """Record what became of page `page_no` on its blob (a page no longer staged is left alone)."""
        metadata = {"state": state.value, **{name: str(value) for name, value in (counts or {}).items()}}
        if reason:
            metadata["reason"] = reason.encode("ascii", "backslashreplace").decode("ascii")[:REASON_CHARS]
        with suppress(ResourceNotFoundError):
            self._container.get_blob_client(self._page(page_no)).set_blob_metadata(metadata)

    def page_states(self) -> dict[int, dict[str, str]]:
        """Every staged page of the leg by number, with its state and counts."""
        states = {}
        for blob in self._container.list_blobs(name_starts_with=self._folder + PAGE_PREFIX, include=["metadata"]):
            states[int(blob.name[len(self._folder) + len(PAGE_PREFIX):].split(".", 1)[0])] = dict(blob.metadata or {})
        return states

    def _page(self, page_no: int) -> str:
        return page_blob_name(self._run_id, self._task, self._leg, page_no)

    # key buckets

    def write_keys(self, bucket: int, first_page: int, entries: list[Any]) -> None:
        """Keep the keys in `bucket` seen by the extract step that began at `first_page` (replacing them)."""
        write_lines(self._container, f"{self._bucket(bucket)}from-{first_page:06d}{PAGE_SUFFIX}", entries)

    def read_keys(self, bucket: int) -> Iterator[Any]:
        """The keys kept in `bucket`, one extract step's at a time, in the order the steps ran."""
        for name in sorted(self._container.list_blob_names(name_starts_with=self._bucket(bucket))):
            yield from read_lines(self._container, name)

    def _bucket(self, bucket: int) -> str:
        return f"{self._folder}keys/bucket-{bucket:03d}/"

    # superseded records

    def write_superseded(self, label: str, superseded: Superseded) -> None:
        """Keep the records that `label` (a bucket, or a whole leg) found superseded, one document per group."""
        groups: dict[int, dict[str, dict[str, str]]] = {}
        for page, rows in superseded.items():
            groups.setdefault(page_group(page), {})[str(page)] = {str(row): why for row, why in rows.items()}
        for group, document in groups.items():
            self._container.upload_blob(
                f"{self._group(group)}{label}.json",
                json.dumps(document, separators=(",", ":")).encode("utf-8"),
                overwrite=True, content_settings=ContentSettings(content_type="application/json"),
            )

    def superseded_group(self, group: int) -> Superseded:
        """The superseded records of the pages of `group`, from every bucket that found some."""
        found: Superseded = {}
        for name in self._container.list_blob_names(name_starts_with=self._group(group)):
            for page, rows in json.loads(self._container.download_blob(name).readall()).items():
                found.setdefault(int(page), {}).update({int(row): why for row, why in rows.items()})
        return found

    def _group(self, group: int) -> str:
        return f"{self._folder}superseded/group-{group:06d}/"


def page_group(page_no: int) -> int:
    """The group of superseded-record documents that page `page_no` (from 1) belongs to."""
    return (page_no - 1) // SUPERSEDED_GROUP


class TwoWayStaging:
    """One two-way task of a run: each side's records, by the bucket of their pair identity.

    An extract step writes one blob to every bucket, empty or not, named after the step, so a
    step that runs again replaces all that an earlier try of it staged.
    """

    def __init__(self, container: ContainerClient, run_id: str, task: str) -> None:
        self._container = container
        self._folder = f"{staging_prefix(run_id, task)}{TWOWAY_FOLDER}/"

    def clear(self, side: str) -> int:
        """Remove everything staged for `side` (its extraction starts afresh); return how many blobs went."""
        return delete_under(self._container, f"{self._folder}{side}/")

    def write_bucket(self, side: str, bucket: int, step: int, entries: list[Any]) -> None:
        """Stage what extract step `step` of `side` read into `bucket`, replacing what an earlier try staged."""
        write_lines(self._container, f"{self._bucket(side, bucket)}from-{step:06d}{PAGE_SUFFIX}", entries)

    def read_bucket(self, side: str, bucket: int) -> Iterator[Any]:
        """What the extract steps of `side` staged in `bucket`, one step's at a time, in the order they ran."""
        for name in sorted(self._container.list_blob_names(name_starts_with=self._bucket(side, bucket))):
            yield from read_lines(self._container, name)

    def _bucket(self, side: str, bucket: int) -> str:
        return f"{self._folder}{side}/bucket-{bucket:03d}/"
