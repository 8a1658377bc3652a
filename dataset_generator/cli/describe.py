"""Commands that describe: datasets, formats, a dataset's tables, a spec's validity and its JSON Schema."""

from __future__ import annotations

import click

from .app import cli, imports_done
from .options import COMMON_DATASET_OPTIONS, dataset_and_file, parse_params, with_options


@cli.command("list-datasets")
def list_datasets_command() -> None:
    """The built-in datasets."""
    from ..schemas.loader import list_datasets, load_schema

    for name in list_datasets():
        spec = load_schema(name)
        description = " ".join(spec.description.split())
        click.echo(f"{name:<14} {', '.join(spec.tables):<44} {description[:80]}")


@cli.command("list-formats")
def list_formats_command() -> None:
    """Writers, whether their optional dependencies are installed, and how to install them."""
    from ..writers.registry import available_writers, get_writer_class, writer_status

    click.echo(f"{'format':<10} {'status':<50} {'dask/parts':<11} description")
    for name, entry in sorted(available_writers().items()):
        installed, detail = writer_status(name)
        state = "installed" if installed else f"missing: {entry.install_hint}"
        # Whether commit can take files written by other processes (Dask workers, --parts runs).
        external = ("yes" if get_writer_class(name).supports_external_commit else "no") if installed else "-"
        click.echo(f"{name:<10} {state:<50} {external:<11} {entry.description}")
        if not installed and detail and entry.extra is None:
            click.echo(f"{'':<10} {detail}")


@cli.command("info")
@click.argument("dataset", required=False)
@with_options(COMMON_DATASET_OPTIONS)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--force", is_flag=True, help="Describe even a run beyond the size bound (slow: it builds the layouts).")
def info_command(
    dataset: str | None, schema_file: str | None, scale: float, params: tuple[str, ...], seed: int, force: bool
) -> None:
    """Tables, columns, types, sizes and partitioning of a dataset."""
    from ..generation.planner import sized_layouts
    from ..schemas.loader import load_schema, parameter_values
    imports_done()

    dataset, schema_file = dataset_and_file(dataset, schema_file)
    given = parse_params(params)
    spec = load_schema(dataset, schema_file=schema_file, scale=scale, params=given)
    layouts = sized_layouts(spec, seed, force=force)
    click.echo(f"{spec.name}: {' '.join(spec.description.split())}")
    click.echo("\nparameters (at this scale):")
    for name, value in parameter_values(spec, scale, given).items():
        parameter = spec.parameters[name]
        click.echo(f"  {name:<18} {str(value):<14} {parameter.type:<6} {parameter.description}")
    for table_name, table in spec.tables.items():
        how = "rows" if table.rows is not None else "spread over days" if table.time else f"children of {table.parent.table}"  # type: ignore[union-attr]
        partition = "/".join(table.partition_by) or "none"
        where = "hidden: read by other tables, never written" if table.hidden else f"partitioned by {partition}"
        click.echo(f"\n{table_name}: {layouts[table_name].rows:,} rows ({how}); {where}")
        for column_name, column in table.columns.items():
            if column.hidden:
                continue
            nulls = f" nulls {column.null_fraction:.0%}" if column.null_fraction else ""
            click.echo(f"  {column_name:<18} {column.type:<10} {column.gen}{nulls}")


@cli.command("validate-schema")
@click.argument("schema_file", type=click.Path(dir_okay=False))
@click.option("--scale", type=float, default=1.0, show_default=True, help="Check the spec at this scale.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Set a dataset parameter (repeatable).")
def validate_schema_command(schema_file: str, scale: float, params: tuple[str, ...]) -> None:
    """Check a YAML dataset spec: prints `ok: NAME, N tables` or the error (file:line, table, column)."""
    from ..schemas.loader import load_schema

    spec = load_schema(schema_file=schema_file, scale=scale, params=parse_params(params))
    click.echo(f"ok: {spec.name}, {len(spec.tables)} tables")


@cli.command("schema-json")
@click.option("--indent", type=int, default=2, show_default=True)
def schema_json_command(indent: int) -> None:
    """Print the JSON Schema of the spec format (for editor autocomplete of dataset YAML files)."""
    import json

    from ..schemas.json_schema import spec_json_schema

    click.echo(json.dumps(spec_json_schema(), indent=indent))
