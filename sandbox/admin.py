"""The `/_sandbox` endpoints (LOCAL.md): reset, seed, count and dump records, stats, knobs.

`GET /_sandbox/records/{entitySet}/$count` answers `{"count": n}` from one COUNT query, so
a caller can check a million records without the dump of every one of them (the service's
own `$count` stops at 5,000, as Dataverse's does). The dump itself is streamed, DUMP_PAGE
records at a time in key order, so a large set never sits whole in the server's memory.

They need no token and answer loopback clients only. Records are seeded as given: only
the JSON types are checked (no lengths, options or related tables), and timestamps or
ids the caller gives are kept, so tests and datasets can plant dirty or old data. A
polymorphic lookup names its entity with the service's annotation
(`_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname: "account"`); a dump
carries the same annotation, so a dump can be seeded again as it is.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from sandbox.entities import Entity, FieldError
from sandbox.messages import Service
from sandbox.protection import Protection, Stats
from sandbox.storage import DuplicateKey, Query, Store, sort_columns, target_column

LOOKUP_ANNOTATION = "Microsoft.Dynamics.CRM.lookuplogicalname"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
DUMP_PAGE = 1_000


class AdminError(Exception):
    """A bad admin request (400), or an unknown entity set (404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def seed_records(store: Store, entity: Entity, records: Any, default_company: str | None) -> int:
    """Insert raw records in one transaction; returns how many."""
    if not isinstance(records, list):
        raise AdminError("the body must be a JSON array of records")
    by_logical = {e.logical_name: e.entity_set for e in store.entities.values()}
    rows = [_seed_row(entity, record, i, by_logical, default_company) for i, record in enumerate(records)]
    try:
        with store.transaction():
            store.insert(entity, rows, as_is=True)
    except DuplicateKey as exc:
        raise AdminError(f"duplicate {exc.key.name if exc.key else 'primary id'}: {exc.values}", 409) from None
    return len(rows)


def _seed_row(
    entity: Entity, record: Any, index: int, by_logical: dict[str, str], default_company: str | None
) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise AdminError(f"records[{index}] is not a JSON object")
    row: dict[str, Any] = {}
    for name, value in record.items():
        if name.startswith("@"):
            continue
        prop, _, annotation = name.partition("@")
        fld = entity.props.get(prop)
        if fld is None:
            raise AdminError(f"records[{index}]: {entity.entity_set} has no property {prop!r}")
        if annotation:
            if annotation == LOOKUP_ANNOTATION and len(fld.targets) > 1:
                if by_logical.get(value) not in fld.targets.values():
                    raise AdminError(f"records[{index}]: {name} names no target of {fld.name}")
                row[target_column(fld)] = by_logical[value]
            continue
        try:
            row[prop] = fld.check(value, rules=False)
        except FieldError as exc:
            raise AdminError(f"records[{index}].{prop}: {value!r} is not a valid {fld.edm_type}") from exc
    for fld in entity.fields.values():
        if len(fld.targets) > 1 and row.get(fld.prop) is not None and target_column(fld) not in row:
            row[target_column(fld)] = next(iter(fld.targets.values()))
    if default_company is not None:
        row["dataAreaId"] = str(row.get("dataAreaId") or default_company).lower()
    return row


def dump_page(
    store: Store, entity: Entity, after: tuple[Any, ...] | None, limit: int
) -> tuple[list[dict[str, Any]], tuple[Any, ...] | None]:
    """Up to `limit` records after `after`, ordered by primary id (Dataverse) or entity key (F&O), and
    the cursor of the next page (None after the last)."""
    key = [entity.primary_id] if entity.primary_id else list(entity.entity_key.fields)
    order = tuple((entity.fields[name].prop, False) for name in key)
    rows = store.fetch(entity, Query(order=order, limit=limit, after=after))
    cursor = tuple(rows[-1][column] for column, _ in sort_columns(order)) if len(rows) == limit else None
    return _dumped(store, entity, rows), cursor


async def dump_records(store: Store, entity: Entity) -> AsyncIterator[bytes]:
    """Every record of an entity set as one JSON array, read and sent DUMP_PAGE records at a time."""
    yield b"["
    after: tuple[Any, ...] | None = None
    separator = b""
    while True:
        records, after = await store.run(dump_page, store, entity, after, DUMP_PAGE)
        if records:
            yield separator + b",".join(_json(record) for record in records)
            separator = b","
        if after is None:
            break
    yield b"]"


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _dumped(store: Store, entity: Entity, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    logical = {e.entity_set: e.logical_name for e in store.entities.values()}
    out = []
    for row in rows:
        record: dict[str, Any] = {}
        for fld in entity.fields.values():
            if len(fld.targets) > 1 and row.get(fld.prop) is not None:
                record[f"{fld.prop}@{LOOKUP_ANNOTATION}"] = logical[row[target_column(fld)]]
            record[fld.prop] = row.get(fld.prop)
        out.append(record)
    return out


def reset(store: Store, service: Service) -> None:
    store.reset()
    with store.transaction():
        service.seed_system_records()


def admin_routes(
    service: Service, store: Store, protection: Protection, stats: Stats, default_company: str | None
) -> Sequence[Route]:
    """The `/_sandbox/...` routes of one server."""

    def entity_of(request: Request) -> Entity:
        name = request.path_params["entity_set"]
        if name not in store.entities:
            raise AdminError(f"unknown entity set {name!r}", 404)
        return store.entities[name]

    async def guarded(request: Request, action: Any) -> Response:
        if request.client is None or request.client.host not in LOOPBACK:
            return JSONResponse({"error": "the admin endpoints answer loopback clients only"}, 403)
        try:
            return await action(request)
        except AdminError as exc:
            return JSONResponse({"error": str(exc)}, exc.status)

    async def post_reset(request: Request) -> Response:
        await store.run(reset, store, service)
        return JSONResponse({"reset": True})

    async def post_records(request: Request) -> Response:
        entity = entity_of(request)
        try:
            records = json.loads(await request.body())
        except json.JSONDecodeError as exc:
            raise AdminError(f"the body is not JSON: {exc}") from None
        inserted = await store.run(seed_records, store, entity, records, default_company)
        return JSONResponse({"inserted": inserted})

    async def get_records(request: Request) -> Response:
        entity = entity_of(request)
        return StreamingResponse(dump_records(store, entity), media_type="application/json")

    async def get_count(request: Request) -> Response:
        entity = entity_of(request)
        return JSONResponse({"count": await store.run(store.count, entity, Query())})

    async def get_stats(request: Request) -> Response:
        return JSONResponse(stats.as_dict())

    async def get_config(request: Request) -> Response:
        return JSONResponse(protection.knobs.as_dict())

    async def post_config(request: Request) -> Response:
        try:
            changes = json.loads(await request.body())
            if not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object of knobs")
            protection.configure(protection.knobs.updated(changes))
        except ValueError as exc:
            raise AdminError(str(exc)) from None
        return JSONResponse(protection.knobs.as_dict())

    def route(path: str, action: Any, method: str) -> Route:
        async def endpoint(request: Request) -> Response:
            return await guarded(request, action)

        return Route(path, endpoint, methods=[method])

    return [
        route("/_sandbox/reset", post_reset, "POST"),
        route("/_sandbox/records/{entity_set}", post_records, "POST"),
        route("/_sandbox/records/{entity_set}", get_records, "GET"),
        route("/_sandbox/records/{entity_set}/$count", get_count, "GET"),
        route("/_sandbox/stats", get_stats, "GET"),
        route("/_sandbox/config", get_config, "GET"),
        route("/_sandbox/config", post_config, "POST"),
    ]
