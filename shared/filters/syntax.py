"""What a filter's text is made of: keywords, tokens and literals, and the error for text that cannot be read."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, NamedTuple

from shared.errors import InvalidInput
from shared.filters.values import parse_iso

KEYWORDS = frozenset({
    "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "has", "in", "true", "false", "null",
    "add", "sub", "mul", "div", "mod",
})


class FilterSyntaxError(InvalidInput, ValueError):
    """A `$filter` that cannot be read; the message says what is wrong and at which position.

    A ValueError too, so that a pydantic validator may raise it (shared/models/projects.py).
    """

    def __init__(self, message: str, *, field: str | None = "source.filter") -> None:
        super().__init__(message, field=field)


_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<enum>[^\W\d]\w*(?:\.[^\W\d]\w*)+'[^']*+(?:''[^']*+)*+')
    | (?P<string>'[^']*+(?:''[^']*+)*+')
    | (?P<guid>[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![\w-]))
    | (?P<datetime>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?
                   (?:Z|[+-][0-9]{2}:[0-9]{2})?(?![\w:.+-]))
    | (?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}(?![\w:.-]))
    | (?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?[mMdDfFlL]?(?![\w.]))
    | (?P<name>[^\W\d]\w*(?:/[^\W\d]\w*)*(?![\w/.]))
    | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_CONSTANTS = {"true": True, "false": False, "null": None}
_QUOTE_START = re.compile(r"(?:[^\W\d]\w*(?:\.[^\W\d]\w*)+)?'")
_BAD = re.compile(r"[\w.:+\-/]+|\S")


class Token(NamedTuple):
    kind: str  # "literal", "keyword", "name", "punct" or "end"
    text: str
    start: int
    value: Any = None

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def at(position: int) -> str:
    return f"at position {position + 1} of the filter"


def excerpt(text: str) -> str:
    """`text` quoted for a message (a string literal already is), shortened past 40 characters."""
    short = text if len(text) <= 40 else text[:39] + "…"
    return short if text.startswith("'") else repr(short)


def _literal(kind: str, text: str, start: int) -> Any:
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if kind == "enum":
        return text[text.index("'") + 1:-1].replace("''", "'")
    if kind == "guid":
        return text
    if kind == "number":
        return Decimal(text.rstrip("mMdDfFlL"))
    value = parse_iso(text)
    if value is None:
        raise FilterSyntaxError(f"{text!r} {at(start)} is not a valid {kind}")
    return value


def tokenize(expression: str) -> list[Token]:
    tokens = []
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None:
            if _QUOTE_START.match(expression, position):
                raise FilterSyntaxError(f"unterminated string starting at position {position + 1} of the filter")
            bad = _BAD.match(expression, position)
            text = bad.group() if bad else expression[position]
            raise FilterSyntaxError(f"unexpected {excerpt(text)} {at(position)}")
        kind, text = match.lastgroup or "", match.group()
        if kind == "name" and text in _CONSTANTS:
            tokens.append(Token("literal", text, position, _CONSTANTS[text]))
        elif kind == "name" and text in KEYWORDS:
            tokens.append(Token("keyword", text, position))
        elif kind in ("name", "punct"):
            tokens.append(Token(kind, text, position))
        elif kind != "space":
            tokens.append(Token("literal", text, position, _literal(kind, text, position)))
        position = match.end()
    tokens.append(Token("end", "", len(expression)))
    return tokens
