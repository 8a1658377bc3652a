"""The `dataset-generator` command: thin click wrappers over the Python API."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import click

from .errors import DatasetGeneratorError, TableExistsError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class _OneLineErrors(click.Group):
    """Every error is one line on stderr, a traceback only with DATASET_GENERATOR_DEBUG=1. Exit codes: 2 for bad
    input, 1 for a failure of the environment (storage, a worker, a catalog), 130 for Ctrl-C."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("error: interrupted; nothing was committed", err=True)
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
            click.echo(f"error: {exc.subject + hint if isinstance(exc, TableExistsError) else exc}", err=True)
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
    """The console script. As a program (not a library) it may choose Arrow's allocator for its process and
    its workers: the system allocator returns freed batches (Arrow's bundled one keeps tens of MB per worker
    cached, and was no faster here). ARROW_DEFAULT_MEMORY_POOL set by the user wins."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    cli.main(args=list(argv) if argv is not None else None, prog_name="dataset-generator")


def _parse_params(values: Sequence[str], flag: str = "--param") -> dict[str, str]:
    params: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=flag)
        params[key.strip()] = value.strip()
    return params


def _dataset_and_file(dataset: str | None, schema_file: str | None) -> tuple[str | None, str | None]:
    if dataset is None and schema_file is None:
        raise click.UsageError("name a DATASET (see list-datasets) or pass --schema-file PATH")
    if dataset is not None and dataset.endswith((".yaml", ".yml")) and schema_file is None:
        return None, dataset
    return dataset, schema_file


@cli.command("list-datasets")
def list_datasets_command() -> None:
    """The built-in datasets."""
    from .schemas.loader import list_datasets, load_schema

    for name in list_datasets():
        spec = load_schema(name)
        description = " ".join(spec.description.split())
        click.echo(f"{name:<14} {', '.join(spec.tables):<44} {description[:80]}")


@cli.command("list-formats")
def list_formats_command() -> None:
    """Writers, whether their optional dependencies are installed, and how to install them."""
    from .writers.registry import available_writers, get_writer_class, writer_status

    click.echo(f"{'format':<10} {'status':<50} {'dask/parts':<11} description")
    for name, entry in sorted(available_writers().items()):
        installed, detail = writer_status(name)
        state = "installed" if installed else f"missing: {entry.install_hint}"
        # Whether commit can take files written by other processes (Dask workers, --parts runs).
        external = ("yes" if get_writer_class(name).supports_external_commit else "no") if installed else "-"
        click.echo(f"{name:<10} {state:<50} {external:<11} {entry.description}")
        if not installed and detail and entry.extra is None:
            click.echo(f"{'':<10} {detail}")


_common_dataset_options = [
    click.option("--schema-file", type=click.Path(dir_okay=False), help="A user's YAML dataset spec."),
    click.option("--scale", type=float, default=1.0, show_default=True, help="Multiplies the dataset's default sizes."),
    click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Set a dataset parameter (repeatable)."),
]


def _with_options(options: list[Any]) -> Any:
    def decorate(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


_TARGET_PREFIX = "target_"  # click parameter names of the writers' target flags: target_<field>


def _writer_target_options() -> list[Any]:
    """A click option per flag of the registered writers' target specs, help prefixed by the formats taking it."""
    from .writers.registry import target_flag_index

    kinds = {bool: {"is_flag": True}, dict: {"multiple": True, "metavar": "KEY=VALUE"}}
    return [
        click.option(flag.flag, _TARGET_PREFIX + flag.field, help=f"{', '.join(formats)}: {flag.help}",
                     **kinds.get(flag.type, {"type": flag.type, "metavar": flag.metavar}))  # type: ignore[arg-type]
        for flag, formats in target_flag_index().values()
    ]  # fmt: skip


_target_options = [
    click.option("--s3-uri", default=None, help="Bucket root, e.g. s3://my-bucket."),
    click.option("--s3-key", default=None, help="Access key id (default: AWS environment/profile)."),
    click.option("--s3-secret", default=None, help="Secret access key (default: AWS environment/profile)."),
    click.option("--s3-endpoint-url", default=None, help="S3-compatible endpoint, e.g. http://127.0.0.1:9000."),
    click.option("--s3-region", default=None, help="Region (default: environment, else us-east-1)."),
    click.option("--s3-profile", default=None, help="AWS profile for credentials (default: AWS_PROFILE)."),
    click.option("--s3-part-size", type=int, default=None, metavar="BYTES", help="Multipart part size (default 16 MiB)."),
] + _writer_target_options()


