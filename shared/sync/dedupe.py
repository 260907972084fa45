"""Which staged records are superseded by a later record with the same business key.

Runs once per leg after extraction, over the small key pages: the index holds one entry per
distinct key. The answer is kept as a run document that each load step reads once.
"""

from __future__ import annotations

from typing import Any

from shared.mapping import LatestByKey
from shared.store import Store
from shared.sync.extract import keys_leg

PAGE_PREFIX = "page-"


def duplicates_document(task: str, leg: str) -> str:
    return f"duplicates {task} {leg}"


def find_duplicates(store: Store, run_id: str, task: str, leg: str) -> dict[str, Any]:
    """Index the leg's keys, keep `{page: [rows]}` of superseded records; return how many there are."""
    latest = LatestByKey()
    superseded: dict[str, list[int]] = {}
    for name in store.staging.list_pages(run_id, task, keys_leg(leg)):
        page_no = _page_no(name)
        for entry in store.staging.read_page(name):
            lost = latest.offer(tuple(entry["k"]), (page_no, entry["r"]))
            if lost is not None:
                superseded.setdefault(str(lost[0]), []).append(lost[1])
    store.staging.write_document(run_id, duplicates_document(task, leg), superseded)
    return {"duplicates": sum(len(rows) for rows in superseded.values())}


def _page_no(blob_name: str) -> int:
    return int(blob_name.rsplit("/", 1)[1].removeprefix(PAGE_PREFIX).split(".", 1)[0])
