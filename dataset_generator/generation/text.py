"""Strings: uuids, Faker vocabularies sampled by index, and templates joined in Arrow."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schemas.models import FakerColumn, TemplateColumn, UuidColumn
from ..schemas.validate import template_fields
from . import random as rnd
from .convert import Values, to_strings
from .vocab import faker_pool

if TYPE_CHECKING:
    from .runtime import RowSet

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# _HEX_PAIRS[b] holds the two ASCII hex digits of byte b, in memory order.
_HEX_PAIRS = np.stack([_HEX[np.arange(256) >> 4], _HEX[np.arange(256) & 15]], axis=1).copy().view(np.uint16).reshape(256)
_DASHES_AFTER = (8, 12, 16, 20)  # hex digit positions after which a uuid has a dash


def uuid(column: UuidColumn, rows: RowSet, key: int) -> Values:
    """RFC 4122 version-4 uuids, built as one fixed-width byte buffer and wrapped as Arrow strings."""
    count = len(rows)
    words = np.empty((count, 2), dtype=">u8")  # big-endian: bytes come out in uuid order
    words[:, 0] = (rnd.random_bits(rnd.substream(key, 0), rows.index) & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
    words[:, 1] = (rnd.random_bits(rnd.substream(key, 1), rows.index) & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(
        0x8000000000000000
    )
    # One lookup per byte: each byte becomes its two hex digits at once.
    digits = _HEX_PAIRS[words.view(np.uint8).reshape(count, 16)].view(np.uint8).reshape(count, 32)
    text = np.full((count, 36), ord("-"), dtype=np.uint8)
    source = target = 0
    for stop in (*_DASHES_AFTER, 32):
        width = stop - source
        text[:, target : target + width] = digits[:, source:stop]
        source, target = stop, target + width + 1
    offsets = np.arange(0, 36 * (count + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text.reshape(-1)))


def faker(column: FakerColumn, rows: RowSet, key: int) -> Values:
    pool = faker_pool(column.provider, rows.runtime.faker_locale(column), column.pool_size)
    picks = np.floor(rnd.uniform(key, rows.index) * len(pool)).astype(np.int64)
    return pool.take(pa.array(picks))


def template(column: TemplateColumn, rows: RowSet, key: int) -> Values:
    fields = template_fields(column.template)
    literals = _split_literals(column.template)
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
    columns = [pa.scalar(part, pa.string()) if isinstance(part, str) else part for part in parts]
    return pc.binary_join_element_wise(*columns, "")


def _split_literals(template: str) -> list[str]:
    import re

    return re.split(r"\{[A-Za-z_][A-Za-z0-9_]*(?::0?\d+d)?\}", template)


def _transform(text: pa.Array, transform: str) -> pa.Array:
    if transform == "none":
        return text
    lowered = pc.utf8_lower(text)
    if transform == "slug":
        return pc.replace_substring_regex(lowered, pattern=r"[^a-z0-9]+", replacement="")
    return lowered
