"""`$filter` on Dataverse metadata (EntityDefinitions, Attributes, Keys, relationships).

Metadata is not stored in tables, so its filter is evaluated over the definitions in memory.
The Web API article "Query table definitions using the Web API" allows comparisons of
primitive and enum properties (`eq`, `ne`, `gt`, `ge`, `lt`, `le`) joined with `and`, `or`
and `not`, with parentheses; enum values are written as `Microsoft.Dynamics.CRM.<Enum>'Member'`.
Functions such as `contains` are not available on metadata and are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.odata_query import QueryError

Item = Mapping[str, Any]
Predicate = Callable[[Item], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<enum>[A-Za-z_][\w.]*'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_][\w/]*)
    )""",
    re.VERBOSE,
)
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}
_LITERAL_WORDS = {"true": True, "false": False, "null": None}


def compile_metadata_filter(expression: str | None, type_name: str) -> Predicate:
    """A predicate over metadata items; `type_name` names the metadata type in error messages."""
    if expression is None or not expression.strip():
        return lambda _item: True
    parser = _Parser(_tokens(expression), expression, type_name)
    predicate = parser.disjunction()
    if parser.position != len(parser.tokens):
        raise QueryError(f"Syntax error at position {parser.offset()} in '{expression}'.")
    return predicate


def _tokens(expression: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(expression):
        if expression[position:].strip() == "":
            break
        match = _TOKEN.match(expression, position)
        if match is None or match.end() == position:
            raise QueryError(f"Syntax error at position {position} in '{expression}'.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over `or` / `and` / `not` / comparison, the precedence OData gives them."""

    def __init__(self, tokens: list[tuple[str, str, int]], expression: str, type_name: str) -> None:
        self.tokens = tokens
        self.expression = expression
        self.type_name = type_name
        self.position = 0

    def offset(self) -> int:
        if self.position < len(self.tokens):
            return self.tokens[self.position][2]
        return len(self.expression)

    def _peek_word(self, *words: str) -> bool:
        if self.position >= len(self.tokens):
            return False
        kind, text, _ = self.tokens[self.position]
        return kind == "word" and text in words

    def _next(self) -> tuple[str, str, int]:
        if self.position >= len(self.tokens):
            raise QueryError(f"Syntax error: the expression '{self.expression}' ended unexpectedly.")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def disjunction(self) -> Predicate:
        terms = [self.conjunction()]
        while self._peek_word("or"):
            self.position += 1
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else (lambda item: any(term(item) for term in terms))

    def conjunction(self) -> Predicate:
        terms = [self.negation()]
        while self._peek_word("and"):
            self.position += 1
            terms.append(self.negation())
        return terms[0] if len(terms) == 1 else (lambda item: all(term(item) for term in terms))

    def negation(self) -> Predicate:
        if self._peek_word("not"):
            self.position += 1
            inner = self.negation()
            return lambda item: not inner(item)
        return self.primary()

    def primary(self) -> Predicate:
        kind, text, _ = self.tokens[self.position] if self.position < len(self.tokens) else ("", "", 0)
        if kind == "paren" and text == "(":
            self.position += 1
            inner = self.disjunction()
            if self._next()[1] != ")":
                raise QueryError(f"Syntax error: ')' expected at position {self.offset()} in '{self.expression}'.")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, name, _ = self._next()
        if kind != "word" or name in _COMPARISONS or name in ("and", "or", "not"):
            raise QueryError(f"Syntax error at position {self.offset()} in '{self.expression}'.")
        if self.position < len(self.tokens) and self.tokens[self.position][1] == "(":
            raise QueryError(f"The function '{name}' is not supported in a metadata query.")
        kind, operator, _ = self._next()
        if kind != "word" or operator not in _COMPARISONS:
            raise QueryError(f"Syntax error: a comparison operator was expected after '{name}' in '{self.expression}'.")
        value = self._literal()
        compare = _COMPARISONS[operator]
        path = name.split("/")
        type_name = self.type_name

        def test(item: Item) -> bool:
            current: Any = item
            for part in path:
                if not isinstance(current, Mapping) or part not in current:
                    raise QueryError(f"Could not find a property named '{part}' on type '{type_name}'.")
                current = current[part]
            if isinstance(current, str) and isinstance(value, str):
                return compare(current.casefold(), value.casefold())
            return compare(current, value)

        return test

    def _literal(self) -> Any:
        kind, text, _ = self._next()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "enum":
            return text[text.index("'") + 1 : -1].replace("''", "'")
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "word" and text in _LITERAL_WORDS:
            return _LITERAL_WORDS[text]
        raise QueryError(f"Syntax error: '{text}' is not a literal in '{self.expression}'.")
