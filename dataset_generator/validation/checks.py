"""The checks of one table, run with DuckDB over what `sources` found, against what the plan expects."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any

import pyarrow as pa

from ..options import WriterOptions
from .duck import first_line, ident, literal
from .expected import ExpectedTable
from .report import ValidationReport
from .sources import TableSource, relative

# Requested codec -> the names Parquet footers give its column chunks (lz4 is LZ4_RAW in current writers).
PARQUET_CODECS: dict[str, tuple[str, ...]] = {
    "snappy": ("SNAPPY",),
    "gzip": ("GZIP",),
    "zstd": ("ZSTD",),
    "brotli": ("BROTLI",),
    "lz4": ("LZ4_RAW", "LZ4"),
    "none": ("UNCOMPRESSED",),
}
_SHOWN = 3  # names of stray/missing files shown in a detail
_DUCKDB_TYPES: list[tuple[Any, str]] = [
    (pa.types.is_int8, "TINYINT"),
    (pa.types.is_int16, "SMALLINT"),
    (pa.types.is_int32, "INTEGER"),
    (pa.types.is_int64, "BIGINT"),
    (pa.types.is_float32, "FLOAT"),
    (pa.types.is_float64, "DOUBLE"),
    (pa.types.is_boolean, "BOOLEAN"),
    (pa.types.is_date, "DATE"),
    (pa.types.is_timestamp, "TIMESTAMP"),
]


_DUCKDB_UNSIGNED = {8: "UTINYINT", 16: "USMALLINT", 32: "UINTEGER", 64: "UBIGINT"}
# DuckDB reads Parquet's millisecond timestamps as TIMESTAMP (microseconds), nanosecond ones as TIMESTAMP_NS.
_DUCKDB_TIMESTAMPS = {"s": "TIMESTAMP", "ms": "TIMESTAMP", "us": "TIMESTAMP", "ns": "TIMESTAMP_NS"}


@lru_cache(maxsize=1)
def _keywords() -> frozenset[str]:
    import duckdb  # on first use: importing the API (and a plain run) never pays DuckDB's import (fast start)

    with duckdb.connect() as con:
        return frozenset(row[0] for row in con.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall())


def _field_name(name: str) -> str:
    """A struct field's name as DuckDB spells it in a type: quoted when a keyword or not plain lower case."""
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name not in _keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


def duckdb_type(arrow_type: pa.DataType) -> str:
    """The DuckDB type a reader gives an Arrow column of the plan's schema (as DuckDB reads Parquet)."""
    if pa.types.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_unsigned_integer(arrow_type):
        return _DUCKDB_UNSIGNED[arrow_type.bit_width]
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP WITH TIME ZONE" if arrow_type.tz else _DUCKDB_TIMESTAMPS[arrow_type.unit]
    if pa.types.is_list(arrow_type):
        return f"{duckdb_type(arrow_type.value_type)}[]"
    if pa.types.is_struct(arrow_type):
        return "STRUCT(" + ", ".join(f"{_field_name(field.name)} {duckdb_type(field.type)}" for field in arrow_type) + ")"
    if pa.types.is_binary(arrow_type):
        return "BLOB"
    if pa.types.is_time(arrow_type):
        return "TIME"
    if pa.types.is_duration(arrow_type):
        return "BIGINT"  # Parquet stores an Arrow duration as int64
    return next((name for test, name in _DUCKDB_TYPES if test(arrow_type)), "VARCHAR")


def raw_view(name: str) -> str:
    """The view of a table with the reader's extra columns (the file name of each row for file tables)."""
    return ident(f"__raw_{name}")


