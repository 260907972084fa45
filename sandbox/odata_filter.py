"""`$filter` to parameterised SQLite, through odata-query's own lexer, parser and SQLite visitor.

The expression is parsed by odata-query into its AST; `_SqlVisitor` (a subclass of the
library's `AstToSqliteSqlVisitor`) turns every literal into a `?` parameter, every property
into a column checked against the entity definition, and refuses what the services refuse:
operands of incompatible types, arithmetic, lambdas, `in`, and functions outside the
system's dialect. Nothing from the request is ever pasted into SQL.

F&O enum literals (`Microsoft.Dynamics.DataEntities.NoYes'Yes'`) are not in odata-query's
grammar: the lexer reads them as a qualified identifier followed by a string. Such adjacent
token pairs are merged into one string token carrying the enum type before parsing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from odata_query import ast, exceptions
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.sql.sqlite import AstToSqliteSqlVisitor
from sly.lex import Token

from sandbox.entities import Entity, Field, normalize_datetime
from sandbox.storage import quote, target_column

NUMERIC = frozenset({"Edm.Int32", "Edm.Int64", "Edm.Decimal", "Edm.Double"})
TEMPORAL = frozenset({"Edm.DateTimeOffset", "Edm.Date"})
OPERATOR_KINDS = {
    ast.Eq: "Equal",
    ast.NotEq: "NotEqual",
    ast.Lt: "LessThan",
    ast.LtE: "LessThanOrEqual",
    ast.Gt: "GreaterThan",
    ast.GtE: "GreaterThanOrEqual",
}


class FilterError(Exception):
    """A `$filter` the service would answer with 400."""


@dataclass(frozen=True)
class Dialect:
    """What a system accepts in `$filter`."""

    functions: frozenset[str]
    wildcard_eq: bool
    navigation: bool


DATAVERSE = Dialect(functions=frozenset({"contains", "startswith", "endswith"}), wildcard_eq=False, navigation=True)
FINOPS = Dialect(functions=frozenset(), wildcard_eq=True, navigation=False)


@dataclass(frozen=True)
class EnumLiteral(ast.String):
    """`Namespace.EnumType'Member'`: a string that knows its enum type."""

    type_name: str = ""


def compile_filter(
    text: str, entity: Entity, entities: Mapping[str, Entity], dialect: Dialect
) -> tuple[str, tuple[Any, ...]]:
    """SQL (over table alias `t`) and its parameters for a `$filter` expression."""
    try:
        tree = ODataParser().parse(_merge_enum_literals(ODataLexer().tokenize(text)))
        visitor = _SqlVisitor(entity, entities, dialect)
        sql = visitor.visit(tree)
    except exceptions.ODataSyntaxError as exc:
        raise FilterError(f"Syntax error in $filter '{text}': {exc}") from None
    except exceptions.ODataException as exc:
        raise FilterError(str(exc)) from None
    return sql, tuple(visitor.params)


def _merge_enum_literals(tokens: Iterator[Token]) -> Iterator[Token]:
    pending: Token | None = None
    for token in tokens:
        if pending is not None:
            ident: ast.Identifier = pending.value
            raw_length = len(ident.full_name())
            if token.type == "STRING" and ident.namespace and pending.index + raw_length == token.index:
                token.value = EnumLiteral(token.value.val, type_name=ident.full_name())
                yield token
                pending = None
                continue
            yield pending
            pending = None
        if token.type == "ODATA_IDENTIFIER" and token.value.namespace:
            pending = token
        else:
            yield token
    if pending is not None:
        yield pending


class _SqlVisitor(AstToSqliteSqlVisitor):
    def __init__(self, entity: Entity, entities: Mapping[str, Entity], dialect: Dialect) -> None:
        super().__init__(table_alias="t")
        self.entity = entity
        self.entities = entities
        self.dialect = dialect
        self.params: list[Any] = []
        self._aliases = 0

    def _param(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    # --- properties ---------------------------------------------------------------------

    def _field(self, name: str, entity: Entity | None = None) -> Field:
        entity = entity or self.entity
        fld = entity.props.get(name)
        if fld is None:
            raise FilterError(f"Could not find a property named '{name}' on type '{entity.type_name}'.")
        return fld

    def visit_Identifier(self, node: ast.Identifier) -> str:
        if node.namespace:
            raise FilterError(
                f"Could not find a property named '{node.full_name()}' on type '{self.entity.type_name}'."
            )
        return f"t.{quote(self._field(node.name).prop)}"

    def _navigation(self, node: ast.Attribute) -> tuple[Field, Entity, Field]:
        if not self.dialect.navigation or not isinstance(node.owner, ast.Identifier):
            raise FilterError("Navigation paths are not supported in this $filter.")
        nav = self.entity.navigation.get(node.owner.name)
        if nav is None:
            raise FilterError(
                f"Could not find a navigation property named '{node.owner.name}' on type '{self.entity.type_name}'."
            )
        lookup, target_set = nav
        target = self.entities[target_set]
        return lookup, target, self._field(node.attr, target)

    def visit_Attribute(self, node: ast.Attribute) -> str:
        lookup, target, fld = self._navigation(node)
        self._aliases += 1
        alias = f"n{self._aliases}"
        sql = (
            f"(SELECT {alias}.{quote(fld.prop)} FROM {quote(target.entity_set)} AS {alias} "
            f"WHERE {alias}.{quote(target.primary_id or '')} = t.{quote(lookup.prop)}"
        )
        if len(lookup.targets) > 1:
            sql += f" AND t.{quote(target_column(lookup))} = {self._param(target.entity_set)}"
        return sql + ")"

    # --- literals -----------------------------------------------------------------------

    def visit_String(self, node: ast.String) -> str:
        return self._param(node.val)

    def visit_EnumLiteral(self, node: EnumLiteral) -> str:
        return self._param(node.val)

    def visit_Integer(self, node: ast.Integer) -> str:
        return self._param(int(node.val))

    def visit_Float(self, node: ast.Float) -> str:
        return self._param(float(node.val))

    def visit_Boolean(self, node: ast.Boolean) -> str:
        return self._param(1 if node.py_val else 0)

    def visit_GUID(self, node: ast.GUID) -> str:
        return self._param(node.val.lower())

    def visit_DateTime(self, node: ast.DateTime) -> str:
        return self._param(normalize_datetime(node.val))

    def visit_Date(self, node: ast.Date) -> str:
        return self._param(node.val)

    def _unsupported(self, node: ast._Node) -> str:
        raise FilterError(f"'{type(node).__name__}' is not supported in $filter.")

    visit_Time = visit_Duration = visit_Geography = _unsupported
    visit_BinOp = visit_CollectionLambda = visit_Lambda = _unsupported

    def visit_In(self, node: ast.In) -> str:
        raise FilterError("The 'in' operator is not supported.")

    # --- comparisons and functions ------------------------------------------------------

    def _type_of(self, node: ast._Node) -> str | None:
        if isinstance(node, ast.Identifier) and not node.namespace:
            return self._field(node.name).edm_type
        if isinstance(node, ast.Attribute):
            return self._navigation(node)[2].edm_type
        if isinstance(node, EnumLiteral):
            return node.type_name
        literal_types = {
            ast.String: "Edm.String",
            ast.Integer: "Edm.Int32",
            ast.Float: "Edm.Decimal",
            ast.Boolean: "Edm.Boolean",
            ast.GUID: "Edm.Guid",
            ast.DateTime: "Edm.DateTimeOffset",
            ast.Date: "Edm.Date",
        }
        return literal_types.get(type(node))

    def visit_Compare(self, node: ast.Compare) -> str:
        if isinstance(node.comparator, ast.In):
            raise FilterError("The 'in' operator is not supported.")
        left, right = self._type_of(node.left), self._type_of(node.right)
        if left and right and not _compatible(left, right):
            kind = OPERATOR_KINDS.get(type(node.comparator), type(node.comparator).__name__)
            raise FilterError(
                "A binary operator with incompatible types was detected. "
                f"Found operand types '{left}' and '{right}' for operator kind '{kind}'."
            )
        for side in (node.left, node.right):
            if isinstance(side, EnumLiteral):
                self._check_enum_member(side, node)
        if (
            self.dialect.wildcard_eq
            and isinstance(node.comparator, ast.Eq | ast.NotEq)
            and isinstance(node.right, ast.String)
            and not isinstance(node.right, EnumLiteral)
            and "*" in node.right.val
        ):
            negate = "NOT " if isinstance(node.comparator, ast.NotEq) else ""
            pattern = _like_escape(node.right.val).replace("*", "%")
            return f"{self.visit(node.left)} {negate}LIKE {self._param(pattern)} ESCAPE '\\'"
        return super().visit_Compare(node)

    def _check_enum_member(self, literal: EnumLiteral, node: ast.Compare) -> None:
        other = node.left if node.right is literal else node.right
        if isinstance(other, ast.Identifier):
            fld = self._field(other.name)
            if literal.val not in fld.enum_values:
                raise FilterError(f"The string '{literal.val}' is not a valid enumerated type constant.")

    def visit_Call(self, node: ast.Call) -> str:
        name = node.func.full_name()
        if name not in self.dialect.functions:
            raise FilterError(f"The function '{name}' is not supported.")
        return super().visit_Call(node)

    def _like(self, args: tuple[ast._Node, ...], prefix: str, suffix: str) -> str:
        subject, needle = args
        if not isinstance(needle, ast.String):
            raise FilterError("The second argument of a string function must be a string literal.")
        if self._type_of(subject) not in ("Edm.String", None):
            raise FilterError("String functions apply to string properties only.")
        pattern = prefix + _like_escape(needle.val) + suffix
        return f"{self.visit(subject)} LIKE {self._param(pattern)} ESCAPE '\\'"

    def sqlfunc_contains(self, *args: ast._Node) -> str:
        return self._like(args, "%", "%")

    def sqlfunc_startswith(self, *args: ast._Node) -> str:
        return self._like(args, "", "%")

    def sqlfunc_endswith(self, *args: ast._Node) -> str:
        return self._like(args, "%", "")


def _compatible(left: str, right: str) -> bool:
    if left == right:
        return True
    return (left in NUMERIC and right in NUMERIC) or (left in TEMPORAL and right in TEMPORAL)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
