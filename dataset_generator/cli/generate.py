"""`generate` and `commit` (of a parts run)."""

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
from .output import Progress, human_bytes, print_catalog, print_summary


@cli.command("generate")
@click.argument("dataset", required=False)
@click.option("--format", "format_name", default="parquet", show_default=True, help="Writer: see list-formats.")
@click.option("--output", "-o", required=True, help="Output directory or s3://bucket/prefix.")
@with_options(COMMON_DATASET_OPTIONS)
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed, same data.")
@click.option("--compression", default="snappy", show_default=True, help="snappy, gzip, zstd, brotli, lz4 or none.")
@click.option("--compression-level", type=int, default=None, help="Codec level (gzip 1-9, zstd 1-22, brotli 0-11).")
@click.option("--file-rows-target", type=int, default=250_000, show_default=True, help="Rows per file at most.")
@click.option("--file-size-target", type=ByteSize(), default=None, help="Bytes per file instead, e.g. 256MB (rows per file from a pilot sample).")
@click.option("--row-group-rows", type=int, default=None, help="Rows per Parquet row group.")
@click.option("--partition-by", default=None, help="year,month,day | year,month | year | none (default: the dataset's).")
@click.option("--mode", type=click.Choice(["error", "overwrite", "append"]), default="error", show_default=True)
@click.option("--workers", type=int, default=None, help="Parallel workers (default: all cores; one for small runs).")
@click.option(
    "--worker-type",
    type=click.Choice(["thread", "process"]),
    default="thread",
    show_default=True,
    help="Workers of this machine (the local engine, or a Dask LocalCluster) as threads of one process (faster and leaner on few cores) or processes.",
)
@click.option("--tables", default=None, help="Comma-separated subset of tables.")
@click.option("--chunk-rows", type=int, default=None, help="Rows generated per batch (memory knob; output is identical).")
@click.option("--dry-run", is_flag=True, help="Print the plan (files, rows per table) and write nothing.")
@click.option("--force", is_flag=True, help="Run even beyond the size bound (1 PB or 10 million files).")
@with_options(TARGET_OPTIONS)
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary.")
@click.option("--engine", default="local", show_default=True, help="local (process pool) or dask (a cluster).")
@click.option("--dask-address", default=None, metavar="tcp://HOST:PORT", help="Dask scheduler (default: a LocalCluster).")
@click.option("--parts", type=int, default=None, help="Split the run into N parts (with --part; see 'commit').")
@click.option("--part", type=int, default=None, help="Generate only part K (1-based) of --parts N; commits nothing.")
@click.option("--run-id", default=None, help="Run id shared by all parts (default: derived from the command).")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="First day of a time slice (inclusive; default: the range start).")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="Last day of a time slice (inclusive; default: the range end).")
@click.option("--changes", is_flag=True, help="Write what changed each day of --since..--until instead (docs/changes.md): <table>_changes tables, or one commit per table per day into the existing Delta/Iceberg/DuckLake tables.")
@click.option("--scd2", is_flag=True, help="Dimensions as SCD type 2 version histories (valid_from, valid_to, is_current); with --changes, versions closed and opened in Delta/DuckLake tables.")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD[THH:MM:SS]", help="Snapshot time: each table as it stood at the end of that day (or that moment).")
def generate_command(
    dataset: str | None,
    format_name: str,
    output: str,
    schema_file: str | None,
    scale: float,
    params: tuple[str, ...],
    seed: int,
    compression: str,
    compression_level: int | None,
    file_rows_target: int,
    file_size_target: int | None,
    row_group_rows: int | None,
    partition_by: str | None,
    mode: str,
    workers: int | None,
    worker_type: str,
    tables: str | None,
    chunk_rows: int | None,
    dry_run: bool,
    force: bool,
    quiet: bool,
    engine: str,
    dask_address: str | None,
    parts: int | None,
    part: int | None,
    run_id: str | None,
    since: str | None,
    until: str | None,
    as_of: str | None,
    changes: bool,
    scd2: bool,
    **target: Any,
) -> None:
    """Generate DATASET (or --schema-file) into --output with the chosen --format."""
    if engine == "dask" and worker_type == "process" and not dask_address:
        # Its LocalCluster's workers are forked from a fork server: started now, it imports on the other core
        # while this process imports the API and plans (engine/dask_workers.py).
        from ..engine.dask_workers import start_fork_server

        start_fork_server()
    from ..api import generate, plan_dataset
    from ..generation.planner import DEFAULT_CHUNK_ROWS
    from ..options import PartitionSpec, WriterOptions
    imports_done()

    dataset, schema_file = dataset_and_file(dataset, schema_file)
    options = WriterOptions(
        file_rows_target=file_rows_target,
        file_bytes_target=file_size_target,
        compression=compression,
        compression_level=compression_level,
        row_group_rows=row_group_rows,
        partition=PartitionSpec.parse(partition_by) if partition_by is not None else None,
        mode=mode,  # type: ignore[arg-type]
    )
    writer = writer_from_flags(format_name, output, options, target)
    table_list = parse_tables(tables)
    if chunk_rows is not None and chunk_rows < 1:
        raise click.BadParameter(f"must be at least 1 (got {chunk_rows})", param_hint="--chunk-rows")
    given = parse_params(params)
    if (parts is None) != (part is None):
        raise click.UsageError("--parts and --part go together (e.g. --parts 4 --part 1)")
    if dry_run:  # planning reads the options only: no catalog or storage client is built
        plan = plan_dataset(
            dataset, options, scale=scale, seed=seed, params=given, schema_file=schema_file, tables=table_list, force=force,
            since=since, until=until, as_of=as_of,
        )
        for table in plan.tables:
            partitions = len({task.partition for task in table.files})
            # Tables whose rows the history or the window filter hold at most their planned rows (O(files): not counted).
            filtered = " (at most: filtered by creation/deletion)" if plan.runtime.filters(table.name) else ""
            click.echo(f"{table.name:<16} {table.rows:>14,} rows {len(table.files):>7,} files {partitions:>6,} partitions{filtered}")
        click.echo(f"{'total':<16} {plan.total_rows:>14,} rows {len(plan.tasks):>7,} files")
        return
    progress: Any = Progress() if not quiet and sys.stderr.isatty() else None
    if until is not None and as_of is None:
        progress = _PlanNote(progress)
    summary = generate(
        dataset or schema_file,  # type: ignore[arg-type]
        writer,
        scale=scale,
        seed=seed,
        params=given,
        workers=workers,
        schema_file=schema_file,
        tables=table_list,
        chunk_rows=DEFAULT_CHUNK_ROWS if chunk_rows is None else chunk_rows,
        progress=progress,
        engine=engine,
        dask_address=dask_address,
        parts=parts,
        part=part,
        run_id=run_id,
        worker_type=worker_type,
        force=force,
        since=since,
        until=until,
        as_of=as_of,
        changes=changes,
        scd2=scd2,
    )
    if progress:
        progress.finish()
    if not quiet:
        print_summary(summary)
        if "part" not in summary.extra:
            print_catalog(writer)
        if "part" in summary.extra:
            click.echo(
                f"part {summary.extra['part']} of {summary.extra['parts']} of run {summary.extra['run_id']} staged; "
                f"nothing is visible until 'dataset-generator commit --format {format_name} --output {output}'"
            )


