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
import inspect
import json
import time
from collections.abc import Mapping
from typing import Any, Literal

import pyarrow as pa
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from .contracts import CommitInfo, FileInfo, TableHandle, TableInfo
from .engine import Engine, WorkerContext
from .errors import DatasetGeneratorError, WriterError
from .generation.planner import Plan
from .options import WriterOptions
from .runs import GenerateSummary, ProgressCallback, TableSummary, commit_tables, identity_digest, run_tasks
from .writers.base import TableWriter

MANIFEST_DIR = "_manifests"
MANIFEST_VERSION = 1


class TableEntry(BaseModel):
    """One table of a parts run, as every part's manifest records it (the Arrow schema as base64 IPC)."""

    model_config = ConfigDict(frozen=True)

    name: str
    arrow_schema: str = Field(validation_alias=AliasChoices("schema", "arrow_schema"), serialization_alias="schema")
    partition_columns: tuple[str, ...]
    time_column: str | None
    dictionary_columns: tuple[str, ...]
    expected_rows: int
    location: str
    description: str = ""
    column_descriptions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, info: TableInfo, location: str) -> TableEntry:
        schema = base64.b64encode(info.schema.serialize().to_pybytes()).decode("ascii")
        return cls(
            name=info.name, arrow_schema=schema, partition_columns=info.partition_columns, time_column=info.time_column,
            dictionary_columns=info.dictionary_columns, expected_rows=info.expected_rows, location=location,
            description=info.description, column_descriptions=info.column_descriptions,
        )  # fmt: skip

    def table_info(self) -> TableInfo:
        return TableInfo(
            name=self.name,
            schema=pa.ipc.read_schema(pa.py_buffer(base64.b64decode(self.arrow_schema))),
            partition_columns=self.partition_columns,
            time_column=self.time_column,
            dictionary_columns=self.dictionary_columns,
            expected_rows=self.expected_rows,
            description=self.description,
            column_descriptions=self.column_descriptions,
        )


class PartManifest(BaseModel):
    """What one part wrote: written last, so a manifest means the part's files are all there."""

    model_config = ConfigDict(frozen=True)

    version: Literal[1] = 1
    run_id: str
    parts: int
    part: int
    writer: str
    dataset: str
    seed: int
    options: WriterOptions
    tables: tuple[TableEntry, ...]
    files: tuple[FileInfo, ...]

    def to_json(self) -> bytes:
        return (json.dumps(self.model_dump(mode="json", by_alias=True), indent=1, sort_keys=True) + "\n").encode()


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
        "options": json.loads(json.dumps(dataclasses.asdict(writer.options))),
    }
    return f"parts-{identity_digest(identity)[:16]}"


def manifest_path(writer: TableWriter, run_id: str, part: int, parts: int) -> str:
    return writer.storage.join(MANIFEST_DIR, run_id, f"part-{part:05d}-of-{parts:05d}.json")


