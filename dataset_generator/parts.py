"""`--parts N --part K`: split one logical run across machines with no coordination, then commit once.

Every part plans the whole dataset, writes only its share of the files (round-robin over the plan) under
a run id all parts derive alike, and leaves a JSON manifest of its FileInfos under
`<output>/_manifests/<run id>/part-0000K-of-0000N.json`. Nothing is visible to readers until
`commit_parts` finds all N manifests and commits each table once. File names come from the plan, so the
union of the parts is byte-identical to a single run.

Modes (error/overwrite/append) are checked at commit, where the table is opened for real; file-table
writers also refuse early, in every part, an "error" run over a complete table (see `part_handle`).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import inspect
import json
import time
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from .api import GenerateSummary, ProgressCallback, TableSummary, commit_tables
from .contracts import FileInfo, TableHandle, TableInfo
from .engine.local import WorkerContext
from .engine.run import run_tasks
from .errors import DatasetGeneratorError, WriterError
from .generation.planner import Plan
from .options import PartitionSpec, WriterOptions
from .writers.base import STAGING_DIR, TableWriter

MANIFEST_DIR = "_manifests"
MANIFEST_VERSION = 1


def derive_run_id(
    plan: Plan, writer: TableWriter, *, scale: float, params: Mapping[str, Any] | None, parts: int
) -> str:
    """The same on every machine for the same command: everything that decides the output's bytes and names."""
    identity = {
        "dataset": plan.dataset,
        "spec": plan.runtime.spec.model_dump(mode="json"),
        "seed": plan.seed,
        "scale": scale,
        "params": {str(key): str(value) for key, value in sorted((params or {}).items())},
        "tables": [table.name for table in plan.tables],
        "parts": parts,
        "writer": writer.name,
        "options": _options_json(writer.options),
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
    return f"parts-{digest[:16]}"


def manifest_path(writer: TableWriter, run_id: str, part: int, parts: int) -> str:
    return writer.storage.join(MANIFEST_DIR, run_id, f"part-{part:05d}-of-{parts:05d}.json")


def generate_part(
    plan: Plan,
    writer: TableWriter,
    *,
    scale: float,
    params: Mapping[str, Any] | None,
    parts: int | None,
    part: int | None,
    run_id: str | None,
    engine: str,
    dask_address: str | None,
    workers: int,
    chunk_rows: int,
    progress: ProgressCallback | None,
    started: float,
    worker_type: str = "thread",
) -> GenerateSummary:
    if parts is None or part is None:
        raise DatasetGeneratorError("--parts and --part go together (e.g. --parts 4 --part 1)")
    if parts < 1 or not 1 <= part <= parts:
        raise DatasetGeneratorError(f"--part must be between 1 and --parts ({parts}); got {part}")
    _require_external_commit(writer)
    run_id = run_id or derive_run_id(plan, writer, scale=scale, params=params, parts=parts)
    _check_run_id(run_id)
    handles = {table.name: writer.part_handle(table.info, run_id) for table in plan.tables}
    context = WorkerContext(writer=writer, runtime=plan.runtime, handles=handles, chunk_rows=chunk_rows)
    try:
        written = run_tasks(
            context,
            plan.part(parts, part),
            engine=engine,
            workers=workers,
            dask_address=dask_address,
            on_file=progress,
            worker_type=worker_type,
        )
    except BaseException as exc:
        # Only this part's files: writer.abort would clear the staging the other parts share.
        writer.storage.remove(info.staged_path for info in getattr(exc, "written", []))
        raise
    manifest = {
        "version": MANIFEST_VERSION,
        "run_id": run_id,
        "parts": parts,
        "part": part,
        "writer": writer.name,
        "dataset": plan.dataset,
        "seed": plan.seed,
        "options": _options_json(writer.options),
        "tables": [_table_json(table.info, handles[table.name]) for table in plan.tables],
        "files": [_file_json(info) for info in sorted(written, key=lambda info: info.path)],
    }
    # Written last: a manifest means the part's files are all there.
    writer.storage.write_bytes(
        manifest_path(writer, run_id, part, parts),
        (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode(),
    )
    by_table = {table.name: [info for info in written if info.table == table.name] for table in plan.tables}
    return GenerateSummary(
        dataset=plan.dataset,
        writer=writer.name,
        seed=plan.seed,
        tables=tuple(
            TableSummary(
                name=name,
                rows=sum(info.rows for info in files),
                files=len(files),
                bytes=sum(info.bytes for info in files),
                location=handles[name].location,
            )
            for name, files in by_table.items()
        ),
        seconds=time.perf_counter() - started,
        workers=workers,
        extra={"run_id": run_id, "parts": parts, "part": part, "committed": False},
    )


def pending_runs(writer: TableWriter) -> dict[str, list[str]]:
    """Run id -> its manifest paths, for every parts run not yet committed under the writer's output."""
    storage = writer.storage
    root = storage.join(MANIFEST_DIR)
    runs: dict[str, list[str]] = {}
    for path in storage.list_files(root):
        relative = path[len(root) :].strip("/")
        run, _, name = relative.partition("/")
        if name.startswith("part-") and name.endswith(".json") and "/" not in name:
            runs.setdefault(run, []).append(path)
    return runs


def commit_parts(writer: TableWriter, *, run_id: str | None = None, discard: bool = False) -> GenerateSummary:
    """Check every part's manifest is there, then commit each table once; `discard` removes the run instead."""
    started = time.perf_counter()
    _require_external_commit(writer)
    run_id, manifests = _load_run(writer, run_id, complete=not discard)
    first = manifests[0]
    parts = first["parts"]
    files = [_file_from_json(item) for manifest in manifests for item in manifest["files"]]
    tables = {item["name"]: item for item in first["tables"]}
    if discard:
        _discard(writer, run_id, tables, files)
        return GenerateSummary(
            dataset=first["dataset"], writer=writer.name, seed=first["seed"], tables=(),
            seconds=time.perf_counter() - started, extra={"run_id": run_id, "parts": parts, "discarded": True},
        )  # fmt: skip
    options = _options_from_json(first["options"])
    if options != writer.options:
        # The parts' options decide names, codecs and mode; the committing writer must agree with them.
        writer = copy.copy(writer)
        writer.options = options
    handles: dict[str, TableHandle] = {}
    for name, item in tables.items():
        try:
            handle = open_for_run(writer, _table_from_json(item), run_id)
        except DatasetGeneratorError as exc:
            raise type(exc)(
                f"{exc} (the staged parts of run {run_id} are kept: commit again once fixed, "
                "or remove them with 'commit --discard')"
            ) from exc
        if handle.location.rstrip("/") != item["location"].rstrip("/"):
            raise WriterError(
                f"table {name!r} opens at {handle.location} but the parts wrote it under {item['location']}; "
                f"the {writer.name} writer's part_handle must give the same location as open_table"
            )
        handles[name] = handle
    commits = commit_tables(writer, handles, files)
    _remove_manifests(writer, run_id)
    return GenerateSummary(
        dataset=first["dataset"],
        writer=writer.name,
        seed=first["seed"],
        tables=tuple(
            TableSummary(
                name=commit.table,
                rows=commit.rows,
                files=commit.files,
                bytes=commit.bytes,
                location=commit.location,
                version=commit.version,
            )  # fmt: skip
            for commit in commits
        ),
        seconds=time.perf_counter() - started,
        extra={"run_id": run_id, "parts": parts, "committed": True},
    )


def open_for_run(writer: TableWriter, table: TableInfo, run_id: str) -> TableHandle:
    """`open_table` with the parts' run id: passed in where the writer takes it, else set on the handle."""
    if "run_id" in inspect.signature(writer.open_table).parameters:
        return writer.open_table(table, run_id=run_id)  # type: ignore[call-arg]
    # Writers that only store the run id on the handle (names, commit metadata) are equally served.
    return dataclasses.replace(writer.open_table(table), run_id=run_id)


# ---------------------------------------------------------------------------------------------- helpers


def _require_external_commit(writer: TableWriter) -> None:
    if not writer.supports_external_commit:
        raise WriterError(
            f"the {writer.name} format cannot commit files written by other processes, so it cannot be "
            "generated in --parts; run it in one go (--engine dask spreads one run over a cluster)"
        )


def _check_run_id(run_id: str) -> None:
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise DatasetGeneratorError(f"invalid run id {run_id!r}: use letters, digits, '-' and '_'")


def _load_run(
    writer: TableWriter, run_id: str | None, *, complete: bool = True
) -> tuple[str, list[dict[str, Any]]]:
    runs = pending_runs(writer)
    where = writer.storage.join(MANIFEST_DIR)
    if run_id is None:
        if not runs:
            raise DatasetGeneratorError(f"no parts run to commit: no manifests under {where}")
        if len(runs) > 1:
            raise DatasetGeneratorError(
                f"several parts runs are pending under {where} ({', '.join(sorted(runs))}); choose one with --run-id"
            )
        run_id = next(iter(runs))
    if run_id not in runs:
        raise DatasetGeneratorError(f"no manifests of parts run {run_id!r} under {where}")
    manifests = []
    for path in sorted(runs[run_id]):
        try:
            manifest = json.loads(writer.storage.read_bytes(path))
        except ValueError as exc:
            raise DatasetGeneratorError(f"unreadable manifest {path}: {exc}") from exc
        if manifest.get("version") != MANIFEST_VERSION or manifest.get("run_id") != run_id:
            raise DatasetGeneratorError(
                f"manifest {path} is not a version-{MANIFEST_VERSION} manifest of run {run_id}"
            )
        manifests.append(manifest)
    first = manifests[0]
    if first["writer"] != writer.name:
        raise DatasetGeneratorError(
            f"parts run {run_id} was written with --format {first['writer']}, not {writer.name}"
        )
    counts = {manifest["parts"] for manifest in manifests}
    if len(counts) > 1:
        raise DatasetGeneratorError(f"parts run {run_id} mixes manifests of --parts {sorted(counts)}")
    parts = first["parts"]
    present = {manifest["part"] for manifest in manifests}
    missing = [number for number in range(1, parts + 1) if number not in present]
    if missing and complete:
        raise DatasetGeneratorError(
            f"parts run {run_id} is incomplete: missing part{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(str, missing))} of {parts} (run them with --parts {parts} --part K, then commit again)"
        )
    return run_id, sorted(manifests, key=lambda manifest: manifest["part"])


def _discard(
    writer: TableWriter, run_id: str, tables: dict[str, dict[str, Any]], files: list[FileInfo]
) -> None:
    storage = writer.storage
    storage.remove(info.staged_path for info in files)
    for item in tables.values():
        staging = storage.join(item["location"], STAGING_DIR)
        storage.remove_tree(storage.join(staging, run_id))
        if not storage.list_files(staging):
            storage.remove_tree(staging)
    _remove_manifests(writer, run_id)


def _remove_manifests(writer: TableWriter, run_id: str) -> None:
    storage = writer.storage
    storage.remove_tree(storage.join(MANIFEST_DIR, run_id))
    if not storage.list_files(storage.join(MANIFEST_DIR)):
        storage.remove_tree(storage.join(MANIFEST_DIR))


def _options_json(options: WriterOptions) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(options)))


