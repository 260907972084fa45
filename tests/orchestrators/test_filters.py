"""Task filters end to end: evaluated on every record read, counted as skipped (filtered), checked on save."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from azure.storage.blob import BlobServiceClient

from tests.orchestrators.conftest import assert_balanced, create_project, seed, sync_now
from tests.orchestrators.test_sync_project import account

FILTER = "statecode eq 0 and not startswith(name, 'old ')"


def cds_project(name: str, source: str, entity: str, filter_: str, mappings: list[dict[str, Any]]) -> dict[str, Any]:
    task = {"name": "Accounts", "source": {"entity": entity, "key": ["accountnumber"], "filter": filter_},
            "cds": {"entity": "accounts", "key": ["accountnumber"]}, "sourceToCds": mappings}
    return {"name": name, "connections": {"source": source, "cds": "cds"}, "tasks": [task]}


COPY = [{"source": "accountnumber", "target": "accountnumber"}, {"source": "name", "target": "name"}]


def leg_of(run: dict[str, Any]) -> dict[str, Any]:
    return run["tasks"][0]["legs"][0]


def test_a_dataverse_filter_skips_what_it_leaves_out_and_counts_it(clean) -> None:
    twin = clean
    records = [account(n, statecode=n % 3 % 2, name=("Old " if n % 5 == 0 else "Zürich ") + str(n))
               for n in range(60)]
    seed(twin, "sales", "accounts", records)
    create_project(twin, cds_project("filtered", "sales", "accounts", FILTER, COPY))

    run = sync_now(twin, "filtered")

    kept = {r["accountnumber"] for r in records if r["statecode"] == 0 and not r["name"].startswith("Old ")}
    assert_balanced(run)
    leg = leg_of(run)
    assert (leg["read"], leg["written"], leg["skipped"]) == (60, len(kept), 60 - len(kept))
    assert leg["skippedReasons"] == {"filtered": 60 - len(kept)}
    assert {r["accountnumber"] for r in twin.records("cds", "accounts")} == kept

    first_kept = sorted(kept)[0]
    first_left_out = next(r for r in records if r["accountnumber"] not in kept and r["statecode"] == 1)
    sales = twin.systems["sales"].url
    for number, state in ((first_kept, 1), (first_left_out["accountnumber"], 0)):
        answer = requests.patch(f"{sales}/api/data/v9.2/accounts(accountnumber='{number}')",
                                json={"statecode": state, "name": f"Changed {number}"}, timeout=10)
        assert answer.status_code == 204, answer.text

    again = sync_now(twin, "filtered", mode="incremental")

    leg = leg_of(again)
    assert (leg["read"], leg["written"], leg["skippedReasons"]) == (2, 1, {"filtered": 1})
    names = {r["accountnumber"]: r["name"] for r in twin.records("cds", "accounts")}
    assert names[first_left_out["accountnumber"]] == f"Changed {first_left_out['accountnumber']}"
    assert names[first_kept] != f"Changed {first_kept}", "a record that no longer matches is left as it was"


def test_a_filter_on_blob_files_is_evaluated_on_their_text_values(clean) -> None:
    twin = clean
    container = "imports" + uuid.uuid4().hex[:8]
    blobs = BlobServiceClient.from_connection_string(twin.storage).get_container_client(container)
    blobs.create_container()
    rows = ["accountnumber,name,revenue", "F-1,Big,1500", "F-2,Small,999.5", "F-3,Exact,1000.00",
            "F-4,Blank,", "F-5,Words,a lot", "F-6,O'Brien,2000", "F-7,Zürich AG, 10000.0 "]
    blobs.upload_blob("accounts.csv", ("\n".join(rows) + "\n").encode())
    assert twin.api("PUT", "connections/files", json={"kind": "blob", "url": blobs.url,
                                                     "auth": {"type": "none"}}).status_code in (200, 201)
    create_project(twin, cds_project("files", "files", "accounts.csv",
                                     "revenue ge 1000 and name ne 'O''Brien'", COPY))

    run = sync_now(twin, "files")

    assert_balanced(run)
    leg = leg_of(run)
    assert (leg["read"], leg["written"], leg["skippedReasons"]) == (7, 3, {"filtered": 4})
    assert sorted(r["accountnumber"] for r in twin.records("cds", "accounts")) == ["F-1", "F-3", "F-7"]


def test_a_filter_is_checked_on_save_and_a_bad_one_changes_nothing(clean) -> None:
    twin = clean
    bad = cds_project("checked", "sales", "accounts", "statecode eq 0 and nosuchfield gt 3", COPY)
    answer = twin.api("POST", "projects", json={"consent": {"accepted": True, "acceptedBy": "a@b.example",
                                                            "noticeVersion": "1"}, **bad})
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["errors"][0]["field"] == "tasks.0.source.filter"
    assert "'nosuchfield'" in problem["errors"][0]["message"]
    assert twin.api("GET", "projects/checked").status_code == 404

    malformed = cds_project("checked", "sales", "accounts", "statecode eq 0 and (name eq 'x'", COPY)
    answer = twin.api("POST", "projects", json={"consent": {"accepted": True, "acceptedBy": "a@b.example",
                                                            "noticeVersion": "1"}, **malformed})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "tasks.0.source.filter"
    assert twin.api("GET", "projects/checked").status_code == 404

    created = create_project(twin, cds_project("checked", "sales", "accounts", "statecode eq 0", COPY))
    etag = twin.api("GET", "projects/checked").headers["ETag"]
    changed = {**created, "tasks": [{**created["tasks"][0], "source": {**created["tasks"][0]["source"],
                                                                       "filter": "revenue gt 'x' or Name eq 1"}}]}
    answer = twin.api("PUT", "projects/checked", json=changed, headers={"If-Match": etag})
    assert answer.status_code == 400, answer.text
    assert "'Name'" in answer.json()["errors"][0]["message"]
    after = twin.api("GET", "projects/checked")
    assert after.headers["ETag"] == etag
    assert after.json()["tasks"][0]["source"]["filter"] == "statecode eq 0"
