"""Writer configuration: what the user's docs call `WriterOptions` and `PartitionSpec`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import WriterError

Mode = Literal["error", "overwrite", "append"]
MODES: tuple[str, ...] = ("error", "overwrite", "append")
MIN_FILE_BYTES = 64 * 1024  # a smaller file target is dominated by the format's own overhead
TIME_PARTS: tuple[str, ...] = ("year", "month", "day")

# Codec name -> (pyarrow codec name, allowed level range or None when the codec takes no level).
CODECS: dict[str, tuple[str, tuple[int, int] | None]] = {
    "snappy": ("snappy", None),
    "gzip": ("gzip", (1, 9)),
    "zstd": ("zstd", (1, 22)),
    "brotli": ("brotli", (0, 11)),
    "lz4": ("lz4", None),
    "none": ("none", None),
}


@dataclass(frozen=True)
class PartitionSpec:
    """Hive-style time partitioning of a table by its time column.

    `columns` is a prefix of ("year", "month", "day"). An empty tuple means "do not partition".
    `source` names the timestamp column to partition by; None means the table's declared time column.
    """

    columns: tuple[str, ...] = TIME_PARTS
    source: str | None = None

    def __post_init__(self) -> None:
        columns = tuple(self.columns)
        object.__setattr__(self, "columns", columns)
        if columns != TIME_PARTS[: len(columns)]:
            raise WriterError(
                f"partition columns must be a prefix of year,month,day (got {','.join(columns) or 'none'})"
            )

    @classmethod
    def none(cls) -> PartitionSpec:
        return cls(columns=())

    @classmethod
    def parse(cls, text: str) -> PartitionSpec:
        """Parse the CLI form: 'year,month,day', 'year,month', 'year' or 'none'."""
        text = text.strip().lower()
        if text in ("none", ""):
            return cls.none()
        return cls(columns=tuple(part.strip() for part in text.split(",") if part.strip()))

    @property
    def enabled(self) -> bool:
        return bool(self.columns)


@dataclass(frozen=True)
class WriterOptions:
    """How files are laid out and encoded.

    `file_rows_target`: no data file holds more rows; only the last file of a table or partition holds fewer.
    `file_bytes_target`: aim each data file at this many bytes instead (rows per file derived per table from the
    encoded size of a fixed pilot sample of the table: the same on every machine with the same library versions).
    `row_group_rows`: rows per Parquet row group (default: min(file_rows_target, 131,072)).
    `partition`: None keeps the dataset's own partitioning; `PartitionSpec.none()` turns it off.
    `mode`: "error" refuses a non-empty target, "overwrite" replaces it, "append" adds files.
    """

    file_rows_target: int = 250_000
    compression: str = "snappy"
    compression_level: int | None = None
    row_group_rows: int | None = None
    partition: PartitionSpec | None = None
    mode: Mode = "error"
    file_bytes_target: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "compression", str(self.compression).lower())
        if self.file_rows_target < 1:
            raise WriterError(f"file_rows_target must be at least 1 (got {self.file_rows_target})")
        if self.file_bytes_target is not None and self.file_bytes_target < MIN_FILE_BYTES:
            raise WriterError(f"file_bytes_target must be at least {MIN_FILE_BYTES:,} bytes (got {self.file_bytes_target:,})")
        if self.row_group_rows is not None and self.row_group_rows < 1:
            raise WriterError(f"row_group_rows must be at least 1 (got {self.row_group_rows})")
        if self.compression not in CODECS:
            raise WriterError(
                f"unknown compression {self.compression!r}; choose one of {', '.join(CODECS)}"
            )
        level_range = CODECS[self.compression][1]
        if self.compression_level is not None:
            if level_range is None:
                raise WriterError(f"compression {self.compression!r} takes no compression level")
            low, high = level_range
            if not low <= self.compression_level <= high:
                raise WriterError(
                    f"compression level for {self.compression} must be in {low}..{high} (got {self.compression_level})"
                )
        if self.mode not in MODES:
            raise WriterError(f"unknown mode {self.mode!r}; choose one of {', '.join(MODES)}")

    @property
    def effective_row_group_rows(self) -> int:
        return self.row_group_rows or min(self.file_rows_target, 131_072)
