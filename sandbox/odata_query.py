"""The query options other than `$filter`, the `Prefer` header, key predicates and paging tokens.

Errors are `QueryError`s with the message the service gives; each app wraps them in its
own error shape (400).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from sandbox.entities import Entity, Field

# Characters that break a key in a URL on the real services (IIS and ASP.NET reject them).
UNSAFE_KEY_CHARACTERS = frozenset("/<>*%&:\\?+#")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_KEY_PART = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)\s*=\s*)?('(?:[^']|'')*'|[^,']+)\s*(?:,|$)")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_PREFERENCE = re.compile(r'\s*([^,=\s]+)\s*(?:=\s*("[^"]*"|[^,]*))?\s*(?:,|$)')


class QueryError(Exception):
    """A query option, key or token the service would answer with 400."""


@dataclass(frozen=True)
class Prefer:
    """The preferences of a `Prefer` header that the services honour."""

    maxpagesize: int | None = None
    track_changes: bool = False
    continue_on_error: bool = False
    return_representation: bool = False
    include_annotations: str | None = None


def parse_prefer(header: str | None) -> Prefer:
    values: dict[str, str | None] = {}
    for name, value in _PREFERENCE.findall(header or ""):
        values[name.lower()] = value.strip().strip('"') if value else None
    size = values.get("odata.maxpagesize")
    try:
        maxpagesize = int(size) if size else None
    except ValueError:
        raise QueryError(f"The Prefer header value 'odata.maxpagesize={size}' is not valid.") from None
    if maxpagesize is not None and maxpagesize <= 0:
        raise QueryError(f"The Prefer header value 'odata.maxpagesize={size}' is not valid.")
    return Prefer(
        maxpagesize=maxpagesize,
        track_changes="odata.track-changes" in values,
        continue_on_error="odata.continue-on-error" in values,
        return_representation=values.get("return") == "representation",
        include_annotations=values.get("odata.include-annotations"),
    )


def _property(entity: Entity, name: str) -> Field:
    fld = entity.props.get(name)
    if fld is None:
        raise QueryError(f"Could not find a property named '{name}' on type '{entity.type_name}'.")
    return fld


def parse_select(text: str | None, entity: Entity) -> list[Field] | None:
    """The fields `$select` names, in order, or None for all."""
    if text is None or not text.strip():
        return None
    return [_property(entity, name.strip()) for name in text.split(",") if name.strip()]


def parse_orderby(text: str | None, entity: Entity) -> tuple[tuple[str, bool], ...]:
    """`$orderby` as (column, descending) pairs."""
    if text is None or not text.strip():
        return ()
    order = []
    for item in text.split(","):
        parts = item.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
            raise QueryError(f"The $orderby clause '{item.strip()}' is not valid.")
        order.append((_property(entity, parts[0]).prop, len(parts) == 2 and parts[1].lower() == "desc"))
    return tuple(order)


def parse_count(text: str | None) -> bool:
    if text is None:
        return False
    if text.lower() not in ("true", "false"):
        raise QueryError(f"Invalid value '{text}' for $count query option found. Valid values are 'true', 'false'.")
    return text.lower() == "true"


def parse_nonnegative(name: str, text: str | None) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise QueryError(f"Invalid value '{text}' for {name} query option found. It must be a non-negative integer.")
    return int(text)


@dataclass(frozen=True)
class Expansion:
    """One `$expand` item: a single-valued navigation property and what to select from it."""

    navigation: str
    lookup: Field
    target_set: str
    select: str | None


def split_top_level(text: str, separator: str) -> list[str]:
    """`text` cut at each `separator` outside parentheses: the items of `$expand=a($select=x,y),b`."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == separator and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return items


def parse_expand(text: str | None, entity: Entity) -> list[Expansion]:
    if text is None or not text.strip():
        return []
    expansions = []
    for item in (i.strip() for i in split_top_level(text, ",")):
        name, _, rest = item.partition("(")
        nav = entity.navigation.get(name.strip())
        if nav is None:
            raise QueryError(f"Could not find a property named '{name.strip()}' on type '{entity.type_name}'.")
        select = None
        if rest:
            for option in rest.rstrip(")").split(";"):
                key, _, value = option.partition("=")
                if key.strip().lower() != "$select":
                    raise QueryError(f"The query option '{key.strip()}' is not supported inside $expand.")
                select = value
        expansions.append(Expansion(name.strip(), nav[0], nav[1], select))
    return expansions


@dataclass(frozen=True)
class KeyPredicate:
    """The parsed `(...)` of an entity URL: `{None: value}` when unnamed, else name -> value."""

    parts: dict[str | None, Any]


def parse_key(raw: str) -> KeyPredicate:
    """Parse a percent-encoded key predicate; refuses values the services cannot take in a URL."""
    text = unquote(raw)
    parts: dict[str | None, Any] = {}
    position = 0
    while position < len(text):
        match = _KEY_PART.match(text, position)
        if match is None or match.end() == position:
            raise QueryError(f"Bad Request - Error in query syntax: the key predicate '({text})' is not valid.")
        name, literal = match.group(1), match.group(2).strip()
        if name in parts:
            raise QueryError(f"The key predicate '({text})' names '{name}' twice.")
        parts[name] = _key_value(literal, text)
        position = match.end()
    if not parts or (None in parts and len(parts) > 1):
        raise QueryError(f"Bad Request - Error in query syntax: the key predicate '({text})' is not valid.")
    return KeyPredicate(parts)


