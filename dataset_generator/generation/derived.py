"""Derived columns: SQL expressions over the row's other columns, evaluated by Polars on whole batches.

The spec layer parsed and checked the expression (schemas/sql.py); Polars evaluates only its canonical
rendering, never the text as written.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import pyarrow as pa

from ..schemas.derived import ExprColumn
from ..schemas.sql import parse_expression
from .convert import Values, arrow_type, column_arrow_type, from_numbers, to_arrow
from .rows import Rows

if TYPE_CHECKING:
    import polars as pl


@lru_cache(maxsize=4096)
def _polars_expression(sql: str) -> pl.Expr:
    """Polars' parse of a canonical expression, made once per process (an Expr is immutable)."""
    import polars as pl

    return pl.sql_expr(sql)


def expr(column: ExprColumn, rows: Rows, key: int) -> Values:
    import polars as pl  # on first use: a run without `expr` columns never pays Polars' import (fast start)

    expression = parse_expression(column.expr)
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
