"""Column types of the spec language: type strings, exact decimals, unsigned integers, binary, time, zoned
timestamps, durations, timestamp units, and the nested kinds `gen: list` / `gen: struct` — generated, written
to Parquet and read back with DuckDB."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataset_generator.api import generate
from dataset_generator.generation.convert import column_arrow_type
from dataset_generator.generation.layout import build_layouts
from dataset_generator.generation.runtime import DatasetRuntime
from dataset_generator.schemas.loader import load_schema
from dataset_generator.schemas.types import normalize_type, parse_type
from dataset_generator.validation.checks import duckdb_type
from dataset_generator.writers.registry import create_writer

from helpers import parquet_glob, query, run_cli


def _spec(tmp_path: Path, columns: dict, rows: int = 300, name: str = "spec") -> Path:
    spec = {"name": "types", "tables": {"t": {"rows": rows, "columns": {"id": {"gen": "sequence"}, **columns}}}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _parquet(tmp_path: Path, columns: dict, rows: int = 300, name: str = "out") -> str:
    path = _spec(tmp_path, columns, rows, name)
    generate(path, create_writer("parquet", str(tmp_path / name)), workers=1)
    return parquet_glob(tmp_path / name, "t")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("DECIMAL( 18 , 2 )", "decimal(18,2)"),
        ("list<int32>", "list<int32>"),
        ("struct<name: string, qty: int32>", "struct<name: string, qty: int32>"),
        ("list< struct<sku:string,lines:list<decimal(10,2)>> >", "list<struct<sku: string, lines: list<decimal(10,2)>>>"),
        ("uint64", "uint64"),
    ],
)
def test_type_strings_parse_to_their_canonical_spelling(text: str, canonical: str) -> None:
    assert normalize_type(text) == canonical
    assert str(parse_type(canonical)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("list<int33>", "at character 6: unknown type 'int33'"),
        ("decimal(40,2)", "decimal precision must be 1..38 (got 40)"),
        ("decimal(5,6)", "decimal scale 6 is larger than its precision 5"),
        ("struct<a int32>", "at character 10: expected ':', found 'i'"),
        ("list<int32", "at character 11: expected '>', found the end"),
        ("struct<a: int8, a: int8>", "struct field 'a' appears twice"),
        ("int32 x", "unexpected 'x'"),
    ],
)
def test_a_bad_type_string_is_one_located_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_type(text)
    result = run_cli("validate-schema", _spec(tmp_path, {"x": {"gen": "uniform", "low": 0, "high": 1, "type": text}}))
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "column 'x'" in line and message in line and re.search(r"\.yaml:\d+: ", line)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ({"gen": "normal", "mean": 0, "std": 5000, "type": "decimal(6,2)"}, "values reach"),
        ({"gen": "gamma", "shape": 2, "type": "decimal(6,2)"}, "values are unbounded"),
        ({"gen": "uniform", "low": 0, "high": 1e4, "type": "decimal(5,2)"}, "beyond the 3 integer digits"),
        ({"gen": "uniform", "low": 0, "high": 300, "type": "uint8"}, "outside the range of uint8"),
        ({"gen": "uniform", "low": -1, "high": 3, "type": "uint16"}, "outside the range of uint16"),
        ({"gen": "uniform", "low": 0, "high": 9, "type": "duration"}, "a duration column needs unit"),
        ({"gen": "uniform", "low": 0, "high": 9, "type": "int64", "unit": "ms"}, "unit applies to timestamp"),
        ({"gen": "timestamp", "start": "2024-01-01", "end": "2024-01-02", "tz": "UTC"}, "tz applies to timestamptz"),
        ({"gen": "timestamp", "start": "2024-01-01", "end": "2024-01-02", "type": "timestamptz", "tz": "Mars/Base"}, "not a known time zone"),
        ({"gen": "timestamp", "start": "2024-01-01", "end": "2024-01-02", "type": "int64"}, "gen: timestamp makes timestamp or timestamptz values"),
        ({"gen": "uuid", "type": "decimal(5,2)"}, "gen: uuid makes string or binary values"),
        ({"gen": "list", "length": {"distribution": "fixed", "value": 2}, "element": {"gen": "sequence"}}, "a list element cannot be gen: sequence"),
        ({"gen": "list", "type": "list<int32>", "length": {"distribution": "fixed", "value": 2}, "element": {"gen": "uuid"}}, "gen: uuid makes string or binary values, not int32"),
        ({"gen": "list", "type": "struct<a: int8>", "length": {"distribution": "fixed", "value": 2}, "element": {"gen": "uuid"}}, "gen: list makes list<…> values"),
        ({"gen": "list", "length": {"distribution": "poisson"}, "element": {"gen": "uuid"}}, "distribution poisson needs lam"),
        ({"gen": "struct", "fields": {}}, "at least 1 item"),
        ({"gen": "struct", "fields": {"1a": {"gen": "uuid"}}}, "field name '1a' must be letters"),
        ({"gen": "struct", "fields": {"a": {"gen": "children_sum", "table": "t", "column": "id", "type": "int64"}}}, "field 'a' cannot be gen: children_sum"),
        ({"gen": "struct", "type": "struct<a: int8>", "fields": {"a": {"gen": "uniform", "low": 0, "high": 9, "type": "int16"}}}, "does not match its fields' types"),
    ],
)
def test_type_misuse_is_refused_with_one_located_line(tmp_path: Path, column: dict, message: str) -> None:
    result = run_cli("validate-schema", _spec(tmp_path, {"x": column}))
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and "column 'x'" in line and message in line, line


def test_decimals_are_the_exact_half_even_rounding_of_the_draw(tmp_path: Path) -> None:
    """The same stream (table t, column x) drawn as float64 and as decimal: every decimal is the exact
    half-to-even rounding of the float's binary value (2.675, stored as 2.67499…, gives 2.67), 20,000 rows."""
    draws = {
        "x": {"gen": "lognormal", "mean": 2, "sigma": 1.5, "min": 0, "max": 999_999},
        "y": {"gen": "uniform", "low": -50, "high": 50},
        "z": {"gen": "normal", "mean": 10, "std": 3, "min": -1e6, "max": 1e6},
    }
    decimal_types = {"x": "decimal(12,2)", "y": "decimal(9,4)", "z": "decimal(38,10)"}
    floats = _parquet(tmp_path, {name: {**spec, "type": "float64"} for name, spec in draws.items()}, 20_000, "f")
    decimals = _parquet(tmp_path, {name: {**spec, "type": decimal_types[name]} for name, spec in draws.items()}, 20_000, "d")
    types = query(f"SELECT typeof(x), typeof(y), typeof(z) FROM read_parquet('{decimals}') LIMIT 1")[0]
    assert types == ("DECIMAL(12,2)", "DECIMAL(9,4)", "DECIMAL(38,10)")
    expected = pq.read_table(floats.replace("**/*.parquet", "t.parquet")).sort_by("id")
    got = pq.read_table(decimals.replace("**/*.parquet", "t.parquet")).sort_by("id")
    for name, kind in decimal_types.items():
        scale = int(kind.split(",")[1].rstrip(")"))
        quantum = Decimal(1).scaleb(-scale)
        want = [Decimal(value).quantize(quantum, ROUND_HALF_EVEN) for value in expected[name].to_pylist()]
        assert got[name].to_pylist() == want, name


