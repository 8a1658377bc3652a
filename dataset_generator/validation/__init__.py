"""Validation: read a written dataset back with DuckDB and check it against its plan (`validate`).

Sits between api and parts in the layer contract: it plans (generation), lists files (storage) and reads
with DuckDB, never with the writer's code. DuckDB is an optional extra, imported when a validation starts.
"""

from __future__ import annotations

from .report import Check, ValidationReport
from .runner import FORMATS, validate

__all__ = ["FORMATS", "Check", "ValidationReport", "validate"]
