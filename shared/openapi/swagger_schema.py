"""pydantic models as Swagger 2.0 schemas: the `definitions` of the connector and the `$ref`s to them.

Swagger 2.0 (the only version Power Automate and Logic Apps import) knows a subset of JSON
Schema: no `anyOf`/`oneOf`, no `null` type, no `const`, a boolean `exclusiveMinimum`. So:

- `X | None` becomes `X` (optional fields are simply not required);
- a union of string literals becomes one string `enum`; any other union (the transforms, the
  auth kinds) becomes an object whose description names its alternatives, and the API
  validates the body as usual;
- `const` becomes a one-value `enum`, `examples` the first `example`;
- keywords Swagger 2.0 does not know are left out.

Each property gets an `x-ms-summary` (its name in words) for the connector's designer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

REF_PREFIX = "#/definitions/"
_KEPT = frozenset({
    "$ref", "format", "title", "description", "default", "multipleOf", "maximum", "minimum", "maxLength",
    "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "required",
    "enum", "type", "items", "properties", "additionalProperties", "readOnly", "example",
})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


Models = dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, str]]
"""The `$ref` to each model's definition, by model and mode (`validation` for bodies, `serialization` for answers)."""


def definitions(models: Iterable[tuple[type[BaseModel], JsonSchemaMode]]) -> tuple[Models, dict[str, dict[str, Any]]]:
    """The `$ref`s to `models`, and the Swagger 2.0 definitions of them and of every model they use, by name."""
    keys, schema = models_json_schema(list(models), ref_template=REF_PREFIX + "{model}")
    refs = {key: {"$ref": value["$ref"]} for key, value in keys.items()}
    return refs, {name: swagger(body) for name, body in sorted(schema.get("$defs", {}).items())}


def swagger(schema: dict[str, Any]) -> dict[str, Any]:
    """One JSON Schema (pydantic's dialect) as a Swagger 2.0 schema object."""
    schema = _without_null(schema)
    if "$ref" in schema:
        return {"$ref": schema["$ref"]}
    if "anyOf" in schema or "oneOf" in schema:
        return _union(schema)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "const":
            out["enum"] = [value]
        elif key == "examples" and value:
            out["example"] = value[0] if isinstance(value, list) else next(iter(value.values()))
        elif key == "exclusiveMinimum" or key == "exclusiveMaximum":
            out[key.replace("exclusive", "").lower()] = value
            out[key] = True
        elif key == "type" and isinstance(value, list):
            out["type"] = next(t for t in value if t != "null")
        elif key == "properties":
            out[key] = {name: _property(name, body) for name, body in value.items()}
        elif key == "items":
            out[key] = swagger(value) if isinstance(value, dict) else {}
        elif key == "additionalProperties":
            out[key] = swagger(value) if isinstance(value, dict) else value
        elif key == "title" and "properties" not in schema:
            continue
        elif key in _KEPT:
            out[key] = value
    if "const" in schema and "type" not in out:
        out["type"] = _json_type(schema["const"])
    if "prefixItems" in schema and "items" not in out:
        out["items"] = {}
    return out


def words(name: str) -> str:
    """`continuationToken` -> `Continuation Token`: a field's name as the designer shows it."""
    return " ".join(word[:1].upper() + word[1:] for word in _WORD.findall(name)) or name


def _property(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    body = swagger(schema)
    if "$ref" in body:
        return body
    return {**body, "x-ms-summary": words(name)}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`X | None` as `X`, keeping the outer description and default."""
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if options is None:
            continue
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1:
            outer = {k: v for k, v in schema.items() if k != key}
            return {**kept[0], **{k: v for k, v in outer.items() if k != "default" or v is not None}}
    return schema


def _union(schema: dict[str, Any]) -> dict[str, Any]:
    options = [option for key in ("anyOf", "oneOf") for option in schema.get(key, []) if option.get("type") != "null"]
    values = [v for option in options for v in option.get("enum", [option["const"]] if "const" in option else [])]
    literal = [option.get("type") == "string" and ("enum" in option or "const" in option) for option in options]
    if options and all(literal):
        return {"type": "string", "enum": values, **_described(schema)}
    names = [option["$ref"].removeprefix(REF_PREFIX) for option in options if "$ref" in option]
    kinds = sorted({option.get("type", "object") for option in options if "$ref" not in option})
    if kinds and not names and len(kinds) == 1 and kinds[0] != "object":
        return {"type": kinds[0], **_described(schema)}
    alternatives = ", ".join(names + kinds)
    described = _described(schema)
    text = f"One of: {alternatives}."
    described["description"] = f"{described['description']} {text}" if "description" in described else text
    return {"type": "object", **described}


def _described(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k in ("description", "default") and v is not None}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "object"
