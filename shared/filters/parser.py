"""Reading a filter: precedence climbing over its tokens, compiled into closures that evaluate records."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from shared.filters.functions import FUNCTIONS
from shared.filters.syntax import KEYWORDS, FilterSyntaxError, Token, at, excerpt, tokenize
from shared.filters.values import (
    MIRRORED,
    NO,
    TESTS,
    Evaluator,
    Predicate,
    as_number,
    compare_both,
    compare_to,
    member_of,
    truth,
)

_MAX_DEPTH = 100
_VARIABLE = object()  # a node whose value depends on the record
_NOT = re.compile(r"not\W")


@dataclass(frozen=True)
class Filter:
    """A parsed `$filter`: `matches` evaluates it on one record without parsing again."""

    expression: str
    fields: frozenset[str]
    paths: frozenset[str]
    _predicate: Predicate = field(repr=False, compare=False)

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether `record` (a plain dict as read from the source) passes the filter."""
        return self._predicate(record)


@lru_cache(maxsize=256)
def parse_filter(expression: str) -> Filter:
    """Read `expression` once; FilterSyntaxError says what is wrong with a malformed one."""
    parser = _Parser(expression)
    predicate = parser.parse().evaluate
    paths = frozenset(parser.paths)
    return Filter(expression, frozenset(path.split("/", 1)[0] for path in paths), paths, predicate)


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv, "mod": operator.mod,
}
_COMPARISONS = frozenset({*TESTS, "in"})
_POWER = {"or": 1, "and": 2, **dict.fromkeys(_COMPARISONS, 3), "add": 4, "sub": 4, "mul": 5, "div": 5, "mod": 5}
_NOT_POWER = 6


# --- evaluators -----------------------------------------------------------------------------


def _property(path: str) -> Evaluator:
    first, *rest = path.split("/")
    if not rest:
        return lambda record: record.get(first)

    def navigate(record: Mapping[str, Any]) -> Any:
        value = record.get(first)
        for segment in rest:
            if not isinstance(value, Mapping):
                return None
            value = value.get(segment)
        return value

    return navigate


def _any(predicates: Sequence[Predicate]) -> Predicate:
    return lambda record: any(predicate(record) for predicate in predicates)


def _all(predicates: Sequence[Predicate]) -> Predicate:
    return lambda record: all(predicate(record) for predicate in predicates)


def _calculate(first: Evaluator, rest: Sequence[tuple[Callable[[Any, Any], Any], Evaluator]]) -> Evaluator:
    def calculate(record: Mapping[str, Any]) -> Any:
        total = as_number(first(record))
        for apply, operand in rest:
            value = as_number(operand(record))
            if total is NO or value is NO:
                return None
            try:
                total = apply(total, value)
            except ArithmeticError:
                return None
        return None if total is NO else total

    return calculate


def _call(implementation: Callable[..., Any], arguments: Sequence[Evaluator]) -> Evaluator:
    if len(arguments) == 1:
        (only,) = arguments
        return lambda record: implementation(only(record))
    if len(arguments) == 2:
        first, second = arguments
        return lambda record: implementation(first(record), second(record))
    return lambda record: implementation(*[argument(record) for argument in arguments])


# --- parsing --------------------------------------------------------------------------------


class _Node(NamedTuple):
    evaluate: Evaluator
    kind: str  # "condition" (gives a bool), "property" (may be a boolean field) or "value"
    start: int
    end: int
    constant: Any = _VARIABLE


def _node(evaluate: Evaluator, kind: str, start: int, end: int, operands: Sequence[_Node]) -> _Node:
    """A node; one whose operands are all constant is evaluated now, once."""
    if all(operand.constant is not _VARIABLE for operand in operands):
        value = evaluate({})
        return _Node(lambda _record: value, kind, start, end, value)
    return _Node(evaluate, kind, start, end)


