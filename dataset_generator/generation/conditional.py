"""Conditional columns: `switch` (a generator per value of another column) and `table_lookup` (a field of a
lookup table's row, by key). Rows are grouped by their condition value with numpy and each group is generated
at once; nothing runs per row."""

from __future__ import annotations

# Any here: lookup cells are any YAML scalars.
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schemas.base import INTEGER_TYPES, Bounded, ColumnBase
from ..schemas.conditional import LookupTableSpec, SwitchBase, TableLookupColumn, condition_text
from ..schemas.numeric import LogNormalColumn, NormalColumn
from . import libm
from . import random as rnd
from .convert import Values, numpy_type, to_arrow, to_numpy, to_strings
from .rows import Rows

# generate_column of generation/columns.py, passed in (it dispatches to this module).
Generate = Callable[[Any, Rows, int], Values]


def _condition_codes(rows: Rows, column: str, labels: list[str]) -> np.ndarray:
    """For each row, the position in `labels` of its `column` value as text (-1 when not listed)."""
    text = to_strings(rows.get(column), rows.spec.columns[column].type)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if not isinstance(text, pa.DictionaryArray):
        text = pc.dictionary_encode(text)
    dictionary = text.dictionary
    if not pa.types.is_string(dictionary.type):
        dictionary = pc.cast(dictionary, pa.string())  # a bool column's text is 'true'/'false', like condition_text
    positions = pc.index_in(dictionary, value_set=pa.array(labels, type=pa.string()))
    per_entry = np.append(np.asarray(positions.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int32), -1)
    indices = text.indices.fill_null(-1) if text.indices.null_count else text.indices
    return per_entry[indices.to_numpy(zero_copy_only=False)]  # a null value (index -1) takes the appended -1


def switch(column: SwitchBase, rows: Rows, key: int, generate: Generate) -> Values:
    branches = column.branches()
    labels = [label for label in branches if label != ""]
    codes = _condition_codes(rows, column.by, labels)
    fallback = branches.get("")
    if fallback is None and bool((codes < 0).any()):
        value = to_arrow(rows.get(column.by), rows.spec.columns[column.by].type)[int(np.argmax(codes < 0))].as_py()
        raise ValueError(
            f"{rows.table}.{column.by} = {value!r} has no case in switch column and no default; add a case or default:"
        )
    same = _same_distribution(column, [branches[label] for label in labels], fallback, codes, rows, key)
    if same is not None:
        return same
    groups: list[tuple[np.ndarray, ColumnBase]] = []
    for code, branch in [*enumerate(branches[label] for label in labels), (-1, fallback)]:
        where = np.flatnonzero(codes == code) if code >= 0 else np.flatnonzero(codes < 0)
        if branch is not None and len(where):
            groups.append((where, branch))
    if len(groups) == 1:
        return generate(groups[0][1], rows, key)  # one case for every row: no regrouping
    if column.type == "string":
        pieces = [to_arrow(generate(branch, _subset(rows, where), key), "string") for where, branch in groups]
        inverse = np.empty(len(rows), dtype=np.int64)
        inverse[np.concatenate([where for where, _ in groups])] = np.arange(len(rows), dtype=np.int64)
        return pa.concat_arrays(pieces).take(pa.array(inverse))
    result: np.ndarray = np.empty(len(rows), dtype=numpy_type(column.type))
    for where, branch in groups:
        result[where] = to_numpy(generate(branch, _subset(rows, where), key))
    return result


def _subset(rows: Rows, where: np.ndarray) -> Rows:
    """Some of the rows, read at their own as-of times."""
    as_of = rows.as_of[where] if isinstance(rows.as_of, np.ndarray) else rows.as_of
    return rows.runtime.rows(rows.table, rows.index[where], as_of=as_of)


