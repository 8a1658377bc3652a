"""`gen: country` and `gen: person`: people whose names, address, phone and email follow their country.

Every draw is a counter-based uniform of the row (generation/random.py) mapped into the pool of the row's
country (generation/people_data.py), one vectorized step per country present in the batch. The draws of a
person are keyed by its entity, not by the column, so first_name, last_name and email columns of one row
describe the same person.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

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
# The pool a field draws from for one country.
_PoolOf = Callable[[data.Country], data.Pool]
_HOUSE_NUMBERS = 2_000


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
        return entity.per_country(lambda c: data.postcodes(c.locale), "postcode")
    return entity.per_country_constant(lambda c: c.locale)


class _Entity:
    """The person of each row: country indices and keyed uniforms, shared by the entity's columns."""

    def __init__(self, column: PersonColumn, rows: Rows) -> None:
        self.rows = rows
        # A new version of a changing field (a move, a new email) draws again; the person keeps the name.
        self.name_base = rows.runtime.key(rows.table, f"person:{column.entity}:{column.country}")
        self.base = rows.versioned(self.name_base)
        memo_key = f"person-country:{column.country}"
        cached = rows.memo.get(memo_key)
        if cached is None:
            cached = _country_groups(rows.get(column.country), column.country)
            rows.memo[memo_key] = cached
        self.codes: list[str] = cached[0]
        self.groups: list[np.ndarray] = cached[1]

    def uniform(self, stream: str) -> np.ndarray:
        return rnd.uniform(rnd.stream_key(self.base, stream), self.rows.index)

    def per_country(self, pool_of: _PoolOf, stream: str) -> pa.Array:
        """A draw from `pool_of(country)` for each row, by the row's uniform of `stream`."""
        u = self.uniform(stream)
        pools = [pool_of(data.countries()[code]) for code in self.codes]
        picks = [pool.pick(u[positions]) for pool, positions in zip(pools, self.groups, strict=True)]
        return self.gather([pool.values for pool in pools], picks)

    def per_country_constant(self, text_of: Callable[[data.Country], str]) -> pa.Array:
        """One text per country (its locale), dictionary-encoded over the countries present."""
        which = np.empty(len(self.rows), dtype=np.int32)
        for position, rows in enumerate(self.groups):
            which[rows] = position
        return pa.DictionaryArray.from_arrays(pa.array(which), pa.array([text_of(data.countries()[code]) for code in self.codes], type=pa.string()))

    def gather(self, pools: list[pa.Array], picks: list[np.ndarray]) -> pa.Array:
        """pools[i][picks[i]] at the rows of the i-th country: one take from the pools laid end to end."""
        if len(pools) == 1:
            return pools[0].take(pa.array(picks[0]))
        where = np.empty(len(self.rows), dtype=np.int64)
        offset = 0
        for pool, chosen, positions in zip(pools, picks, self.groups, strict=True):
            where[positions] = chosen + offset
            offset += len(pool)
        return _concatenated(tuple(pools)).take(pa.array(where))

    def _name_indices(self, part: str) -> list[np.ndarray]:
        memo_key = f"person-names:{self.name_base}:{part}"
        cached = self.rows.memo.get(memo_key)
        if cached is None:
            u = rnd.uniform(rnd.stream_key(self.name_base, part), self.rows.index)
            cached = [data.names(data.countries()[code].locale, part).pool.pick(u[positions]) for code, positions in zip(self.codes, self.groups, strict=True)]
            self.rows.memo[memo_key] = cached
        return list(cached)

    def names(self, part: str, ascii_form: bool) -> pa.Array:
        pools = [data.names(data.countries()[code].locale, part) for code in self.codes]
        return self.gather([pool.ascii if ascii_form else pool.pool.values for pool in pools], self._name_indices(part))

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
        domain = self.per_country(lambda c: data.domains(c.code), "email-domain")
        number_text = pc.cast(pa.array(number), pa.string())
        return pc.binary_join_element_wise(local_first, local_sep, local_second, number_text, pa.scalar("@", pa.string()), domain, "")

    def phone(self) -> pa.Array:
        endings = np.floor(self.uniform("phone-ending") * 10_000).astype(np.int64)
        tails = np.empty(len(self.rows), dtype=np.int64)
        u = self.uniform("phone-prefix")
        pools, picks = [], []
        for code, positions in zip(self.codes, self.groups, strict=True):
            phones = data.phones(code)
            chosen = phones.pool.pick(u[positions])
            pools.append(phones.pool.values)
            picks.append(chosen)
            tails[positions] = phones.tails[chosen] * 10_000 + endings[positions]
        heads = self.gather(pools, picks)
        return pc.binary_join_element_wise(heads, data.tail_texts().take(pa.array(tails)), "")

    def city(self, state: bool) -> pa.Array:
        memo_key = f"person-city:{self.base}"
        cached = self.rows.memo.get(memo_key)
        if cached is None:
            u = self.uniform("city")
            cached = [data.cities(code).pool.pick(u[positions]) for code, positions in zip(self.codes, self.groups, strict=True)]
            self.rows.memo[memo_key] = cached
        pools = [data.cities(code).states if state else data.cities(code).pool.values for code in self.codes]
        return self.gather(pools, cached)

    def street(self) -> pa.Array:
        """`<house> <street>` or `<street><separator><house><suffix>` by the country's order, as one join of
        (street side before, house, street side after) where the pools carry the separators."""
        # House numbers: small ones are common (a power law over 1..2000); Japanese addresses: chome-ban-go.
        number = rnd.zipf_rank(rnd.stream_key(self.base, "house"), self.rows.index, _HOUSE_NUMBERS, 0.9)
        u = self.uniform("street")
        before: list[pa.Array] = []
        after: list[pa.Array] = []
        before_picks: list[np.ndarray] = []
        after_picks: list[np.ndarray] = []
        house_index = number.copy()
        house_texts = [_number_texts()]
        for code, positions in zip(self.codes, self.groups, strict=True):
            info = data.countries()[code]
            picks = data.streets(info.locale).pick(u[positions])
            zeros = np.zeros(len(positions), dtype=np.int64)
            if info.number_first:
                before.append(_constant("").values)
                after.append(data.street_sides(info.locale, " ", "").values)
                before_picks.append(zeros)
                after_picks.append(picks)
            else:
                before.append(data.street_sides(info.locale, "", info.street_separator).values)
                after.append(_constant(info.house_suffix).values)
                before_picks.append(picks)
                after_picks.append(zeros)
            if info.locale == "ja_JP":
                index = self.rows.index[positions]
                chome = np.floor(rnd.uniform(rnd.stream_key(self.base, "chome"), index) * 9).astype(np.int64)
                go = np.floor(rnd.uniform(rnd.stream_key(self.base, "go"), index) * 30).astype(np.int64)
                texts = _number_texts()
                block = pc.binary_join_element_wise(
                    texts.take(pa.array(chome)), texts.take(pa.array(number[positions] % 40)), texts.take(pa.array(go)), "-"
                )
                house_index[positions] = sum(len(t) for t in house_texts) + np.arange(len(positions))
                house_texts.append(block)
        house = (house_texts[0] if len(house_texts) == 1 else pa.concat_arrays(house_texts)).take(pa.array(house_index))
        return pc.binary_join_element_wise(self.gather(before, before_picks), house, self.gather(after, after_picks), "")