def create_views(con: Any, expected: ExpectedTable, source: TableSource, empty_columns: str) -> str | None:
    """Create the table's view (named after the table, as `checks:` refer to it); the error, or None."""
    view, raw = ident(expected.name), raw_view(expected.name)
    try:
        if source.scan is None:
            con.execute(f"CREATE OR REPLACE VIEW {raw} AS SELECT {empty_columns}, NULL::VARCHAR AS filename WHERE false")
        elif source.partition_from_path:
            con.execute(f"CREATE OR REPLACE VIEW {raw} AS SELECT * FROM {source.scan}")
        else:
            con.execute(f"CREATE OR REPLACE VIEW {raw} AS SELECT *, NULL::VARCHAR AS filename FROM {source.scan}")
        con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * EXCLUDE (filename) FROM {raw}")
        con.execute(f"SELECT count(*) FROM {view}").fetchall()  # opens every file: a missing one fails here
    except Exception as exc:  # duckdb.Error and its IO errors: a file that cannot be read
        con.execute(f"CREATE OR REPLACE VIEW {raw} AS SELECT {empty_columns}, NULL::VARCHAR AS filename WHERE false")
        con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * EXCLUDE (filename) FROM {raw}")
        return first_line(exc)
    return None


def _names(paths: list[str], location: str) -> str:
    shown = ", ".join(relative(location, path) for path in sorted(paths)[:_SHOWN])
    return shown + (f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else "")


def _planned_name(path: str, location: str, suffix: str, table: str) -> tuple[str, str] | None:
    # (partition, planned name) of a file: part-00003[-<run id>]<suffix> or <table><suffix>
    rel = relative(location, path)
    directory, _, name = rel.rpartition("/")
    match = re.fullmatch(rf"(part-\d{{5}})(?:-[A-Za-z0-9T_-]+)?{re.escape(suffix)}|({re.escape(table)}){re.escape(suffix)}", name)
    if match is None:
        return None
    return directory, match.group(1) or match.group(2)


def check_files(report: ValidationReport, expected: ExpectedTable, source: TableSource) -> None:
    """No missing, stray, staged or unknown file."""
    name = f"{expected.name}.files"
    found = set(source.found)
    problems = []
    if source.listed:
        missing = [path for path in source.files if path not in found]
        stray = [path for path in source.found if path not in source.referenced]
    else:  # file tables whose commit does not list its files: the plan names them
        planned = {(partition, file_name) for partition, names in expected.file_names.items() for file_name in names}
        seen: dict[tuple[str, str], str] = {}
        stray = []
        for path in source.found:
            key = _planned_name(path, source.location, source.suffix, expected.name)
            if key is None or key not in planned or key in seen:
                stray.append(path)
            else:
                seen[key] = path
        missing = [f"{partition + '/' if partition else ''}{file_name}{source.suffix}" for partition, file_name in sorted(planned - set(seen))]
        missing = [source.location.rstrip("/") + "/" + path for path in missing]
    if missing:
        problems.append(f"{len(missing)} missing ({_names(missing, source.location)})")
    if stray:
        problems.append(f"{len(stray)} stray, not in the commit ({_names(stray, source.location)})")
    if source.staged:
        problems.append(f"{len(source.staged)} staged or partial ({_names(source.staged, source.location)})")
    if source.unknown:
        problems.append(f"{len(source.unknown)} unknown ({_names(source.unknown, source.location)})")
    how = "listed by the commit" if source.listed else "named by the plan"
    detail = "; ".join(problems) if problems else f"{len(source.files)} data files, all present, {how}"
    report.add(name, not problems, detail)


