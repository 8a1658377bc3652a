"""The `dataset-generator` command: thin click wrappers over the Python API, a module per group of commands.

`cli` is the click group and `main` the console script (`dataset_generator.cli:main`). Commands import the
API inside their functions, so `dataset-generator --help` starts without pyarrow, Polars or pydantic.
"""

from __future__ import annotations

from . import describe, generate, validate
from .app import EXIT_BAD_INPUT, EXIT_INTERRUPTED, cli, main

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERRUPTED", "cli", "describe", "generate", "main", "validate"]
