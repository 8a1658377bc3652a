"""`validate`: read a written dataset back with DuckDB and check it against its plan."""

from __future__ import annotations

import sys
from typing import Any

import click

from .app import cli, imports_done
from .options import (
    COMMON_DATASET_OPTIONS,
    TARGET_OPTIONS,
    ByteSize,
    dataset_and_file,
    parse_params,
    parse_tables,
    with_options,
    writer_from_flags,
)


@cli.command("validate")
@click.argument("output")
@click.argument("dataset", required=False)
@click.option("--format", "format_name", default="parquet", show_default=True, help="The --format it was generated with.")
@with_options(COMMON_DATASET_OPTIONS)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--compression", default="snappy", show_default=True, help="The codec asked for (checked).")
@click.option("--file-rows-target", type=int, default=250_000, show_default=True, help="Rows per file at most (checked).")
@click.option("--file-size-target", type=ByteSize(), default=None, help="The run's --file-size-target, if it had one.")
@click.option("--partition-by", default=None, help="As given to generate (default: the dataset's).")
@click.option("--tables", default=None, help="Comma-separated subset of tables.")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD[THH:MM:SS]", help="The run's --as-of, if it had one.")
@with_options(TARGET_OPTIONS)
def validate_command(
    output: str, dataset: str | None, format_name: str, schema_file: str | None, scale: float, params: tuple[str, ...],
    seed: int, compression: str, file_rows_target: int, file_size_target: int | None, partition_by: str | None, tables: str | None,
    as_of: str | None, **target: Any,
) -> None:  # fmt: skip
    """Check a written OUTPUT against the plan of DATASET, reading it with DuckDB: exit 0 when every check
    holds, 1 when one fails. Give the dataset, --scale, --param, --seed and layout options of the generate run."""
    from ..api import validate
    from ..options import PartitionSpec, WriterOptions
    imports_done()

    dataset, schema_file = dataset_and_file(dataset, schema_file)
    partition = PartitionSpec.parse(partition_by) if partition_by is not None else None
    options = WriterOptions(
        file_rows_target=file_rows_target, file_bytes_target=file_size_target, compression=compression, partition=partition
    )
    table_list = parse_tables(tables)
    writer = writer_from_flags(format_name, output, options, target)
    report = validate(dataset, writer, scale=scale, seed=seed, params=parse_params(params), schema_file=schema_file, tables=table_list, as_of=as_of)
    click.echo(report.table())
    if not report.ok:
        sys.exit(1)
