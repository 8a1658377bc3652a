"""What CSV and JSON lines share: text codecs, ISO timestamps, and a file writer over a text encoder.

Compression for text formats: `gzip` and `zstd` (with their levels) and `none`. `snappy`, the default of
`WriterOptions`, is a Parquet page codec that no CSV/JSON reader understands as a file codec, so here it
means "no compression" (the default for text output). `brotli` and `lz4` are refused with a one-line error:
few text readers accept them, so silently picking another codec would surprise the user.
"""

from __future__ import annotations

import gzip
import io
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar

import polars as pl
import pyarrow as pa

from ..contracts import TableInfo
from ..errors import WriterError
from ..options import WriterOptions
from ..storage import S3Config
from .encoding import Encoder, rebatch
from .file_table import FileTableWriter

# WriterOptions codec -> text file codec (None = uncompressed).
TEXT_CODECS: dict[str, str | None] = {"none": None, "snappy": None, "gzip": "gzip", "zstd": "zstd"}
TEXT_EXTENSIONS: dict[str | None, str] = {None: "", "gzip": ".gz", "zstd": ".zst"}
_DEFAULT_GZIP_LEVEL = 6
_SUBSECOND_FORMATS: dict[str, str] = {"s": "", "ms": "%.3f", "us": "%.6f", "ns": "%.9f"}

Renderer = Callable[[pl.DataFrame, bool], bytes]
"""(rows, whether to write a header) -> the text of those rows."""


def text_codec(options: WriterOptions, format_name: str) -> str | None:
    """The file codec of a text format for `options.compression` (None: uncompressed).

    Raises:
        WriterError: a codec text readers do not take (brotli, lz4).
    """
    try:
        return TEXT_CODECS[options.compression]
    except KeyError:
        raise WriterError(
            f"compression {options.compression!r} is not supported for {format_name}; "
            "use compression gzip, zstd or none"
        ) from None


def iso_timestamps(frame: pl.DataFrame) -> pl.DataFrame:
    """Render datetime columns as ISO-8601 strings ('2024-01-01T08:30:00.000000', '+00:00' when zoned) and
    binary values as base64 (text holds no raw bytes).

    Polars' own JSON output uses a space separator and variable precision; a fixed format keeps the text
    output identical across writers and parseable by every reader.
    """
    conversions = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            fmt = "%Y-%m-%dT%H:%M:%S" + _SUBSECOND_FORMATS.get(dtype.time_unit or "us", "%.6f")
            if dtype.time_zone:
                fmt += "%:z"
            conversions.append(pl.col(name).dt.to_string(fmt))
        elif dtype == pl.Binary:  # text has no bytes: base64, which DuckDB's from_base64 reads back
            conversions.append(pl.col(name).bin.encode("base64"))
    return frame.with_columns(conversions) if conversions else frame


class _ZstdFrames(io.RawIOBase):
    """A write-only stream that compresses each `write` as one zstd frame.

    pyarrow's streaming compressor takes no level, so each row group goes through `pyarrow.Codec` with the
    requested level; concatenated zstd frames are a valid zstd file for every reader (zstd, DuckDB, Polars).
    """

    def __init__(self, sink: BinaryIO, level: int | None) -> None:
        super().__init__()
        self._sink = sink
        self._codec = pa.Codec("zstd", compression_level=level)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        if len(data):
            self._sink.write(self._codec.compress(data, asbytes=True))
        return len(data)


@dataclass(frozen=True)
class TextEncoder:
    """Row groups rendered by Polars (vectorised: no Python loop over rows), compressed and streamed out."""

    options: WriterOptions
    codec: str | None
    render: Renderer

    @contextmanager
    def _compressed(self, sink: BinaryIO) -> Iterator[BinaryIO]:
        if self.codec is None:
            yield sink
        elif self.codec == "gzip":
            level = self.options.compression_level or _DEFAULT_GZIP_LEVEL
            # mtime=0: the same rows give the same bytes, run after run.
            with gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=level, mtime=0) as stream:
                yield stream  # type: ignore[misc]
        else:
            yield _ZstdFrames(sink, self.options.compression_level)  # type: ignore[misc]

    def encode(self, sink: BinaryIO, table: TableInfo, batches: Iterable[pa.RecordBatch]) -> tuple[int, dict[str, Any]]:
        """Write `batches` to `sink` as one text file (a header first where the format has one).

        Returns:
            (rows written, {}).
        """
        rows = 0
        with self._compressed(sink) as stream:
            first = True
            for group in rebatch(batches, self.options.effective_row_group_rows):
                stream.write(self.render(iso_timestamps(_frame(group)), first))
                rows += group.num_rows
                first = False
            if first:
                # An empty file still says what its columns are (CSV header; nothing for JSON lines).
                stream.write(self.render(iso_timestamps(_frame(table.schema.empty_table())), True))
        return rows, {}


def _durations_as_counts(data_type: pa.DataType) -> pa.DataType:
    if pa.types.is_duration(data_type):
        return pa.int64()
    if pa.types.is_list(data_type):
        return pa.list_(_durations_as_counts(data_type.value_type))
    if pa.types.is_struct(data_type):
        return pa.struct([field.with_type(_durations_as_counts(field.type)) for field in data_type])
    return data_type


def _frame(table: pa.Table) -> pl.DataFrame:
    # A duration is written as its count of the column's unit (as DuckDB reads a Parquet duration: BIGINT),
    # inside lists and structs too.
    schema = pa.schema([field.with_type(_durations_as_counts(field.type)) for field in table.schema])
    if schema != table.schema:
        table = table.cast(schema)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)  # a Table always gives a DataFrame
    return frame


class TextFileWriter(FileTableWriter):
    """Shared by CSV and JSON lines: the `_SUCCESS` file table over a `TextEncoder` with the format's renderer."""

    format_label: ClassVar[str]

    def __init__(
        self, output_uri: str, s3: S3Config | None = None, options: WriterOptions | None = None, **target: Any
    ) -> None:
        super().__init__(output_uri, s3=s3, options=options, **target)
        # Checked here so a bad codec fails before any data is generated.
        self.codec = text_codec(self.options, self.format_label)

    def _file_suffix(self) -> str:
        return self.extension + TEXT_EXTENSIONS[text_codec(self.options, self.format_label)]

    def _format_suffixes(self) -> tuple[str, ...]:
        return tuple(self.extension + ending for ending in TEXT_EXTENSIONS.values())

    def _make_encoder(self) -> Encoder:
        return TextEncoder(self.options, text_codec(self.options, self.format_label), self._render)

    @abstractmethod
    def _render(self, frame: pl.DataFrame, header: bool) -> bytes:
        """The text of `frame`'s rows, with the column header first when `header` (formats that have one)."""
