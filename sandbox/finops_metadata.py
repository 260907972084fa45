"""F&O's metadata service at `/Metadata/`: what a client asks about the data entities before it reads or writes.

Collections, each also addressable by its key (`DataEntities('CustomerV3Entity')`,
`PublicEntities('CustomerV3')`, `PublicEnumerations('NoYes')`):

- `DataEntities`: every data entity with its public entity and collection (entity set) names;
- `PublicEntities`: the OData shape of each entity (properties with type, key, mandatory, label);
- `PublicEnumerations`: the enums the entities' fields use, members with their values;
- `Labels(Id='@SBX12',Language='en-us')`: the text of a label id the others give.

These are the metadata API's resources that d365fo-client and Microsoft's own tooling read
(the d365fo.integrations PowerShell module documents `/Metadata/PublicEntities` with `$filter`).
Collections take `$filter`, `$select`, `$top`, `$skip` and `$count` (see finops_metadata_query).
Everything is derived from the sandbox's entity definitions (see finops_catalog).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sandbox.entities import Entity
from sandbox.finops_catalog import LABEL_LANGUAGE, Catalog
from sandbox.finops_metadata_query import MetadataQueryError, apply, project
from sandbox.messages import ApiRequest, ApiResponse, json_response
from sandbox.odata_query import QueryError, parse_key, split_path

NAMESPACE = "Microsoft.Dynamics.Metadata"
# Collection name -> (item type, key property, items from the catalog).
_COLLECTIONS: dict[str, tuple[str, str, Callable[[Catalog], list[dict[str, Any]]]]] = {
    "DataEntities": ("DataEntity", "Name", lambda c: c.data_entities),
    "PublicEntities": ("PublicEntity", "Name", lambda c: c.public_entities),
    "PublicEnumerations": ("PublicEnumeration", "Name", lambda c: c.public_enumerations),
}


class MetadataService:
    """Answers `/Metadata/` requests for one set of F&O entities."""

    def __init__(self, entities: Mapping[str, Entity]) -> None:
        self.catalog = Catalog(entities)

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one GET to the metadata service."""
        resource = split_path(request.path.strip("/"))
        if resource is None or resource.rest is not None:
            return _not_found(request)
        context = f"{request.base_url}$metadata#{resource.name}"
        try:
            if resource.name == "Labels" and resource.key is not None:
                return self._label(request, resource.key, context)
            collection = _COLLECTIONS.get(resource.name)
            if collection is None:
                return _not_found(request)
            type_name, key_name, items_of = collection
            items = items_of(self.catalog)
            qualified = f"{NAMESPACE}.{type_name}"
            if resource.key is None:
                return json_response(200, {"@odata.context": context, **apply(items, request.query, qualified)})
            wanted = _single_key(resource.key, key_name)
            found = next((i for i in items if i[key_name] == wanted), None)
            if found is None:
                return _not_found(request)
            return json_response(200, {"@odata.context": context + "/$entity", **project(found, None)})
        except (MetadataQueryError, QueryError) as exc:
            return _error(400, str(exc))

    def _label(self, request: ApiRequest, raw_key: str, context: str) -> ApiResponse:
        parts = parse_key(raw_key).parts
        if set(parts) != {"Id", "Language"} or not all(isinstance(v, str) for v in parts.values()):
            return _error(400, "A label is addressed by Id and Language, both strings.")
        text = self.catalog.labels.get(parts["Id"])
        # Only the en-us label texts exist in the sandbox; language codes are case-insensitive.
        if text is None or parts["Language"].lower() != LABEL_LANGUAGE:
            return _not_found(request)
        body = {"@odata.context": context + "/$entity", "Id": parts["Id"], "Language": LABEL_LANGUAGE, "Value": text}
        return json_response(200, body)


def _single_key(raw_key: str, key_name: str) -> Any:
    parts = parse_key(raw_key).parts
    if len(parts) != 1 or next(iter(parts)) not in (None, key_name):
        raise MetadataQueryError(f"The key predicate '({raw_key})' is not valid: the key is {key_name}.")
    return next(iter(parts.values()))


def _not_found(request: ApiRequest) -> ApiResponse:
    return _error(404, f"No HTTP resource was found that matches the request URI '{request.base_url}{request.path}'.")


def _error(status: int, message: str) -> ApiResponse:
    return json_response(status, {"error": {"code": "", "message": message, "innererror": {"message": message}}})
