"""Where a table format keeps its catalog when the output is on S3 and no catalog was named.

An Iceberg SQL catalog (SQLite) and a DuckLake metadata file cannot live in a bucket, so an S3 output without
`--catalog-uri` / `--metadata-uri` gets a local file at a fixed place derived from the output URI:

    $DATASET_GENERATOR_CATALOG_DIR/<bucket>/<prefix>/<file>
    (default directory: $XDG_DATA_HOME/dataset-generator/catalogs, else ~/.local/share/dataset-generator/catalogs)

so running the same command again finds the same catalog (and its idempotence checks), and the run summary
names the file. A local output keeps its catalog inside the output directory instead (self-contained).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..storage.config import split_s3_uri

CATALOG_DIR_ENV = "DATASET_GENERATOR_CATALOG_DIR"


def catalog_home() -> Path:
    """The directory under which S3 outputs' default catalogs live (see the module docstring)."""
    explicit = os.environ.get(CATALOG_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data_home) / "dataset-generator" / "catalogs"


def default_catalog_file(output_uri: str, file_name: str) -> str:
    """The local catalog file of an S3 output: `<catalog home>/<bucket>/<prefix>/<file_name>`."""
    bucket, prefix = split_s3_uri(output_uri)
    parts = [part for part in prefix.split("/") if part not in ("", ".", "..")]  # stays under the home
    return str(catalog_home().joinpath(bucket, *parts, file_name))