def test_choice_of_money_values_is_exact(tmp_path: Path) -> None:
    glob = _parquet(tmp_path, {"p": {"gen": "choice", "values": [0.1, 2.675, 19.99], "type": "decimal(6,3)"}})
    assert {row[0] for row in query(f"SELECT p::VARCHAR FROM read_parquet('{glob}')")} == {"0.100", "2.675", "19.990"}


def test_scalar_types_are_written_as_duckdb_reads_them(tmp_path: Path) -> None:
    glob = _parquet(
        tmp_path,
        {
            "u8": {"gen": "uniform", "low": 0, "high": 255, "type": "uint8"},
            "u32": {"gen": "uniform", "low": 3_000_000_000, "high": 4_000_000_000, "type": "uint32"},
            "u64": {"gen": "uniform", "low": 0, "high": 2**62, "type": "uint64"},
            "blob": {"gen": "uuid", "type": "binary"},
            "at": {"gen": "uniform", "low": 8 * 3600, "high": 18 * 3600, "type": "time"},
            "ms": {"gen": "timestamp", "start": "2024-01-01", "end": "2024-01-31", "unit": "ms"},
            "ns": {"gen": "timestamp", "start": "2024-01-01", "end": "2024-01-31", "unit": "ns"},
            "zoned": {"gen": "timestamp", "start": "2024-01-01", "end": "2024-01-31", "type": "timestamptz", "tz": "Europe/Paris"},
            "wait": {"gen": "uniform", "low": 1, "high": 3600, "type": "duration", "unit": "s"},
        },
        rows=2000,
    )
    row = query(
        "SELECT any_value(typeof(u8)), any_value(typeof(u32)), any_value(typeof(u64)), any_value(typeof(blob)), "
        "any_value(typeof(\"at\")), any_value(typeof(ms)), any_value(typeof(ns)), any_value(typeof(zoned)), "
        f"any_value(typeof(wait)), min(u32) >= 3000000000, max(octet_length(blob)), min(octet_length(blob)), "
        f"min(\"at\") >= TIME '08:00:00', max(\"at\") <= TIME '18:00:00', "
        f"bool_and(epoch_ms(ms) % 1 = 0), min(wait) >= 1, max(wait) <= 3600 FROM read_parquet('{glob}')"
    )[0]
    assert row == (
        "UTINYINT", "UINTEGER", "UBIGINT", "BLOB", "TIME", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE",
        "BIGINT", True, 16, 16, True, True, True, True, True,
    )  # fmt: skip
    schema = pq.read_schema(glob.replace("**/*.parquet", "t.parquet"))
    assert schema.field("zoned").type == pa.timestamp("us", tz="Europe/Paris")  # the display zone travels with the file
    assert schema.field("wait").type == pa.duration("s")  # Arrow readers get the duration back
    assert schema.field("ms").type == pa.timestamp("ms")