def _key_value(literal: str, text: str) -> Any:
    if literal.startswith("'"):
        if len(literal) < 2 or not literal.endswith("'"):
            raise QueryError(f"Bad Request - Error in query syntax: the key predicate '({text})' is not valid.")
        value = literal[1:-1].replace("''", "'")
        unsafe = sorted(UNSAFE_KEY_CHARACTERS.intersection(value))
        if unsafe:
            raise QueryError(f"A potentially dangerous Request.Path value was detected from the client ({unsafe[0]}).")
        return value
    if _GUID.match(literal):
        return uuid.UUID(literal)
    if _NUMBER.match(literal):
        return float(literal) if "." in literal else int(literal)
    if literal in ("true", "false"):
        return literal == "true"
    raise QueryError(f"Bad Request - Error in query syntax: the key value '{literal}' is not a valid literal.")


def key_literal(value: Any) -> str:
    """A value written as an OData key literal (quotes doubled, then percent-encoded)."""
    if isinstance(value, str):
        return "'" + quote(value.replace("'", "''"), safe="-_.~!$'()*,;=@") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def entity_path(entity: Entity, values: Mapping[str, Any]) -> str:
    """`Set(key=...)` for a record, from its key field values (by field name)."""
    key = entity.entity_key
    if entity.primary_id is not None:
        return f"{entity.entity_set}({values[entity.primary_id]})"
    inner = ",".join(f"{name}={key_literal(values[name])}" for name in key.fields)
    return f"{entity.entity_set}({inner})"


def encode_token(state: Mapping[str, Any]) -> str:
    """An opaque paging token."""
    raw = json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def paging_cursor(token: Mapping[str, Any], width: int) -> tuple[Any, ...] | None:
    """The sort values a `$skiptoken` resumes after, checked against the query's sort width."""
    cursor = token.get("a")
    if cursor is None:
        return None
    if not isinstance(cursor, list) or len(cursor) != width:
        raise QueryError("The $skiptoken value is not valid.")
    return tuple(cursor)


def decode_token(token: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise QueryError("The $skiptoken value is not valid.") from None
    if not isinstance(state, dict):
        raise QueryError("The $skiptoken value is not valid.")
    return state


_RESOURCE = re.compile(r"^(?P<name>[A-Za-z_$][A-Za-z0-9_.$]*)(?:\((?P<key>.*)\))?(?:/(?P<rest>[^()]*))?$")


@dataclass(frozen=True)
class ResourcePath:
    """A path under the service root: `name`, `name(key)`, `name/rest` or `name(key)/rest`."""

    name: str
    key: str | None
    rest: str | None


def split_path(path: str) -> ResourcePath | None:
    """Split a (percent-encoded) resource path; None when it has no recognisable shape."""
    match = _RESOURCE.match(path.strip("/"))
    if match is None:
        return None
    return ResourcePath(match.group("name"), match.group("key"), match.group("rest") or None)


def route_label(method: str, path: str) -> str:
    """How the stats name a request: `GET accounts`, `PATCH accounts(key)`, `POST accounts/Action`."""
    path = path.strip("/")
    resource = split_path(path) if path else None
    if resource is None:
        return f"{method} /{path}"
    label = resource.name + ("(key)" if resource.key is not None else "")
    return f"{method} {label}" + (f"/{resource.rest}" if resource.rest else "")


def resolve_key(entity: Entity, predicate: KeyPredicate) -> dict[str, Any]:
    """The column values a key predicate addresses (stored form), for the entity's addressable keys.

    Dataverse addresses a record by its primary id or any alternate key; F&O by its entity key.
    """
    parts = predicate.parts
    candidates = [entity.entity_key, *(entity.alternate_keys if entity.primary_id is not None else ())]
    if None in parts:
        key = entity.entity_key
        if len(key.fields) != 1:
            raise QueryError(_invalid_key(entity))
        parts = {entity.fields[key.fields[0]].prop: parts[None]}
    for key in candidates:
        fields = [entity.fields[name] for name in key.fields]
        if {f.prop for f in fields} == set(parts):
            return {f.prop: _key_field_value(entity, f, parts[f.prop]) for f in fields}
    raise QueryError(_invalid_key(entity))


def _invalid_key(entity: Entity) -> str:
    return (
        f"The key in the request URI is not valid for resource '{entity.type_name}'. Ensure that the names "
        "and number of key properties match the declared or alternate key properties for the resource."
    )


def _key_field_value(entity: Entity, fld: Field, value: Any) -> Any:
    kind = fld.type
    ok = (
        (kind in ("string", "memo", "enum", "date", "datetime") and isinstance(value, str))
        or (kind in ("int", "bigint", "choice") and isinstance(value, int) and not isinstance(value, bool))
        or (kind in ("decimal", "money") and isinstance(value, int | float) and not isinstance(value, bool))
        or (kind in ("guid", "lookup") and isinstance(value, uuid.UUID))
        or (kind == "bool" and isinstance(value, bool))
    )
    if not ok:
        raise QueryError(_invalid_key(entity))
    return str(value) if isinstance(value, uuid.UUID) else value