_PERMUTE_MULTIPLIERS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


def _permutation(index: np.ndarray, n: int, key: int) -> np.ndarray:
    """A keyed pseudo-random bijection of [0, n), cycle-walked: on the smallest power of two holding n, rounds of
    (add key, multiply by an odd constant, xor-shift) are each a bijection (a hash finalizer truncated to the
    bits); values landing at n or beyond are mapped again. Unlike a plain multiplication, nearby rows get
    unrelated numbers."""
    bits = max(2, int(n - 1).bit_length())
    mask = np.uint64((1 << bits) - 1)
    shift = np.uint64(max(1, bits // 2))
    offsets = [np.uint64(rnd.substream(key, round_) & ((1 << bits) - 1)) for round_ in range(len(_PERMUTE_MULTIPLIERS))]

    def scramble(values: np.ndarray) -> np.ndarray:
        for multiplier, offset in zip(_PERMUTE_MULTIPLIERS, offsets, strict=True):
            values = ((values + offset) * multiplier) & mask
            values ^= values >> shift
        return values

    values = scramble(index.astype(np.uint64))
    outside = np.flatnonzero(values >= np.uint64(n))
    while len(outside):
        values[outside] = scramble(values[outside])
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


_CONCATENATED: dict[tuple[int, ...], tuple[tuple[pa.Array, ...], pa.Array]] = {}


def _concatenated(pools: tuple[pa.Array, ...]) -> pa.Array:
    """Pools laid end to end, kept per process by the pools' identities (pools are cached, so the same ones
    come back batch after batch; the entry holds the pools, so an id is never reused while it is a key)."""
    key = tuple(id(pool) for pool in pools)
    found = _CONCATENATED.get(key)
    if found is None:
        found = (pools, pa.concat_arrays(list(pools)))
        _CONCATENATED[key] = found
    return found[1]


@cache
def _constant(text: str) -> data.Pool:
    return data.Pool(pa.array([text], type=pa.string()), None, None)


@cache
def _number_texts() -> pa.Array:
    """"1", "2", ... "2000": house numbers (and chome, ban, go) by index."""
    return pa.array([str(number) for number in range(1, _HOUSE_NUMBERS + 1)], type=pa.string())


def _by_style(style: pa.Array, choices: list[pa.Array | pa.Scalar]) -> pa.Array:
    """choices[style[i]] for each row (the choices are arrays aligned with the rows, or scalars)."""
    return pc.choose(style, *choices)