def check_schema(report: ValidationReport, con: Any, expected: ExpectedTable) -> None:
    """The columns a reader sees are the planned ones, in order, with their types (table formats may add the
    year/month/day columns of a table partitioned by its parent's time)."""
    found = [(row[0], row[1]) for row in con.execute(f"DESCRIBE SELECT * FROM {ident(expected.name)}").fetchall()]
    planned = [(field.name, duckdb_type(field.type)) for field in expected.schema]
    extra = [column for column in found[len(planned):] if column[0] not in expected.partition_columns]
    ok = found[: len(planned)] == planned and not extra
    if ok:
        detail = f"{len(planned)} columns as planned"
    else:
        wrong = [f"{name} {kind}" for name, kind in found if (name, kind) not in planned and name not in expected.partition_columns]
        missing = [f"{name} {kind}" for name, kind in planned if (name, kind) not in found]
        detail = "; ".join(part for part in (
            f"unexpected {', '.join(wrong)}" if wrong else "", f"missing {', '.join(missing)}" if missing else "",
        ) if part) or "columns out of order"  # fmt: skip
    report.add(f"{expected.name}.schema", ok, detail)


def check_rows(report: ValidationReport, con: Any, expected: ExpectedTable, error: str | None) -> None:
    """The table's row count, as its format's reader sees it, equals the plan's."""
    name = f"{expected.name}.rows"
    if error is not None:
        report.add(name, False, f"cannot read the table: {error}")
        return
    rows = con.execute(f"SELECT count(*) FROM {ident(expected.name)}").fetchone()[0]
    report.add(name, rows == expected.rows, f"{rows:,} rows" + ("" if rows == expected.rows else f", the plan has {expected.rows:,}"))


def _partition_sql(expected: ExpectedTable, source: TableSource) -> tuple[str, str | None]:
    """SQL of each row's partition ("year=2024/month=01") as its values give it, and as its file path gives it."""
    columns = expected.partition_columns
    formats = {"year": "%Y", "month": "%m", "day": "%d"}
    path_sql = None
    if source.partition_from_path:
        pattern = "/".join(f"{column}=[^/]+" for column in columns)
        path_sql = f"regexp_extract(filename, '/({pattern})/[^/]+$', 1)"
    if expected.time_column is not None:
        time = ident(expected.time_column)
        parts = [f"'{column}=' || strftime({time}, '{formats[column]}')" for column in columns]
        return "concat_ws('/', " + ", ".join(parts) + ")", path_sql
    if path_sql is not None:
        return path_sql, None
    parts = [f"'{column}=' || CAST({ident(column)} AS VARCHAR)" for column in columns]
    return "concat_ws('/', " + ", ".join(parts) + ")", None


def check_partitions(report: ValidationReport, con: Any, expected: ExpectedTable, source: TableSource) -> None:
    """Rows per partition equal the plan's; each row lies in the partition its time gives (file tables)."""
    name = f"{expected.name}.partitions"
    if not expected.partition_columns:
        report.skip(name, "not partitioned")
        return
    value_sql, path_sql = _partition_sql(expected, source)
    found = dict(con.execute(f"SELECT {value_sql} AS p, count(*) FROM {raw_view(expected.name)} GROUP BY p").fetchall())
    planned = expected.partition_rows
    wrong = sorted(key for key in set(found) | set(planned) if found.get(key, 0) != planned.get(key, 0))
    problems = [
        f"{key or '(none)'}: {found.get(key, 0):,} rows, the plan has {planned.get(key, 0):,}" for key in wrong[:_SHOWN]
    ]
    if len(wrong) > _SHOWN:
        problems.append(f"and {len(wrong) - _SHOWN} more partitions")
    if path_sql is not None:
        misplaced = con.execute(
            f"SELECT count(*) FROM {raw_view(expected.name)} WHERE {value_sql} IS DISTINCT FROM {path_sql}"
        ).fetchone()[0]
        if misplaced:
            problems.append(f"{misplaced:,} rows in a directory other than their {expected.time_column}'s partition")
    detail = "; ".join(problems) if problems else f"{len(planned):,} partitions, rows as planned"
    report.add(name, not problems, detail)