NESTED = {
    "tags": {
        "gen": "list", "type": "list<string>", "length": {"distribution": "poisson", "lam": 3, "max": 12},
        "element": {"gen": "choice", "values": ["red", "green", "blue"], "weights": [6, 3, 1]},
    },
    "lines": {
        "gen": "list", "length": {"distribution": "uniform", "low": 1, "high": 4},
        "element": {
            "gen": "struct",
            "fields": {
                "sku": {"gen": "uuid"},
                "qty": {"gen": "uniform", "low": 1, "high": 5, "type": "int32"},
                "price": {"gen": "lognormal", "mean": 3, "sigma": 0.5, "min": 0.01, "max": 9999, "type": "decimal(10,2)"},
            },
        },
    },
    "address": {
        "gen": "struct", "type": "struct<city: string, zip: string, scores: list<int16>>", "null_fraction": 0.2,
        "fields": {
            "city": {"gen": "faker", "provider": "city"},
            "zip": {"gen": "faker", "provider": "postcode", "null_fraction": 0.5},
            "scores": {"gen": "list", "length": {"distribution": "fixed", "value": 3}, "element": {"gen": "uniform", "low": 0, "high": 9}},
        },
    },
}  # fmt: skip


def test_nested_columns_follow_their_distributions(tmp_path: Path) -> None:
    """20,000 rows: list lengths follow their count distribution (poisson mean and variance 3, clipped at 12;
    uniform 1..4 about 25% each), elements their own distribution, struct fields are all present, and the
    struct's and a field's null_fraction hold."""
    glob = _parquet(tmp_path, NESTED, rows=20_000)
    kinds = query(f"SELECT typeof(tags), typeof(lines), typeof(address) FROM read_parquet('{glob}') LIMIT 1")[0]
    assert kinds == (
        "VARCHAR[]",
        "STRUCT(sku VARCHAR, qty INTEGER, price DECIMAL(10,2))[]",
        "STRUCT(city VARCHAR, zip VARCHAR, scores SMALLINT[])",
    )
    mean, variance, top = query(f"SELECT avg(len(tags)), var_pop(len(tags)), max(len(tags)) FROM read_parquet('{glob}')")[0]
    assert abs(mean - 3) < 0.06 and abs(variance - 3) < 0.15 and top <= 12
    shares = dict(query(f"SELECT len(lines), count(*) / 20000 FROM read_parquet('{glob}') GROUP BY 1"))
    assert set(shares) == {1, 2, 3, 4} and all(abs(share - 0.25) < 0.02 for share in shares.values())
    red = query(f"SELECT avg((tag = 'red')::INT) FROM (SELECT unnest(tags) AS tag FROM read_parquet('{glob}'))")[0][0]
    assert abs(red - 0.6) < 0.01
    qty = dict(query(f"SELECT l.qty, count(*) FROM (SELECT unnest(lines) AS l FROM read_parquet('{glob}')) GROUP BY 1"))
    assert set(qty) == {1, 2, 3, 4, 5}
    row = query(
        "SELECT avg((address IS NULL)::INT), avg((address.zip IS NULL)::INT) FILTER (WHERE address IS NOT NULL), "
        f"bool_and(len(address.scores) = 3) FILTER (WHERE address IS NOT NULL), count(DISTINCT address.city) "
        f"FROM read_parquet('{glob}')"
    )[0]
    assert abs(row[0] - 0.2) < 0.015 and abs(row[1] - 0.5) < 0.02 and row[2] and row[3] > 100


