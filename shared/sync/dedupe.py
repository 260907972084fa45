"""Which staged records are superseded by a later record with the same business key.

Runs once per leg after extraction, over the small key pages (`{leg}.keys`): the index holds
one entry per distinct key. The answer is kept as a run document that each load step reads
once. When a leg was extracted in one step, that step indexes the keys it staged itself
(`superseded_rows` and `keep_duplicates`), and this step is not needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.mapping import LatestByKey
from shared.store import Store

PAGE_PREFIX = "page-"
KeyPage = tuple[int, list[dict[str, Any]]]
"""A page number and its keys: `[{"r": row in the page, "k": the key's identity}]`."""


def keys_leg(leg: str) -> str:
    """Where the keys of a leg's staged pages are staged."""
    return f"{leg}.keys"


def duplicates_document(task: str, leg: str) -> str:
    return f"duplicates {task} {leg}"


def superseded_rows(pages: Iterable[KeyPage]) -> dict[str, list[int]]:
    """`{page: [rows]}` of the records that a later record with the same key supersedes (any page order)."""
    latest = LatestByKey()
    superseded: dict[str, list[int]] = {}
    for page_no, entries in pages:
        for entry in entries:
            lost = latest.offer(tuple(entry["k"]), (page_no, entry["r"]))
            if lost is not None:
                superseded.setdefault(str(lost[0]), []).append(lost[1])
    return superseded


def keep_duplicates(store: Store, run_id: str, task: str, leg: str, superseded: dict[str, list[int]]) -> int:
    """Keep the leg's superseded rows for the load steps; return how many records they are."""
    store.staging.write_document(run_id, duplicates_document(task, leg), superseded)
    return sum(len(rows) for rows in superseded.values())


def find_duplicates(store: Store, run_id: str, task: str, leg: str) -> dict[str, Any]:
    """Index the leg's staged keys, keep `{page: [rows]}` of superseded records; return how many there are."""
    names = store.staging.list_pages(run_id, task, keys_leg(leg))
    pages = ((_page_no(name), store.staging.read_page(name)) for name in names)
    return {"duplicates": keep_duplicates(store, run_id, task, leg, superseded_rows(pages))}


def _page_no(blob_name: str) -> int:
    return int(blob_name.rsplit("/", 1)[1].removeprefix(PAGE_PREFIX).split(".", 1)[0])