def file_rows(con: Any, source: TableSource, present: list[str]) -> dict[str, int]:
    """Rows of each present data file: Parquet footers, or a count of the text file's rows."""
    if not present:
        return {}
    files = "[" + ", ".join(literal(path) for path in present) + "]"
    if source.parquet:
        rows = con.execute(f"SELECT file_name, num_rows FROM parquet_file_metadata({files})").fetchall()
    else:  # a text file without rows (a header only, or empty) yields no group: it counts 0
        rows = con.execute(f"SELECT filename, count(*) FROM {raw_view(source.name)} GROUP BY filename").fetchall()
        return {**dict.fromkeys(present, 0), **{path: int(count) for path, count in rows}}
    return {path: int(count) for path, count in rows}


def check_file_rows(
    report: ValidationReport, con: Any, expected: ExpectedTable, source: TableSource, options: WriterOptions, present: list[str]
) -> None:
    """No file holds more than file_rows_target rows, and the files' row counts are the plan's (per
    partition for file tables, whose directories are the partitions)."""
    name = f"{expected.name}.file_rows"
    counts = file_rows(con, source, present)
    target = options.file_rows_target
    over = sorted(path for path, rows in counts.items() if rows > target)
    problems = []
    if over:
        problems.append(f"{len(over)} files over {target:,} rows ({_names(over, source.location)})")
    if source.partition_from_path:
        found: dict[str, list[int]] = {}
        for path, rows in counts.items():
            found.setdefault(relative(source.location, path).rpartition("/")[0], []).append(rows)
        planned = {key: sorted(rows) for key, rows in expected.partitions.items()}
        wrong = sorted(key for key in set(found) | set(planned) if sorted(found.get(key, [])) != planned.get(key, []))
        for key in wrong[:_SHOWN]:
            problems.append(f"{key or 'table'}: files of {sorted(found.get(key, []))} rows, the plan has {planned.get(key, [])}")
    else:
        planned_all = Counter(rows for rows_list in expected.partitions.values() for rows in rows_list)
        if Counter(counts.values()) != planned_all:
            problems.append(f"{len(counts)} files of {sum(counts.values()):,} rows; the plan has {sum(planned_all.values())} files")
    detail = "; ".join(problems) if problems else f"{len(counts)} files, at most {max(counts.values(), default=0):,} rows each (target {target:,})"
    report.add(name, not problems, detail)


def check_codec(report: ValidationReport, con: Any, expected: ExpectedTable, source: TableSource, options: WriterOptions, present: list[str]) -> None:
    """Parquet: every column chunk uses the requested codec. Text: every data file carries its codec's suffix."""
    name = f"{expected.name}.codec"
    if not source.parquet:
        detail = f"files end in {source.suffix}" + ("" if not source.unknown else f"; {len(source.unknown)} other files")
        report.add(name, not source.unknown, detail)
        return
    if not present:
        report.skip(name, "no data file to read")
        return
    files = "[" + ", ".join(literal(path) for path in present) + "]"
    found = {row[0] for row in con.execute(f"SELECT DISTINCT compression FROM parquet_metadata({files})").fetchall()}
    wanted = PARQUET_CODECS.get(options.compression, (options.compression.upper(),))
    other = sorted(found - set(wanted))
    detail = f"column chunks {', '.join(sorted(found)) or 'none'}" + (f"; asked for {options.compression}" if other else "")
    report.add(name, not other, detail)