def _create_writer(format_name: str, output: str, options: Any, target: dict[str, Any]) -> Any:
    """A writer from --format, --output and the target flags (S3, and the format's own from its target spec)."""
    from .storage import S3Config, is_s3_uri
    from .writers.registry import create_writer, get_target_spec, target_flag_index
    from .writers.targets import target_flags

    s3_fields = {
        "uri": target.pop("s3_uri"),
        "key": target.pop("s3_key"),
        "secret": target.pop("s3_secret"),
        "endpoint_url": target.pop("s3_endpoint_url"),
        "region": target.pop("s3_region"),
        "profile": target.pop("s3_profile"),
    }
    part_size = target.pop("s3_part_size")
    given = {name: value for name, value in s3_fields.items() if value is not None}
    s3 = None
    if given or part_size is not None or is_s3_uri(output):
        s3 = S3Config(**given, **({"multipart_chunk_bytes": part_size} if part_size is not None else {}))
    flags = {flag.field: flag for flag, _formats in target_flag_index().values()}
    values = {name[len(_TARGET_PREFIX) :]: value for name, value in target.items() if value not in (None, (), False)}
    taken = {flag.field for flag in target_flags(get_target_spec(format_name))} if values else set()
    for name, value in values.items():
        if name not in taken:
            raise click.UsageError(f"{flags[name].flag} does not apply to --format {format_name}")
        values[name] = _parse_params(value, flags[name].flag) if flags[name].multiple else value
    return create_writer(format_name, output_uri=output, s3=s3, options=options, **values)


@cli.command("info")
@click.argument("dataset", required=False)
@_with_options(_common_dataset_options)
@click.option("--seed", type=int, default=42, show_default=True)
def info_command(dataset: str | None, schema_file: str | None, scale: float, params: tuple[str, ...], seed: int) -> None:
    """Tables, columns, types, sizes and partitioning of a dataset."""
    from .generation.layout import build_layouts
    from .schemas.loader import load_schema, parameter_values

    dataset, schema_file = _dataset_and_file(dataset, schema_file)
    given = _parse_params(params)
    spec = load_schema(dataset, schema_file=schema_file, scale=scale, params=given)
    layouts = build_layouts(spec, seed)
    click.echo(f"{spec.name}: {' '.join(spec.description.split())}")
    click.echo("\nparameters (at this scale):")
    for name, value in parameter_values(spec, scale, given).items():
        parameter = spec.parameters[name]
        click.echo(f"  {name:<18} {str(value):<14} {parameter.type:<6} {parameter.description}")
    for table_name, table in spec.tables.items():
        how = "rows" if table.rows is not None else "spread over days" if table.time else f"children of {table.parent.table}"  # type: ignore[union-attr]
        partition = "/".join(table.partition_by) or "none"
        click.echo(f"\n{table_name}: {layouts[table_name].rows:,} rows ({how}); partitioned by {partition}")
        for column_name, column in table.columns.items():
            if column.hidden:
                continue
            nulls = f" nulls {column.null_fraction:.0%}" if column.null_fraction else ""
            click.echo(f"  {column_name:<18} {column.type:<10} {column.gen}{nulls}")


