"""Finance & Operations (Dynamics 365 for Operations) over OData at `/data/`.

Every read is scoped to one company (`cross-company=true` with a `dataAreaId` filter). F&O
has no upsert: a write first finds which keys exist, in bulk, then sends one `$batch` in
which every record is its own change set — PATCH for existing keys, POST for new ones — so a
bad record fails alone. Incremental reads use a `ModifiedDateTime` watermark taken from the
server's clock when the read began. Every request, including the links the service hands
back, stays on the connection's origin.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from shared.connectors.base import EntityInfo, FieldInfo, MetadataConnector, Page, ReadRequest, WriteResult
from shared.connectors.odata import (
    BatchOperation,
    any_of,
    error_of,
    field_named,
    key_segment,
    literal,
    name_list,
    path_segment,
    send_batch,
    server_watermark,
)
from shared.errors import InvalidInput, NotFound
from shared.http import HttpClient, json_body

DATA_PATH = "/data/"
MAX_PAGE_SIZE = 10_000
BATCH_SIZE = 500
LOOKUP_SIZE = 40
"""Keys per existence query: an OR of this many keys keeps the URL short."""
WATERMARK_FIELD = "ModifiedDateTime"
UNADDRESSABLE = frozenset("/\\#%&*:<>?+")
"""Characters F&O's web server refuses in a request path, so a key holding one cannot be PATCHed."""
_JSON = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}