@cli.command("commit")
@click.option("--format", "format_name", default="parquet", show_default=True, help="The parts' --format.")
@click.option("--output", "-o", required=True, help="The parts' --output.")
@click.option("--run-id", default=None, help="Which parts run (needed only when several are pending).")
@click.option("--discard", is_flag=True, help="Remove the run's staged files and manifests instead of committing.")
@with_options(TARGET_OPTIONS)
@click.option("--quiet", "-q", is_flag=True, help="No summary.")
def commit_command(
    format_name: str,
    output: str,
    run_id: str | None,
    discard: bool,
    quiet: bool,
    **target: Any,
) -> None:
    """Commit a --parts run once all its parts are written: each table in one step."""
    from ..api import commit_parts
    imports_done()

    # Options (codec, mode, layout) come from the parts' manifests, not from this command line.
    writer = writer_from_flags(format_name, output, None, target)
    summary = commit_parts(writer, run_id=run_id, discard=discard)
    if quiet:
        return
    if discard:
        click.echo(f"discarded parts run {summary.extra['run_id']}")
        return
    for table in summary.tables:
        version = f" (version {table.version})" if table.version is not None else ""
        click.echo(f"{table.name:<16} {table.rows:>14,} rows {table.files:>7,} files {human_bytes(table.bytes):>10}  {table.location}{version}")
    click.echo(f"committed parts run {summary.extra['run_id']} ({summary.extra['parts']} parts) in {summary.seconds:.1f} s")
    print_catalog(writer)


class _PlanNote:
    """Progress that also says, once the plan is known, that a slice ending before the range end holds values
    as of the range end."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress

    def on_plan(self, plan: Any) -> None:
        runtime = plan.runtime
        if runtime.view.until is not None and runtime.view.as_of is None:
            import datetime as dt

            end = dt.date(1970, 1, 1) + dt.timedelta(microseconds=runtime.range_end)
            click.echo(f"note: values are as of the range end ({end}); --as-of gives the tables as they stood then", err=True)
        if self.progress is not None and hasattr(self.progress, "on_plan"):
            self.progress.on_plan(plan)

    def __call__(self, *args: Any) -> None:
        if self.progress is not None:
            self.progress(*args)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress.finish()
