"""Vocabularies built once from Faker, then sampled with numpy indices.

Faker is never called per row: a pool of `size` draws is built (draws repeat in proportion to Faker's
own frequency weights, so sampling the pool uniformly keeps them), then rows index into it. Building a
pool costs about 0.1 ms a value, so pools are kept on disk (per Faker release) and handed to workers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyarrow as pa

from ..errors import SpecError

DEFAULT_LOCALE = "en_US"
_POOL_SEED = 20240101
PoolKey = tuple[str, str, int]
_pools: dict[PoolKey, pa.StringArray] = {}


def _cache_dir() -> Path | None:
    configured = os.environ.get("DATASET_GENERATOR_CACHE")
    base = Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dataset-generator"
    try:
        import faker

        directory = base / f"faker-{faker.VERSION}"
        directory.mkdir(parents=True, exist_ok=True)
        return directory
    except OSError:
        return None  # read-only home: build pools in memory every time


def faker_pool(provider: str, locale: str, size: int) -> pa.StringArray:
    key = (provider, locale, size)
    pool = _pools.get(key)
    if pool is None:
        pool = _load_or_build(provider, locale, size)
        _pools[key] = pool
    return pool


def _load_or_build(provider: str, locale: str, size: int) -> pa.StringArray:
    directory = _cache_dir()
    path = directory / f"{locale}-{provider}-{size}.txt" if directory else None
    if path is not None and path.is_file():
        values = path.read_text(encoding="utf-8").split("\n")
        if len(values) == size:
            return pa.array(values, type=pa.string())
    values = _build(provider, locale, size)
    if path is not None:
        try:
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False) as handle:
                handle.write("\n".join(values))
            os.replace(handle.name, path)
        except OSError:
            pass
    return pa.array(values, type=pa.string())


def _build(provider: str, locale: str, size: int) -> list[str]:
    from faker import Faker

    try:
        fake = Faker(locale)
    except AttributeError:
        raise SpecError(f"unknown Faker locale {locale!r}") from None
    # A fixed seed: the pool, and so the data, is the same on every machine with the same Faker release.
    fake.seed_instance(_POOL_SEED)
    method = getattr(fake, provider, None)
    if method is None or not callable(method) or provider.startswith("_"):
        raise SpecError(f"unknown Faker provider {provider!r} for locale {locale}")
    try:
        return [" ".join(str(method()).split()) for _ in range(size)]
    except TypeError:
        raise SpecError(f"Faker provider {provider!r} needs arguments; use one that takes none") from None


def loaded_pools() -> dict[PoolKey, pa.StringArray]:
    """The pools this process has built, to hand to worker processes."""
    return dict(_pools)


def install_pools(pools: dict[PoolKey, pa.StringArray]) -> None:
    _pools.update(pools)