def test_nested_values_do_not_depend_on_the_batching(tmp_path: Path) -> None:
    """Element values are functions of (seed, table, column, row, position): any row range gives the same."""
    spec = load_schema(_spec(tmp_path, NESTED, rows=500))
    runtime = DatasetRuntime(spec, 7, build_layouts(spec, 7))
    whole = pa.Table.from_batches([runtime.batch("t", 0, 500)])
    pieces = pa.Table.from_batches([runtime.batch("t", start, rows) for start, rows in ((0, 1), (1, 198), (199, 301))])
    assert whole.equals(pieces)
    assert pa.Table.from_batches([runtime.batch("t", 250, 50)]).equals(whole.slice(250, 50))
    other = DatasetRuntime(spec, 8, build_layouts(spec, 8))
    assert not pa.Table.from_batches([other.batch("t", 0, 500)]).equals(whole)


def test_element_positions_draw_independent_values(tmp_path: Path) -> None:
    """Position j of row r is not position j+1 of row r-1 (the element index spaces rows apart)."""
    glob = _parquet(
        tmp_path,
        {"v": {"gen": "list", "length": {"distribution": "fixed", "value": 4}, "element": {"gen": "uniform", "low": 0, "high": 1, "type": "float64"}}},
        rows=5000,
    )
    corr = query(f"SELECT corr(v[1], v[2]), corr(v[2], lag_v) FROM (SELECT v, lag(v[1]) OVER (ORDER BY id) AS lag_v FROM read_parquet('{glob}'))")[0]
    assert all(abs(value) < 0.05 for value in corr)
    values = np.array(query(f"SELECT unnest(v) FROM read_parquet('{glob}')"), dtype=np.float64).ravel()
    assert len(np.unique(values)) == len(values) and math.isclose(values.mean(), 0.5, abs_tol=0.01)


