"""Derived columns: SQL expressions over the row's other columns, evaluated by Polars on whole batches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ..schemas.models import ExprColumn, expr_columns
from .convert import Values, to_arrow

if TYPE_CHECKING:
    from .runtime import RowSet


def expr(column: ExprColumn, rows: RowSet, key: int) -> Values:
    names = expr_columns(column.expr)
    frame = pl.DataFrame(
        {name: pl.from_arrow(to_arrow(rows.get(name), rows.spec.columns[name].type)) for name in names},
        height=len(rows),
    )
    result = frame.select(pl.sql_expr(column.expr).alias("value")).to_series()
    if len(result) == 1 and len(rows) != 1:  # a constant expression
        result = result.extend_constant(result[0], len(rows) - 1)
    arrow = result.to_arrow()
    if column.type == "string":
        return arrow.cast("string")
    from .convert import arrow_type

    typed = arrow.cast(arrow_type(column.type))
    if typed.null_count:  # SQL NULL stays null: numpy would turn it into NaN
        return typed
    return typed.to_numpy(zero_copy_only=False)
