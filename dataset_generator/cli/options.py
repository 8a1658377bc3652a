"""Options shared by the commands: dataset arguments, parameters, writer targets (S3 and each format's own
flags, derived from the writers' target specs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


class ByteSize(click.ParamType):
    """A size in bytes: `268435456`, `256MB` (10^6), `256MiB` (2^20), `1.5GB`; case-insensitive."""

    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower().replace(" ", "")
        number = text.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = text[len(number) :]
        try:
            if unit not in _UNITS:
                raise ValueError(unit)
            return int(float(number) * _UNITS[unit])
        except ValueError:
            self.fail(f"{value!r} is not a size; write bytes or a number with KB, MB, GB, KiB, MiB or GiB", param, ctx)


def parse_params(values: Sequence[str], flag: str = "--param") -> dict[str, str]:
    params: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=flag)
        params[key.strip()] = value.strip()
    return params


def parse_tables(tables: str | None) -> list[str] | None:
    """`--tables a,b` as a list; None when not given; an empty list is refused."""
    if tables is None:
        return None
    names = [name.strip() for name in tables.split(",") if name.strip()]
    if not names:
        raise click.BadParameter("name at least one table (comma-separated)", param_hint="--tables")
    return names


def dataset_and_file(dataset: str | None, schema_file: str | None) -> tuple[str | None, str | None]:
    if dataset is None and schema_file is None:
        raise click.UsageError("name a DATASET (see list-datasets) or pass --schema-file PATH")
    if dataset is not None and dataset.endswith((".yaml", ".yml")) and schema_file is None:
        return None, dataset
    return dataset, schema_file


COMMON_DATASET_OPTIONS = [
    click.option("--schema-file", type=click.Path(dir_okay=False), help="A user's YAML dataset spec."),
    click.option("--scale", type=float, default=1.0, show_default=True, help="Multiplies the dataset's default sizes."),
    click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Set a dataset parameter (repeatable)."),
]


def with_options(options: list[Any]) -> Any:
    def decorate(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


TARGET_PREFIX = "target_"  # click parameter names of the writers' target flags: target_<field>


def writer_target_options() -> list[Any]:
    """A click option per flag of the registered writers' target specs, help prefixed by the formats taking it."""
    from ..writers.registry import target_flag_index

    kinds = {bool: {"is_flag": True}, dict: {"multiple": True, "metavar": "KEY=VALUE"}}
    return [
        click.option(flag.flag, TARGET_PREFIX + flag.field, help=f"{', '.join(formats)}: {flag.help}",
                     **kinds.get(flag.type, {"type": flag.type, "metavar": flag.metavar}))  # type: ignore[arg-type]
        for flag, formats in target_flag_index().values()
    ]  # fmt: skip


TARGET_OPTIONS = [
    click.option("--s3-uri", default=None, help="Bucket root, e.g. s3://my-bucket."),
    click.option("--s3-key", default=None, help="Access key id (default: AWS environment/profile)."),
    click.option("--s3-secret", default=None, help="Secret access key (default: AWS environment/profile)."),
    click.option("--s3-endpoint-url", default=None, help="S3-compatible endpoint, e.g. http://127.0.0.1:9000."),
    click.option("--s3-region", default=None, help="Region (default: environment, else us-east-1)."),
    click.option("--s3-profile", default=None, help="AWS profile for credentials (default: AWS_PROFILE)."),
    click.option("--s3-part-size", type=ByteSize(), default=None, help="Multipart part size, e.g. 16MiB (default 16 MiB)."),
    click.option("--s3-inflight-parts", type=int, default=None, help="Parts of one file uploaded at once (default 4)."),
] + writer_target_options()


def writer_from_flags(format_name: str, output: str, options: Any, target: dict[str, Any]) -> Any:
    """A writer from --format, --output and the target flags (S3, and the format's own from its target spec)."""
    from ..storage import S3Config, is_s3_uri
    from ..writers.registry import create_writer, get_target_spec, target_flag_index
    from ..writers.targets import target_flags

    s3_fields = {
        "uri": target.pop("s3_uri"),
        "key": target.pop("s3_key"),
        "secret": target.pop("s3_secret"),
        "endpoint_url": target.pop("s3_endpoint_url"),
        "region": target.pop("s3_region"),
        "profile": target.pop("s3_profile"),
    }
    tuning = {"multipart_chunk_bytes": target.pop("s3_part_size"), "max_inflight_parts": target.pop("s3_inflight_parts")}
    given = {name: value for name, value in s3_fields.items() if value is not None}
    given.update({name: value for name, value in tuning.items() if value is not None})
    s3 = None
    if given or is_s3_uri(output):
        s3 = S3Config(**given)
    flags = {flag.field: flag for flag, _formats in target_flag_index().values()}
    values = {name[len(TARGET_PREFIX) :]: value for name, value in target.items() if value not in (None, (), False)}
    taken = {flag.field for flag in target_flags(get_target_spec(format_name))} if values else set()
    for name, value in values.items():
        if name not in taken:
            raise click.UsageError(f"{flags[name].flag} does not apply to --format {format_name}")
        values[name] = parse_params(value, flags[name].flag) if flags[name].multiple else value
    return create_writer(format_name, output_uri=output, s3=s3, options=options, **values)
