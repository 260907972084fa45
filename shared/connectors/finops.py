"""Finance & Operations (Dynamics 365 for Operations) over OData at `/data/`.

A connector is scoped to one company (`scoped`, the project's companyCode): its reads ask
with `cross-company=true` and a `dataAreaId` filter, and every record it is given to write
carries that `dataAreaId` (`fixed_values`). Keys compare case-insensitively. F&O targets
take no ids this service chooses, so they are matched by business key, never by key map.
F&O has no upsert: a write first finds which keys exist, in bulk, then sends one `$batch` in
which every record is its own change set — PATCH for existing keys, POST for new ones — so a
bad record fails alone. A delete finds which keys exist the same way and DELETEs those by key
in one such `$batch`; a key no record holds is deleted already. Incremental reads use a
`ModifiedDateTime` watermark taken from the server's clock when the read began. Every
request, including the links the service hands back, stays on the connection's origin.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from shared.connectors.base import EntityInfo, FieldInfo, Page, ReadRequest, WriteResult, WriteStatus
from shared.connectors.odata import (
    BatchOperation,
    error_of,
    field_named,
    key_segment,
    literal,
    name_list,
    path_segment,
    send_batch,
    server_watermark,
)
from shared.connectors.odata_connector import ODataConnector
from shared.errors import InvalidInput, NotFound, SystemRefused
from shared.http import HttpClient, json_body

DATA_PATH = "/data/"
MAX_PAGE_SIZE = 10_000
BATCH_SIZE = 500
KEYS_PER_READ = 40
"""Keys per filtered read: an OR of this many keys (each with its company) keeps the URL short."""
COMPANY_FIELD = "dataAreaId"
WATERMARK_FIELD = "ModifiedDateTime"
UNADDRESSABLE = frozenset("/\\#%&*:<>?+")
"""Characters F&O's web server refuses in a request path, so a key holding one cannot be PATCHed."""
_JSON = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}


