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
_DASHES_AFTER = (8, 12, 16, 20)  # hex digit positions after which a uuid has a dash


def uuid(column: UuidColumn, rows: RowSet, key: int) -> Values:
    """RFC 4122 version-4 uuids, built as one fixed-width byte buffer and wrapped as Arrow strings."""
    high = rnd.random_bits(rnd.substream(key, 0), rows.index)
    low = rnd.random_bits(rnd.substream(key, 1), rows.index)
    high = (high & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
    low = (low & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    raw = np.stack([high.astype(">u8"), low.astype(">u8")], axis=1).view(np.uint8).reshape(-1, 16)
    digits = np.empty((len(raw), 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 15]
    text = np.full((len(raw), 36), ord("-"), dtype=np.uint8)
    source = 0
    target = 0
    for stop in (*_DASHES_AFTER, 32):
        width = stop - source
        text[:, target : target + width] = digits[:, source:stop]
        source, target = stop, target + width + 1
    offsets = np.arange(0, 36 * (len(raw) + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(len(raw), pa.py_buffer(offsets), pa.py_buffer(text.reshape(-1)))


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