def _options_from_json(data: dict[str, Any]) -> WriterOptions:
    partition = data.get("partition")
    fields = {
        **data,
        "partition": PartitionSpec(columns=tuple(partition["columns"]), source=partition["source"])
        if partition
        else None,
    }
    return WriterOptions(**fields)


def _table_json(info: TableInfo, handle: TableHandle) -> dict[str, Any]:
    return {
        "name": info.name,
        "schema": base64.b64encode(info.schema.serialize().to_pybytes()).decode("ascii"),
        "partition_columns": list(info.partition_columns),
        "time_column": info.time_column,
        "dictionary_columns": list(info.dictionary_columns),
        "expected_rows": info.expected_rows,
        "location": handle.location,
    }


def _table_from_json(item: dict[str, Any]) -> TableInfo:
    return TableInfo(
        name=item["name"],
        schema=pa.ipc.read_schema(pa.py_buffer(base64.b64decode(item["schema"]))),
        partition_columns=tuple(item["partition_columns"]),
        time_column=item["time_column"],
        dictionary_columns=tuple(item["dictionary_columns"]),
        expected_rows=item["expected_rows"],
    )


def _file_json(info: FileInfo) -> dict[str, Any]:
    data = dataclasses.asdict(info)
    try:
        json.dumps(data["stats"])
    except TypeError as exc:
        raise WriterError(f"the {info.table!r} file stats of this writer are not JSON: {exc}") from exc
    return data


def _file_from_json(item: dict[str, Any]) -> FileInfo:
    return FileInfo(
        **{**item, "partition": tuple((str(name), str(value)) for name, value in item["partition"])}
    )
