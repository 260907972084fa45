"""OData query options over the metadata service's collections (`$filter`, `$select`, `$top`, `$skip`, `$count`).

The metadata service is an OData v4 service of its own ("Microsoft.Dynamics.Metadata"), so its
`$filter` takes the OData URL conventions' expressions over any primitive or enum property of
the item (`IsReadOnly eq false`, `EntityCategory eq Microsoft.Dynamics.Metadata.EntityCategory'Master'`)
and the built-in string functions (`contains(tolower(Name), 'customer')`, `startswith`, `endswith`,
`tolower`, `toupper`, `trim`, `length`, `indexof`, `substring`, `concat`), as clients of the
metadata API such as d365fo-client send them. Collection-valued properties (`Properties`,
`Members`) cannot be compared; `in` and `has` are refused as on `/data/`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from odata_query import ast, exceptions
from odata_query.grammar import ODataLexer, ODataParser

QUERY_OPTIONS = frozenset({"$filter", "$select", "$top", "$skip", "$count"})
# A string literal, or an enum literal Namespace.Type'Member': odata-query's grammar has no enum
# token, and the member name is what an enum property holds here. Matching both in one scan
# keeps the inside of string literals untouched.
_LITERAL = re.compile(r"(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*(?P<member>'(?:[^']|'')*')|'(?:[^']|'')*'")

_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a is not None and b is not None and a < b,
    ast.LtE: lambda a, b: a is not None and b is not None and a <= b,
    ast.Gt: lambda a, b: a is not None and b is not None and a > b,
    ast.GtE: lambda a, b: a is not None and b is not None and a >= b,
}
_FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "contains": (2, lambda s, t: t in s),
    "startswith": (2, lambda s, t: s.startswith(t)),
    "endswith": (2, lambda s, t: s.endswith(t)),
    "tolower": (1, str.lower),
    "toupper": (1, str.upper),
    "trim": (1, str.strip),
    "length": (1, len),
    "indexof": (2, lambda s, t: s.find(t)),
    "concat": (2, lambda s, t: s + t),
}


class MetadataQueryError(Exception):
    """A query option the metadata service refuses (400)."""


def apply(items: Sequence[Mapping[str, Any]], query: Sequence[tuple[str, str]], type_name: str) -> dict[str, Any]:
    """The collection answer (`value`, and `@odata.count` when asked) for `items` under `query`."""
    options = _options(query)
    condition = _parse_filter(options.get("$filter"))
    chosen = [i for i in items if condition is None or _truth(_evaluate(condition, i, type_name))]
    skip = _nonnegative("$skip", options.get("$skip")) or 0
    top = _nonnegative("$top", options.get("$top"))
    page = chosen[skip:] if top is None else chosen[skip : skip + top]
    select = _select(options.get("$select"), items, type_name)
    answer: dict[str, Any] = {}
    count = (options.get("$count") or "false").lower()
    if count not in ("true", "false"):
        raise MetadataQueryError(f"'{options['$count']}' is not a valid count option.")
    if count == "true":
        answer["@odata.count"] = len(chosen)
    answer["value"] = [project(i, select) for i in page]
    return answer


def project(item: Mapping[str, Any], select: Sequence[str] | None) -> dict[str, Any]:
    """The item with only the selected properties (all of them without `$select`)."""
    return dict(item) if select is None else {name: item[name] for name in select if name in item}


def _options(query: Sequence[tuple[str, str]]) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, value in query:
        lowered = name.lower()
        if lowered.startswith("$"):
            if lowered not in QUERY_OPTIONS:
                raise MetadataQueryError(f"The query parameter '{name}' is not supported.")
            if lowered in options:
                raise MetadataQueryError(f"The query parameter '{name}' is specified more than once.")
            options[lowered] = value
    return options


def _nonnegative(name: str, text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit():
        raise MetadataQueryError(f"Invalid value '{text}' for {name} query option found.")
    return int(text)


def _select(text: str | None, items: Sequence[Mapping[str, Any]], type_name: str) -> list[str] | None:
    if text is None or not text.strip():
        return None
    names = [n.strip() for n in text.split(",")]
    known = set(items[0]) if items else set()
    for name in names:
        if name not in known:
            raise MetadataQueryError(f"Could not find a property named '{name}' on type '{type_name}'.")
    return names


def _parse_filter(text: str | None) -> ast._Node | None:
    if text is None or not text.strip():
        return None
    rewritten = _without_enum_prefixes(text)
    try:
        return ODataParser().parse(ODataLexer().tokenize(rewritten))
    except exceptions.ODataException as exc:
        raise MetadataQueryError(f"The query specified in the URI is not valid. {exc}") from None


def _without_enum_prefixes(text: str) -> str:
    """`Ns.Type'Member'` -> `'Member'`, outside string literals only."""
    return _LITERAL.sub(lambda m: m.group("member") or m.group(0), text)


def _truth(value: Any) -> bool:
    if not isinstance(value, bool):
        raise MetadataQueryError("The $filter expression must evaluate to a single Boolean value.")
    return value


def _evaluate(node: ast._Node, item: Mapping[str, Any], type_name: str) -> Any:
    if isinstance(node, ast.BoolOp):
        left = _truth(_evaluate(node.left, item, type_name))
        right = _truth(_evaluate(node.right, item, type_name))
        return left and right if isinstance(node.op, ast.And) else left or right
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _truth(_evaluate(node.operand, item, type_name))
    if isinstance(node, ast.Compare):
        compare = _COMPARE.get(type(node.comparator))
        if compare is None:
            raise MetadataQueryError(f"The operator '{type(node.comparator).__name__}' is not supported in $filter.")
        left, right = _evaluate(node.left, item, type_name), _evaluate(node.right, item, type_name)
        if left is not None and right is not None and _kind(left) != _kind(right):
            raise MetadataQueryError(f"A binary operator with incompatible types was detected: {left!r}, {right!r}.")
        return compare(left, right)
    if isinstance(node, ast.Identifier):
        return _property(node, item, type_name)
    if isinstance(node, ast.Call):
        return _call(node, item, type_name)
    if isinstance(node, ast.Boolean):
        return node.val == "true"
    if isinstance(node, ast.String):
        return node.val
    if isinstance(node, ast.Integer):
        return int(node.val)
    if isinstance(node, ast.Float):
        return float(node.val)
    if isinstance(node, ast.Null):
        return None
    raise MetadataQueryError(f"The expression '{type(node).__name__}' is not supported in $filter.")


def _property(node: ast.Identifier, item: Mapping[str, Any], type_name: str) -> Any:
    if node.namespace or node.name not in item:
        raise MetadataQueryError(f"Could not find a property named '{node.name}' on type '{type_name}'.")
    value = item[node.name]
    if isinstance(value, list | dict):
        raise MetadataQueryError(f"The property '{node.name}' of type '{type_name}' is not a primitive property.")
    return value


def _call(node: ast.Call, item: Mapping[str, Any], type_name: str) -> Any:
    name = node.func.name.lower()
    if name == "substring":
        args = [_evaluate(a, item, type_name) for a in node.args]
        if len(args) not in (2, 3) or not isinstance(args[0], str) or not all(isinstance(a, int) for a in args[1:]):
            raise MetadataQueryError("substring takes a string, a start and an optional length.")
        start = args[1]
        return args[0][start:] if len(args) == 2 else args[0][start : start + args[2]]
    known = _FUNCTIONS.get(name)
    if known is None:
        raise MetadataQueryError(f"An unknown function with name '{node.func.name}' was found.")
    arity, function = known
    args = [_evaluate(a, item, type_name) for a in node.args]
    if len(args) != arity or not all(isinstance(a, str) for a in args):
        raise MetadataQueryError(f"No function signature for the function with name '{name}' matches these arguments.")
    return function(*args)


def _kind(value: Any) -> type:
    if isinstance(value, bool):
        return bool
    return float if isinstance(value, int | float) else type(value)
