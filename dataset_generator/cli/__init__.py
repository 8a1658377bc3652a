"""The `dataset-generator` command: thin click wrappers over the Python API, a module per group of commands.

`cli` is the click group and `main` the console script (`dataset_generator.cli:main`). Commands import the
API inside their functions, so `dataset-generator --help` starts without pyarrow, Polars or pydantic.
"""

from __future__ import annotations

import os

# The command line is a program, not a library: it may choose Arrow's allocator for its own process and its
# workers, and must do so before pyarrow is imported (Arrow reads the variable then). The system allocator
# returns freed batches; Arrow's bundled one keeps tens of MB per worker cached and was no faster here
# (docs/performance.md). ARROW_DEFAULT_MEMORY_POOL set by the user wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

from . import describe, generate, validate  # noqa: E402  (after the allocator choice)
from .app import EXIT_BAD_INPUT, EXIT_INTERRUPTED, cli, main  # noqa: E402

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERRUPTED", "cli", "describe", "generate", "main", "validate"]
