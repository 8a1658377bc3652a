"""Strings: uuids, Faker vocabularies sampled by index, and templates joined in Arrow."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schemas.text import FakerColumn, TemplateColumn, UuidColumn, template_fields, template_literals
from . import random as rnd
from .convert import Values, to_strings
from .rows import Rows
from .vocab import faker_pool

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# _HEX_PAIRS[b] holds the two ASCII hex digits of byte b, in memory order.
_HEX_PAIRS = np.stack([_HEX[np.arange(256) >> 4], _HEX[np.arange(256) & 15]], axis=1).copy().view(np.uint16).reshape(256)
# The five digit groups of a uuid (8-4-4-4-12): where they sit in the 32 digits and in the dashed text.
_GROUP_WIDTHS = (8, 4, 4, 4, 12)
_DIGIT_GROUPS = np.dtype(
    {"names": ["g0", "g1", "g2", "g3", "g4"], "formats": [f"V{width}" for width in _GROUP_WIDTHS], "offsets": [0, 8, 12, 16, 20], "itemsize": 32}
)
_DASHED_GROUPS = np.dtype(
    {"names": ["g0", "g1", "g2", "g3", "g4"], "formats": [f"V{width}" for width in _GROUP_WIDTHS], "offsets": [0, 9, 14, 19, 24], "itemsize": 36}
)
_DASH_POSITIONS = (8, 13, 18, 23)


def uuid(column: UuidColumn, rows: Rows, key: int) -> Values:
    """RFC 4122 version-4 uuids, built as one fixed-width byte buffer and wrapped as Arrow strings (as their
    16 bytes for a binary column)."""
    count = len(rows)
    words = np.empty((count, 2), dtype=">u8")  # big-endian: bytes come out in uuid order
    words[:, 0] = (rnd.random_bits(rnd.substream(key, 0), rows.index) & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
    words[:, 1] = (rnd.random_bits(rnd.substream(key, 1), rows.index) & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(
        0x8000000000000000
    )
    if column.type == "binary":  # the 16 bytes themselves (as DuckDB's UUID and Parquet's UUID store them)
        offsets16 = np.arange(0, 16 * (count + 1), 16, dtype=np.int32)
        return pa.BinaryArray.from_buffers(pa.binary(), count, [None, pa.py_buffer(offsets16), pa.py_buffer(words.tobytes())])
    # One lookup per byte turns it into its two hex digits; then whole digit groups move to their
    # dashed positions as fixed-width fields (much faster than strided byte slices).
    digits = _HEX_PAIRS[words.view(np.uint8).reshape(count, 16)].view(_DIGIT_GROUPS).reshape(count)
    text = np.empty(count, dtype=_DASHED_GROUPS)
    text_bytes = text.view(np.uint8).reshape(count, 36)
    text_bytes[:, list(_DASH_POSITIONS)] = ord("-")
    for name in ("g0", "g1", "g2", "g3", "g4"):
        text[name] = digits[name]
    offsets = np.arange(0, 36 * (count + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text_bytes.reshape(-1)))


def faker(column: FakerColumn, rows: Rows, key: int) -> Values:
    pool = faker_pool(column.provider, rows.runtime.faker_locale(column), column.pool_size)
    picks = np.floor(rnd.uniform(key, rows.index) * len(pool)).astype(np.int32)
    # Kept dictionary-encoded: templates transform the pool, not every row (see _transform).
    return pa.DictionaryArray.from_arrays(pa.array(picks), pool)


def template(column: TemplateColumn, rows: Rows, key: int) -> Values:
    fields = template_fields(column.template)
    literals = template_literals(column.template)
    parts: list[pa.Array | str] = []
    for position, literal in enumerate(literals):
        if literal:
            parts.append(literal)
        if position < len(fields):
            name, zero_pad = fields[position]
            text = to_strings(rows.get(name), rows.spec.columns[name].type, zero_pad)
            parts.append(_transform(text, column.transform))
    arrays = [part for part in parts if not isinstance(part, str)]
    if not arrays:
        return pa.array([column.template] * len(rows), type=pa.string())
    columns = [
        pa.scalar(part, pa.string()) if isinstance(part, str) else part.dictionary_decode() if isinstance(part, pa.DictionaryArray) else part
        for part in parts
    ]
    return pc.binary_join_element_wise(*columns, "")


def _transform(text: pa.Array, transform: str) -> pa.Array:
    if isinstance(text, pa.DictionaryArray):
        # Transform each distinct value once, then expand: a pool of 10,000 names instead of every row.
        return _transform(text.dictionary, transform).take(text.indices)
    if transform == "none":
        return text
    lowered = pc.utf8_lower(text)
    if transform == "slug":
        return pc.replace_substring_regex(lowered, pattern=r"[^a-z0-9]+", replacement="")
    return lowered