def generate_part(
    plan: Plan,
    writer: TableWriter,
    engine: Engine,
    *,
    scale: float,
    params: Mapping[str, Any] | None,
    parts: int | None,
    part: int | None,
    run_id: str | None,
    chunk_rows: int,
    progress: ProgressCallback | None,
    started: float,
) -> GenerateSummary:
    """Write part `part` of `parts` of `plan`: files staged under the run id, then this part's manifest.

    Raises:
        DatasetGeneratorError: `parts`/`part` missing or out of range, or an invalid run id.
        WriterError: the format cannot commit files written by other processes.
        GenerationFailed: a worker failed; this part's files were removed (other parts' are kept).
    """
    if parts is None or part is None:
        raise DatasetGeneratorError("parts and part go together (e.g. parts=4, part=1)")
    if parts < 1 or not 1 <= part <= parts:
        raise DatasetGeneratorError(f"part must be between 1 and parts ({parts}); got {part}")
    _require_external_commit(writer)
    run_id = run_id or derive_run_id(plan, writer, scale=scale, params=params, parts=parts)
    _check_run_id(run_id)
    handles = {table.name: writer.part_handle(table.info, run_id) for table in plan.tables}
    context = WorkerContext(writer=writer, runtime=plan.runtime, handles=handles, chunk_rows=chunk_rows)
    # On failure only this part's files are removed: writer.abort would clear the staging the other parts share.
    written = sorted(run_tasks(engine, context, plan.part(parts, part), progress), key=lambda info: info.path)
    manifest = PartManifest(
        run_id=run_id, parts=parts, part=part, writer=writer.name, dataset=plan.dataset, seed=plan.seed,
        options=writer.options, tables=tuple(TableEntry.of(table.info, handles[table.name].location) for table in plan.tables),
        files=tuple(written),
    )  # fmt: skip
    writer.storage.write_bytes(manifest_path(writer, run_id, part, parts), manifest.to_json())
    return GenerateSummary(
        dataset=plan.dataset,
        writer=writer.name,
        seed=plan.seed,
        tables=tuple(
            TableSummary.from_commit(CommitInfo.from_files(table.name, handles[table.name].location,
                                                           [info for info in written if info.table == table.name]))
            for table in plan.tables
        ),  # fmt: skip
        seconds=time.perf_counter() - started,
        workers=engine.worker_count(sum(task.rows for task in plan.part(parts, part))),
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
    """Check every part's manifest is there, then commit each table once; `discard` removes the run instead.

    Raises:
        DatasetGeneratorError: no pending run, several and no `run_id`, a part missing, an unreadable manifest.
        WriterError: a table cannot be committed (the staged parts are kept, to commit again once fixed).
    """
    started = time.perf_counter()
    _require_external_commit(writer)
    run_id, manifests = _load_run(writer, run_id, complete=not discard)
    first = manifests[0]
    files = [info for manifest in manifests for info in manifest.files]
    extra: dict[str, Any] = {"run_id": run_id, "parts": first.parts}
    if discard:
        _discard(writer, run_id, first.tables, files)
        return GenerateSummary(
            dataset=first.dataset, writer=writer.name, seed=first.seed, tables=(),
            seconds=time.perf_counter() - started, extra={**extra, "discarded": True},
        )  # fmt: skip
    if first.options != writer.options:
        # The parts' options decide names, codecs and mode; the committing writer must agree with them.
        writer = copy.copy(writer)
        writer.options = first.options
    handles: dict[str, TableHandle] = {}
    for entry in first.tables:
        try:
            handle = open_for_run(writer, entry.table_info(), run_id)
        except DatasetGeneratorError as exc:
            raise type(exc)(
                f"{exc} (the staged parts of run {run_id} are kept: commit again once fixed, or discard them)"
            ) from exc
        if handle.location.rstrip("/") != entry.location.rstrip("/"):
            raise WriterError(
                f"table {entry.name!r} opens at {handle.location} but the parts wrote it under {entry.location}; "
                f"the {writer.name} writer's part_handle must give the same location as open_table"
            )
        handles[entry.name] = handle
    commits = commit_tables(writer, handles, files)
    _remove_manifests(writer, run_id)
    return GenerateSummary(
        dataset=first.dataset,
        writer=writer.name,
        seed=first.seed,
        tables=tuple(TableSummary.from_commit(commit) for commit in commits),
        seconds=time.perf_counter() - started,
        extra={**extra, "committed": True},
    )


def open_for_run(writer: TableWriter, table: TableInfo, run_id: str) -> TableHandle:
    """`open_table` with the parts' run id: passed in where the writer takes it, else set on the handle."""
    if "run_id" in inspect.signature(writer.open_table).parameters:
        return writer.open_table(table, run_id=run_id)
    # Writers that only store the run id on the handle (names, commit metadata) are equally served.
    return dataclasses.replace(writer.open_table(table), run_id=run_id)


# ---------------------------------------------------------------------------------------------- helpers


def _require_external_commit(writer: TableWriter) -> None:
    if not writer.supports_external_commit:
        raise WriterError(
            f"the {writer.name} format cannot commit files written by other processes, so it cannot be "
            "generated in parts; run it in one go (the dask engine spreads one run over a cluster)"
        )


def _check_run_id(run_id: str) -> None:
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise DatasetGeneratorError(f"invalid run id {run_id!r}: use letters, digits, '-' and '_'")


def _load_run(writer: TableWriter, run_id: str | None, *, complete: bool = True) -> tuple[str, list[PartManifest]]:
    runs = pending_runs(writer)
    where = writer.storage.join(MANIFEST_DIR)
    if run_id is None:
        if not runs:
            raise DatasetGeneratorError(f"no parts run to commit: no manifests under {where}")
        if len(runs) > 1:
            raise DatasetGeneratorError(
                f"several parts runs are pending under {where} ({', '.join(sorted(runs))}); choose one by its run id"
            )
        run_id = next(iter(runs))
    if run_id not in runs:
        raise DatasetGeneratorError(f"no manifests of parts run {run_id!r} under {where}")
    manifests = []
    for path in sorted(runs[run_id]):
        try:
            manifest = PartManifest.model_validate_json(writer.storage.read_bytes(path))
        except ValidationError as exc:
            first_error = exc.errors()[0]
            location = ".".join(map(str, first_error["loc"]))
            raise DatasetGeneratorError(
                f"manifest {path} is not a version-{MANIFEST_VERSION} manifest: {location}: {first_error['msg']}"
            ) from None
        if manifest.run_id != run_id:
            raise DatasetGeneratorError(f"manifest {path} belongs to run {manifest.run_id}, not {run_id}")
        manifests.append(manifest)
    first = manifests[0]
    if first.writer != writer.name:
        raise DatasetGeneratorError(f"parts run {run_id} was written with the {first.writer} format, not {writer.name}")
    counts = {manifest.parts for manifest in manifests}
    if len(counts) > 1:
        raise DatasetGeneratorError(f"parts run {run_id} mixes manifests of {sorted(counts)} parts")
    parts = first.parts
    present = {manifest.part for manifest in manifests}
    missing = [number for number in range(1, parts + 1) if number not in present]
    if missing and complete:
        raise DatasetGeneratorError(
            f"parts run {run_id} is incomplete: missing part{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(str, missing))} of {parts} (generate them, then commit again)"
        )
    return run_id, sorted(manifests, key=lambda manifest: manifest.part)


def _discard(writer: TableWriter, run_id: str, tables: tuple[TableEntry, ...], files: list[FileInfo]) -> None:
    # The writer knows where its parts staged (and marked) their files: abort with a handle like the parts' (as
    # the manifest recorded it, without part_handle's checks) removes them and nothing else.
    for entry in tables:
        handle = TableHandle(table=entry.table_info(), run_id=run_id, location=entry.location, mode=writer.options.mode)
        writer.abort(handle, [file for file in files if file.table == entry.name])
    _remove_manifests(writer, run_id)


def _remove_manifests(writer: TableWriter, run_id: str) -> None:
    storage = writer.storage
    storage.remove_tree(storage.join(MANIFEST_DIR, run_id))
    if not storage.list_files(storage.join(MANIFEST_DIR)):
        storage.remove_tree(storage.join(MANIFEST_DIR))