def test_decimal_money_flows_through_lookups_expressions_and_sums(tmp_path: Path) -> None:
    """Decimal prices looked up by order lines, an `expr` line total and a `children_sum` order total: every
    value is an exact cent and each total is exactly the sum of its lines (DuckDB's decimal arithmetic)."""
    money = "decimal(12,2)"
    spec = {
        "name": "shop",
        "tables": {
            "products": {"rows": 50, "columns": {
                "product_id": {"gen": "sequence", "start": 1},
                "price": {"gen": "lognormal", "mean": 3, "sigma": 1, "min": 0.99, "max": 4999.99, "type": money},
            }},
            "orders": {"rows": 400, "columns": {
                "order_id": {"gen": "sequence", "start": 1},
                "total": {"gen": "children_sum", "table": "items", "column": "line_total", "round": 2, "type": money},
            }},
            "items": {"parent": {"table": "orders", "count": {"distribution": "poisson", "lam": 3, "min": 1}}, "columns": {
                "order_id": {"gen": "parent", "column": "order_id", "type": "int64"},
                "product_id": {"gen": "foreign_key", "table": "products", "column": "product_id", "type": "int64"},
                "qty": {"gen": "uniform", "low": 1, "high": 5, "type": "int32"},
                "unit_price": {"gen": "lookup", "via": "product_id", "column": "price", "type": money},
                "discount": {"gen": "choice", "values": [0, 0.1, 0.15], "type": "float64"},
                "line_total": {"gen": "expr", "expr": "ROUND(qty * unit_price * (1 - discount), 2)", "type": money},
            }},
        },
    }  # fmt: skip
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    generate(path, create_writer("parquet", str(tmp_path / "out")), workers=1)
    items, orders, products = (parquet_glob(tmp_path / "out", name) for name in ("items", "orders", "products"))
    assert query(f"SELECT DISTINCT typeof(unit_price), typeof(line_total) FROM read_parquet('{items}')") == [("DECIMAL(12,2)", "DECIMAL(12,2)")]
    mismatched = query(
        f"SELECT count(*) FROM read_parquet('{orders}') o JOIN (SELECT order_id, sum(line_total) AS s FROM read_parquet('{items}') "
        "GROUP BY 1) i USING (order_id) WHERE o.total <> i.s"
    )[0][0]
    assert mismatched == 0
    wrong_price = query(
        f"SELECT count(*) FROM read_parquet('{items}') i JOIN read_parquet('{products}') p USING (product_id) WHERE i.unit_price <> p.price"
    )[0][0]
    assert wrong_price == 0
    off = query(f"SELECT max(abs(line_total - ROUND(qty * unit_price * (1 - discount), 2))) FROM read_parquet('{items}')")[0][0]
    assert off < 0.0101  # a half cent may round either way between Polars and DuckDB (doubles here)


def _leaf() -> st.SearchStrategy[dict]:
    numeric = st.sampled_from(["int8", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64",
                               "decimal(9,2)", "decimal(38,6)", "time"])  # fmt: skip
    return st.one_of(
        numeric.map(lambda kind: {"gen": "uniform", "low": 0, "high": 100, "type": kind}),
        st.sampled_from(["string", "binary"]).map(lambda kind: {"gen": "uuid", "type": kind}),
        st.just({"gen": "boolean", "p": 0.3, "null_fraction": 0.2}),
        st.sampled_from(["s", "ms", "us", "ns"]).map(
            lambda unit: {"gen": "timestamp", "start": "2024-01-01", "end": "2024-01-09", "unit": unit}
        ),
        st.just({"gen": "gamma", "shape": 2, "type": "duration", "unit": "ms"}),
    )


