"""Per-country pools of `gen: person`, built once per process from shipped and Faker data.

- countries, cities (GeoNames, population-weighted) and phone prefixes (libphonenumber): CSV files in
  schemas/reference/ (their README names sources and versions);
- first and last names: the class attributes of Faker's person provider of the country's locale (with
  Faker's own frequency weights where it has them), their ASCII form by anyascii (Japanese: Faker's
  romanized pairs); streets and postcodes: Faker pools (generation/vocab.py, cached on disk).
Each pool is built on first use by a country; nothing here is per row.
"""

from __future__ import annotations

import csv
import importlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from anyascii import anyascii

from ..schemas.people import REFERENCE_PACKAGE
from .vocab import faker_pool

STREET_POOL = 2_000
POSTCODE_POOL = 2_000
MOBILE_SHARE = 0.7  # of phone numbers, where a country has both kinds
GLOBAL_DOMAINS = {"gmail.com": 40.0, "yahoo.com": 8.0, "outlook.com": 10.0, "hotmail.com": 8.0, "icloud.com": 9.0, "proton.me": 2.0}
LOCAL_DOMAIN_SHARE = 0.25  # of a country's emails, split over its local providers


_GUIDE_BUCKETS = 4096


@dataclass(frozen=True)
class Pool:
    """Values with cumulative weights (None: equal weights); `pick` maps uniforms in [0, 1) to indices."""

    values: pa.Array
    cumulative: np.ndarray | None
    guide: np.ndarray | None  # first index each of _GUIDE_BUCKETS buckets of [0, 1) can hold

    def pick(self, u: np.ndarray) -> np.ndarray:
        if self.cumulative is None or self.guide is None:
            return np.minimum((u * len(self.values)).astype(np.int64), len(self.values) - 1)
        # As a binary search of the cumulative weights, finished from the guide table in a few vector steps.
        picks = self.guide[(u * _GUIDE_BUCKETS).astype(np.int64)]
        while True:
            step = self.cumulative[picks] <= u
            if not step.any():
                return picks
            picks += step


def _pool(values: list[str] | pa.Array, weights: list[float] | None = None) -> Pool:
    array = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    if weights is None or len(set(weights)) <= 1:
        return Pool(array, None, None)
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    cumulative /= cumulative[-1]
    cumulative[-1] = np.inf  # u < 1 always lands inside, whatever the rounding
    guide = np.searchsorted(cumulative, np.arange(_GUIDE_BUCKETS) / _GUIDE_BUCKETS, side="right").astype(np.int64)
    return Pool(array, cumulative, guide)


@dataclass(frozen=True)
class Country:
    code: str
    locale: str
    calling_code: int
    number_first: bool
    street_separator: str
    house_suffix: str
    local_domains: tuple[str, ...]


def _reference_rows(name: str) -> list[dict[str, str]]:
    text = resources.files(REFERENCE_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _reference_table(name: str) -> dict[str, pa.Table]:
    """A reference CSV (rows grouped by country) as one Arrow table per country, every column a string."""
    raw = resources.files(REFERENCE_PACKAGE).joinpath(name).read_bytes()
    table = pa_csv.read_csv(pa.py_buffer(raw), convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(_columns(raw), pa.string())))
    codes = table.column("country").to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    stops = np.r_[starts[1:], len(codes)]
    return {str(codes[start]): table.slice(start, stop - start) for start, stop in zip(starts, stops, strict=True)}


def _columns(raw: bytes) -> list[str]:
    return raw[: raw.index(b"\n")].decode().split(",")


@cache
def countries() -> dict[str, Country]:
    return {
        row["country"]: Country(
            row["country"],
            row["locale"],
            int(row["calling_code"]),
            row["number_first"] == "true",
            row["street_separator"],
            row["house_suffix"],
            tuple(row["local_domains"].split()),
        )
        for row in _reference_rows("countries.csv")
    }


@cache
def _cities() -> dict[str, pa.Table]:
    return _reference_table("cities.csv")


@cache
def _phones() -> dict[str, pa.Table]:
    return _reference_table("phone_prefixes.csv")


@dataclass(frozen=True)
class Cities:
    pool: Pool  # city names, population-weighted
    states: pa.Array  # aligned with pool.values


@cache
def cities(code: str) -> Cities:
    rows = _cities()[code]
    population = rows.column("population").to_numpy(zero_copy_only=False).astype(np.float64)
    pool = _pool(rows.column("city").combine_chunks(), list(population))
    return Cities(pool, rows.column("state").combine_chunks())


@dataclass(frozen=True)
class Phones:
    pool: Pool  # heads: "+49 1512 684"
    tails: np.ndarray  # index into tail_patterns(), aligned with the pool


@cache
def tail_patterns() -> tuple[str, ...]:
    return tuple(sorted({tail for rows in _phones().values() for tail in rows.column("tail").to_pylist()}))


