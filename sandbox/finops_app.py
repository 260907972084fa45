"""The Finance & Operations OData API under `/data/`.

Company scoping: only the default company (the first of `--companies`) is visible unless
the request says `?cross-company=true`; `dataAreaId` is part of every entity key and is
matched case-insensitively (stored lower-case). Reads page server-side (at most 10,000 a
page) and accept `$skip`/`$top`; `in` and `has` are refused in `$filter`, enums are written
`Microsoft.Dynamics.DataEntities.NoYes'Yes'` there and as plain member names in JSON.
There is no upsert: POST creates (201 with the record), PATCH only updates (404 when the
record does not exist), PUT replaces a record that exists (fields it leaves out go back to
their empty value) and DELETE removes it: the four verbs of the "Open Data Protocol (OData)"
article of the Finance & Operations docs. Unset fields read as their type's empty value,
never null. `$metadata` is the CSDL of the entities (finops_csdl), `/Metadata/` the metadata
service (finops_metadata), and a few actions bound to collections describe the environment
(finops_actions).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from sandbox import finops_actions, finops_csdl
from sandbox.batch import BatchRunner
from sandbox.entities import Entity, Field, FieldError
from sandbox.finops_metadata import MetadataService
from sandbox.messages import ApiRequest, ApiResponse, ServiceError, json_response
from sandbox.odata_filter import FINOPS, FilterError, compile_filter
from sandbox.odata_query import (
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
from sandbox.storage import VERSION, DuplicateKey, Query, Store, sort_columns

ROOT = "/data/"
MAX_PAGE_SIZE = 10000
QUERY_OPTIONS = frozenset({"$select", "$filter", "$orderby", "$top", "$skip", "$count", "$expand", "$skiptoken"})
# What a next link carries over; $top and $skip travel inside the $skiptoken instead.
_LINK_OPTIONS = frozenset({"$select", "$filter", "$orderby", "$count", "cross-company"})
WRITE_EXCEPTION = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"
ODATA_EXCEPTION = "Microsoft.OData.ODataException"


class FinOpsService:
    """The F&O sandbox: one instance per process, called on the database thread."""

    system = "finops"
    root = ROOT

    def __init__(self, store: Store, companies: Sequence[str]) -> None:
        if not companies:
            raise ValueError("at least one company is needed")
        self.store = store
        self.entities = store.entities
        self.companies = [c.lower() for c in companies]
        self.batch = BatchRunner(self.handle, store.transaction, self.error_response, ROOT)
        self.metadata = MetadataService(self.entities)
        self.csdl = finops_csdl.document(self.entities)

    @property
    def default_company(self) -> str:
        return self.companies[0]

    # --- plumbing -----------------------------------------------------------------------

    def seed_system_records(self) -> None:
        """F&O has no platform-owned rows in the sandbox."""

    def error_response(self, error: ServiceError) -> ApiResponse:
        inner = {"message": error.message, "type": error.code or ODATA_EXCEPTION, "stacktrace": ""}
        return json_response(
            error.status, {"error": {"code": "", "message": error.message, "innererror": inner}}, error.headers
        )

    def throttle_error(self, reason: str, limit: int, window_s: float, retry_after: int) -> ServiceError:
        return ServiceError(
            429,
            f"The request was throttled by the service protection ({reason}). Retry after {retry_after} seconds.",
            "Microsoft.Dynamics.Platform.Integration.Services.OData.ThrottlingException",
            {"Retry-After": str(retry_after)},
        )

    def auth_error(self) -> ServiceError:
        return ServiceError(
            401,
            "Authorization has been denied for this request.",
            "System.UnauthorizedAccessException",
            {"WWW-Authenticate": "Bearer"},
        )

    def unavailable_error(self) -> ServiceError:
        return ServiceError(503, "The service is temporarily unavailable.", "System.Exception")

    def handle_metadata(self, request: ApiRequest) -> ApiResponse:
        """Answer a request to the metadata service at `/Metadata/`."""
        return self.metadata.handle(request)

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one request (also one operation of a batch)."""
        try:
            return self._dispatch(request)
        except ServiceError as exc:
            return self.error_response(exc)
        except (QueryError, FilterError) as exc:
            return self.error_response(ServiceError(400, str(exc), ODATA_EXCEPTION))

    def _dispatch(self, request: ApiRequest) -> ApiResponse:
        path = request.path.strip("/")
        if path == "":
            value = [{"name": s, "kind": "EntitySet", "url": s} for s in self.entities]
            return json_response(200, {"@odata.context": f"{request.base_url}$metadata", "value": value})
        if path == "$batch" and request.method == "POST":
            return self.batch.run(request)
        if path == "$metadata" and request.method == "GET":
            return ApiResponse(200, {"OData-Version": "4.0", "Content-Type": "application/xml"}, self.csdl)
        resource = split_path(path)
        if resource is not None and resource.key is None and resource.rest is not None:
            action = finops_actions.find(resource.name, resource.rest)
            if action is not None:
                return self._invoke(action, request)
        entity = self.entities.get(resource.name) if resource else None
        if resource is None or entity is None:
            raise _not_found(request)
        cross_company = (request.param("cross-company") or "").lower() == "true"
        if resource.key is None:
            if resource.rest == "$count" and request.method == "GET":
                where, params = self._where(entity, request.param("$filter"), cross_company)
                total = self.store.count(entity, Query(where, params))
                return ApiResponse(200, {"OData-Version": "4.0", "Content-Type": "text/plain"}, str(total).encode())
            if resource.rest is not None:
                raise _not_found(request)
            if request.method == "GET":
                return self._read_many(entity, request, cross_company)
            if request.method == "POST":
                return self._create(entity, request)
            raise _method_not_allowed(request)
        if resource.rest is not None:
            raise _not_found(request)
        key = resolve_key(entity, parse_key(resource.key))
        key["dataAreaId"] = str(key["dataAreaId"]).lower()
        if request.method == "GET":
            return self._read_one(entity, key, request, cross_company)
        if request.method in ("PATCH", "PUT"):
            return self._update(entity, key, request, cross_company, replace=request.method == "PUT")
        if request.method == "DELETE":
            with self.store.transaction():
                self.store.delete(entity, self._existing(entity, key, request, cross_company))
            return ApiResponse(204, {"OData-Version": "4.0"}, records_written=1)
        raise _method_not_allowed(request)

    # --- reads --------------------------------------------------------------------------

    def _where(self, entity: Entity, text: str | None, cross_company: bool) -> tuple[str, tuple[Any, ...]]:
        clauses, params = [], []
        if not cross_company:
            clauses.append('t."dataAreaId" = ?')
            params.append(self.default_company)
        if text is not None and text.strip():
            sql, filter_params = compile_filter(text, entity, self.entities, FINOPS)
            clauses.append(f"({sql})")
            params += filter_params
        return " AND ".join(clauses), tuple(params)

    def _read_many(self, entity: Entity, request: ApiRequest, cross_company: bool) -> ApiResponse:
        for name, _ in request.query:
            if name.startswith("$") and name.lower() not in QUERY_OPTIONS:
                raise ServiceError(400, f"The query parameter '{name}' is not supported.", ODATA_EXCEPTION)
        parse_expand(request.param("$expand"), entity)
        prefer = parse_prefer(request.header("prefer"))
        select = parse_select(request.param("$select"), entity)
        where, params = self._where(entity, request.param("$filter"), cross_company)
        order = parse_orderby(request.param("$orderby"), entity)
        token = decode_token(request.param("$skiptoken") or "") if request.param("$skiptoken") else None
        page_size = min(prefer.maxpagesize or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
        if token is None:
            remaining = parse_nonnegative("$top", request.param("$top"))
            offset = parse_nonnegative("$skip", request.param("$skip")) or 0
            after = None
        else:
            remaining, offset, after = token.get("n"), 0, paging_cursor(token, len(sort_columns(order)))
            if remaining is not None and not isinstance(remaining, int):
                raise QueryError("The $skiptoken value is not valid.")
        limit = page_size if remaining is None else min(page_size, remaining)
        rows = self.store.fetch(
            entity, Query(where, params, order, limit + 1, offset, after), self._props(entity, select)
        )
        left = None if remaining is None else remaining - min(limit, len(rows))
        more = len(rows) > limit and (left is None or left > 0)
        page = rows[:limit]
        payload: dict[str, Any] = {"@odata.context": _context(request, entity, select)}
        if parse_count(request.param("$count")):
            payload["@odata.count"] = self.store.count(entity, Query(where, params))
        payload["value"] = [_render(entity, row, select) for row in page]
        if more:
            state = {"a": [page[-1][c] for c, _ in sort_columns(order)], "n": left}
            payload["@odata.nextLink"] = request.link(
                entity.entity_set, {"$skiptoken": encode_token(state)}, keep=_LINK_OPTIONS
            )
        applied = {"Preference-Applied": f"odata.maxpagesize={page_size}"} if prefer.maxpagesize else {}
        return json_response(200, payload, applied)

    def _read_one(self, entity: Entity, key: dict[str, Any], request: ApiRequest, cross_company: bool) -> ApiResponse:
        select = parse_select(request.param("$select"), entity)
        row = self._existing(entity, key, request, cross_company)
        body = {"@odata.context": _context(request, entity, select) + "/$entity", **_render(entity, row, select)}
        return json_response(200, body, {"ETag": _etag(row)})

    def _existing(
        self, entity: Entity, key: dict[str, Any], request: ApiRequest, cross_company: bool
    ) -> dict[str, Any]:
        visible = key["dataAreaId"] in self.companies and (cross_company or key["dataAreaId"] == self.default_company)
        row = self.store.find(entity, key) if visible else None
        if row is None:
            raise _not_found(request)
        return row

    @staticmethod
    def _props(entity: Entity, select: list[Field] | None) -> list[str]:
        fields = select or list(entity.fields.values())
        return list(dict.fromkeys([*entity.entity_key.fields, *(f.prop for f in fields)]))

    # --- writes -------------------------------------------------------------------------

    def _prepare(self, entity: Entity, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ServiceError(400, "A JSON object was expected for the entity payload.", ODATA_EXCEPTION)
        changes: dict[str, Any] = {}
        for name, value in body.items():
            if name.startswith("@"):
                continue
            fld = entity.props.get(name)
            if fld is None:
                raise ServiceError(
                    400,
                    f"The property '{name}' does not exist on type '{entity.type_name}'. Make sure to only use "
                    "property names that are defined by the type.",
                    ODATA_EXCEPTION,
                )
            if fld.read_only:
                continue
            try:
                changes[fld.prop] = fld.check(value)
            except FieldError as exc:
                raise self._field_error(entity, exc) from None
        if isinstance(changes.get("dataAreaId"), str):
            changes["dataAreaId"] = changes["dataAreaId"].lower()
        return changes

    def _field_error(self, entity: Entity, error: FieldError) -> ServiceError:
        fld, value = error.field, error.value
        if error.kind == "max_length":
            detail = (
                f"The value of field '{fld.name}' is longer than the maximum length of {fld.max_length} characters."
            )
        elif error.kind == "allowed":
            detail = (
                f"The value '{value}' in field '{fld.name}' is not found in the relating table '{fld.reference_table}'."
            )
        elif error.kind == "enum":
            detail = f"The value '{value}' is not a valid member of enum '{fld.enum_type}' for field '{fld.name}'."
        else:
            return ServiceError(
                400, f"Cannot convert the literal '{value}' to the expected type '{fld.edm_type}'.", ODATA_EXCEPTION
            )
        return self._write_error(entity, detail)

    @staticmethod
    def _write_error(entity: Entity, detail: str) -> ServiceError:
        return ServiceError(
            400,
            f"Write failed for table row of type '{entity.logical_name}Entity'. Infolog: Error: {detail}",
            WRITE_EXCEPTION,
        )

    def _validate(self, entity: Entity, row: Mapping[str, Any], changed: Sequence[str] | None) -> None:
        company = row.get("dataAreaId") or self.default_company
        if company not in self.companies:
            raise self._write_error(
                entity, f"The value '{company}' in field 'dataAreaId' is not found in the relating table 'DataArea'."
            )
        for fld in entity.fields.values():
            if changed is not None and fld.prop not in changed:
                continue
            value = row.get(fld.prop)
            if (fld.required or fld.name in entity.entity_key.fields) and value in (None, "") and not fld.autonumber:
                raise self._write_error(entity, f"Field '{fld.name}' must be filled in.")
            if fld.references and value not in (None, ""):
                target = self.entities[fld.references[0]]
                if self.store.find(target, {"dataAreaId": company, fld.references[1]: value}) is None:
                    raise self._write_error(
                        entity,
                        f"The value '{value}' in field '{fld.name}' is not found in the relating table "
                        f"'{target.logical_name}'.",
                    )

    def _insert(self, entity: Entity, values: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.store.insert(entity, [values])[0]
        except DuplicateKey as exc:
            shown = ", ".join(f"{k}: {v}" for k, v in exc.values.items())
            raise self._write_error(
                entity,
                f"Cannot create a record in {entity.logical_name} ({entity.entity_set}). {shown}. "
                "The record already exists.",
            ) from None

    def _create(self, entity: Entity, request: ApiRequest) -> ApiResponse:
        with self.store.transaction():
            values = self._prepare(entity, request.json_body())
            values["dataAreaId"] = values.get("dataAreaId") or self.default_company
            self._validate(entity, values, None)
            row = self._insert(entity, values)
        location = request.base_url + entity_path(entity, row)
        body = {"@odata.context": _context(request, entity, None) + "/$entity", **_render(entity, row, None)}
        response = json_response(201, body, {"Location": location, "OData-EntityId": location, "ETag": _etag(row)})
        response.records_written = 1
        return response

    def _update(
        self, entity: Entity, key: dict[str, Any], request: ApiRequest, cross_company: bool, *, replace: bool
    ) -> ApiResponse:
        """PATCH changes the fields it names; PUT replaces the record (OData v4 "Update an Entity":
        properties left out of a PUT get their default value), so the rest go back to empty."""
        with self.store.transaction():
            current = self._existing(entity, key, request, cross_company)
            changes = self._prepare(entity, request.json_body())
            if replace:
                for fld in entity.fields.values():
                    if not fld.read_only and fld.prop not in changes and fld.name not in entity.entity_key.fields:
                        changes[fld.prop] = entity.empty_value(fld)
            for name in entity.entity_key.fields:
                if name in changes and str(changes[name]).casefold() != str(current[name]).casefold():
                    raise self._write_error(entity, f"The key field '{name}' cannot be changed.")
                changes.pop(name, None)
            self._validate(entity, {**current, **changes}, list(changes))
            try:
                self.store.update(entity, current, changes)
            except DuplicateKey:
                raise self._write_error(entity, "The record already exists.") from None
        return ApiResponse(204, {"OData-Version": "4.0"}, records_written=1)

    def _invoke(self, action: finops_actions.Action, request: ApiRequest) -> ApiResponse:
        if request.method != "POST":
            raise _method_not_allowed(request)
        return json_response(
            200, {"@odata.context": f"{request.base_url}$metadata#{action.return_type}", "value": action.result()}
        )


def _render(entity: Entity, row: Mapping[str, Any], select: list[Field] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"@odata.etag": _etag(row)}
    for fld in select or entity.fields.values():
        out[fld.prop] = row.get(fld.prop)
    return out


def _etag(row: Mapping[str, Any]) -> str:
    return 'W/"' + base64.b64encode(f"'0,{row[VERSION]}'".encode()).decode() + '"'


def _context(request: ApiRequest, entity: Entity, select: list[Field] | None) -> str:
    columns = f"({','.join(f.prop for f in select)})" if select else ""
    return f"{request.base_url}$metadata#{entity.entity_set}{columns}"


def _not_found(request: ApiRequest) -> ServiceError:
    return ServiceError(
        404,
        f"No HTTP resource was found that matches the request URI '{request.base_url}{request.path}'.",
        "System.Web.Http.HttpResponseException",
    )


def _method_not_allowed(request: ApiRequest) -> ServiceError:
    return ServiceError(405, f"The requested resource does not support http method '{request.method}'.")
