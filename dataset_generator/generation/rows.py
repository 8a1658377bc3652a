"""What a generator reads: some rows of one table and the dataset they belong to.

Generators type against these protocols, not against `runtime.RowSet`/`DatasetRuntime`, so the dispatch
(`columns.py`) and the runtime that calls it need not know each other's modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from ..schemas.dataset import DatasetSpec, TableSpec
from ..schemas.text import FakerColumn
from .convert import Values
from .layout import Layout


class Runtime(Protocol):
    """The dataset side: resolved spec, layouts and parent/child arithmetic."""

    # Per-process caches of generators (saved walk levels): values of several shapes, hence Any.
    memo: dict[str, Any]

    @property
    def spec(self) -> DatasetSpec: ...

    @property
    def layouts(self) -> Mapping[str, Layout]: ...

    def key(self, table: str, column: str) -> int: ...

    @property
    def range_start(self) -> int: ...

    @property
    def default_as_of(self) -> int: ...

    def rows(self, table: str, index: np.ndarray, parent_index: np.ndarray | None = None, as_of: int | np.ndarray | None = None) -> Rows: ...

    def rows_from(self, source: Rows, positions: np.ndarray, as_of: int | np.ndarray) -> Rows: ...

    def first_child(self, child: str, parent_index: np.ndarray) -> np.ndarray: ...

    def child_counts(self, child: str, parent_index: np.ndarray) -> np.ndarray: ...

    def children(self, child: str, parent_index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def faker_locale(self, column: FakerColumn) -> str: ...


class Rows(Protocol):
    """Some rows of one table (by index); `get` computes a column once and keeps it."""

    # Per-batch caches of generators (child rows shared by aggregates): values of several shapes, hence Any.
    memo: dict[str, Any]

    @property
    def table(self) -> str: ...

    @property
    def spec(self) -> TableSpec: ...

    @property
    def index(self) -> np.ndarray: ...

    @property
    def runtime(self) -> Runtime: ...

    @property
    def parent_index(self) -> np.ndarray: ...

    @property
    def as_of(self) -> int | np.ndarray:
        """The time mutable columns are read at (int64 microseconds): one for all rows, or one per row."""
        ...

    def versioned(self, key: int) -> int: ...

    def shareable_values(self) -> dict[str, Values] | None:
        """The columns computed so far, when these are a table's own rows read at the run's as-of time (not a
        version of them, not read at other times): what another batch of the same rows would compute."""
        ...

    def __len__(self) -> int: ...

    def get(self, column: str) -> Values: ...