class _Parser:
    """Precedence climbing over the tokens; chains of one operator are read in a loop, not by recursion."""

    def __init__(self, expression: str) -> None:
        if not expression.strip():
            raise FilterSyntaxError("the filter is empty")
        self.expression = expression
        self.tokens = tokenize(expression)
        self.index = 0
        self.paths: list[str] = []

    def parse(self) -> _Node:
        node = self.condition(self.binary(0, 0))
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return node

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def unexpected(self, token: Token) -> FilterSyntaxError:
        if token.kind == "end":
            return FilterSyntaxError("the filter ends in the middle of an expression")
        if token.text == "has":
            return FilterSyntaxError(f"the 'has' operator {at(token.start)} is not supported")
        message = f"unexpected {excerpt(token.text)} {at(token.start)}"
        if token.kind == "name" and token.text.lower() in KEYWORDS:
            message += f" (operators and keywords are lowercase: {token.text.lower()!r})"
        return FilterSyntaxError(message)

    def close(self, opening: Token) -> Token:
        token = self.advance()
        if token.text == ")" and token.kind == "punct":
            return token
        if token.kind == "end":
            raise FilterSyntaxError(f"the '(' {at(opening.start)} is never closed")
        raise self.unexpected(token)

    def condition(self, node: _Node) -> _Node:
        if node.kind == "condition":
            return node
        if node.kind == "property":
            get = node.evaluate
            return _Node(lambda record: truth(get(record)), "condition", node.start, node.end)
        text = self.expression[node.start:node.end]
        raise FilterSyntaxError(f"{excerpt(text)} {at(node.start)} is not a condition")

    def binary(self, power: int, depth: int) -> _Node:
        left = self.operand(depth)
        while True:
            token = self.peek()
            strength = _POWER.get(token.text, 0) if token.kind == "keyword" else 0
            if strength <= power:
                return left
            if token.text in ("or", "and"):
                left = self.logic(left, token.text, strength, depth)
            elif token.text in _ARITHMETIC:
                left = self.arithmetic(left, strength, depth)
            else:
                left = self.comparison(left, strength, depth)
                following = self.peek()
                if following.kind == "keyword" and following.text in _COMPARISONS:
                    raise self.unexpected(following)

    def logic(self, left: _Node, word: str, strength: int, depth: int) -> _Node:
        operands = [self.condition(left)]
        while self.peek().kind == "keyword" and self.peek().text == word:
            self.advance()
            operands.append(self.condition(self.binary(strength, depth)))
        predicates = [operand.evaluate for operand in operands]
        evaluate = _any(predicates) if word == "or" else _all(predicates)
        return _node(evaluate, "condition", left.start, operands[-1].end, operands)

    def arithmetic(self, left: _Node, strength: int, depth: int) -> _Node:
        operands, rest = [left], []
        while self.peek().kind == "keyword" and _POWER.get(self.peek().text) == strength:
            apply = _ARITHMETIC[self.advance().text]
            operands.append(self.binary(strength, depth))
            rest.append((apply, operands[-1].evaluate))
        return _node(_calculate(left.evaluate, rest), "value", left.start, operands[-1].end, operands)

    def comparison(self, left: _Node, strength: int, depth: int) -> _Node:
        op = self.advance()
        if op.text == "in":
            literals, end = self.literal_list(op)
            return _node(member_of(left.evaluate, literals), "condition", left.start, end, [left])
        right = self.binary(strength, depth)
        for one, other in ((left, right), (right, left)):
            value = other.constant
            if one.kind == "condition" and value is not _VARIABLE and value is not None and not isinstance(value, bool):
                message = f"{excerpt(self.expression[one.start:one.end])} {at(one.start)} is a condition"
                message += f" and cannot be compared with {excerpt(self.expression[other.start:other.end])}"
                if _NOT.match(self.expression, one.start):
                    message += " ('not' applies to what directly follows it: write 'not (a eq b)')"
                raise FilterSyntaxError(message)
        if right.constant is not _VARIABLE:
            evaluate = compare_to(op.text, left.evaluate, right.constant)
        elif left.constant is not _VARIABLE:
            evaluate = compare_to(MIRRORED[op.text], right.evaluate, left.constant)
        else:
            evaluate = compare_both(op.text, left.evaluate, right.evaluate)
        return _node(evaluate, "condition", left.start, right.end, [left, right])

    def literal_list(self, op: Token) -> tuple[list[Any], int]:
        opening = self.advance()
        if opening.kind == "end":
            raise self.unexpected(opening)
        if opening.text != "(" or opening.kind != "punct":
            raise FilterSyntaxError(f"'in' {at(op.start)} takes a list of literals in parentheses, like ('a', 'b')")
        literals = []
        while True:
            token = self.advance()
            if token.kind != "literal":
                if token.kind == "end":
                    raise self.unexpected(token)
                raise FilterSyntaxError(f"unexpected {excerpt(token.text)} {at(token.start)}: 'in' takes literals")
            literals.append(token.value)
            if self.peek().text != "," or self.peek().kind != "punct":
                return literals, self.close(opening).end
            self.advance()

    def operand(self, depth: int) -> _Node:
        token = self.advance()
        if depth > _MAX_DEPTH:
            raise FilterSyntaxError(f"the filter nests more than {_MAX_DEPTH} levels deep {at(token.start)}")
        if token.kind == "literal":
            value = token.value
            kind = "condition" if isinstance(value, bool) else "value"
            return _Node(lambda _record: value, kind, token.start, token.end, value)
        if token.kind == "keyword" and token.text == "not":
            inner = self.condition(self.binary(_NOT_POWER, depth + 1))
            test = inner.evaluate
            return _node(lambda record: not test(record), "condition", token.start, inner.end, [inner])
        if token.kind == "punct" and token.text == "(":
            inner = self.binary(0, depth + 1)
            return inner._replace(start=token.start, end=self.close(token).end)
        if token.kind == "name":
            if self.peek().text == "(" and self.peek().kind == "punct":
                return self.call(token, depth)
            self.paths.append(token.text)
            return _Node(_property(token.text), "property", token.start, token.end)
        raise self.unexpected(token)

    def call(self, name: Token, depth: int) -> _Node:
        function = FUNCTIONS.get(name.text)
        if function is None:
            message = f"unknown function {excerpt(name.text)} {at(name.start)}"
            if name.text.lower() in FUNCTIONS:
                message += f" (function names are lowercase: {name.text.lower()!r})"
            raise FilterSyntaxError(message)
        opening = self.advance()
        arguments: list[_Node] = []
        if self.peek().text != ")" or self.peek().kind != "punct":
            arguments.append(self.binary(0, depth + 1))
            while self.peek().text == "," and self.peek().kind == "punct":
                self.advance()
                arguments.append(self.binary(0, depth + 1))
        end = self.close(opening).end
        if len(arguments) not in function.arities:
            expected = " or ".join(str(count) for count in function.arities)
            plural = "s" if function.arities[-1] > 1 else ""
            message = f"{name.text}() {at(name.start)} takes {expected} argument{plural}, not {len(arguments)}"
            raise FilterSyntaxError(message)
        evaluate = _call(function.implementation, [argument.evaluate for argument in arguments])
        return _node(evaluate, function.kind, name.start, end, arguments)

