"""`gen: country` and `gen: person`: people whose names, address, phone and email follow their country.

Every draw is a counter-based uniform of the row (generation/random.py) mapped into the pool of the row's
country (generation/people_data.py), one vectorized step per country present in the batch. The draws of a
person are keyed by its entity, not by the column, so first_name, last_name and email columns of one row
describe the same person.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SpecError
from ..schemas.people import CountryColumn, PersonColumn
from . import people_data as data
from . import random as rnd
from .convert import Values
from .rows import Rows

# Local parts of emails: (first, separator, second) with "f"/"l"/"i" = first name, last name, first initial.
_EMAIL_STYLES = (("f", ".", "l"), ("f", "", "l"), ("i", "", "l"), ("f", "_", "l"), ("l", ".", "f"))
_EMAIL_STYLE_WEIGHTS = np.array([40.0, 20.0, 15.0, 10.0, 15.0])
# Builds one country's values from the uniforms of its rows.
_Build = Callable[[data.Country, np.ndarray], pa.Array]


def country(column: CountryColumn, rows: Rows, key: int) -> Values:
    weights = column.countries()
    codes = pa.array(list(weights), type=pa.string())
    picks = rnd.weighted_index(key, rows.index, np.array(list(weights.values())))
    return pa.DictionaryArray.from_arrays(pa.array(picks.astype(np.int32)), codes)


def person(column: PersonColumn, rows: Rows, key: int) -> Values:
    entity = _Entity(column, rows)
    field = column.field
    if field in ("first_name", "last_name"):
        part = "first" if field == "first_name" else "last"
        return entity.names(part, ascii_form=False)
    if field == "email":
        return entity.email()
    if field == "phone":
        return entity.phone()
    if field in ("city", "state"):
        return entity.city(field == "state")
    if field == "street":
        return entity.street()
    if field == "postcode":
        return entity.per_country(lambda c, u: data.postcodes(c.locale).values.take(data.postcodes(c.locale).pick(u)), "postcode")
    return entity.per_country(lambda c, u: pa.array([c.locale] * len(u), type=pa.string()), "locale")


class _Entity:
    """The person of each row: country indices and keyed uniforms, shared by the entity's columns."""

    def __init__(self, column: PersonColumn, rows: Rows) -> None:
        self.rows = rows
        self.base = rows.runtime.key(rows.table, f"person:{column.entity}:{column.country}")
        memo_key = f"person-country:{column.country}"
        cached = rows.memo.get(memo_key)
        if cached is None:
            cached = _country_groups(rows.get(column.country), column.country)
            rows.memo[memo_key] = cached
        self.codes: list[str] = cached[0]
        self.groups: list[np.ndarray] = cached[1]

    def uniform(self, stream: str) -> np.ndarray:
        return rnd.uniform(rnd.stream_key(self.base, stream), self.rows.index)

    def per_country(self, build: _Build, stream: str) -> pa.Array:
        """`build(country, uniforms of its rows)` for each country present, put back in row order."""
        u = self.uniform(stream)
        pieces: list[pa.Array] = []
        order: list[np.ndarray] = []
        for code, positions in zip(self.codes, self.groups, strict=True):
            pieces.append(build(data.countries()[code], u[positions]))
            order.append(positions)
        return _in_row_order(pieces, order, len(self.rows))

    def _name_indices(self, part: str) -> list[np.ndarray]:
        memo_key = f"person-names:{self.base}:{part}"
        cached = self.rows.memo.get(memo_key)
        if cached is None:
            u = self.uniform(part)
            cached = [data.names(data.countries()[code].locale, part).pool.pick(u[positions]) for code, positions in zip(self.codes, self.groups, strict=True)]
            self.rows.memo[memo_key] = cached
        return list(cached)

    def names(self, part: str, ascii_form: bool) -> pa.Array:
        pieces = []
        for code, picks in zip(self.codes, self._name_indices(part), strict=True):
            pool = data.names(data.countries()[code].locale, part)
            pieces.append((pool.ascii if ascii_form else pool.pool.values).take(pa.array(picks)))
        return _in_row_order(pieces, self.groups, len(self.rows))

    def email(self) -> pa.Array:
        first, last = self.names("first", ascii_form=True), self.names("last", ascii_form=True)
        initial = pc.utf8_slice_codeunits(first, 0, 1)
        parts = {"f": first, "l": last, "i": initial}
        style = rnd.weighted_index(rnd.stream_key(self.base, "email-style"), self.rows.index, _EMAIL_STYLE_WEIGHTS)
        style_array = pa.array(style.astype(np.int8))
        local_first = _by_style(style_array, [parts[s[0]] for s in _EMAIL_STYLES])
        local_sep = _by_style(style_array, [pa.scalar(s[1], pa.string()) for s in _EMAIL_STYLES])
        local_second = _by_style(style_array, [parts[s[2]] for s in _EMAIL_STYLES])
        # A number unique to the row (a fixed bijection of the table's row range): emails never collide.
        total = self.rows.runtime.layouts[self.rows.table].rows
        number = _permutation(self.rows.index, max(total, 1), rnd.stream_key(self.base, "email-number")) + 1
        domain = self.per_country(lambda c, u: data.domains(c.code).values.take(data.domains(c.code).pick(u)), "email-domain")
        number_text = pc.cast(pa.array(number), pa.string())
        return pc.binary_join_element_wise(local_first, local_sep, local_second, number_text, pa.scalar("@", pa.string()), domain, "")

    def phone(self) -> pa.Array:
        endings = np.floor(self.uniform("phone-ending") * 10_000).astype(np.int64)
        tails = np.empty(len(self.rows), dtype=np.int64)
        u = self.uniform("phone-prefix")
        pieces = []
        for code, positions in zip(self.codes, self.groups, strict=True):
            phones = data.phones(code)
            picks = phones.pool.pick(u[positions])
            pieces.append(phones.pool.values.take(pa.array(picks)))
            tails[positions] = phones.tails[picks] * 10_000 + endings[positions]
        heads = _in_row_order(pieces, self.groups, len(self.rows))
        return pc.binary_join_element_wise(heads, data.tail_texts().take(pa.array(tails)), "")

    def city(self, state: bool) -> pa.Array:
        memo_key = f"person-city:{self.base}"
        cached = self.rows.memo.get(memo_key)
        if cached is None:
            u = self.uniform("city")
            cached = [data.cities(code).pool.pick(u[positions]) for code, positions in zip(self.codes, self.groups, strict=True)]
            self.rows.memo[memo_key] = cached
        pieces = []
        for code, picks in zip(self.codes, cached, strict=True):
            places = data.cities(code)
            pieces.append((places.states if state else places.pool.values).take(pa.array(picks)))
        return _in_row_order(pieces, self.groups, len(self.rows))

    def street(self) -> pa.Array:
        # House numbers: small ones are common (a power law over 1..2000); Japanese addresses: chome-ban-go.
        number = rnd.zipf_rank(rnd.stream_key(self.base, "house"), self.rows.index, 2_000, 0.9) + 1
        chome = np.floor(self.uniform("chome") * 9).astype(np.int64) + 1
        go = np.floor(self.uniform("go") * 30).astype(np.int64) + 1
        street = self.per_country(lambda c, u: data.streets(c.locale).values.take(data.streets(c.locale).pick(u)), "street")
        plain = pc.cast(pa.array(number), pa.string())
        japanese = pc.binary_join_element_wise(
            pc.cast(pa.array(chome), pa.string()), pc.cast(pa.array(np.minimum(number, 40)), pa.string()), pc.cast(pa.array(go), pa.string()), "-"
        )
        first = np.zeros(len(self.rows), dtype=bool)
        is_japanese = np.zeros(len(self.rows), dtype=bool)
        separators: list[pa.Array] = []
        suffixes: list[pa.Array] = []
        for code, positions in zip(self.codes, self.groups, strict=True):
            info = data.countries()[code]
            first[positions] = info.number_first
            is_japanese[positions] = info.locale == "ja_JP"
            separators.append(pa.array([info.street_separator] * len(positions), type=pa.string()))
            suffixes.append(pa.array([info.house_suffix] * len(positions), type=pa.string()))
        house = pc.if_else(pa.array(is_japanese), japanese, plain)
        separator = _in_row_order(separators, self.groups, len(self.rows))
        suffix = _in_row_order(suffixes, self.groups, len(self.rows))
        number_first = pc.binary_join_element_wise(house, pa.scalar(" ", pa.string()), street, "")
        street_first = pc.binary_join_element_wise(street, separator, house, suffix, "")
        return pc.if_else(pa.array(first), number_first, street_first)


