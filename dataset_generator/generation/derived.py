"""Derived columns: SQL expressions over the row's other columns, evaluated by Polars on whole batches.

The spec layer parsed and checked the expression (schemas/sql.py); Polars evaluates only its canonical
rendering, never the text as written. The numeric core of the language is evaluated by numpy instead
(generation/sql_numpy.py: the same values bit for bit, without a Polars frame per batch and expression).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ..schemas.derived import ExprColumn
from ..schemas.sql import Expression, parse_expression
from .convert import Values, arrow_type, column_arrow_type, from_numbers, to_arrow
from .rows import Rows
from .sql_numpy import Unsupported, column_value, evaluate

if TYPE_CHECKING:
    import polars as pl


@lru_cache(maxsize=4096)
def _polars_expression(sql: str) -> pl.Expr:
    """Polars' parse of a canonical expression, made once per process (an Expr is immutable)."""
    import polars as pl

    return pl.sql_expr(sql)


def expr(column: ExprColumn, rows: Rows, key: int) -> Values:
    expression = parse_expression(column.expr)
    fast = numpy_expr(column, expression, rows)
    return fast if fast is not None else polars_expr(column, expression, rows)


def polars_expr(column: ExprColumn, expression: Expression, rows: Rows) -> Values:
    """The expression's values from Polars SQL (the reference evaluator: every expression the language allows)."""
    import polars as pl  # on first use: a run without `expr` columns never pays Polars' import (fast start)

    inputs = {name: pl.from_arrow(to_arrow(rows.get(name), column_arrow_type(rows.spec.columns[name]))) for name in expression.columns}
    # A constant expression (`NULL`, `'x'`) reads no column: it is evaluated once and repeated.
    frame = pl.DataFrame(inputs, height=len(rows)) if inputs else pl.DataFrame()
    result = frame.select(_polars_expression(expression.sql).alias("value")).to_series()
    if len(result) == 1 and len(rows) != 1:
        result = result.clear() if len(rows) == 0 else result.extend_constant(result[0], len(rows) - 1)
    arrow = result.to_arrow()
    if column.type == "string":
        return arrow.cast("string")
    target = column_arrow_type(column)
    if from_numbers(target):
        # Decimals, times of day, durations are numbers until written (convert.to_arrow scales them, exactly for
        # decimals), as every numeric kind makes them: other columns (children_sum, lookup) read float64s.
        if pa.types.is_decimal(arrow.type):
            arrow = arrow.cast(pa.float64())
        if not (pa.types.is_integer(arrow.type) or pa.types.is_floating(arrow.type)):
            return arrow.cast(target)
        return arrow if arrow.null_count else arrow.to_numpy(zero_copy_only=False)
    typed = arrow.cast(arrow_type(column.type))
    if typed.null_count:  # SQL NULL stays null: numpy would turn it into NaN
        return typed
    return typed.to_numpy(zero_copy_only=False)


# Column types the numpy evaluator's results are returned as (through the same Arrow cast as Polars' results).
_NUMPY_RESULTS = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64", "bool"})


def numpy_expr(column: ExprColumn, expression: Expression, rows: Rows) -> Values | None:
    """The expression's values from numpy, or None when it is outside sql_numpy's subset (Polars evaluates it)."""
    if not expression.columns or (column.type != "string" and column.type not in _NUMPY_RESULTS):
        return None
    try:
        inputs = {name: column_value(rows.get(name), rows.spec.columns[name].type) for name in expression.columns}
        result = evaluate(expression.tree, inputs, decimals_as_float=column.type == "float64")
    except Unsupported:
        return None
    if (result.kind == "str") != (column.type == "string"):
        return None  # numbers formatted as strings, or strings as numbers: Polars' casts
    if result.kind == "str":
        assert isinstance(result.data, pa.Array)
        return result.data
    data = result.array
    if result.nulls is None and data.dtype == np.dtype(column.type):
        return data
    # The Polars path's own conversion: a safe Arrow cast to the column's type (it refuses what Polars' would).
    typed = pa.array(data, mask=result.nulls).cast(arrow_type(column.type))
    return typed if typed.null_count else typed.to_numpy(zero_copy_only=False)
