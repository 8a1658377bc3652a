"""The SQL expression language of `expr` columns and `checks:` predicates, parsed in pure Python.

An expression is tokenized and parsed into a small tree, checked against an allow-list (column references,
literals, arithmetic, comparison and boolean operators, CASE, CAST, IS NULL, BETWEEN, IN, LIKE and the scalar
functions in `FUNCTIONS`), then rendered back to canonical SQL: every operation parenthesised, identifiers
double-quoted, strings re-quoted. Only that rendering reaches the evaluator (Polars SQL), so what runs is
exactly what was checked: no subquery, table function, file access or comment can get through, whatever
the evaluator's own dialect would have read into the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .sql_tree import (
    Binary,
    Call,
    Case,
    Cast,
    ColumnRef,
    Literal,
    Node,
    Predicate,
    Unary,
    collect_columns,
    render,
)

MAX_EXPRESSION_CHARS = 20_000
MAX_DEPTH = 60  # nesting levels (each costs about eight Python frames of the parser)


class SqlExpressionError(ValueError):
    """An expression that is not valid, or uses something outside the allow-list."""


# Scalar functions an expression may call (as Polars SQL evaluates them). Nothing here reads a file or a table.
FUNCTIONS = frozenset(
    {
        # numbers
        "ABS", "ACOS", "ACOSH", "ASIN", "ASINH", "ATAN", "ATAN2", "ATANH", "CBRT", "CEIL", "CEILING", "COS",
        "COSH", "COT", "DEGREES", "DIV", "EXP", "FLOOR", "LN", "LOG", "LOG10", "LOG1P", "LOG2", "MOD", "PI",
        "POW", "POWER", "RADIANS", "ROUND", "SIGN", "SIN", "SINH", "SQRT", "TAN", "TANH", "TRUNC", "TRUNCATE",
        # choices and nulls
        "COALESCE", "GREATEST", "IFNULL", "LEAST", "NULLIF",
        # strings
        "BIT_LENGTH", "CHAR_LENGTH", "CHARACTER_LENGTH", "CONCAT", "CONCAT_WS", "ENDS_WITH", "INITCAP", "LEFT",
        "LENGTH", "LOWER", "LPAD", "LTRIM", "OCTET_LENGTH", "REPLACE", "REVERSE", "RIGHT", "RPAD", "RTRIM",
        "STARTS_WITH", "STRPOS", "SUBSTR", "SUBSTRING", "UPPER",
        # dates and times
        "DATE_PART", "STRFTIME",
    }
)  # fmt: skip

# Type names CAST may name (optionally with a precision: DECIMAL(10, 2), VARCHAR(20)).
TYPES = frozenset(
    {
        "BIGINT", "BOOL", "BOOLEAN", "CHAR", "DATE", "DECIMAL", "DOUBLE", "FLOAT", "FLOAT4", "FLOAT8", "INT",
        "INT2", "INT4", "INT8", "INTEGER", "NUMERIC", "REAL", "SMALLINT", "STRING", "TEXT", "TIMESTAMP",
        "TINYINT", "UBIGINT", "UINT", "UINTEGER", "USMALLINT", "UTINYINT", "VARCHAR",
    }
)  # fmt: skip

_OPERATOR_KEYWORDS = {"AND", "OR", "NOT", "IS", "NULL", "TRUE", "FALSE", "BETWEEN", "IN", "LIKE", "ILIKE"}
_STRUCTURE_KEYWORDS = {"CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "AS"}
# Words of statements and clauses: never a bare column name, so a subquery is refused by name.
_FORBIDDEN_KEYWORDS = {
    "SELECT", "FROM", "WHERE", "WITH", "UNION", "EXCEPT", "INTERSECT", "JOIN", "GROUP", "ORDER", "LIMIT",
    "OFFSET", "HAVING", "OVER", "EXISTS", "INTERVAL", "ARRAY", "VALUES", "TABLE", "INSERT", "UPDATE", "DELETE",
    "COPY", "ATTACH", "PRAGMA", "INSTALL", "LOAD", "CREATE", "DROP", "SET", "CALL", "EXECUTE",
}  # fmt: skip
KEYWORDS = frozenset(_OPERATOR_KEYWORDS | _STRUCTURE_KEYWORDS | _FORBIDDEN_KEYWORDS)

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
      | (?P<string>'(?:[^']|'')*')
      | (?P<quoted>"(?:[^"]|"")+")
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|<>|!=|==|\|\||::|[-+*/%(),=<>])""",
    re.VERBOSE,
)
_COMPARISONS = {"=": "=", "==": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, quoted, word, op, end
    text: str
    position: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


@dataclass(frozen=True)
class Expression:
    """A checked expression: its tree, the columns it reads (in order of first use) and its canonical SQL."""

    tree: Node
    columns: tuple[str, ...]
    sql: str


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> Expression:
    """Parse and check one SQL expression.

    Args:
        text: the expression as written in the spec, e.g. `ROUND(qty * unit_price, 2)`.

    Returns:
        The checked expression with its column references and canonical SQL.

    Raises:
        SqlExpressionError: the text is not a valid expression or leaves the allow-list.
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        raise SqlExpressionError(f"expression is {len(text):,} characters long; at most {MAX_EXPRESSION_CHARS:,}")
    parser = _Parser(_tokenize(text))
    try:
        tree = parser.expression(0)
    except RecursionError:
        raise SqlExpressionError(f"expression nests deeper than {MAX_DEPTH} levels") from None
    token = parser.peek()
    if token.kind != "end":
        raise SqlExpressionError(f"unexpected {token.text!r} at character {token.position + 1}")
    columns: dict[str, None] = {}
    collect_columns(tree, columns)
    return Expression(tree=tree, columns=tuple(columns), sql=render(tree))


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text.startswith(("--", "/*"), position):
            raise SqlExpressionError("comments are not allowed in an expression")
        match = _TOKEN.match(text, position)
        if match is None:
            raise SqlExpressionError(f"unexpected character {text[position]!r} at character {position + 1}")
        kind = match.lastgroup or "space"
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    tokens.append(Token("end", "end of expression", len(text)))
    return tokens


class _Parser:
    """Recursive descent, lowest precedence first: OR, AND, NOT, comparisons/predicates, + - ||, * / %, unary."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> Token:
        return self.tokens[self.position]

    def next(self) -> Token:
        token = self.tokens[self.position]
        if token.kind != "end":
            self.position += 1
        return token

    def accept_word(self, *words: str) -> bool:
        if self.peek().upper in words:
            self.position += 1
            return True
        return False

    def accept_op(self, op: str) -> bool:
        token = self.peek()
        if token.kind == "op" and token.text == op:
            self.position += 1
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.accept_word(word):
            self._unexpected(f"expected {word}")

    def expect_op(self, op: str) -> None:
        if not self.accept_op(op):
            self._unexpected(f"expected {op!r}")

    def _unexpected(self, hint: str) -> None:
        token = self.peek()
        raise SqlExpressionError(f"{hint} at character {token.position + 1}, found {token.text!r}")

    def _check_depth(self, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise SqlExpressionError(f"expression nests deeper than {MAX_DEPTH} levels")
        return depth + 1

    def expression(self, depth: int) -> Node:
        depth = self._check_depth(depth)
        node = self.conjunction(depth)
        while self.accept_word("OR"):
            node = Binary("OR", node, self.conjunction(depth))
        return node

    def conjunction(self, depth: int) -> Node:
        node = self.negation(depth)
        while self.accept_word("AND"):
            node = Binary("AND", node, self.negation(depth))
        return node

    def negation(self, depth: int) -> Node:
        if self.accept_word("NOT"):
            return Unary("NOT", self.negation(self._check_depth(depth)))
        return self.comparison(depth)

    def comparison(self, depth: int) -> Node:
        node = self.additive(depth)
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARISONS:
            self.next()
            return Binary(_COMPARISONS[token.text], node, self.additive(depth))
        if self.accept_word("IS"):
            negated = self.accept_word("NOT")
            self.expect_word("NULL")
            return Predicate("IS NULL", node, (), negated)
        negated = self.accept_word("NOT")
        if self.accept_word("BETWEEN"):
            low = self.additive(depth)
            self.expect_word("AND")
            return Predicate("BETWEEN", node, (low, self.additive(depth)), negated)
        if self.accept_word("IN"):
            self.expect_op("(")
            items = [self.expression(depth)]
            while self.accept_op(","):
                items.append(self.expression(depth))
            self.expect_op(")")
            return Predicate("IN", node, tuple(items), negated)
        for word in ("LIKE", "ILIKE"):
            if self.accept_word(word):
                return Predicate(word, node, (self.additive(depth),), negated)
        if negated:
            self._unexpected("expected BETWEEN, IN or LIKE after NOT")
        return node

    def additive(self, depth: int) -> Node:
        node = self.multiplicative(depth)
        while (token := self.peek()).kind == "op" and token.text in ("+", "-", "||"):
            self.next()
            node = Binary(token.text, node, self.multiplicative(depth))
        return node

    def multiplicative(self, depth: int) -> Node:
        node = self.unary(depth)
        while (token := self.peek()).kind == "op" and token.text in ("*", "/", "%"):
            self.next()
            node = Binary(token.text, node, self.unary(depth))
        return node

    def unary(self, depth: int) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text in ("-", "+"):
            self.next()
            return Unary(token.text, self.unary(self._check_depth(depth)))
        node = self.primary(depth)
        while self.accept_op("::"):
            node = Cast(node, self.type_name())
        return node

    def type_name(self) -> str:
        token = self.next()
        name = token.upper
        if name not in TYPES:
            raise SqlExpressionError(f"unknown type {token.text!r} in CAST; allowed: {', '.join(sorted(TYPES))}")
        if name == "DOUBLE" and self.accept_word("PRECISION"):
            name = "DOUBLE PRECISION"
        if self.accept_op("("):
            sizes = [self._integer()]
            if self.accept_op(","):
                sizes.append(self._integer())
            self.expect_op(")")
            name = f"{name}({', '.join(sizes)})"
        return name

    def _integer(self) -> str:
        token = self.next()
        if token.kind != "number" or not token.text.isdigit():
            raise SqlExpressionError(f"expected a whole number at character {token.position + 1}, found {token.text!r}")
        return token.text

    def primary(self, depth: int) -> Node:
        token = self.next()
        if token.kind == "number":
            return Literal(token.text)
        if token.kind == "string":
            return Literal(token.text)  # already quoted with '' escapes, as the tokenizer matched it
        if token.kind == "quoted":
            return ColumnRef(token.text[1:-1].replace('""', '"'))
        if token.kind == "op" and token.text == "(":
            node = self.expression(depth)
            self.expect_op(")")
            return node
        if token.kind != "word":
            raise SqlExpressionError(f"unexpected {token.text!r} at character {token.position + 1}")
        word = token.upper
        if word in ("TRUE", "FALSE", "NULL"):
            return Literal(word)
        if word == "CASE":
            return self.case(depth)
        if word == "CAST":
            self.expect_op("(")
            operand = self.expression(depth)
            self.expect_word("AS")
            cast = Cast(operand, self.type_name())
            self.expect_op(")")
            return cast
        if word in _FORBIDDEN_KEYWORDS:
            raise SqlExpressionError(f"{token.text} is not allowed: an expression reads the row's own columns only")
        if word in KEYWORDS:
            raise SqlExpressionError(f"unexpected {token.text!r} at character {token.position + 1}")
        if self.accept_op("("):
            if word not in FUNCTIONS:
                raise SqlExpressionError(
                    f"function {token.text} is not allowed: only scalar functions such as ROUND, ABS, GREATEST, "
                    "COALESCE, UPPER (the list is in docs/schemas.md)"
                )
            args: list[Node] = []
            if not self.accept_op(")"):
                args.append(self.expression(depth))
                while self.accept_op(","):
                    args.append(self.expression(depth))
                self.expect_op(")")
            return Call(word, tuple(args))
        return ColumnRef(token.text)

    def case(self, depth: int) -> Node:
        operand = None if self.peek().upper == "WHEN" else self.expression(depth)
        whens = []
        while self.accept_word("WHEN"):
            condition = self.expression(depth)
            self.expect_word("THEN")
            whens.append((condition, self.expression(depth)))
        if not whens:
            self._unexpected("CASE needs at least one WHEN")
        default = self.expression(depth) if self.accept_word("ELSE") else None
        self.expect_word("END")
        return Case(operand, tuple(whens), default)


__all__ = ["Expression", "SqlExpressionError", "parse_expression"]