def _same_distribution(
    column: SwitchBase, cases: list[ColumnBase], fallback: ColumnBase | None, codes: np.ndarray, rows: Rows, key: int
) -> np.ndarray | None:
    """Every case a normal (or every case a lognormal) rounded alike: one draw for all rows with each row's
    parameters, the very values the cases would give one by one (each row's draw depends on its index only)."""
    ordered = [*cases, fallback if fallback is not None else cases[0]]  # code -1 (the default) takes the last
    kinds = {type(case) for case in ordered}
    kind = kinds.pop() if len(kinds) == 1 else None
    if kind not in (NormalColumn, LogNormalColumn) or len({case.round for case in ordered}) != 1:  # type: ignore[attr-defined]
        return None
    centre = np.asarray([case.mean for case in ordered])[codes]  # type: ignore[attr-defined]
    spread = np.asarray([case.std if isinstance(case, NormalColumn) else case.sigma for case in ordered])[codes]  # type: ignore[attr-defined]
    values = centre + spread * rnd.standard_normal(key, rows.index)
    if kind is LogNormalColumn:
        values = libm.exp(values)
    bounded = [case for case in ordered if isinstance(case, Bounded) and (case.min is not None or case.max is not None)]
    if bounded:
        low = np.asarray([-np.inf if case.min is None else case.min for case in ordered if isinstance(case, Bounded)])[codes]
        high = np.asarray([np.inf if case.max is None else case.max for case in ordered if isinstance(case, Bounded)])[codes]
        values = np.clip(values, low, high)
    digits = ordered[0].round  # type: ignore[attr-defined]
    if column.type in INTEGER_TYPES:
        return np.rint(values).astype(np.int64)
    return values if digits is None else np.round(values, digits)


class _Table:
    """A lookup table's field as arrays: for each key, its value, or a slice of a flat list of entries."""

    def __init__(self, lookup: LookupTableSpec, field: str, column_type: str) -> None:
        rows = lookup.rows or []
        self.labels = [condition_text(row[lookup.key]) for row in rows]
        cells = [row.get(field) for row in rows]
        lists = [cell if isinstance(cell, list) else [cell] for cell in cells]
        self.lengths = np.asarray([len(cell) for cell in lists], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.has_lists = any(isinstance(cell, list) for cell in cells)
        flat = [item for cell in lists for item in cell]
        if column_type == "string":
            self.entries = to_arrow(pa.array([None if item is None else str(item) for item in flat], type=pa.string()), column_type)
        else:
            self.entries = to_arrow(pa.array(flat), column_type)  # numbers, bools, dates (checked by the spec)


def table_lookup(column: TableLookupColumn, rows: Rows, key: int) -> Values:
    memo_key = f"table_lookup:{column.table}:{column.column}:{column.type}"
    table = rows.runtime.memo.get(memo_key)
    if table is None:
        table = _Table(rows.runtime.spec.lookup_tables[column.table], column.column, column.type)
        rows.runtime.memo[memo_key] = table
    codes = _condition_codes(rows, column.by, table.labels)
    missing = codes < 0
    if bool(missing.any()) and column.default is None:
        value = to_arrow(rows.get(column.by), rows.spec.columns[column.by].type)[int(np.argmax(missing))].as_py()
        raise ValueError(
            f"{rows.table}.{column.by} = {value!r} is not a key of lookup table {column.table!r}; add a row or give default:"
        )
    safe = np.where(missing, 0, codes)
    position = table.starts[safe]
    if table.has_lists:
        position = position + np.floor(rnd.uniform(key, rows.index) * table.lengths[safe]).astype(np.int64)
    values = table.entries.take(pa.array(position))
    if bool(missing.any()):
        fill = to_arrow(pa.array([str(column.default)]) if column.type == "string" else np.asarray([column.default]), column.type)
        values = pc.if_else(pa.array(missing), fill.take(pa.array(np.zeros(len(values), dtype=np.int64))), values)
    if column.type == "string":
        return values
    return to_numpy(values)
