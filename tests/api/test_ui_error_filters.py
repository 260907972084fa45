"""`GET /api/runs/{runId}/errors?task=&leg=&field=&code=`: the filters the dashboard's error list uses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from api.responses import store
from shared.models import Run
from tests.api.conftest import Api

RUN = "r-errors-1"


def error(task: str, leg: str, n: int, field: str | None, code: str) -> dict[str, Any]:
    return {"runId": RUN, "task": task, "leg": leg, "businessKey": {"accountnumber": f"A-{n:05d}"}, "field": field,
            "code": code, "message": f"record {n} refused", "record": {"accountnumber": f"A-{n:05d}", "n": n}}


@pytest.fixture
def errors(api: Api) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    repo = store()
    repo.runs.create(Run(runId=RUN, projectId="p1", createdTime=now, lastUpdatedTime=now))
    written: list[dict[str, Any]] = []
    for page, (task, leg) in enumerate([("Accounts", "sourceToCds"), ("Accounts", "cdsToDestination"),
                                        ("Contacts ✓", "sourceToCds")], start=1):
        records = [error(task, leg, 100 * page + n, "name" if n % 2 else "address1_country",
                         "0x80040237" if n % 3 else "ValueMap") for n in range(90)]
        repo.errors.write_page(RUN, task, leg, page, records)
        written += records
    return written


def listed(api: Api, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        answer = api("list_errors", "GET", f"runs/{RUN}/errors", route={"runId": RUN}, params=params)
        assert answer.status == 200, answer.body
        found += answer.body["value"]
        if not answer.body["continuationToken"]:
            return found
        params = {**params, "continuationToken": answer.body["continuationToken"]}


@pytest.mark.parametrize("wanted", [
    {}, {"task": "Accounts"}, {"task": "Contacts ✓"}, {"leg": "cdsToDestination"}, {"field": "name"},
    {"code": "ValueMap"}, {"task": "Accounts", "leg": "sourceToCds", "field": "name", "code": "0x80040237"},
    {"task": "Nobody"}, {"task": "Accounts", "leg": ""},
])
def test_filters_keep_exactly_the_matching_records_across_pages(api: Api, errors, wanted: dict[str, str]) -> None:
    expected = [e for e in errors if all(e[k] == v for k, v in wanted.items() if v)]
    found = listed(api, **wanted)
    assert len(found) == len(expected)
    assert sorted(found, key=lambda e: e["record"]["n"]) == expected


@pytest.mark.parametrize(("params", "field"), [
    ({"leg": "sideways"}, "leg"), ({"task": "t" * 129}, "task"), ({"code": "c" * 257}, "code"),
    ({"field": "f" * 257}, "field"),
])
def test_a_bad_filter_is_a_400_naming_it(api: Api, errors, params: dict[str, str], field: str) -> None:
    answer = api("list_errors", "GET", f"runs/{RUN}/errors", route={"runId": RUN}, params=params)
    assert answer.status == 400 and answer.mimetype == "application/problem+json"
    assert [e["field"] for e in answer.body["errors"]] == [field]
