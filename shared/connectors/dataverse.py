"""Dataverse (CDS, Dynamics 365 for Sales) over its Web API.

Reads follow `@odata.nextLink` with `Prefer: odata.maxpagesize`. Incremental reads use change
tracking (a delta link) where the entity has it and the read needs no `$filter` or `$expand`,
else a `modifiedon` watermark taken from the server's clock when the read began. Writes go in bulk
with `UpsertMultiple`, several bulks of one batch in flight at once (the service's time for a
request grows with its records, so smaller bulks side by side finish sooner); when a bulk
request fails, its records are sent again in one `$batch` with `continue-on-error`, one
single-record `UpsertMultiple` each, so the bad records fail alone and the good ones land.
Keys travel in request bodies, never in key URLs, so values with `/ ? # % +` work; for the
same reason a delete finds each key's record id with a read by keys and deletes by id (in
`$batch`es with `continue-on-error`), which also works for key fields that are no alternate
key. Reads by key compare text keys trimmed and case-insensitively, as the service does.
Every request, including the links the service hands back, stays on the connection's origin.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shared.budgets import carry_step_budget
from shared.connectors.base import EntityInfo, FieldInfo, Page, ReadRequest, WriteResult
from shared.connectors.odata import (
    BatchOperation,
    Guid,
    error_of,
    field_named,
    key_segment,
    literal,
    name_list,
    odata_name,
    path_segment,
    send_batch,
    server_watermark,
)
from shared.connectors.odata_connector import ODataConnector
from shared.errors import NotFound, SystemRefused
from shared.http import HttpClient, json_body

API_PATH = "/api/data/v9.2/"
MAX_PAGE_SIZE = 5000
MODIFIED_ON = "modifiedon"
BULK_SIZE = 250
"""Most records in one UpsertMultiple request (the service takes up to 1,000)."""
MIN_BULK_SIZE = 100
"""Fewest records a batch is split down to: smaller bulks would spend the service-protection request
budget (6,000 requests in 5 minutes) faster than they save time."""
PARALLEL_BULKS = 4
"""Bulk requests of one batch in flight at once; the HTTP client bounds the connector's total."""
DELETES_PER_BATCH = 500
"""Operations in one delete `$batch` (the service takes up to 1,000)."""
MAX_KEY_LENGTH = 900
"""An alternate key holds at most 900 bytes: a longer value matches nothing, so it is not asked for."""


