"""The Dataverse Web API under `/api/data/v9.2/`: routing, reads, change tracking.

Reads: `$select`, `$filter`, `$orderby`, `$top`, `$count`, `$expand` (single-valued
navigation), server-driven paging with `Prefer: odata.maxpagesize` (at most 5,000) and an
opaque `$skiptoken` (`$skip` is refused, as by the service), and change tracking with
`Prefer: odata.track-changes` and delta links. Any other query option is refused. Writes
live in dataverse_writes.py, the metadata endpoints in dataverse_metadata.py, the CSDL
`$metadata` document in dataverse_csdl.py, `$batch` in batch.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sandbox import dataverse_errors as errors
from sandbox import dataverse_metadata
from sandbox.batch import BatchRunner
from sandbox.dataverse_csdl import csdl_document
from sandbox.dataverse_writes import BULK_ACTIONS, DataverseWrites, etag
from sandbox.entities import Entity, Field
from sandbox.messages import ApiRequest, ApiResponse, ServiceError, empty_response, json_response
from sandbox.odata_filter import DATAVERSE, FilterError, compile_filter
from sandbox.odata_query import (
    Expansion,
    Prefer,
    QueryError,
    decode_token,
    encode_token,
    entity_path,
    paging_cursor,
    parse_count,
    parse_expand,
    parse_key,
    parse_nonnegative,
    parse_orderby,
    parse_prefer,
    parse_select,
    resolve_key,
    split_path,
)
from sandbox.storage import VERSION, Query, Store, quote, sort_columns, target_column

ROOT = "/api/data/v9.2/"
MAX_PAGE_SIZE = 5000
MAX_COUNT = 5000
# "Query data using the Web API": the system query options a collection read takes ($skip is
# named so that it gets its own message). Anything else, `$`-prefixed or not, is refused
# rather than ignored: a misspelt option must not quietly return the whole table.
QUERY_OPTIONS = frozenset(
    {"$select", "$filter", "$orderby", "$top", "$count", "$expand", "$skiptoken", "$deltatoken", "$skip"}
)
RECORD_OPTIONS = frozenset({"$select", "$expand"})
COUNT_OPTIONS = frozenset({"$filter"})
XML_TYPE = "application/xml"
LOOKUP_ANNOTATION = "Microsoft.Dynamics.CRM.lookuplogicalname"


class DataverseService:
    """The Dataverse sandbox: one instance per process, called on the database thread."""

    system = "dataverse"
    root = ROOT

    def __init__(self, store: Store) -> None:
        self.store = store
        self.entities = store.entities
        self.writes = DataverseWrites(store)
        self.batch = BatchRunner(self.handle, store.transaction, self.error_response, ROOT)

    # --- plumbing -----------------------------------------------------------------------

    def seed_system_records(self) -> None:
        """(Re)create the rows the platform itself owns (bulk message support)."""
        for entity_set, records in dataverse_metadata.system_records(self.entities).items():
            self.store.insert(self.entities[entity_set], records)

    def error_response(self, error: ServiceError) -> ApiResponse:
        return json_response(
            error.status, {"error": {"code": error.code or errors.QUERY, "message": error.message}}, error.headers
        )

    def throttle_error(self, reason: str, limit: int, window_s: float, retry_after: int) -> ServiceError:
        if reason == "concurrency":
            message = f"Number of concurrent requests exceeded the limit of {limit}."
            code = errors.CONCURRENCY_LIMIT
        elif reason == "execution time":
            message = (
                "Combined execution time of incoming requests exceeded limit of 1,200,000 milliseconds over time "
                f"window of {window_s:g} seconds. Decrease number of concurrent requests or reduce the duration of "
                "requests and try again later."
            )
            code = errors.EXECUTION_TIME_LIMIT
        else:
            message = f"Number of requests exceeded the limit of {limit} over time window of {window_s:g} seconds."
            code = errors.REQUESTS_LIMIT
        return ServiceError(429, message, code, {"Retry-After": str(retry_after)})

    def auth_error(self) -> ServiceError:
        return ServiceError(
            401,
            "Authentication failed: the request has no valid bearer token.",
            errors.UNAUTHORIZED,
            {
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"'
            },
        )

    def unavailable_error(self) -> ServiceError:
        return ServiceError(503, "The service is temporarily unavailable. Try again later.", errors.SERVICE_UNAVAILABLE)

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one request (also one operation of a batch)."""
        try:
            return self._dispatch(request)
        except ServiceError as exc:
            return self.error_response(exc)
        except (QueryError, FilterError) as exc:
            return self.error_response(errors.query_error(str(exc)))

    def _dispatch(self, request: ApiRequest) -> ApiResponse:
        path = request.path.strip("/")
        if path == "":
            return self._service_document(request)
        if path == "$metadata":
            if request.method != "GET":
                raise _method_not_allowed(request)
            return ApiResponse(200, {"OData-Version": "4.0", "Content-Type": XML_TYPE}, csdl_document(self.entities))
        if path == "$batch":
            if request.method != "POST":
                raise _method_not_allowed(request)
            return self.batch.run(request)
        resource = split_path(path)
        if resource is None:
            raise errors.segment_not_found(path)
        if resource.name in ("EntityDefinitions", "WhoAmI"):
            return dataverse_metadata.handle(request, resource, self.entities)
        entity = self.entities.get(resource.name)
        if entity is None:
            raise errors.segment_not_found(resource.name)
        if resource.key is None:
            return self._collection(entity, resource.rest, request)
        if resource.rest is not None:
            raise errors.segment_not_found(resource.rest)
        key = resolve_key(entity, parse_key(resource.key))
        if request.method == "GET":
            _refuse_unknown_options(request, RECORD_OPTIONS)
            return self._read_one(entity, key, request)
        if request.method == "PATCH":
            return self._upsert(entity, key, request)
        if request.method == "DELETE":
            with self.store.transaction():
                self.writes.delete(entity, key, request.header("if-match"))
            return ApiResponse(204, {"OData-Version": "4.0"}, records_written=1)
        raise _method_not_allowed(request)

    def _collection(self, entity: Entity, rest: str | None, request: ApiRequest) -> ApiResponse:
        if rest is None:
            if request.method == "GET":
                return self._read_many(entity, request)
            if request.method == "POST":
                return self._create(entity, request)
            raise _method_not_allowed(request)
        if rest == "$count" and request.method == "GET":
            _refuse_unknown_options(request, COUNT_OPTIONS)
            where, params = self._where(entity, request.param("$filter"))
            total = min(self.store.count(entity, Query(where, params)), MAX_COUNT)
            return ApiResponse(200, {"OData-Version": "4.0", "Content-Type": "text/plain"}, str(total).encode())
        action = rest.removeprefix("Microsoft.Dynamics.CRM.")
        if action in BULK_ACTIONS and request.method == "POST":
            return self._bulk(entity, action, request)
        raise errors.segment_not_found(rest)

    def _service_document(self, request: ApiRequest) -> ApiResponse:
        value = [{"name": s, "kind": "EntitySet", "url": s} for s in self.entities]
        return json_response(200, {"@odata.context": f"{request.base_url}$metadata", "value": value})

    # --- reads --------------------------------------------------------------------------

    def _where(self, entity: Entity, text: str | None) -> tuple[str, tuple[Any, ...]]:
        if text is None or not text.strip():
            return "", ()
        return compile_filter(text, entity, self.entities, DATAVERSE)

    def _read_many(self, entity: Entity, request: ApiRequest) -> ApiResponse:
        _refuse_unknown_options(request, QUERY_OPTIONS)
        if request.param("$skip") is not None:
            raise errors.query_error("The query parameter $skip is not supported")
        prefer = parse_prefer(request.header("prefer"))
        select = parse_select(request.param("$select"), entity)
        delta = request.param("$deltatoken")
        if prefer.track_changes or delta is not None:
            if not entity.change_tracking:
                raise ServiceError(
                    400,
                    f"Entity '{entity.logical_name}' isn't valid for Change Tracking.",
                    errors.CHANGE_TRACKING_DISABLED,
                )
            for option in ("$filter", "$orderby", "$top", "$expand"):
                if request.param(option) is not None:
                    raise errors.query_error(f"The query option {option} isn't supported with change tracking.")
        if delta is not None:
            return self._read_changes(entity, request, select, prefer, delta)
        expand = parse_expand(request.param("$expand"), entity)
        where, params = self._where(entity, request.param("$filter"))
        order = parse_orderby(request.param("$orderby"), entity) or ((entity.primary_id or "", False),)
        top = parse_nonnegative("$top", request.param("$top"))
        skiptoken = request.param("$skiptoken")
        token = decode_token(skiptoken) if skiptoken else {}
        after = paging_cursor(token, len(sort_columns(order)))
        page_size = min(prefer.maxpagesize or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
        limit = min(top, MAX_PAGE_SIZE) if top is not None else page_size
        snapshot = int(token.get("v", self.store.version))
        rows = self.store.fetch(
            entity, Query(where, params, order, limit + 1, after=after), self._props(entity, select, expand, prefer)
        )
        more = top is None and len(rows) > limit
        page = rows[:limit]
        payload: dict[str, Any] = {"@odata.context": self._context(request, entity, select)}
        if parse_count(request.param("$count")):
            payload["@odata.count"] = min(self.store.count(entity, Query(where, params)), MAX_COUNT)
        payload["value"] = self._render_page(entity, page, select, expand, prefer)
        if more:
            cursor = [page[-1][column] for column, _ in sort_columns(order)]
            state = {"a": cursor, **({"v": snapshot} if prefer.track_changes else {})}
            payload["@odata.nextLink"] = request.link(entity.entity_set, {"$skiptoken": encode_token(state)})
        elif prefer.track_changes:
            payload["@odata.deltaLink"] = _delta_link(request, entity, snapshot)
        return json_response(200, payload, _preference_applied(prefer, page_size))

    def _read_changes(
        self, entity: Entity, request: ApiRequest, select: list[Field] | None, prefer: Prefer, delta: str
    ) -> ApiResponse:
        head = delta.split("!", 1)[0]
        if not head.isdigit():
            raise errors.query_error("The delta token is not valid.")
        skiptoken = request.param("$skiptoken")
        token = decode_token(skiptoken) if skiptoken else {}
        try:
            until = int(token.get("u", self.store.version))
            after = int(token.get("c", head))
        except (TypeError, ValueError):
            raise errors.query_error("The $skiptoken value is not valid.") from None
        page_size = min(prefer.maxpagesize or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
        items = self.store.changes(entity, int(head), until, after, page_size + 1)
        more = len(items) > page_size
        items = items[:page_size]
        deleted_context = f"{request.base_url}$metadata#{entity.entity_set}/$deletedEntity"
        value = []
        props = self._props(entity, select, [], prefer)
        for item in items:
            if "$deleted" in item:
                value.append({"@odata.context": deleted_context, "id": item["$deleted"], "reason": "deleted"})
            else:
                row = {p: item.get(p) for p in props} | {VERSION: item[VERSION]}
                value.append(self._render(entity, row, select, _annotations(prefer)))
        payload: dict[str, Any] = {"@odata.context": self._context(request, entity, select) + "/$delta", "value": value}
        if more:
            state = {"u": until, "c": items[-1][VERSION]}
            payload["@odata.nextLink"] = request.link(entity.entity_set, {"$skiptoken": encode_token(state)})
        else:
            payload["@odata.deltaLink"] = _delta_link(request, entity, until)
        return json_response(200, payload, _preference_applied(prefer, page_size))

    def _read_one(self, entity: Entity, key: dict[str, Any], request: ApiRequest) -> ApiResponse:
        prefer = parse_prefer(request.header("prefer"))
        select = parse_select(request.param("$select"), entity)
        expand = parse_expand(request.param("$expand"), entity)
        row = self.store.find(entity, key)
        if row is None:
            raise errors.record_not_found(entity, key)
        body = self._render_page(entity, [row], select, expand, prefer)[0]
        context = self._context(request, entity, select) + "/$entity"
        return json_response(200, {"@odata.context": context, **body}, {"ETag": etag(row)})

    def _props(
        self, entity: Entity, select: list[Field] | None, expand: Sequence[Expansion], prefer: Prefer
    ) -> list[str]:
        fields = list(select or entity.fields.values())
        fields += [e.lookup for e in expand]
        props = [entity.primary_id or "", *(f.prop for f in fields)]
        if _annotations(prefer) or expand:
            props += [target_column(f) for f in fields if f.type == "lookup" and len(f.targets) > 1]
        return list(dict.fromkeys(props))

    def _render(
        self, entity: Entity, row: Mapping[str, Any], select: list[Field] | None, annotations: bool
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"@odata.etag": etag(row)}
        for fld in select or entity.fields.values():
            value = row.get(fld.prop)
            if annotations and fld.type == "lookup" and value is not None:
                target = row.get(target_column(fld)) or next(iter(fld.targets.values()))
                out[f"{fld.prop}@{LOOKUP_ANNOTATION}"] = self.entities[target].logical_name
            out[fld.prop] = value
        primary = entity.primary_id or ""
        out.setdefault(primary, row.get(primary))
        return out

    def _render_page(
        self,
        entity: Entity,
        rows: Sequence[Mapping[str, Any]],
        select: list[Field] | None,
        expand: Sequence[Expansion],
        prefer: Prefer,
    ) -> list[dict[str, Any]]:
        annotations = _annotations(prefer)
        rendered = [self._render(entity, row, select, annotations) for row in rows]
        for expansion in expand:
            target = self.entities[expansion.target_set]
            target_select = parse_select(expansion.select, target)
            ids = sorted({row[expansion.lookup.prop] for row in rows if _points_to(row, expansion)})
            found = self._fetch_by_ids(target, ids, self._props(target, target_select, [], prefer))
            for out, row in zip(rendered, rows, strict=True):
                match = found.get(row[expansion.lookup.prop]) if _points_to(row, expansion) else None
                out[expansion.navigation] = (
                    self._render(target, match, target_select, annotations) if match is not None else None
                )
        return rendered

    def _fetch_by_ids(self, entity: Entity, ids: Sequence[str], props: list[str]) -> dict[str, dict[str, Any]]:
        primary = entity.primary_id or ""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            where = f"t.{quote(primary)} IN ({', '.join('?' for _ in chunk)})"
            for row in self.store.fetch(entity, Query(where, tuple(chunk)), props):
                found[row[primary]] = row
        return found

    def _context(self, request: ApiRequest, entity: Entity, select: list[Field] | None) -> str:
        columns = f"({','.join(f.prop for f in select)})" if select else ""
        return f"{request.base_url}$metadata#{entity.entity_set}{columns}"

    # --- writes -------------------------------------------------------------------------

    def _entity_id(self, request: ApiRequest, entity: Entity, row: Mapping[str, Any]) -> dict[str, str]:
        return {"OData-EntityId": request.base_url + entity_path(entity, row)}

    def _written(self, request: ApiRequest, entity: Entity, row: dict[str, Any], status_with_body: int) -> ApiResponse:
        prefer = parse_prefer(request.header("prefer"))
        headers = self._entity_id(request, entity, row)
        if not prefer.return_representation:
            response = empty_response(204, headers)
        else:
            select = parse_select(request.param("$select"), entity)
            body = self._render(entity, row, select, _annotations(prefer))
            context = self._context(request, entity, select) + "/$entity"
            headers["Preference-Applied"] = "return=representation"
            response = json_response(status_with_body, {"@odata.context": context, **body}, headers)
        response.records_written = 1
        return response

    def _create(self, entity: Entity, request: ApiRequest) -> ApiResponse:
        with self.store.transaction():
            changes = self.writes.prepare(entity, request.json_body(), request.references)
            row = self.writes.create(entity, changes)
        return self._written(request, entity, row, 201)

    def _upsert(self, entity: Entity, key: dict[str, Any], request: ApiRequest) -> ApiResponse:
        if_none_match = request.header("if-none-match")
        with self.store.transaction():
            row, created = self.writes.upsert(
                entity,
                key,
                request.json_body(),
                if_match=request.header("if-match"),
                if_none_match=if_none_match if if_none_match == "*" else None,
                references=request.references,
            )
        return self._written(request, entity, row, 201 if created else 200)

    def _bulk(self, entity: Entity, action: str, request: ApiRequest) -> ApiResponse:
        with self.store.transaction():
            ids = self.writes.bulk(entity, action, request.json_body())
        # UpdateMultiple / UpsertMultiple action reference: both answer 204 No Content (the
        # UpsertMultipleResponse complex type is not returned); CreateMultiple answers its Ids.
        if action in ("UpdateMultiple", "UpsertMultiple"):
            response = empty_response(204)
        else:
            context = f"{request.base_url}$metadata#Microsoft.Dynamics.CRM.{action}Response"
            response = json_response(200, {"@odata.context": context, "Ids": ids})
        response.records_written = len(ids)
        return response


def _points_to(row: Mapping[str, Any], expansion: Expansion) -> bool:
    """Whether a row's lookup refers to a record of the expansion's entity set."""
    lookup = expansion.lookup
    if row.get(lookup.prop) is None:
        return False
    return len(lookup.targets) == 1 or row.get(target_column(lookup)) == expansion.target_set


def _refuse_unknown_options(request: ApiRequest, allowed: frozenset[str]) -> None:
    for name, _ in request.query:
        if name.lower() not in allowed:
            raise errors.query_error(f"The query parameter {name} is not supported")


def _method_not_allowed(request: ApiRequest) -> ServiceError:
    return ServiceError(405, f"The requested resource does not support http method '{request.method}'.", errors.QUERY)


def _annotations(prefer: Prefer) -> bool:
    wanted = prefer.include_annotations or ""
    return any(p in wanted for p in ("*", LOOKUP_ANNOTATION, "Microsoft.Dynamics.CRM.*"))


def _preference_applied(prefer: Prefer, page_size: int) -> dict[str, str]:
    applied = []
    if prefer.maxpagesize is not None:
        applied.append(f"odata.maxpagesize={page_size}")
    if prefer.track_changes:
        applied.append("odata.track-changes")
    if prefer.include_annotations:
        applied.append(f'odata.include-annotations="{prefer.include_annotations}"')
    return {"Preference-Applied": ",".join(applied)} if applied else {}


def _delta_link(request: ApiRequest, entity: Entity, version: int) -> str:
    """A delta link: the version it was taken at, then when (the service's token looks alike)."""
    stamp = f"{version}!{datetime.now(UTC).strftime('%m/%d/%Y %H:%M:%S')}"
    return request.link(entity.entity_set, {"$deltatoken": stamp}, keep=frozenset({"$select"}))
