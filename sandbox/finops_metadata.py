"""F&O's metadata service at `/Metadata/`: the data entities a client can ask about before it writes.

`GET /Metadata/PublicEntities` lists every entity with its properties (name, data type,
key, mandatory); `$filter` takes comparisons of the entity's `Name` or `EntitySetName`,
parsed by odata-query. `GET /Metadata/PublicEntities('CustomerV3')` gives one entity.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from odata_query import ast, exceptions
from odata_query.grammar import ODataLexer, ODataParser

from sandbox.entities import Entity
from sandbox.messages import ApiRequest, ApiResponse, json_response
from sandbox.odata_query import split_path

DATA_TYPES = {
    "string": "String", "memo": "String", "int": "Int32", "bigint": "Int64", "decimal": "Real", "money": "Real",
    "bool": "Enum", "datetime": "DateTime", "date": "Date", "guid": "Guid", "enum": "Enum",
}
FILTERABLE = frozenset({"Name", "EntitySetName"})


class MetadataError(Exception):
    pass


def handle(request: ApiRequest, entities: Mapping[str, Entity]) -> ApiResponse:
    resource = split_path(request.path.strip("/"))
    if resource is None or resource.name != "PublicEntities" or resource.rest is not None:
        return _error(404, f"No HTTP resource was found that matches the request URI '{request.path}'.")
    described = [_public_entity(entity) for entity in entities.values()]
    context = f"{request.base_url}$metadata#PublicEntities"
    if resource.key is not None:
        wanted = resource.key.strip("'").replace("''", "'")
        found = [e for e in described if e["Name"] == wanted]
        if not found:
            return _error(404, f"Entity '{wanted}' was not found.")
        return json_response(200, {"@odata.context": context + "/$entity", **found[0]})
    try:
        condition = _parse(request.param("$filter"))
        value = [e for e in described if condition is None or _matches(condition, e)]
    except MetadataError as exc:
        return _error(400, str(exc))
    return json_response(200, {"@odata.context": context, "value": value})


def _public_entity(entity: Entity) -> dict[str, Any]:
    key = set(entity.entity_key.fields)
    return {
        "Name": entity.logical_name,
        "EntitySetName": entity.entity_set,
        "IsReadOnly": False,
        "ConfigurationEnabled": True,
        "Properties": [
            {
                "Name": f.name,
                "TypeName": f.enum_type or DATA_TYPES.get(f.type, "String"),
                "DataType": DATA_TYPES.get(f.type, "String"),
                "IsKey": f.name in key,
                "IsMandatory": f.required or f.name in key,
                "AllowEdit": not f.read_only and f.name not in key,
                "AllowEditOnCreate": not f.read_only,
            }
            for f in entity.fields.values()
        ],
    }


def _parse(text: str | None) -> ast._Node | None:
    if not text:
        return None
    try:
        return ODataParser().parse(ODataLexer().tokenize(text))
    except exceptions.ODataException as exc:
        raise MetadataError(f"The query specified in the URI is not valid. {exc}") from exc


def _matches(node: ast._Node, item: Mapping[str, Any]) -> bool:
    if isinstance(node, ast.BoolOp):
        left, right = _matches(node.left, item), _matches(node.right, item)
        return left and right if isinstance(node.op, ast.And) else left or right
    if isinstance(node, ast.Compare) and isinstance(node.left, ast.Identifier) and isinstance(node.right, ast.String):
        if node.left.name not in FILTERABLE or not isinstance(node.comparator, ast.Eq | ast.NotEq):
            raise MetadataError(f"The filter on '{node.left.name}' is not supported on PublicEntities.")
        equal = item[node.left.name] == node.right.val
        return equal if isinstance(node.comparator, ast.Eq) else not equal
    raise MetadataError("Only comparisons of Name or EntitySetName with a string are supported here.")


def _error(status: int, message: str) -> ApiResponse:
    return json_response(status, {"error": {"code": "", "message": message, "innererror": {"message": message}}})