@cache
def tail_texts() -> pa.Array:
    """Every pattern filled with every 4-digit ending: pattern p, ending e at p * 10,000 + e."""
    digits = (ord("0") + np.arange(10_000)[:, None] // np.array([1000, 100, 10, 1]) % 10).astype(np.uint8)
    chunks = []
    for pattern in tail_patterns():
        text = np.frombuffer(pattern.encode(), dtype=np.uint8)
        cells = np.tile(text, (10_000, 1))
        cells[:, text == ord("d")] = digits
        offsets = np.arange(0, len(text) * 10_001, len(text), dtype=np.int32)
        chunks.append(pa.StringArray.from_buffers(10_000, pa.py_buffer(offsets), pa.py_buffer(cells.tobytes())))
    return pa.concat_arrays(chunks)


@cache
def phones(code: str) -> Phones:
    rows = _phones()[code]
    row_kinds = rows.column("kind").to_pylist()
    kinds = set(row_kinds)
    shares = {"mobile": MOBILE_SHARE, "fixed": 1.0 - MOBILE_SHARE} if len(kinds) == 2 else {kind: 1.0 for kind in kinds}
    counts = {kind: row_kinds.count(kind) for kind in kinds}
    pool = _pool(rows.column("head").combine_chunks(), [shares[kind] / counts[kind] for kind in row_kinds])
    index = {pattern: position for position, pattern in enumerate(tail_patterns())}
    return Phones(pool, np.array([index[tail] for tail in rows.column("tail").to_pylist()], dtype=np.int64))


@cache
def domains(code: str) -> Pool:
    local = countries()[code].local_domains
    weights = dict(GLOBAL_DOMAINS)
    global_total = sum(weights.values())
    if local:
        scale = (1.0 - LOCAL_DOMAIN_SHARE) / global_total
        weights = {domain: weight * scale for domain, weight in weights.items()}
        weights.update({domain: LOCAL_DOMAIN_SHARE / len(local) for domain in local})
    return _pool(list(weights), list(weights.values()))


@dataclass(frozen=True)
class Names:
    pool: Pool  # as written in the locale
    ascii: pa.Array  # lower-case [a-z0-9] form for emails, aligned with pool.values


def _slugs(names: pa.Array) -> pa.Array:
    """Lower-case [a-z0-9] forms of names: anyascii for the non-ASCII ones only, then one vectorized pass."""
    texts = names.to_pylist()
    ascii_form = pa.array([text if text.isascii() else anyascii(text) for text in texts], type=pa.string())
    slugs = pc.replace_substring_regex(pc.ascii_lower(ascii_form), pattern=r"[^a-z0-9]+", replacement="")
    return pc.if_else(pc.equal(pc.utf8_length(slugs), 0), pa.scalar("x"), slugs)


def _person_provider(locale: str) -> Any:
    """Faker's person provider class for a locale, with Faker's own fallback (the provider's default, en_US)."""
    for name in (locale, "en_US"):
        try:
            return importlib.import_module(f"faker.providers.person.{name}").Provider
        except ModuleNotFoundError:
            continue
    raise AssertionError("faker.providers.person.en_US is missing")


def _names(entries: Any) -> tuple[list[Any], list[float] | None]:
    if isinstance(entries, dict):
        return list(entries), [float(weight) for weight in entries.values()]
    return list(entries), None


@cache
def names(locale: str, part: str) -> Names:
    """First (`part="first"`) or last names of a locale."""
    provider = _person_provider(locale)
    if locale == "ja_JP":
        # (kanji, katakana, romaji): written in kanji, emails from the romanized reading.
        pairs, weights = _names(provider.first_name_pairs if part == "first" else provider.last_name_pairs)
        return Names(_pool([pair[0] for pair in pairs], weights), _slugs(pa.array([pair[2] for pair in pairs], type=pa.string())))
    if part == "first":
        entries = getattr(provider, "first_names", None)
        if not entries:
            male, female = _names(provider.first_names_male), _names(provider.first_names_female)
            entries = male[0] + female[0]
    else:
        entries = provider.last_names
    values, weights = _names(entries)
    # Runs of whitespace made single (Faker has "Alta  Gracia"), as generation/vocab.py does for its pools.
    texts = pc.replace_substring_regex(pa.array([str(value) for value in values], type=pa.string()), pattern=r"\s+", replacement=" ")
    pool = _pool(pc.utf8_trim_whitespace(texts).to_pylist(), weights)
    return Names(pool, _slugs(pool.values))


@cache
def streets(locale: str) -> Pool:
    # Faker's ja_JP street_name is "<surname> Street"; a town (machi) is what a Japanese address names.
    return _pool(faker_pool("town" if locale == "ja_JP" else "street_name", locale, STREET_POOL))


@cache
def street_sides(locale: str, before: str, after: str) -> Pool:
    """The locale's streets with text around them (" Main St" after a house number, "Via Roma, " before one)."""
    pool = streets(locale)
    return Pool(pc.binary_join_element_wise(pa.scalar(before), pool.values, pa.scalar(after), ""), pool.cumulative, pool.guide)


@cache
def postcodes(locale: str) -> Pool:
    return _pool(faker_pool("postcode", locale, POSTCODE_POOL))
