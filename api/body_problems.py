"""A request body's validation errors as the API names them: one `{"field", "message"}` per problem.

pydantic locates an error by its path through the models, with the tag of each union member
it tried (`tasks.0.sourceToCds.1.transforms.0.Default.defaultValue`) and Python's names for
JSON keys that are keywords (`from_`); a caller knows the path through its JSON.
"""

from __future__ import annotations

from pydantic import ValidationError

from shared.models import AUTH_TYPES, TRANSFORM_TYPES, FieldProblem

_UNION_TAGS = TRANSFORM_TYPES | AUTH_TYPES


def field_path(loc: tuple[int | str, ...]) -> str:
    """`tasks.0.sourceToCds.1.transforms.0.defaultValue`: the JSON path of an error, without union tags."""
    parts: list[str] = []
    for i, part in enumerate(loc):
        after_union_member = i > 0 and (isinstance(loc[i - 1], int) or loc[i - 1] == "auth")
        if isinstance(part, str) and part in _UNION_TAGS and after_union_member:
            continue
        parts.append("from" if part == "from_" else str(part))
    return ".".join(parts)


def body_problems(exc: ValidationError) -> list[dict[str, str]]:
    """`[{"field", "message"}]` for every error pydantic found; a FieldProblem adds its own field to the path."""
    found = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        loc = tuple(error["loc"])
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, FieldProblem):
            loc = (*loc, *cause.field.split("."))
            message = cause.message
        elif error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, str(error.get("ctx", {}).get("discriminator", "")).strip("'"))
        found.append({"field": field_path(loc), "message": message})
    return found