def _permutation(index: np.ndarray, n: int, key: int) -> np.ndarray:
    """A keyed pseudo-random bijection of [0, n): a 4-round Feistel network on the smallest even number of bits
    holding n, cycle-walked back into range. Unlike a multiplicative one, nearby rows get unrelated numbers."""
    half = max(1, (int(n - 1).bit_length() + 1) // 2)
    mask = np.uint64((1 << half) - 1)
    shift = np.uint64(half)
    keys = [rnd.substream(key, round_) for round_ in range(4)]

    def feistel(values: np.ndarray) -> np.ndarray:
        left, right = values >> shift, values & mask
        for round_key in keys:
            left, right = right, left ^ (rnd.random_bits(round_key, right) & mask)
        return (left << shift) | right

    values = feistel(index.astype(np.uint64))
    outside = np.flatnonzero(values >= np.uint64(n))
    while len(outside):
        values[outside] = feistel(values[outside])
        outside = outside[values[outside] >= np.uint64(n)]
    return values.astype(np.int64)


def _country_groups(values: Values, column: str) -> tuple[list[str], list[np.ndarray]]:
    """The distinct country codes of a batch and the row positions of each, in a fixed (sorted) order."""
    if isinstance(values, pa.DictionaryArray):
        dictionary = values.dictionary.to_pylist()
        indices = values.indices.to_numpy(zero_copy_only=False)
    else:
        array = values if isinstance(values, pa.Array) else pa.array(np.asarray(values).astype(str))
        encoded = pc.dictionary_encode(array)
        dictionary = encoded.dictionary.to_pylist()
        indices = encoded.indices.to_numpy(zero_copy_only=False)
    known = data.countries()
    codes: list[str] = []
    groups: list[np.ndarray] = []
    for position in np.unique(indices):
        code = dictionary[int(position)]
        if code not in known:
            raise SpecError(f"column {column!r} holds {code!r}, not a supported country code ({', '.join(known)})")
        codes.append(code)
        groups.append(np.flatnonzero(indices == position))
    ordered = sorted(range(len(codes)), key=lambda i: codes[i])
    return [codes[i] for i in ordered], [groups[i] for i in ordered]


def _in_row_order(pieces: list[pa.Array], positions: list[np.ndarray], count: int) -> pa.Array:
    """Per-country arrays back in row order: piece i holds the rows at positions[i]."""
    if len(pieces) == 1:
        return pieces[0]
    combined = pa.concat_arrays(pieces)
    where = np.empty(count, dtype=np.int64)
    where[np.concatenate(positions)] = np.arange(count, dtype=np.int64)
    return combined.take(pa.array(where))


def _by_style(style: pa.Array, choices: list[pa.Array | pa.Scalar]) -> pa.Array:
    """choices[style[i]] for each row (the choices are arrays aligned with the rows, or scalars)."""
    return pc.choose(style, *choices)


