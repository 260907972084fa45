"""Route templates as Azure Functions (ASP.NET Core routing) reads them.

    RouteTemplate("products/{category:alpha}/{id:int?}").match("products/toys/7")
    -> {"category": "toys", "id": "7"}

Supported: literal segments (case-insensitive), `{name}`, optional `{name?}`, defaults
`{name=value}`, catch-all `{*name}`, several parameters in one segment (`{name}.{ext}`) and
the constraints int, long, bool, alpha, guid, datetime, decimal, double, float, length,
minlength, maxlength, min, max, range, regex and required. When several templates match,
the most specific wins: literal segments before constrained parameters, before plain ones,
before optional ones, before catch-alls.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

_CONSTRAINT = re.compile(r"(\w+)(?:\((.*)\))?$")

LITERAL, COMPLEX, CONSTRAINED, PLAIN, OPTIONAL, CATCH_ALL = range(6)


class RouteError(ValueError):
    """A route template that cannot be read."""


@dataclass
class _Parameter:
    name: str
    optional: bool = False
    default: str | None = None
    catch_all: bool = False
    checks: list[Callable[[str], bool]] = field(default_factory=list)


def _number(kind: type) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            kind(value)
        except ValueError:
            return False
        return True

    return check


def _is_int32(value: str) -> bool:
    return re.fullmatch(r"-?\d+", value) is not None and -(2**31) <= int(value) < 2**31


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _length(args: list[str]) -> Callable[[str], bool]:
    low, high = (int(args[0]), int(args[0])) if len(args) == 1 else (int(args[0]), int(args[1]))
    return lambda value: low <= len(value) <= high


def _constraint(text: str) -> Callable[[str], bool]:
    match = _CONSTRAINT.match(text)
    if match is None:
        raise RouteError(f"cannot read the route constraint {text!r}")
    name, raw_args = match.group(1).lower(), match.group(2)
    args = [a.strip() for a in raw_args.split(",")] if raw_args and name != "regex" else []
    simple: dict[str, Callable[[str], bool]] = {
        "int": _is_int32,
        "long": lambda v: re.fullmatch(r"-?\d+", v) is not None and -(2**63) <= int(v) < 2**63,
        "bool": lambda v: v.lower() in ("true", "false"),
        "alpha": lambda v: re.fullmatch(r"[A-Za-z]+", v) is not None,
        "guid": _is_guid,
        "datetime": _is_datetime,
        "decimal": _number(float),
        "double": _number(float),
        "float": _number(float),
        "required": bool,
    }
    if name in simple:
        return simple[name]
    if name == "regex" and raw_args is not None:
        pattern = re.compile(raw_args, re.IGNORECASE)
        return lambda v: pattern.search(v) is not None
    if name == "length" and args:
        return _length(args)
    if name == "minlength" and args:
        return lambda v: len(v) >= int(args[0])
    if name == "maxlength" and args:
        return lambda v: len(v) <= int(args[0])
    if name in ("min", "max", "range") and args:
        bounds = [int(a) for a in args]
        low = bounds[0] if name in ("min", "range") else -(2**63)
        high = bounds[-1] if name in ("max", "range") else 2**63
        return lambda v: re.fullmatch(r"-?\d+", v) is not None and low <= int(v) <= high
    raise RouteError(f"devhost does not know the route constraint {text!r}")


def _parameter(text: str) -> _Parameter:
    catch_all = text.startswith("*")
    text = text.lstrip("*")
    default = None
    if "=" in text:
        text, default = text.split("=", 1)
    optional = text.endswith("?")
    text = text.rstrip("?")
    name, *constraints = _split_constraints(text)
    if not name.isidentifier():
        raise RouteError(f"{name!r} is not a route parameter name")
    checks = [_constraint(c) for c in constraints]
    return _Parameter(name, optional or catch_all or default is not None, default, catch_all, checks)


def _split_constraints(text: str) -> list[str]:
    """Split `name:c1:c2(x)` on colons that are not inside a constraint's parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == ":" and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    parts.append(current)
    return parts


class _ParameterText(str):
    """The text between the braces of one route parameter."""


def _tokens(segment: str) -> list[str]:
    """Literal text and parameters of one segment; `{{` and `}}` stand for literal braces."""
    tokens: list[str] = []
    literal, parameter, inside, index = "", "", False, 0
    while index < len(segment):
        pair = segment[index:index + 2]
        if pair in ("{{", "}}"):
            if inside:
                parameter += pair[0]
            else:
                literal += pair[0]
            index += 2
            continue
        char = segment[index]
        index += 1
        if char == "{" and not inside:
            if literal:
                tokens.append(literal)
            literal, inside = "", True
        elif char == "}" and inside:
            tokens.append(_ParameterText(parameter))
            parameter, inside = "", False
        elif inside:
            parameter += char
        else:
            literal += char
    if inside:
        raise RouteError(f"unclosed route parameter in {segment!r}")
    if literal:
        tokens.append(literal)
    return tokens


class RouteTemplate:
    """A compiled route template; `match` gives the route values of a path, or None."""

    def __init__(self, template: str) -> None:
        self.template = template
        self._parameters: dict[str, _Parameter] = {}
        pattern = ""
        ranks: list[int] = []
        segments = [s for s in template.strip("/").split("/") if s]
        for segment in segments:
            tokens = _tokens(segment)
            if len(tokens) == 1 and isinstance(tokens[0], _ParameterText):
                parameter = self._add(tokens[0])
                group = f"(?P<p{len(self._parameters) - 1}>{'.*' if parameter.catch_all else '[^/]+'})"
                pattern += f"(?:/{group})?" if parameter.optional else f"/{group}"
                ranks.append(_rank(parameter))
                continue
            pattern += "/"
            for token in tokens:
                if isinstance(token, _ParameterText):
                    self._add(token)
                    pattern += f"(?P<p{len(self._parameters) - 1}>[^/]+)"
                else:
                    pattern += re.escape(token)
            ranks.append(COMPLEX if any(isinstance(t, _ParameterText) for t in tokens) else LITERAL)
        self._regex = re.compile(f"^{pattern}/?$", re.IGNORECASE)
        self.specificity = (tuple(ranks), -len(segments))

    def _add(self, text: str) -> _Parameter:
        parameter = _parameter(text)
        if parameter.name.lower() in (name.lower() for name in self._parameters):
            raise RouteError(f"route parameter {parameter.name!r} appears twice in {self.template!r}")
        self._parameters[parameter.name] = parameter
        return parameter

    def match(self, path: str) -> dict[str, str] | None:
        """The route values when `path` (without the route prefix) fits this template."""
        found = self._regex.match("/" + path.strip("/") if path.strip("/") else "")
        if found is None:
            return None
        values: dict[str, str] = {}
        for index, parameter in enumerate(self._parameters.values()):
            value = found.group(f"p{index}")
            if value is None or value == "":
                if parameter.default is not None:
                    values[parameter.name] = parameter.default
                continue
            if not all(check(value) for check in parameter.checks):
                return None
            values[parameter.name] = value
        return values


def _rank(parameter: _Parameter) -> int:
    if parameter.catch_all:
        return CATCH_ALL
    if parameter.optional:
        return OPTIONAL
    return CONSTRAINED if parameter.checks else PLAIN
