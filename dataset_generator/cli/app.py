"""The `dataset-generator` group: one-line errors with their exit codes, and the console script."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from ..errors import DatasetGeneratorError, SizeLimitError, TableExistsError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

# Library errors speak in API terms, in backticks (`scale`, `mode="overwrite"`); on the command line they name
# the flags instead. A term without a flag keeps its words, without the backticks.
_FLAGS = {
    "`scale`": "--scale",
    "`schema_file`": "--schema-file",
    "`chunk_rows`": "--chunk-rows",
    "`catalog_uri`": "--catalog-uri",
    "`parts`": "--parts",
    "`S3Config.uri`": "--s3-uri",
    '`mode="overwrite"`': "--mode overwrite",
    '`mode="append"`': "--mode append",
    "`force=True`": "--force",
    "`changes=True`": "--changes",
    "`scd2=True`": "--scd2",
    "`since`": "--since",
    "`until`": "--until",
    "`as_of`": "--as-of",
}


def in_cli_terms(message: str) -> str:
    """A library error's message with its API terms replaced by the command line's flags."""
    for term, flag in _FLAGS.items():
        message = message.replace(term, flag)
    return message


class _OneLineErrors(click.Group):
    """Every error is one line on stderr, a traceback only with DATASET_GENERATOR_DEBUG=1. Exit codes: 2 for bad
    input, 1 for a failure of the environment (storage, a worker, a catalog), 130 for Ctrl-C."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort as exc:
            # click turns a KeyboardInterrupt (a RunInterrupted naming the committed tables) into Abort.
            committed = getattr(exc.__cause__, "committed", ())
            if committed:
                message = f"interrupted; committed before the interrupt: {', '.join(committed)}; nothing else was committed"
            else:
                message = "interrupted; nothing was committed"
            click.echo(f"error: {message}", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            click.echo(f"error: {exc.format_message()}{hint}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except DatasetGeneratorError as exc:
            if os.environ.get("DATASET_GENERATOR_DEBUG"):
                raise
            hint = "; use --mode overwrite to replace it or --mode append to add to it"  # the API says mode="..."
            message = f"{exc.subject}{hint}" if isinstance(exc, TableExistsError) else str(exc)
            if isinstance(exc, SizeLimitError):
                message += " (on the command line: --force)"
            click.echo(f"error: {in_cli_terms(message)}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            committed = getattr(exc, "committed", ())
            if committed:
                message = f"interrupted; committed before the interrupt: {', '.join(committed)}; nothing else was committed"
            else:
                message = "interrupted; nothing was committed"
            click.echo(f"error: {message}", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except Exception as exc:  # a bug: still one line, with a way to see the traceback
            if os.environ.get("DATASET_GENERATOR_DEBUG"):
                raise
            first_line = (str(exc).strip().splitlines() or [""])[0]
            click.echo(
                f"error: unexpected {type(exc).__name__}: {first_line} (set DATASET_GENERATOR_DEBUG=1 for a traceback)",
                err=True,
            )
            sys.exit(1)


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dataset-generator")
def cli() -> None:
    """Generate large, realistic, reproducible synthetic datasets into Parquet, Delta, Iceberg or DuckLake."""


def main(argv: Sequence[str] | None = None) -> None:
    """The console script (the allocator choice is made when the cli package is imported, see cli/__init__).

    The cyclic garbage collector is off until the command has made its imports (`imports_done`): importing the
    API builds ~80 pydantic models and Arrow's compute wrappers, and the collector ran ~140 times through them
    (75 ms of a 0.57 s import, measured here), only to find them all alive."""
    gc.disable()
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="dataset-generator")
    finally:
        gc.enable()


_import_objects_frozen = False


def imports_done() -> None:
    """A command's imports are made: collect as usual from here on. The objects the imports made live as long
    as the process, so they are frozen (once a process): no full collection walks them again."""
    global _import_objects_frozen
    if not _import_objects_frozen:
        gc.freeze()
        _import_objects_frozen = True
    gc.enable()