@cli.command("generate")
@click.argument("dataset", required=False)
@click.option("--format", "format_name", default="parquet", show_default=True, help="Writer: see list-formats.")
@click.option("--output", "-o", required=True, help="Output directory or s3://bucket/prefix.")
@_with_options(_common_dataset_options)
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed, same data.")
@click.option("--compression", default="snappy", show_default=True, help="snappy, gzip, zstd, brotli, lz4 or none.")
@click.option("--compression-level", type=int, default=None, help="Codec level (gzip 1-9, zstd 1-22, brotli 0-11).")
@click.option("--file-rows-target", type=int, default=250_000, show_default=True, help="Rows per file at most.")
@click.option("--row-group-rows", type=int, default=None, help="Rows per Parquet row group.")
@click.option("--partition-by", default=None, help="year,month,day | year,month | year | none (default: the dataset's).")
@click.option("--mode", type=click.Choice(["error", "overwrite", "append"]), default="error", show_default=True)
@click.option("--workers", type=int, default=None, help="Parallel workers (default: all cores; one for small runs).")
@click.option(
    "--worker-type",
    type=click.Choice(["thread", "process"]),
    default="thread",
    show_default=True,
    help="Local workers as threads of one process (faster and leaner on few cores) or processes.",
)
@click.option("--tables", default=None, help="Comma-separated subset of tables.")
@click.option("--chunk-rows", type=int, default=None, help="Rows generated per batch (memory knob; output is identical).")
@click.option("--dry-run", is_flag=True, help="Print the plan (files, rows per table) and write nothing.")
@_with_options(_target_options)
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary.")
@click.option("--engine", default="local", show_default=True, help="local (process pool) or dask (a cluster).")
@click.option("--dask-address", default=None, metavar="tcp://HOST:PORT", help="Dask scheduler (default: a LocalCluster).")
@click.option("--parts", type=int, default=None, help="Split the run into N parts (with --part; see 'commit').")
@click.option("--part", type=int, default=None, help="Generate only part K (1-based) of --parts N; commits nothing.")
@click.option("--run-id", default=None, help="Run id shared by all parts (default: derived from the command).")
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
    row_group_rows: int | None,
    partition_by: str | None,
    mode: str,
    workers: int | None,
    worker_type: str,
    tables: str | None,
    chunk_rows: int | None,
    dry_run: bool,
    quiet: bool,
    engine: str,
    dask_address: str | None,
    parts: int | None,
    part: int | None,
    run_id: str | None,
    **target: Any,
) -> None:
    """Generate DATASET (or --schema-file) into --output with the chosen --format."""
    from .api import generate, plan_dataset
    from .generation.planner import DEFAULT_CHUNK_ROWS
    from .options import PartitionSpec, WriterOptions

    dataset, schema_file = _dataset_and_file(dataset, schema_file)
    options = WriterOptions(
        file_rows_target=file_rows_target,
        compression=compression,
        compression_level=compression_level,
        row_group_rows=row_group_rows,
        partition=PartitionSpec.parse(partition_by) if partition_by is not None else None,
        mode=mode,  # type: ignore[arg-type]
    )
    writer = _create_writer(format_name, output, options, target)
    table_list = None
    if tables is not None:
        table_list = [name.strip() for name in tables.split(",") if name.strip()]
        if not table_list:
            raise click.BadParameter("name at least one table (comma-separated)", param_hint="--tables")
    if chunk_rows is not None and chunk_rows < 1:
        raise click.BadParameter(f"must be at least 1 (got {chunk_rows})", param_hint="--chunk-rows")
    given = _parse_params(params)
    if (parts is None) != (part is None):
        raise click.UsageError("--parts and --part go together (e.g. --parts 4 --part 1)")
    if dry_run:  # planning reads the options only: no catalog or storage client is built
        plan = plan_dataset(dataset, options, scale=scale, seed=seed, params=given, schema_file=schema_file, tables=table_list)
        for table in plan.tables:
            partitions = len({task.partition for task in table.files})
            click.echo(f"{table.name:<16} {table.rows:>14,} rows {len(table.files):>7,} files {partitions:>6,} partitions")
        click.echo(f"{'total':<16} {plan.total_rows:>14,} rows {len(plan.tasks):>7,} files")
        return
    progress = _Progress() if not quiet and sys.stderr.isatty() else None
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
    )
    if progress:
        progress.finish()
    if not quiet:
        _print_summary(summary)
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
@_with_options(_target_options)
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
    from .api import commit_parts

    # Options (codec, mode, layout) come from the parts' manifests, not from this command line.
    writer = _create_writer(format_name, output, None, target)
    summary = commit_parts(writer, run_id=run_id, discard=discard)
    if quiet:
        return
    if discard:
        click.echo(f"discarded parts run {summary.extra['run_id']}")
        return
    for table in summary.tables:
        version = f" (version {table.version})" if table.version is not None else ""
        click.echo(f"{table.name:<16} {table.rows:>14,} rows {table.files:>7,} files {_human_bytes(table.bytes):>10}  {table.location}{version}")
    click.echo(f"committed parts run {summary.extra['run_id']} ({summary.extra['parts']} parts) in {summary.seconds:.1f} s")


def _human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.1f} TB"


