"""Errors a user can act on. The CLI prints them as one line and exits 2; anything else is a bug."""

from __future__ import annotations


class DatasetGeneratorError(Exception):
    """Base class: bad input or an environment problem, reported without a traceback."""


class SpecError(DatasetGeneratorError):
    """A dataset spec (built-in or user YAML) is invalid. The message names table, column and field."""


class ParameterError(DatasetGeneratorError):
    """A `--param`, `--scale` or option value is invalid."""


class WriterError(DatasetGeneratorError):
    """A writer cannot write where or how it was asked (target not empty, bad codec, missing extra)."""


class StorageError(DatasetGeneratorError):
    """The output location cannot be reached or written (missing bucket, bad credentials, read-only path)."""


class GenerationFailed(DatasetGeneratorError):
    """A worker failed while generating or writing; nothing was committed."""
