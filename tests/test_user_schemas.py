"""User-defined specs: validate-schema and schema-json, errors that name file, line, table and column,
the documented example, and random valid specs that must generate deterministically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataset_generator.api import generate
from dataset_generator.cli import cli
from dataset_generator.errors import SpecError
from dataset_generator.generation.layout import build_layouts
from dataset_generator.generation.runtime import DatasetRuntime
from dataset_generator.options import WriterOptions
from dataset_generator.schemas.loader import list_datasets, load_schema, resolve_spec
from dataset_generator.schemas.models import ForeignKeyColumn, SequenceColumn
from dataset_generator.writers.registry import create_writer

DOCS_EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "fleet.yaml"

GOOD = """\
name: shop
parameters:
  customers: {type: int, default: 100, scale: true}
tables:
  customers:
    rows: ${customers}
    columns:
      customer_id: {type: int64, gen: sequence}
      tier: {type: string, gen: choice, values: [gold, silver], weights: [1, 3]}
  orders:
    rows: ${customers * 3}
    columns:
      order_id: {type: int64, gen: sequence}
      customer_id: {type: int64, gen: foreign_key, table: customers, column: customer_id}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    output = result.output + (getattr(result, "stderr", "") if result.stderr_bytes is not None else "")
    return result.exit_code, output


def test_validate_schema_ok(tmp_path: Path) -> None:
    code, output = _run("validate-schema", str(_write(tmp_path, GOOD)))
    assert code == 0 and "ok: shop, 2 tables" in output
    assert load_schema(_write(tmp_path, GOOD), scale=0.1).tables["orders"].rows == 30


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        (
            "table: customers, column: customer_id",
            "table: clients, column: customer_id",
            14,
            "foreign key to missing table 'clients'",
        ),
        ("weights: [1, 3]", "weights: [1, 3, 5]", 9, "weights has 3 entries but values has 2"),
        ("gen: choice", "gen: pick_one", 9, "'pick_one'"),
        ("rows: ${customers * 3}", "rows: ${customer * 3}", 11, "'customer' is not a declared parameter"),
    ],
)
def test_errors_name_file_line_table_and_column(
    tmp_path: Path, old: str, new: str, line: int, expected: str
) -> None:
    path = _write(tmp_path, GOOD.replace(old, new))
    code, output = _run("validate-schema", str(path))
    assert code == 2
    assert f"{path}:{line}:" in output and expected in output, output
    if "table" in expected:
        assert "table 'orders', column 'customer_id'" in output


def test_error_names_the_table_cycle(tmp_path: Path) -> None:
    spec = (
        GOOD
        + """\
  a:
    parent: {table: b, count: {distribution: fixed, value: 1}}
    columns: {x: {type: int64, gen: sequence}}
  b:
    parent: {table: a, count: {distribution: fixed, value: 1}}
    columns: {y: {type: int64, gen: sequence}}
"""
    )
    with pytest.raises(SpecError, match=r"spec.yaml:\d+: table 'a': parent cycle a -> b -> a"):
        load_schema(_write(tmp_path, spec))


def test_error_in_new_generator_kinds(tmp_path: Path) -> None:
    spec = GOOD.replace(
        "      tier: {type: string",
        "      level: {type: float64, gen: random_walk, volatility: sigma}\n      tier: {type: string",
    )
    with pytest.raises(
        SpecError,
        match=r"spec.yaml:9: table 'customers', column 'level': random_walk refers to unknown column 'sigma'",
    ):
        load_schema(_write(tmp_path, spec))
    spec = GOOD.replace(
        "      order_id:",
        "      total: {gen: children_agg, table: customers, column: tier, agg: max}\n      order_id:",
    )
    with pytest.raises(SpecError, match="children_agg needs 'customers' to be a child table of 'orders'"):
        load_schema(_write(tmp_path, spec))


def test_schema_json_accepts_every_builtin() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    code, output = _run("schema-json")
    assert code == 0
    schema = json.loads(output)
    assert "RandomWalkColumn" in schema["$defs"]
    for name in [*list_datasets(), str(DOCS_EXAMPLE)]:
        path = (
            DOCS_EXAMPLE
            if name.endswith(".yaml")
            else Path(__file__).resolve().parents[1]
            / "dataset_generator"
            / "schemas"
            / "datasets"
            / f"{name}.yaml"
        )
        document = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
        jsonschema.validate(document, schema)


def test_docs_example_generates(tmp_path: Path) -> None:
    writer = create_writer("parquet", output_uri=str(tmp_path), options=WriterOptions(mode="overwrite"))
    generate(DOCS_EXAMPLE, writer, params={"vans": 3, "days": 3}, workers=1)
    log = f"read_parquet('{tmp_path / 'fuel_log'}/**/*.parquet', hive_partitioning = false)"
    rows, vans, first = duckdb.sql(
        f"SELECT count(*), count(DISTINCT van_id), min(CAST(timestamp AS TIME)) FROM {log}"
    ).fetchone()  # type: ignore[misc]
    assert (rows, vans, str(first)) == (3 * 3 * 48, 3, "07:00:00")
    backwards = duckdb.sql(
        f"SELECT count(*) FROM (SELECT odometer_km - lag(odometer_km) OVER (PARTITION BY van_id ORDER BY timestamp) AS d FROM {log}) WHERE d < 0"
    ).fetchone()
    assert backwards == (0,)


