"""Fixtures that read outputs back with DuckDB and its PyPI extensions (never downloading one)."""
