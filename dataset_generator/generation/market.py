"""The market family: per-ticker reference parameters (shipped table, hash of the ticker otherwise) and
bid/ask prices on a tick grid that keep the quote's mid inside its bar."""

from __future__ import annotations

import csv
import functools
import hashlib
import math
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schemas.base import INTEGER_TYPES
from ..schemas.market import REFERENCE_FIELDS, MarketReferenceColumn, QuotePriceColumn
from . import libm
from .convert import Values, to_numpy
from .rows import Rows

# Sectors an unknown ticker may fall in (stocks only: an unknown ticker is never made a crypto pair).
_SECTORS = (
    "Technology", "Communication", "ConsumerDiscretionary", "ConsumerStaples", "HealthCare", "Financials",
    "Energy", "Industrials", "Materials", "Utilities", "RealEstate",
)  # fmt: skip


@functools.cache
def reference_table() -> dict[str, tuple[str, float, float, float, float, float]]:
    """symbol -> (sector, price, annual_volatility, avg_daily_volume, tick_size, spread_bps)."""
    text = resources.files("dataset_generator.generation").joinpath("data/market_symbols.csv").read_text()
    table: dict[str, tuple[str, float, float, float, float, float]] = {}
    for row in csv.DictReader(text.splitlines()):
        table[row["symbol"].upper()] = (
            row["sector"],
            float(row["price"]),
            float(row["annual_volatility"]),
            float(row["avg_daily_volume"]),
            float(row["tick_size"]),
            float(row["spread_bps"]),
        )
    return table


def _hashed(symbol: str) -> tuple[str, float, float, float, float, float]:
    """Parameters of a ticker not in the table, from a hash of its text (the same on every run and machine)."""
    digest = hashlib.blake2b(symbol.encode(), digest_size=40, person=b"market-ref").digest()
    u = [int.from_bytes(digest[8 * i : 8 * i + 8], "little") / 2.0**64 for i in range(5)]
    price = round(math.exp(math.log(8.0) + u[0] * (math.log(400.0) - math.log(8.0))), 2)
    volatility = round(0.18 + 0.42 * u[1], 3)
    volume = float(round(math.exp(math.log(3e5) + u[2] * (math.log(3e7) - math.log(3e5))), -3))
    tick = 0.01
    spread = max(tick / price * 1e4, 50.0 / math.sqrt(volume * price / 1e6))
    return _SECTORS[int(u[3] * len(_SECTORS))], price, volatility, volume, tick, round(spread, 3)


def parameters(symbol: str) -> tuple[str, float, float, float, float, float]:
    """A ticker's reference parameters: the table's row (a bare crypto base such as BTC finds BTC-USD)."""
    table = reference_table()
    key = symbol.strip().upper()
    found = table.get(key) or table.get(f"{key}-USD")
    return found if found is not None else _hashed(key)


def market_reference(column: MarketReferenceColumn, rows: Rows, key: int) -> Values:
    symbols = rows.get(column.symbol)
    encoded = pc.dictionary_encode(
        symbols if isinstance(symbols, (pa.Array, pa.ChunkedArray)) else pa.array(symbols)
    )
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    field = REFERENCE_FIELDS.index(column.field)
    # One lookup per distinct ticker, then numpy indexing: never per row.
    values = [parameters(str(text))[field] for text in encoded.dictionary.to_pylist()]
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    if column.field == "sector":
        return pa.array(values, type=pa.string()).take(pa.array(indices))
    picked = np.asarray(values, dtype=np.float64)[indices]
    return np.rint(picked).astype(np.int64) if column.type in INTEGER_TYPES else picked


def quote_price(column: QuotePriceColumn, rows: Rows, key: int) -> Values:
    # The bid and the ask of one quote come from the same grid point: computed once per batch.
    cache: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = rows.memo.setdefault("quote_grid", {})
    arguments = (column.mid, column.low, column.high, column.tick, column.spread_ticks)
    if arguments not in cache:
        cache[arguments] = _quote_grid(column, rows)
    bid, ask = cache[arguments]
    return bid if column.side == "bid" else ask


def _quote_grid(column: QuotePriceColumn, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
    tick = to_numpy(rows.get(column.tick)).astype(np.float64)
    mid = to_numpy(rows.get(column.mid)).astype(np.float64)
    # Half-tick units: the bar's low and high are whole ticks (even units), a mid may sit between two ticks.
    low = np.rint(to_numpy(rows.get(column.low)).astype(np.float64) / tick * 2.0).astype(np.int64)
    high = np.maximum(
        np.rint(to_numpy(rows.get(column.high)).astype(np.float64) / tick * 2.0).astype(np.int64), low
    )
    spread = np.maximum(
        np.rint(to_numpy(rows.get(column.spread_ticks)).astype(np.float64)).astype(np.int64), 1
    )
    units = np.clip(np.rint(mid / tick * 2.0).astype(np.int64), low, high)
    # bid = (units - spread) / 2 ticks must be whole: move the mid one half tick inside the bar, or widen.
    odd = (units - spread) % 2 == 1
    up = odd & (units + 1 <= high)
    down = odd & ~up & (units - 1 >= low)
    units = units + up - down
    spread = spread + (odd & ~up & ~down)
    bid = np.maximum((units - spread) // 2, 1)
    digits = np.clip(np.ceil(-libm.log10(tick)).astype(np.int64) + 2, 2, 12)
    return _on_grid(bid * tick, digits), _on_grid((bid + spread) * tick, digits)


def _on_grid(values: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """Each price rounded to its tick's decimals (plus two): the nearest double to the exact multiple."""
    if len(digits) == 0 or digits.min() == digits.max():
        return np.round(values, int(digits[0]) if len(digits) else 2)
    out = np.empty(len(values))
    for places in np.unique(digits):
        here = digits == places
        out[here] = np.round(values[here], int(places))
    return out