# --- random valid specs ----------------------------------------------------------------------------


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for number in range(draw(st.integers(1, 3))):
        name = f"t{number}"
        columns: dict[str, Any] = {
            "id": {
                "type": "int64",
                "gen": "sequence",
                "start": draw(st.integers(-5, 100)),
                "step": draw(st.integers(1, 4)),
            }
        }
        for position in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["uniform_int", "uniform", "normal", "choice", "boolean", "zipf"]))
            columns[f"c{position}"] = {
                "uniform_int": {"type": "int32", "gen": "uniform", "low": -10, "high": 10},
                "uniform": {"type": "float64", "gen": "uniform", "low": 0, "high": 1, "round": 3},
                "normal": {"type": "float64", "gen": "normal", "mean": 5, "std": 2},
                "choice": {
                    "type": "string",
                    "gen": "choice",
                    "values": ["a", "b", "c"],
                    "weights": [1, 2, 3],
                },
                "boolean": {"type": "bool", "gen": "boolean", "p": 0.3},
                "zipf": {"type": "int64", "gen": "zipf", "a": 1.3, "n": 20},
            }[kind]
        if tables and draw(st.booleans()):
            target = draw(st.sampled_from(sorted(tables)))
            columns["ref"] = {
                "type": "int64",
                "gen": "foreign_key",
                "table": target,
                "column": "id",
                "distribution": draw(st.sampled_from(["uniform", "zipf", "cycle"])),
            }
        tables[name] = {"rows": draw(st.integers(1, 60)), "columns": columns}
    if draw(st.booleans()):
        tables["events"] = {
            "time": {
                "column": "ts",
                "start": "2024-02-27",
                "end": "2024-03-02",
                "per_day": draw(st.integers(0, 20)),
            },
            "partition_by": ["year", "month", "day"],
            "columns": {
                "event_id": {"type": "int64", "gen": "sequence"},
                "ts": {"type": "timestamp", "gen": "event_time"},
                "ref": {
                    "type": "int64",
                    "gen": "foreign_key",
                    "table": "t0",
                    "column": "id",
                    "distribution": "zipf",
                },
                "level": {
                    "type": "float64",
                    "gen": "random_walk",
                    "stride": 3,
                    "start": 10,
                    "volatility": 0.5,
                    "geometric": True,
                },
                "level_next": {"type": "float64", "gen": "walk_next", "of": "level"},
                "items_total": {
                    "type": "float64",
                    "gen": "children_agg",
                    "table": "items",
                    "column": "amount",
                    "agg": "sum",
                },
                "items_max": {
                    "type": "float64",
                    "gen": "children_agg",
                    "table": "items",
                    "column": "amount",
                    "agg": "max",
                    "nullable": True,
                },
            },
        }
        count = draw(
            st.sampled_from(
                [
                    {"distribution": "poisson", "lam": 2.5},
                    {"distribution": "uniform", "low": 0, "high": 4},
                    {"distribution": "fixed", "value": 3},
                ]
            )
        )
        tables["items"] = {
            "parent": {"table": "events", "count": count},
            "columns": {
                "item_id": {"type": "int64", "gen": "sequence"},
                "event_id": {"type": "int64", "gen": "parent", "column": "event_id"},
                "position": {"type": "int32", "gen": "position"},
                "at": {
                    "type": "timestamp",
                    "gen": "child_time",
                    "start": "ts",
                    "span_seconds": 60,
                    "jitter": True,
                },
                "amount": {"type": "float64", "gen": "lognormal", "mean": 1, "sigma": 0.5, "round": 2},
                "path": {
                    "type": "float64",
                    "gen": "brownian_bridge",
                    "start": "level",
                    "end": "level_next",
                    "volatility": 0.1,
                },
                "ref": {"type": "int64", "gen": "foreign_key", "table": "t0", "column": "id"},
            },
        }
    return {"name": "random", "tables": tables}


def _table(runtime: DatasetRuntime, table: str, chunk_rows: int) -> pa.Table:
    rows = runtime.layouts[table].rows
    schema = runtime.arrow_schema(table)
    return pa.Table.from_batches(list(runtime.batches(table, 0, rows, chunk_rows)), schema=schema)


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "25")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=specs(), seed=st.integers(0, 2**31))
def test_random_specs_generate_deterministically(raw: dict[str, Any], seed: int) -> None:
    spec = resolve_spec(raw, "random spec", scale=1.0, params={})
    runtime = DatasetRuntime(spec, seed, build_layouts(spec, seed))
    again = DatasetRuntime(spec, seed, build_layouts(spec, seed))
    for name, table in spec.tables.items():
        expected = _table(runtime, name, 1_000)
        assert _table(runtime, name, 7).equals(expected), name
        assert _table(again, name, 1_000).equals(expected), name
        for column_name, column in table.columns.items():
            if isinstance(column, ForeignKeyColumn):
                target = spec.tables[column.table].columns[column.column]
                assert isinstance(target, SequenceColumn)
                values = expected.column(column_name).to_numpy()
                offsets = values - target.start
                assert np.all(offsets % target.step == 0)
                assert np.all(
                    (offsets // target.step >= 0)
                    & (offsets // target.step < runtime.layouts[column.table].rows)
                )
    if "items" in spec.tables:
        items, events = _table(runtime, "items", 1_000), _table(runtime, "events", 1_000)
        assert set(items.column("event_id").to_pylist()) <= set(events.column("event_id").to_pylist())
        # The child layout holds exactly the children the counts give every event.
        events_rows = runtime.layouts["events"].rows
        counts = runtime.child_counts("items", np.arange(events_rows, dtype=np.int64))
        assert runtime.layouts["items"].rows == int(counts.sum())
