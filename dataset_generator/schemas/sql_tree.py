"""The tree of a checked SQL expression (schemas/sql.py parses it) and its canonical rendering: every operation
parenthesised, identifiers double-quoted, strings re-quoted, so the evaluator reads exactly the checked tree."""

from __future__ import annotations

from dataclasses import dataclass

from ..sql import sql_identifier


# --- the tree -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Literal:
    sql: str  # already canonical: 1.5, 'it''s', TRUE, NULL


@dataclass(frozen=True)
class ColumnRef:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str  # -, +, NOT
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Case:
    operand: Node | None
    whens: tuple[tuple[Node, Node], ...]
    default: Node | None


@dataclass(frozen=True)
class Cast:
    operand: Node
    type: str


@dataclass(frozen=True)
class Predicate:
    """IS [NOT] NULL, [NOT] BETWEEN, [NOT] IN (...), [NOT] LIKE / ILIKE."""

    op: str
    operand: Node
    args: tuple[Node, ...]
    negated: bool


Node = Literal | ColumnRef | Unary | Binary | Call | Case | Cast | Predicate


def collect_columns(node: Node, found: dict[str, None]) -> None:
    """Add the columns `node` reads to `found`, in order of first use."""
    if isinstance(node, ColumnRef):
        found.setdefault(node.name, None)
    for child in _children(node):
        collect_columns(child, found)


def _children(node: Node) -> list[Node]:
    if isinstance(node, Unary):
        return [node.operand]
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, Call):
        return list(node.args)
    if isinstance(node, Cast):
        return [node.operand]
    if isinstance(node, Predicate):
        return [node.operand, *node.args]
    if isinstance(node, Case):
        parts = [] if node.operand is None else [node.operand]
        for condition, result in node.whens:
            parts += [condition, result]
        return parts if node.default is None else [*parts, node.default]
    return []


def render(node: Node) -> str:
    """Canonical SQL of a tree: every operation in parentheses, identifiers quoted."""
    if isinstance(node, Literal):
        return node.sql
    if isinstance(node, ColumnRef):
        return sql_identifier(node.name)
    if isinstance(node, Unary):
        return f"(NOT {render(node.operand)})" if node.op == "NOT" else f"({node.op}{render(node.operand)})"
    if isinstance(node, Binary):
        return f"({render(node.left)} {node.op} {render(node.right)})"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(render(arg) for arg in node.args)})"
    if isinstance(node, Cast):
        return f"CAST({render(node.operand)} AS {node.type})"
    if isinstance(node, Case):
        head = "CASE" if node.operand is None else f"CASE {render(node.operand)}"
        whens = " ".join(f"WHEN {render(condition)} THEN {render(result)}" for condition, result in node.whens)
        default = "" if node.default is None else f" ELSE {render(node.default)}"
        return f"({head} {whens}{default} END)"
    negation = " NOT" if node.negated else ""
    operand = render(node.operand)
    if node.op == "IS NULL":
        return f"({operand} IS{negation} NULL)"
    if node.op == "BETWEEN":
        return f"({operand}{negation} BETWEEN {render(node.args[0])} AND {render(node.args[1])})"
    if node.op == "IN":
        return f"({operand}{negation} IN ({', '.join(render(arg) for arg in node.args)}))"
    return f"({operand}{negation} {node.op} {render(node.args[0])})"