def _print_summary(summary: Any) -> None:
    skipped = summary.extra.get("skipped")
    if skipped:
        click.echo(f"skipped, already committed by an identical run: {', '.join(skipped)}")
    click.echo(f"{'table':<16} {'rows':>14} {'files':>7} {'size':>10}  location")
    for table in summary.tables:
        version = f" (version {table.version})" if table.version is not None else ""
        click.echo(f"{table.name:<16} {table.rows:>14,} {table.files:>7,} {_human_bytes(table.bytes):>10}  {table.location}{version}")
    click.echo(
        f"{'total':<16} {summary.rows:>14,} {summary.files:>7,} {_human_bytes(summary.bytes):>10}  "
        f"{summary.seconds:.1f} s, {summary.rows_per_second:,.0f} rows/s, {summary.workers} workers"
    )


class _Progress:
    """A click progress bar per table on a terminal: rows written of rows planned, and the overall rate."""

    def __init__(self) -> None:
        self.planned: dict[str, int] = {}
        self.bar: Any = None
        self.table: str | None = None
        self.rows = 0
        self.started = time.perf_counter()

    def on_plan(self, plan: Any) -> None:
        self.planned = {table.name: table.rows for table in plan.tables}

    def __call__(self, task: Any, info: Any) -> None:
        if task.table != self.table:
            self.finish()
            self.table = task.table
            self.bar = click.progressbar(
                length=max(self.planned.get(task.table, 0), 1), label=f"{task.table:<16}", width=24,
                file=sys.stderr, show_eta=False, item_show_func=self._rate,
            )  # fmt: skip
            self.bar.__enter__()
        self.rows += info.rows
        self.bar.update(info.rows, current_item=info.rows)

    def _rate(self, _item: object) -> str:
        return f"{self.rows / max(time.perf_counter() - self.started, 1e-9):,.0f} rows/s"

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@cli.command("validate-schema")
@click.argument("schema_file", type=click.Path(dir_okay=False))
@click.option("--scale", type=float, default=1.0, show_default=True, help="Check the spec at this scale.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Set a dataset parameter (repeatable).")
def validate_schema_command(schema_file: str, scale: float, params: tuple[str, ...]) -> None:
    """Check a YAML dataset spec: prints `ok: NAME, N tables` or the error (file:line, table, column)."""
    from .schemas.loader import load_schema

    spec = load_schema(schema_file=schema_file, scale=scale, params=_parse_params(params))
    click.echo(f"ok: {spec.name}, {len(spec.tables)} tables")


@cli.command("schema-json")
@click.option("--indent", type=int, default=2, show_default=True)
def schema_json_command(indent: int) -> None:
    """Print the JSON Schema of the spec format (for editor autocomplete of dataset YAML files)."""
    import json

    from .schemas.json_schema import spec_json_schema

    click.echo(json.dumps(spec_json_schema(), indent=indent))


@cli.command("validate")
@click.argument("output")
@click.argument("dataset", required=False)
@click.option("--format", "format_name", default="parquet", show_default=True, help="The --format it was generated with.")
@_with_options(_common_dataset_options)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--compression", default="snappy", show_default=True, help="The codec asked for (checked).")
@click.option("--file-rows-target", type=int, default=250_000, show_default=True, help="Rows per file at most (checked).")
@click.option("--partition-by", default=None, help="As given to generate (default: the dataset's).")
@click.option("--tables", default=None, help="Comma-separated subset of tables.")
@_with_options(_target_options)
def validate_command(
    output: str, dataset: str | None, format_name: str, schema_file: str | None, scale: float, params: tuple[str, ...],
    seed: int, compression: str, file_rows_target: int, partition_by: str | None, tables: str | None, **target: Any,
) -> None:  # fmt: skip
    """Check a written OUTPUT against the plan of DATASET, reading it with DuckDB: exit 0 when every check
    holds, 1 when one fails. Give the dataset, --scale, --param, --seed and layout options of the generate run."""
    from .api import validate
    from .options import PartitionSpec, WriterOptions

    dataset, schema_file = _dataset_and_file(dataset, schema_file)
    partition = PartitionSpec.parse(partition_by) if partition_by is not None else None
    options = WriterOptions(file_rows_target=file_rows_target, compression=compression, partition=partition)
    table_list = [name.strip() for name in tables.split(",") if name.strip()] if tables is not None else None
    writer = _create_writer(format_name, output, options, target)
    report = validate(dataset, writer, scale=scale, seed=seed, params=_parse_params(params), schema_file=schema_file, tables=table_list)
    click.echo(report.table())
    if not report.ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