def check_keys(report: ValidationReport, con: Any, expected: ExpectedTable) -> None:
    """`sequence` and `uuid` columns are unique and never null; a sequence covers exactly its planned range."""
    view = ident(expected.name)
    for key in expected.keys:
        column = ident(key.column)
        total, nulls, distinct, low, high = con.execute(
            f"SELECT count(*), count(*) - count({column}), count(DISTINCT {column}), "
            f"{'min(' + column + '), max(' + column + ')' if key.kind == 'sequence' else 'NULL, NULL'} FROM {view}"
        ).fetchone()
        problems = []
        if nulls:
            problems.append(f"{nulls:,} nulls")
        if distinct != total - nulls:
            problems.append(f"{total - nulls - distinct:,} duplicates")
        if key.kind == "sequence" and total and expected.planned_rows is None:
            last = key.start + (expected.rows - 1) * key.step
            if (low, high) != (key.start, last):
                problems.append(f"values {low}..{high}, the plan has {key.start}..{last}")
        elif key.kind == "sequence" and total:
            # Rows left out by the table's history or the run's window (deleted, created elsewhere) leave gaps.
            last = key.start + ((expected.planned_rows or 0) - 1) * key.step
            if low < key.start or high > last:
                problems.append(f"values {low}..{high}, outside the planned {key.start}..{last}")
        detail = "; ".join(problems) if problems else f"{distinct:,} distinct {key.kind} values"
        report.add(f"{expected.name}.key({key.column})", not problems, detail)


def check_references(report: ValidationReport, con: Any, expected: ExpectedTable, validated: set[str]) -> None:
    """Foreign keys (and a child's copy of its parent's key) resolve to a row of the referenced table."""
    view = ident(expected.name)
    for ref in expected.references:
        name = f"{expected.name}.ref({ref.column}->{ref.table}.{ref.target})"
        column = ident(ref.column)
        if ref.table in validated and ref.visible and not ref.deletes:
            dangling = con.execute(
                f"SELECT count(*) FROM {view} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {ident(ref.table)} p WHERE p.{ident(ref.target)} = c.{column})"
            ).fetchone()[0]
            how = ""
        else:  # the referenced table is not validated here (or its key is hidden): check the planned range
            last = ref.start + (ref.rows - 1) * ref.step
            dangling = con.execute(
                f"SELECT count(*) FROM {view} WHERE {column} IS NOT NULL AND ({column} < {ref.start} OR {column} > {last} "
                f"OR ({column} - {ref.start}) % {ref.step} <> 0)"
            ).fetchone()[0]
            how = f" (against the planned range {ref.start}..{last}" + ("; deleted rows keep their ids)" if ref.deletes else ")")
        detail = f"{dangling:,} rows refer to no {ref.table} row{how}" if dangling else f"all resolve{how}"
        report.add(name, not dangling, detail)


def short(sql: str, width: int = 70) -> str:
    """A check's SQL on one line, cut to `width` characters."""
    text = " ".join(sql.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def check_predicate(report: ValidationReport, con: Any, table: str, number: int, predicate: str) -> None:
    """A table's `checks:` entry (`number` from 1): a boolean SQL expression that must hold for every row."""
    name = f"{table}.check[{number}]"
    try:
        failing, example = con.execute(
            f"SELECT count(*), any_value(to_json({ident(table)})::VARCHAR) FROM {ident(table)} "
            f"WHERE NOT coalesce(({predicate})::BOOLEAN, false)"
        ).fetchone()
    except Exception as exc:  # a predicate DuckDB rejects: the spec's fault, reported as a failed check
        report.add(name, False, f"{short(predicate)}: cannot evaluate: {first_line(exc)}")
        return
    detail = f"{short(predicate)}: " + (f"{failing:,} rows violate it, e.g. {example[:200]}" if failing else "holds for every row")
    report.add(name, not failing, detail)


def check_query(report: ValidationReport, con: Any, number: int, query: str) -> None:
    """A dataset's `checks:` entry (`number` from 1): a SQL query returning the violating rows; it holds
    when it returns none."""
    name = f"check[{number}]"
    try:
        failing, example = con.execute(
            f"SELECT count(*), any_value(row_to_json(v)::VARCHAR) FROM ({query}) AS v"
        ).fetchone()
    except Exception as exc:  # a query DuckDB rejects
        report.add(name, False, f"{short(query)}: cannot evaluate: {first_line(exc)}")
        return
    detail = f"{short(query)}: " + (f"{failing:,} violating rows, e.g. {example[:200]}" if failing else "no violating row")
    report.add(name, not failing, detail)
