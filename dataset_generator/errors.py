"""Errors a user can act on. The CLI prints them as one line and exits with `exit_code`: 2 for bad input,
1 for a failure of the environment (storage, a worker). Anything else is a bug.

Messages name the problem and the fix in library terms (`mode="overwrite"`), never a CLI flag.
"""

from __future__ import annotations

from typing import ClassVar


class DatasetGeneratorError(Exception):
    """Base class: bad input or an environment problem, reported without a traceback."""

    exit_code: ClassVar[int] = 2


class SpecError(DatasetGeneratorError):
    """A dataset spec (built-in or user YAML) is invalid. The message names table, column and field."""


class ParameterError(DatasetGeneratorError):
    """A `--param`, `--scale` or option value is invalid."""


class WriterError(DatasetGeneratorError):
    """A writer cannot write where or how it was asked (target not empty, bad codec, missing extra)."""


class StorageError(DatasetGeneratorError):
    """The output location cannot be written as given (missing bucket, bad credentials, read-only path, a file
    where a directory should be): bad input, exit code 2."""


class StorageFailure(StorageError):
    """The storage failed under a valid request (no space left on device, S3 errors that outlasted the retries,
    a dropped connection): a failure of the environment, exit code 1."""

    exit_code: ClassVar[int] = 1


class GenerationFailed(DatasetGeneratorError):
    """A worker failed while generating or writing; nothing was committed."""

    exit_code: ClassVar[int] = 1


class TableExistsError(WriterError):
    """Mode "error" and the table already exists. `table`, `location` and `version` (the format's version or
    snapshot, None for plain files) say which; the message names the modes that would proceed."""

    def __init__(self, table: str, location: str, version: str | None = None, *, kind: str = "table") -> None:
        self.table = table
        self.location = location
        self.version = version
        self.kind = kind
        at = f" (version {version})" if version is not None else ""
        self.subject = f"{kind} {table!r} already exists at {location}{at}"
        super().__init__(
            f'{self.subject}; pass mode="overwrite" to replace it or mode="append" to add to it'
        )


class SizeLimitError(ParameterError):
    """A run is too large to be what was meant (its estimate passes the sane bound on bytes or files); pass
    `force=True` to run it anyway."""


class ValidationSetupError(DatasetGeneratorError):
    """`validate` cannot read the output: DuckDB or an extension the format needs is not installed, or the
    output given does not exist (bad input, exit code 2)."""


class ValidationReadFailed(DatasetGeneratorError):
    """`validate` could not read what the output holds (a catalog or metadata database that fails to open):
    a failure of the environment, exit code 1."""

    exit_code: ClassVar[int] = 1


class SchemaEvolutionError(WriterError):
    """An append whose spec changed a table in a way its format cannot evolve (a narrowed or changed type, a new
    column that is not nullable, a dropped column the new rows cannot leave null). Raised before anything is
    written; `table`, `column`, `old` and `new` (type names, None where the column is absent) say which."""

    def __init__(self, message: str, *, table: str, column: str, old: str | None, new: str | None) -> None:
        self.table = table
        self.column = column
        self.old = old
        self.new = new
        super().__init__(message)
