"""Exchange calendars: which days an exchange trades and how long each session lasts.

`nyse`: Monday-Friday, 09:30-16:00 exchange time (390 minutes), closed on the NYSE holidays of 2024-2026 and
closing at 13:00 (210 minutes) on its early-close days, as published by NYSE ("Holidays and Trading Hours",
nyse.com/markets/hours-calendars, and the press release "NYSE Group Announces 2025, 2026 and 2027 Holiday and
Early Closings Calendar", 2024-11-08; 2025-01-09, the national day of mourning for President Carter, was added
in December 2024). Outside
2024-2026 no holiday is known: every weekday trades. `crypto`: every day, 24 hours (1440 minutes).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..schemas.dataset import ChildCount

EPOCH = dt.date(1970, 1, 1)

NYSE_HOLIDAYS = [
    "2024-01-01",
    "2024-01-15",
    "2024-02-19",
    "2024-03-29",
    "2024-05-27",
    "2024-06-19",
    "2024-07-04",
    "2024-09-02",
    "2024-11-28",
    "2024-12-25",
    "2025-01-01",
    "2025-01-09",
    "2025-01-20",
    "2025-02-17",
    "2025-04-18",
    "2025-05-26",
    "2025-06-19",
    "2025-07-04",
    "2025-09-01",
    "2025-11-27",
    "2025-12-25",
    "2026-01-01",
    "2026-01-19",
    "2026-02-16",
    "2026-04-03",
    "2026-05-25",
    "2026-06-19",
    "2026-07-03",
    "2026-09-07",
    "2026-11-26",
    "2026-12-25",
]
NYSE_EARLY_CLOSES = [
    "2024-07-03",
    "2024-11-29",
    "2024-12-24",
    "2025-07-03",
    "2025-11-28",
    "2025-12-24",
    "2026-11-27",
    "2026-12-24",
]

FULL_SESSION_MINUTES = {"nyse": 390, "crypto": 1440}
EARLY_CLOSE_MINUTES = {"nyse": 210}
EXCHANGES = tuple(FULL_SESSION_MINUTES)


def _day_numbers(days: tuple[str, ...] | list[str]) -> np.ndarray:
    return np.array([(dt.date.fromisoformat(day) - EPOCH).days for day in days], dtype=np.int64)


_HOLIDAYS = {"nyse": _day_numbers(NYSE_HOLIDAYS), "crypto": np.zeros(0, dtype=np.int64)}
_EARLY = {"nyse": _day_numbers(NYSE_EARLY_CLOSES), "crypto": np.zeros(0, dtype=np.int64)}


def is_open(exchange: str, days: np.ndarray) -> np.ndarray:
    """Whether the exchange trades on each day (days since 1970-01-01)."""
    if exchange == "crypto":
        return np.ones(days.shape, dtype=bool)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    return (weekday < 5) & ~np.isin(days, _HOLIDAYS[exchange])


def session_minutes(exchange: str, days: np.ndarray) -> np.ndarray:
    """Minutes of trading on each day: the full session, the early-close session, or 0 when closed."""
    minutes = np.where(
        np.isin(days, _EARLY[exchange]), EARLY_CLOSE_MINUTES.get(exchange, 0), FULL_SESSION_MINUTES[exchange]
    )
    return np.where(is_open(exchange, days), minutes, 0).astype(np.int64)


def session_children(count: ChildCount, days: np.ndarray) -> np.ndarray:
    """Children of parents on `days` for a `session` count: trading minutes // every_minutes, clipped to min..max."""
    minutes = session_minutes(count.exchange or "nyse", days)
    return np.clip(minutes // int(count.every_minutes or 1), count.min, count.max)