class FinOpsConnector(MetadataConnector):
    def __init__(self, url: str, http: HttpClient, batch_size: int = BATCH_SIZE) -> None:
        self.root = url.rstrip("/") + DATA_PATH
        http.confine_to(url)
        self.http = http
        self.batch_size = batch_size
        super().__init__()

    def read_description(self, entity: str) -> EntityInfo:
        """From `/Metadata/PublicEntities`: the entity's fields, which are mandatory, and its key."""
        response = self.http.send(
            "GET", self.root.removesuffix("data/") + "Metadata/PublicEntities",
            params={"$filter": f"EntitySetName eq {literal(entity)}"}, headers=_JSON,
        )
        _raise_for_status(response.status_code, response.text, entity)
        found = [d for d in response.json().get("value", []) if d.get("EntitySetName") == entity]
        if not found:
            raise NotFound(f"F&O has no entity set {entity!r}", field="entity")
        properties = found[0].get("Properties", [])
        fields = {
            p["Name"]: FieldInfo(p["Name"], p.get("DataType", ""), p.get("MaxLength"), bool(p.get("IsMandatory")))
            for p in properties
        }
        keys = [[p["Name"] for p in properties if p.get("IsKey")]]
        return EntityInfo(entity, found[0].get("Name", entity), None, fields, keys, change_tracking=False,
                          modified_field=WATERMARK_FIELD if WATERMARK_FIELD in fields else None)

    def read_pages(self, request: ReadRequest) -> Iterator[Page]:
        if request.company is None:
            raise InvalidInput("an F&O read needs the project's companyCode", field="companyCode")
        if request.expand:
            raise InvalidInput("F&O sources are read without lookups: map plain fields", field="source")
        if request.resume:
            cursor = json.loads(request.resume)
            url, params, since = cursor["link"], None, cursor.get("since")
        else:
            url, params, since = self.root + path_segment(request.entity), self._query(request), None
        headers = {**_JSON, "Prefer": f"odata.maxpagesize={min(request.page_size, MAX_PAGE_SIZE)}"}
        while True:
            response = self.http.send("GET", url, params=params, headers=headers)
            _raise_for_status(response.status_code, response.text, request.entity)
            since = since or server_watermark(response.headers.get("Date"))
            body = json_body(response)
            records = body.get("value", [])
            next_link = body.get("@odata.nextLink")
            if next_link:
                yield Page(records=records, next=json.dumps({"link": next_link, "since": since}))
                url, params = next_link, None
                continue
            yield Page(records=records, state={"watermark": since} if since else None)
            return

    def _query(self, request: ReadRequest) -> dict[str, str]:
        clauses = [f"dataAreaId eq {literal(request.company)}"]
        if request.filter:
            clauses.append(f"({request.filter})")
        watermark = (request.state or {}).get("watermark") if request.incremental else None
        if watermark:
            clauses.append(f"{WATERMARK_FIELD} gt {watermark}")
        params = {"cross-company": "true", "$filter": " and ".join(clauses)}
        if request.select:
            params["$select"] = name_list(sorted({*request.select, "dataAreaId"}))
        return params

    def write_batch(self, entity: str, key: Sequence[str], records: Sequence[dict[str, Any]]) -> list[WriteResult]:
        if "dataAreaId" not in key:
            raise InvalidInput(f"an F&O key must include dataAreaId (got {list(key)})", field="key")
        results: list[WriteResult] = []
        for start in range(0, len(records), self.batch_size):
            chunk = records[start : start + self.batch_size]
            existing = self._existing_keys(entity, key, chunk)
            results.extend(self._write_chunk(entity, key, chunk, existing))
        fields = self.describe(entity).fields
        return [
            WriteResult(r.status, r.code, r.message, field_named(r.message or "", fields)) if not r.ok else r
            for r in results
        ]

    def _existing_keys(
        self, entity: str, key: Sequence[str], records: Sequence[dict[str, Any]]
    ) -> set[tuple[str, ...]]:
        wanted: dict[tuple[str, ...], list[Any]] = {}
        for record in records:
            values = [record.get(k) for k in key]
            wanted.setdefault(_identity(values), values)
        unique = list(wanted.values())
        found: set[tuple[str, ...]] = set()
        for start in range(0, len(unique), LOOKUP_SIZE):
            keys = unique[start : start + LOOKUP_SIZE]
            params = {"cross-company": "true", "$select": ",".join(key), "$filter": any_of(key, keys)}
            url: str | None = self.root + entity
            while url:
                response = self.http.send("GET", url, params=params, headers=_JSON)
                _raise_for_status(response.status_code, response.text, entity)
                body = response.json()
                found.update(_identity([row.get(k) for k in key]) for row in body.get("value", []))
                url, params = body.get("@odata.nextLink"), None
        return found

    def _write_chunk(
        self, entity: str, key: Sequence[str], records: Sequence[dict[str, Any]], existing: set[tuple[str, ...]]
    ) -> list[WriteResult]:
        operations, statuses = [], []
        refused: dict[int, WriteResult] = {}
        for index, record in enumerate(records):
            values = [record.get(k) for k in key]
            if _identity(values) in existing:
                unsafe = sorted({c for v in values for c in str(v) if c in UNADDRESSABLE})
                if unsafe:
                    refused[index] = WriteResult(
                        "failed", "UnaddressableKey",
                        f"the key {values} holds {''.join(unsafe)!r}, which F&O refuses in a request URL: "
                        "the existing record cannot be updated over OData",
                    )
                    continue
                url = f"{DATA_PATH}{path_segment(entity)}{key_segment(key, values)}?cross-company=true"
                operations.append(BatchOperation("PATCH", url, record))
                statuses.append("updated")
            else:
                operations.append(BatchOperation("POST", f"{DATA_PATH}{path_segment(entity)}", record))
                statuses.append("created")
        if not operations:
            return [refused[i] for i in range(len(records))]
        answers = send_batch(
            self.http, self.root + "$batch", operations, True,
            lambda status, text: _raise_for_status(status, text, entity),
        )
        sent = iter(zip(answers, statuses, strict=True))
        results = []
        for index in range(len(records)):
            if index in refused:
                results.append(refused[index])
                continue
            answer, status = next(sent)
            if answer.status < 300:
                results.append(WriteResult(status))  # type: ignore[arg-type]
            else:
                code, message = error_of(answer.status, answer.body)
                results.append(WriteResult("failed", code, message))
        return results


def _identity(values: Sequence[Any]) -> tuple[str, ...]:
    """F&O compares keys case-insensitively."""
    return tuple(str(v).casefold() for v in values)


def _raise_for_status(status: int, text: str, entity: str) -> None:
    if status < 300:
        return
    code, message = error_of(status, text)
    if status == 404:
        raise NotFound(f"F&O has no entity set {entity!r}: {message}", field="entity")
    raise InvalidInput(f"F&O answered {status} ({code}) for {entity!r}: {message}", field="entity")