class DataverseConnector(ODataConnector):
    def __init__(
        self, url: str, http: HttpClient, bulk_size: int = BULK_SIZE, parallel_bulks: int = PARALLEL_BULKS
    ) -> None:
        self.root = url.rstrip("/") + API_PATH
        http.confine_to(url)
        self.http = http
        self.bulk_size = bulk_size
        self.parallel_bulks = parallel_bulks
        super().__init__()

    # --- describe ---------------------------------------------------------------------------

    def read_description(self, entity: str) -> EntityInfo:
        """From `EntityDefinitions`: the set's logical name, its attributes (with lengths) and keys.

        The attributes, keys and lookups are asked for side by side: metadata requests are slow.
        """
        query = {"$select": ",".join(_DEFINITION_FIELDS), "$filter": f"EntitySetName eq {literal(entity)}"}
        definitions = self._get("EntityDefinitions", query, entity)
        found = [d for d in definitions if d.get("EntitySetName") == entity]
        if not found:
            raise NotFound(f"Dataverse has no entity set {entity!r}", field="entity")
        definition = found[0]
        path = "EntityDefinitions" + key_segment(["LogicalName"], [str(definition["LogicalName"])])
        parts = {
            "Attributes": None,
            "Keys": {"$select": "KeyAttributes"},
            "ManyToOneRelationships": {"$select": "ReferencingAttribute,ReferencingEntityNavigationPropertyName"},
        }
        with ThreadPoolExecutor(len(parts), thread_name_prefix="dataverse-describe") as pool:
            get = carry_step_budget(self._get)
            asked = {part: pool.submit(get, f"{path}/{part}", params, entity) for part, params in parts.items()}
            definition.update({part: answer.result() for part, answer in asked.items()})
        return _entity_info(definition)

    def _get(self, path: str, params: dict[str, str] | None, entity: str) -> list[dict[str, Any]]:
        response = self.http.send("GET", self.root + path, params=params, headers=_JSON)
        _raise_for_status(response.status_code, response.text, entity)
        return response.json().get("value", [])

    # --- read -----------------------------------------------------------------------------------

    def _read(self, request: ReadRequest, filter: str | None) -> Iterator[Page]:
        cursor = json.loads(request.resume) if request.resume else None
        state = request.state or {}
        tracking = False
        if cursor is not None:
            url, params, since, tracking = cursor["link"], None, cursor.get("since"), cursor.get("tracking", False)
        elif "deltaLink" in state:
            url, params, since, tracking = state["deltaLink"], None, None, True
        else:
            info = self.describe(request.entity)
            tracking = info.change_tracking and filter is None and not request.expand
            url = self.root + path_segment(request.entity)
            params = self._query(request, info, filter, state.get("watermark") if not tracking else None)
            since = None
        prefer = f"odata.maxpagesize={min(request.page_size, MAX_PAGE_SIZE)}"
        if tracking:
            prefer += ",odata.track-changes"
        headers = {**_JSON, "Prefer": prefer + ',odata.include-annotations="*"'}
        while True:
            response = self.http.send("GET", url, params=params, headers=headers)
            if response.status_code == 410 or (response.status_code == 400 and "deltaLink" in state and cursor is None):
                raise SystemRefused("the saved change-tracking link has expired: run a full sync", field="state")
            _raise_for_status(response.status_code, response.text, request.entity)
            if since is None and not tracking:
                since = server_watermark(response.headers.get("Date"))
            body = json_body(response)
            records, deleted = _split_deleted(body.get("value", []))
            next_link = body.get("@odata.nextLink")
            if next_link:
                resume = json.dumps({"link": next_link, "since": since, "tracking": tracking})
                yield Page(records=records, deleted=deleted, next=resume)
                url, params = next_link, None
                continue
            final = {"deltaLink": body["@odata.deltaLink"]} if "@odata.deltaLink" in body else {"watermark": since}
            yield Page(records=records, deleted=deleted, state=final if final.get("deltaLink") or since else None)
            return

    def _query(
        self, request: ReadRequest, info: EntityInfo, filter: str | None, watermark: str | None
    ) -> dict[str, str]:
        params: dict[str, str] = {}
        if request.select:
            select = set(request.select) | ({MODIFIED_ON} if MODIFIED_ON in info.fields else set())
            params["$select"] = name_list(sorted(s for s in select if s in info.fields or s.startswith("_")))
        clauses = [f"({filter})"] if filter else []
        if watermark:
            clauses.append(f"{MODIFIED_ON} gt {watermark}")
        if clauses:
            params["$filter"] = " and ".join(clauses)
        if request.expand:
            params["$expand"] = ",".join(
                f"{odata_name(nav, 'expand')}($select={name_list(fields, 'expand')})"
                for nav, fields in sorted(request.expand.items())
            )
        return params

    def key_identity(self, values: Sequence[Any]) -> tuple[Any, ...]:
        return _folded(values)

    def key_literals(self, entity: str, key_fields: Sequence[str], values: Sequence[Any]) -> list[Any] | None:
        """Text trimmed (the service compares it so) and ids bare; a key too long for an alternate key is None."""
        if any(isinstance(v, str) and len(v.encode("utf-8")) > MAX_KEY_LENGTH for v in values):
            return None
        info = self.describe(entity)
        ids = {f for f in key_fields if f == info.primary_id or _is_id(info.fields.get(f))}
        return [Guid(v) if f in ids and v is not None else v.strip() if isinstance(v, str) else v
                for f, v in zip(key_fields, values, strict=True)]

    # --- write ----------------------------------------------------------------------------------

    def write_batch(self, entity: str, key: Sequence[str], records: Sequence[dict[str, Any]]) -> list[WriteResult]:
        """Upsert in bulks, side by side unless two records share a key (then in order, so the later wins)."""
        info = self.describe(entity)
        size = bulk_size(len(records), self.bulk_size, self.parallel_bulks)
        chunks = [records[start : start + size] for start in range(0, len(records), size)]
        workers = min(self.parallel_bulks, len(chunks))
        if workers <= 1 or not _distinct_keys(key, records):
            return [result for chunk in chunks for result in self._upsert_chunk(entity, info, chunk)]
        with ThreadPoolExecutor(workers, thread_name_prefix="dataverse-bulk") as pool:
            upsert = carry_step_budget(self._upsert_chunk)
            answers = list(pool.map(lambda chunk: upsert(entity, info, chunk), chunks))
        return [result for answer in answers for result in answer]

    def _upsert_chunk(self, entity: str, info: EntityInfo, records: Sequence[dict[str, Any]]) -> list[WriteResult]:
        odata_type = f"Microsoft.Dynamics.CRM.{info.logical_name}"
        targets = [{"@odata.type": odata_type, **record} for record in records]
        url = f"{self.root}{path_segment(entity)}/Microsoft.Dynamics.CRM.UpsertMultiple"
        response = self.http.send("POST", url, json={"Targets": targets}, headers=_JSON)
        if response.status_code < 300:
            return [WriteResult("upserted")] * len(records)
        _raise_for_status(response.status_code, response.text, entity, records_fail=True)
        if len(records) == 1:
            code, message = error_of(response.status_code, response.text)
            return [WriteResult("failed", code, message, _blamed(message, info, records[0]))]
        return self._isolate(entity, info, targets)

    def _isolate(self, entity: str, info: EntityInfo, targets: list[dict[str, Any]]) -> list[WriteResult]:
        """One `$batch`, one single-record upsert per operation: the bad records fail alone."""
        path = f"{API_PATH}{path_segment(entity)}/Microsoft.Dynamics.CRM.UpsertMultiple"
        operations = [BatchOperation("POST", path, {"Targets": [target]}) for target in targets]
        answers = send_batch(
            self.http, self.root + "$batch", operations, False,
            lambda status, text: _raise_for_status(status, text, entity),
        )
        results = []
        for answer, target in zip(answers, targets, strict=True):
            if answer.status < 300:
                results.append(WriteResult("upserted"))
            else:
                code, message = error_of(answer.status, answer.body)
                results.append(WriteResult("failed", code, message, _blamed(message, info, target)))
        return results

    # --- delete ---------------------------------------------------------------------------------

    def delete_by_keys(
        self, entity: str, key_fields: Sequence[str], keys: Sequence[Sequence[Any]]
    ) -> list[WriteResult]:
        """Delete by record id, the ids found by key; a key no record holds, or a record gone meanwhile, is deleted."""
        id_field = self.describe(entity).primary_id
        if id_field is None:
            raise SystemRefused(f"Dataverse describes {entity!r} without a primary id", field="entity")
        found = self.read_by_keys(entity, key_fields, keys, select=[id_field])
        targets = [(index, str(record[id_field])) for index, record in enumerate(found) if record]
        answered: dict[int, WriteResult] = {}
        for start in range(0, len(targets), DELETES_PER_BATCH):
            chunk = targets[start : start + DELETES_PER_BATCH]
            operations = [
                BatchOperation("DELETE", f"{API_PATH}{path_segment(entity)}({literal(Guid(record_id))})")
                for _, record_id in chunk
            ]
            answers = send_batch(
                self.http, self.root + "$batch", operations, False,
                lambda status, text: _raise_for_status(status, text, entity),
            )
            for (index, _), answer in zip(chunk, answers, strict=True):
                answered[index] = _deleted(answer.status, answer.body)
        return [answered.get(index, WriteResult("deleted")) for index in range(len(keys))]