def _nested(children: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    lists = st.tuples(children, st.integers(0, 3)).map(
        lambda pair: {"gen": "list", "length": {"distribution": "uniform", "low": 0, "high": pair[1]}, "element": pair[0]}
    )
    structs = st.lists(children, min_size=1, max_size=3).map(
        lambda fields: {"gen": "struct", "fields": {f"f{i}": field for i, field in enumerate(fields)}}
    )
    return st.one_of(lists, structs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.recursive(_leaf(), _nested, max_leaves=6), null_fraction=st.sampled_from([0.0, 0.3]))
def test_random_nested_types_generate_deterministically_and_read_back(tmp_path: Path, column: dict, null_fraction: float) -> None:
    """Any nesting of any types: the Arrow type is the type string's, any batching gives the same values, and
    DuckDB reads the Parquet file with the types `validate` expects."""
    column = {**column, "null_fraction": null_fraction}
    path = _spec(tmp_path, {"x": column}, rows=200, name=f"h{abs(hash(str(column)))}")
    spec = load_schema(path)
    runtime = DatasetRuntime(spec, 3, build_layouts(spec, 3))
    whole = pa.Table.from_batches([runtime.batch("t", 0, 200)])
    assert whole.schema.field("x").type == column_arrow_type(spec.tables["t"].columns["x"])
    assert pa.Table.from_batches([runtime.batch("t", 0, 77), runtime.batch("t", 77, 123)]).equals(whole)
    out = tmp_path / path.stem
    generate(spec, create_writer("parquet", str(out)), workers=1, seed=3)
    described = dict(query(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{parquet_glob(out, 't')}'))"))
    assert described["x"] == duckdb_type(whole.schema.field("x").type)


def test_a_distinct_list_holds_no_repeats(tmp_path: Path) -> None:
    """`distinct: true` drops repeats within each list (first kept), nulls included; 20,000 rows."""
    tags = {
        "gen": "list", "distinct": True, "type": "list<string>", "length": {"distribution": "poisson", "lam": 2, "max": 6},
        "element": {"gen": "choice", "values": list("abcdef"), "weights": [5, 3, 2, 1, 1, 1], "null_fraction": 0.1},
    }  # fmt: skip
    glob = _parquet(tmp_path, {"tags": tags}, rows=20_000)
    repeats, mean, first = query(
        f"SELECT count(*) FILTER (WHERE len(tags) <> len(list_distinct(tags)) + len(list_filter(tags, t -> t IS NULL)) "
        "OR len(list_filter(tags, t -> t IS NULL)) > 1), avg(len(tags)), "
        f"avg((tags[1] = 'a')::INT) FILTER (WHERE len(tags) > 0) FROM read_parquet('{glob}')"
    )[0]
    assert repeats == 0
    assert 1.4 < mean < 2  # below lam 2: repeats dropped
    assert abs(first - 5 / 13) < 0.02  # the first element is an undisturbed draw (nulls aside)
    result = run_cli("validate-schema", _spec(tmp_path, {"x": {**tags, "element": {"gen": "struct", "fields": {"a": {"gen": "uuid"}}}, "type": ""}}))
    assert result.exit_code == 2 and "distinct applies to lists of scalar values" in result.output


SHIP_TO = """\
name: ship
tables:
  customers:
    rows: 200
    columns:
      customer_id: {type: int64, gen: sequence, start: 1}
      city: {gen: faker, provider: city}
  orders:
    rows: 2000
    columns:
      order_id: {type: int64, gen: sequence, start: 1}
      customer_id: {type: int64, gen: foreign_key, table: customers, column: customer_id}
      ship_to:
        gen: struct
        fields:
          city: {type: string, gen: lookup, via: customer_id, column: city}
          label: {gen: template, template: "order {order_id}"}
          express: {gen: boolean, p: 0.2}
"""


def test_a_tables_struct_fields_may_read_the_row(tmp_path: Path) -> None:
    """A table's own struct may hold lookups and templates: the shipping city is the customer's."""
    path = tmp_path / "ship.yaml"
    path.write_text(SHIP_TO)
    generate(path, create_writer("parquet", str(tmp_path / "out")), workers=1)
    orders, customers = (parquet_glob(tmp_path / "out", name) for name in ("orders", "customers"))
    row = query(
        f"SELECT count(*), count(*) FILTER (WHERE o.ship_to.city = c.city AND o.ship_to.label = 'order ' || o.order_id) "
        f"FROM read_parquet('{orders}') o JOIN read_parquet('{customers}') c USING (customer_id)"
    )[0]
    assert row == (2000, 2000)
    bad_via = tmp_path / "bad.yaml"
    bad_via.write_text(SHIP_TO.replace("via: customer_id", "via: nobody"))
    result = run_cli("validate-schema", bad_via)
    assert result.exit_code == 2 and "column 'ship_to': field 'city': lookup via 'nobody'" in result.output
    in_list = tmp_path / "in_list.yaml"
    in_list.write_text(SHIP_TO.replace("      ship_to:\n        gen: struct\n        fields:", (
        "      ship_to:\n        gen: list\n        length: {distribution: fixed, value: 2}\n        element:\n"
        "          gen: struct\n          fields:")).replace("\n          city:", "\n            city:")
        .replace("\n          label:", "\n            label:").replace("\n          express:", "\n            express:"))  # fmt: skip
    result = run_cli("validate-schema", in_list)
    assert result.exit_code == 2 and "field 'city' of a list's struct cannot be gen: lookup" in result.output, result.output
