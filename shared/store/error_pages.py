"""A run's error records in the errors container, one gzip JSON Lines page per staged page they came from.

    {runId}/{task}/{leg}/page-000003.jsonl.gz    the error records of page 3 of that leg

They outlive the run (`GET /api/runs/{id}/errors` reads them, a `failedOnly` run reads its
records again from them) and go with their project. A load step that runs again replaces
its page's errors, or removes them when none are left.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContainerClient

from shared.store.staging import delete_under, is_page, page_blob_name, read_lines, staging_prefix, write_lines


class ErrorPages:
    """The error records of runs, by run, task, leg and page."""

    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    def write_page(self, run_id: str, task: str, leg: str, page_no: int, records: list[dict[str, Any]]) -> str:
        """Keep the error records of one page, replacing those kept before; return the page's blob name."""
        name = page_blob_name(run_id, task, leg, page_no)
        write_lines(self._container, name, records)
        return name

    def read_page(self, blob_name: str) -> list[dict[str, Any]]:
        """The error records of a page listed by `list_pages`; NotFound if there is no such page."""
        return read_lines(self._container, blob_name)

    def delete_page(self, run_id: str, task: str, leg: str, page_no: int) -> None:
        """Remove the error records of one page, if there are any."""
        with suppress(ResourceNotFoundError):
            self._container.delete_blob(page_blob_name(run_id, task, leg, page_no))

    def list_pages(self, run_id: str, task: str | None = None, leg: str | None = None) -> list[str]:
        """The blob names of the error pages of a run, or of one task of it, or of one leg of that task; sorted."""
        prefix = staging_prefix(run_id, task, leg)
        return sorted(name for name in self._container.list_blob_names(name_starts_with=prefix) if is_page(name))

    def delete_run(self, run_id: str) -> int:
        """Delete every error page of a run; return how many were deleted."""
        return delete_under(self._container, staging_prefix(run_id))