def _deleted(status: int, body: str) -> WriteResult:
    """A delete's answer: done, also when the record was gone already (404), else failed with the service's error."""
    if status < 300 or status == 404:
        return WriteResult("deleted")
    code, message = error_of(status, body)
    return WriteResult("failed", code, message)


_DEFINITION_FIELDS = ("LogicalName", "EntitySetName", "PrimaryIdAttribute", "ChangeTrackingEnabled")
_JSON = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}


def bulk_size(count: int, most: int = BULK_SIZE, parallel: int = PARALLEL_BULKS) -> int:
    """Records in each bulk of a batch of `count`: the batch spread over the bulks in flight, within bounds.

    The service's time for a bulk grows with its records, so 200 records go as two bulks of
    100 side by side rather than one of 200.
    """
    return min(most, max(MIN_BULK_SIZE, -(-count // parallel)))


def _raise_for_status(status: int, text: str, entity: str, records_fail: bool = False) -> None:
    """Statuses no record can be blamed for become errors; record-level ones return to the caller."""
    if status < 300:
        return
    if status == 404 and not records_fail:
        raise NotFound(f"Dataverse has no entity set {entity!r}: {error_of(status, text)[1]}", field="entity")
    if records_fail and status in (400, 404, 409, 412, 422):
        return
    code, message = error_of(status, text)
    raise SystemRefused(f"Dataverse answered {status} ({code}) for {entity!r}: {message}", field="entity")


def _folded(values: Sequence[Any]) -> tuple[Any, ...]:
    """A key as Dataverse compares it: text trimmed and case-insensitively."""
    return tuple(v.strip().casefold() if isinstance(v, str) else v for v in values)


def _is_id(field: FieldInfo | None) -> bool:
    return field is not None and field.type.lower() == "uniqueidentifier"


def _distinct_keys(key: Sequence[str], records: Sequence[dict[str, Any]]) -> bool:
    """No two records match the same target record."""
    return len({_folded([record.get(k) for k in key]) for record in records}) == len(records)


def _blamed(message: str, info: EntityInfo, record: dict[str, Any]) -> str | None:
    """The field the service's message names, or the lookup whose reference it could not find."""
    named = field_named(message, info.fields)
    if named is not None or "Does Not Exist" not in message:
        return named
    for name, value in record.items():
        if name.endswith("@odata.bind") and isinstance(value, str):
            key = value.rsplit("(", 1)[-1].rstrip(")").split("=", 1)[-1].strip("'").replace("''", "'")
            if key and f"= {key} " in message + " ":
                return name
    return None


def _split_deleted(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    records, deleted = [], []
    for row in rows:
        if "$deletedEntity" in str(row.get("@odata.context", "")):
            deleted.append(str(row.get("id")))
        else:
            records.append(row)
    return records, deleted


def _entity_info(definition: dict[str, Any]) -> EntityInfo:
    fields = {}
    for attribute in definition.get("Attributes", []):
        name = attribute["LogicalName"]
        required = (attribute.get("RequiredLevel") or {}).get("Value") in ("ApplicationRequired", "SystemRequired")
        fields[name] = FieldInfo(name, str(attribute.get("AttributeType", "")), attribute.get("MaxLength"), required)
    return EntityInfo(
        entity_set=definition["EntitySetName"],
        logical_name=definition["LogicalName"],
        primary_id=definition.get("PrimaryIdAttribute"),
        fields=fields,
        keys=[list(k.get("KeyAttributes", [])) for k in definition.get("Keys", [])],
        change_tracking=bool(definition.get("ChangeTrackingEnabled")),
        navigation={
            r["ReferencingEntityNavigationPropertyName"]: r["ReferencingAttribute"]
            for r in definition.get("ManyToOneRelationships", [])
        },
        modified_field=MODIFIED_ON if MODIFIED_ON in fields else None,
    )