class FinOpsConnector(ODataConnector):
    takes_chosen_ids = False
    keys_per_read = KEYS_PER_READ

    def __init__(self, url: str, http: HttpClient, batch_size: int = BATCH_SIZE) -> None:
        self.root = url.rstrip("/") + DATA_PATH
        http.confine_to(url)
        self.http = http
        self.batch_size = batch_size
        self.company: str | None = None
        """The company (`dataAreaId`, lower-cased) the connector reads and writes; None until scoped."""
        super().__init__()

    @classmethod
    def scope_problem(cls, company: str | None) -> str | None:
        return None if company else "an F&O system holds several companies: set companyCode"

    def scoped(self, company: str | None) -> FinOpsConnector:
        """A view of this connector confined to `company`: the same session, throttle and metadata cache."""
        return self if not company else self._view(company.lower())

    def _view(self, company: str | None) -> FinOpsConnector:
        if company == self.company:
            return self
        view = copy.copy(self)
        view.company = company
        return view

    @property
    def fixed_values(self) -> Mapping[str, Any]:
        return {COMPANY_FIELD: self.company} if self.company else super().fixed_values

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
        if self.company is None:
            raise InvalidInput("an F&O read needs the project's companyCode", field="companyCode")
        return super().read_pages(request)

    def _read(self, request: ReadRequest, filter: str | None) -> Iterator[Page]:
        """Pages of the scope's company (of every company when unscoped: reads by keys naming theirs)."""
        if request.expand:
            raise InvalidInput("F&O sources are read without lookups: map plain fields", field="source")
        if request.resume:
            cursor = json.loads(request.resume)
            url, params, since = cursor["link"], None, cursor.get("since")
        else:
            url, params, since = self.root + path_segment(request.entity), self._query(request, filter), None
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

    def _query(self, request: ReadRequest, filter: str | None) -> dict[str, str]:
        clauses = [f"{COMPANY_FIELD} eq {literal(self.company)}"] if self.company else []
        if filter:
            clauses.append(f"({filter})")
        watermark = (request.state or {}).get("watermark") if request.incremental else None
        if watermark:
            clauses.append(f"{WATERMARK_FIELD} gt {watermark}")
        params = {"cross-company": "true"}
        if clauses:
            params["$filter"] = " and ".join(clauses)
        if request.select:
            params["$select"] = name_list(sorted({*request.select, COMPANY_FIELD}))
        return params

    def key_identity(self, values: Sequence[Any]) -> tuple[Any, ...]:
        return _identity(values)

    def write_batch(self, entity: str, key: Sequence[str], records: Sequence[dict[str, Any]]) -> list[WriteResult]:
        if COMPANY_FIELD not in key:
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
        """The keys of `records` that exist, in whichever company each names (a key holds its `dataAreaId`)."""
        keys = [[record.get(k) for k in key] for record in records]
        found = self._view(None).read_by_keys(entity, key, keys, select=list(key))
        return {_identity(values) for values, record in zip(keys, found, strict=True) if record is not None}

    def _write_chunk(
        self, entity: str, key: Sequence[str], records: Sequence[dict[str, Any]], existing: set[tuple[str, ...]]
    ) -> list[WriteResult]:
        planned: list[WriteResult | _Planned] = []
        for record in records:
            values = [record.get(k) for k in key]
            if _identity(values) in existing:
                planned.append(_unaddressable(values, "updated") or _Planned(
                    BatchOperation("PATCH", _record_url(entity, key, values), record), "updated"))
            else:
                operation = BatchOperation("POST", f"{DATA_PATH}{path_segment(entity)}", record)
                planned.append(_Planned(operation, "created"))
        return self._send(entity, planned)

    def delete_by_keys(
        self, entity: str, key_fields: Sequence[str], keys: Sequence[Sequence[Any]]
    ) -> list[WriteResult]:
        """Delete each existing key's record (found in bulk first); a key no record holds is deleted already."""
        if COMPANY_FIELD not in key_fields:
            raise InvalidInput(f"an F&O key must include dataAreaId (got {list(key_fields)})", field="key")
        results: list[WriteResult] = []
        for start in range(0, len(keys), self.batch_size):
            chunk = keys[start : start + self.batch_size]
            existing = self._existing_keys(entity, key_fields, [dict(zip(key_fields, v, strict=True)) for v in chunk])
            planned: list[WriteResult | _Planned] = [
                WriteResult("deleted") if _identity(values) not in existing
                else _unaddressable(values, "deleted")
                or _Planned(BatchOperation("DELETE", _record_url(entity, key_fields, values)), "deleted")
                for values in chunk
            ]
            results.extend(self._send(entity, planned))
        return results

    def _send(self, entity: str, planned: Sequence[WriteResult | _Planned]) -> list[WriteResult]:
        """One `$batch` of the planned operations, each its own change set; results in order, settled ones kept.

        A delete answered 404 found the record gone already: deleted, as asked.
        """
        sending = [plan for plan in planned if isinstance(plan, _Planned)]
        if not sending:
            return [plan for plan in planned if isinstance(plan, WriteResult)]
        answers = iter(send_batch(
            self.http, self.root + "$batch", [plan.operation for plan in sending], True,
            lambda status, text: _raise_for_status(status, text, entity),
        ))
        results = []
        for plan in planned:
            if isinstance(plan, WriteResult):
                results.append(plan)
                continue
            answer = next(answers)
            if answer.status < 300 or (answer.status == 404 and plan.status == "deleted"):
                results.append(WriteResult(plan.status))
            else:
                code, message = error_of(answer.status, answer.body)
                results.append(WriteResult("failed", code, message))
        return results


@dataclass(frozen=True)
class _Planned:
    """An operation to send, and the status its success answers."""

    operation: BatchOperation
    status: WriteStatus


def _record_url(entity: str, key: Sequence[str], values: Sequence[Any]) -> str:
    return f"{DATA_PATH}{path_segment(entity)}{key_segment(key, values)}?cross-company=true"


def _unaddressable(values: Sequence[Any], action: Literal["updated", "deleted"]) -> WriteResult | None:
    """The refusal of an existing record whose key F&O cannot take in a request URL, if its key is such."""
    unsafe = sorted({c for v in values for c in str(v) if c in UNADDRESSABLE})
    if not unsafe:
        return None
    return WriteResult(
        "failed", "UnaddressableKey",
        f"the key {list(values)} holds {''.join(unsafe)!r}, which F&O refuses in a request URL: "
        f"the existing record cannot be {action} over OData",
    )


def _identity(values: Sequence[Any]) -> tuple[str, ...]:
    """F&O compares keys case-insensitively."""
    return tuple(str(v).casefold() for v in values)


def _raise_for_status(status: int, text: str, entity: str) -> None:
    if status < 300:
        return
    code, message = error_of(status, text)
    if status == 404:
        raise NotFound(f"F&O has no entity set {entity!r}: {message}", field="entity")
    raise SystemRefused(f"F&O answered {status} ({code}) for {entity!r}: {message}", field="entity")
