"""S3-compatible storage settings, as in the user's docs: `S3Config(uri, key, secret, endpoint_url)`.

Resolution order for every setting: the explicit field (CLI flag / API argument), then the standard AWS
sources that botocore reads (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE and
~/.aws/{credentials,config}, AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL).
The helpers at the bottom hand the *resolved* settings to the other engines (s3fs, deltalake/object_store,
pyiceberg, DuckDB), which do not all read the same sources.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import ParameterError, StorageError
from ..sql import sql_literal as _sql_literal

MIB = 1024 * 1024
# S3 rejects non-final multipart parts below 5 MiB (EntityTooSmall) and parts above 5 GiB.
MIN_PART_BYTES = 5 * MIB
MAX_PART_BYTES = 5 * 1024 * MIB
MAX_PARTS = 10_000
DEFAULT_REGION = "us-east-1"
S3_SCHEMES = ("s3://", "s3a://")
RETRY_MODES = ("standard", "adaptive")

_AWS_ENDPOINT = re.compile(
    r"(^|\.)s3[.-](?:dualstack\.)?(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com$"
)
_BUCKET_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,254}$")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix/` -> ("bucket", "some/prefix"). Rejects anything that is not one s3 URI."""
    scheme = next((s for s in S3_SCHEMES if uri.startswith(s)), None)
    if scheme is None:
        raise StorageError(f"not an s3:// URI: {uri!r}")
    rest = uri[len(scheme) :]
    bucket, _, key = rest.partition("/")
    key = key.strip("/")
    # A URI glued onto another one ("s3://b/s3://b/x") is the classic joining bug: refuse it loudly.
    if "://" in key or key.startswith("s3:") or "/s3:" in key:
        raise StorageError(f"malformed S3 URI {uri!r}: it contains a second scheme")
    if not _BUCKET_NAME.match(bucket):
        raise StorageError(f"malformed S3 URI {uri!r}: {bucket!r} is not a valid bucket name")
    return bucket, key


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def strip_userinfo(url: str) -> str:
    """`http://user:password@host:9000/x` -> `http://host:9000/x`: credentials never travel inside a URL."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def redact_url(url: str) -> str:
    """A URL fit for messages: any `user:password@` becomes `***@`."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


@dataclass(frozen=True)
class S3Config:
    """Credentials and endpoint for S3-compatible storage (AWS, MinIO, SeaweedFS, RustFS, Ceph, R2...).

    `uri` is the bucket root (`s3://bucket` or `s3://bucket/base`); output URIs must lie inside it and a
    relative output path is placed under it (see `resolve_output`). Unset fields fall back to the standard
    AWS environment variables and profiles. Secrets never appear in repr, logs or errors.

    Requests are retried by botocore alone (`retry_mode` "standard" or "adaptive", `max_attempts` attempts in
    all, with jittered exponential backoff; unset, botocore's AWS_RETRY_MODE / AWS_MAX_ATTEMPTS, else "standard"
    and 10); `max_inflight_parts` multipart parts of one file are uploaded
    concurrently, so one open file holds at most `(1 + max_inflight_parts) * multipart_chunk_bytes` bytes.
    """

    uri: str | None = None
    key: str | None = None
    secret: str | None = field(default=None, repr=False)
    endpoint_url: str | None = None
    region: str | None = None
    session_token: str | None = field(default=None, repr=False)
    multipart_chunk_bytes: int = 16 * MIB
    profile: str | None = None
    max_attempts: int | None = None
    retry_mode: str | None = None
    max_inflight_parts: int = 4

    def __post_init__(self) -> None:
        if not MIN_PART_BYTES <= self.multipart_chunk_bytes <= MAX_PART_BYTES:
            raise ParameterError(
                f"S3 multipart part size must be between 5 MiB and 5 GiB (got {self.multipart_chunk_bytes} bytes)"
            )
        if self.uri:
            split_s3_uri(self.uri)
        if self.endpoint_url and not urlsplit(self.endpoint_url).netloc:
            raise ParameterError(
                f"S3 endpoint URL must look like http(s)://host[:port] (got {redact_url(self.endpoint_url)!r})"
            )
        if self.endpoint_url and "@" in urlsplit(self.endpoint_url).netloc:
            raise ParameterError(
                f"S3 endpoint URL {redact_url(self.endpoint_url)!r} carries credentials: give the endpoint as "
                "http(s)://host[:port] and the key and secret separately"
            )
        if self.max_attempts is not None and not 1 <= self.max_attempts <= 50:
            raise ParameterError(f"S3 max_attempts must be between 1 and 50 (got {self.max_attempts})")
        if self.retry_mode is not None and self.retry_mode not in RETRY_MODES:
            raise ParameterError(f"S3 retry_mode must be one of {', '.join(RETRY_MODES)} (got {self.retry_mode!r})")
        if not 1 <= self.max_inflight_parts <= 64:
            raise ParameterError(
                f"S3 max_inflight_parts must be between 1 and 64 (got {self.max_inflight_parts})"
            )

    def __repr__(self) -> str:
        shown = {
            "uri": self.uri,
            "key": self.key,
            "secret": "***" if self.secret else None,
            "endpoint_url": redact_url(self.endpoint_url) if self.endpoint_url else None,
            "region": self.region,
            "session_token": "***" if self.session_token else None,
            "multipart_chunk_bytes": self.multipart_chunk_bytes,
            "profile": self.profile,
            "max_attempts": self.max_attempts,
            "retry_mode": self.retry_mode,
            "max_inflight_parts": self.max_inflight_parts,
        }
        return "S3Config(" + ", ".join(f"{name}={value!r}" for name, value in shown.items()) + ")"

    __str__ = __repr__

    # -- URIs -------------------------------------------------------------------------------------------

    def resolve_output(self, output: str) -> str:
        """The absolute s3:// URI for an output location.

        An s3:// output is used as given (never prefixed again) and must lie inside `uri` when that is set;
        a relative output goes under `uri`. Anything else is an error rather than a local path named "s3:".
        """
        output = output.strip()
        if output.startswith(S3_SCHEMES):
            bucket, key = split_s3_uri(output)
            if self.uri:
                root_bucket, root_key = split_s3_uri(self.uri)
                inside = bucket == root_bucket and (
                    not root_key or key == root_key or key.startswith(root_key + "/")
                )
                if not inside:
                    raise StorageError(
                        f"output s3://{bucket}/{key} is outside the S3 root {self.uri} (`S3Config.uri`)"
                    )
            return f"s3://{bucket}/{key}" if key else f"s3://{bucket}"
        if not self.uri:
            raise StorageError(f"output {output!r} is not an s3:// URI and no S3 root (`S3Config.uri`) is set")
        if "://" in output or output.startswith(("/", "~", "s3:")):
            raise StorageError(f"output {output!r} cannot be placed under the S3 root {self.uri}")
        root_bucket, root_key = split_s3_uri(self.uri)
        parts = [part for part in (root_key, output.strip("/")) if part]
        return f"s3://{root_bucket}/" + "/".join(parts)

    # -- resolution ---------------------------------------------------------------------------------------

    @property
    def custom_endpoint(self) -> str | None:
        """The endpoint in effect: the field, else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (any `user:password@`
        in the variable dropped: credentials never travel inside a URL)."""
        endpoint = self.endpoint_url or _env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
        return strip_userinfo(endpoint) if endpoint else None

    @property
    def is_aws(self) -> bool:
        endpoint = self.custom_endpoint
        return endpoint is None or (urlsplit(endpoint).hostname or "").endswith("amazonaws.com")

    @property
    def use_ssl(self) -> bool:
        endpoint = self.custom_endpoint
        return endpoint is None or urlsplit(endpoint).scheme != "http"

    @property
    def path_style(self) -> bool:
        # Self-hosted stores (MinIO, SeaweedFS, RustFS, moto) rarely have wildcard DNS for bucket subdomains.
        return not self.is_aws

    def effective_region(self) -> str:
        """Explicit region, else the region in an AWS endpoint host, else AWS_REGION / AWS_DEFAULT_REGION /
        the profile's region, else us-east-1 (what S3-compatible stores expect when they care at all)."""
        if self.region:
            return self.region
        endpoint = self.custom_endpoint
        if endpoint:
            match = _AWS_ENDPOINT.search(urlsplit(endpoint).hostname or "")
            if match:
                return match.group("region")
        region = _env("AWS_REGION", "AWS_DEFAULT_REGION")
        if region:
            return region
        try:
            import botocore.session

            region = botocore.session.Session(profile=self.profile).get_config_variable("region")
        except Exception:  # a broken ~/.aws/config must not hide the default
            region = None
        return region or DEFAULT_REGION

    def resolved(self) -> S3Config:
        """A copy with credentials, region and endpoint filled in from the AWS environment/profiles.

        Needed by engines that do not run botocore's provider chain themselves (DuckDB, deltalake, pyiceberg).
        Missing credentials stay None (anonymous access to public buckets).
        """
        key, secret, token = self.key, self.secret, self.session_token
        if not (key and secret):
            try:
                import botocore.session
                from botocore.exceptions import BotoCoreError

                credentials = botocore.session.Session(profile=self.profile).get_credentials()
            except ImportError:
                credentials = None
            except BotoCoreError as error:
                raise StorageError(f"cannot load AWS credentials: {type(error).__name__}") from None
            if credentials is not None:
                frozen = credentials.get_frozen_credentials()
                key, secret, token = frozen.access_key, frozen.secret_key, frozen.token
        return replace(
            self,
            key=key,
            secret=secret,
            session_token=token,
            region=self.effective_region(),
            endpoint_url=self.custom_endpoint,
        )

    # -- handing the settings to other engines -----------------------------------------------------------

    def effective_retries(self) -> tuple[str, int]:
        """(retry mode, attempts in all): the fields, else AWS_RETRY_MODE / AWS_MAX_ATTEMPTS, else standard, 10."""
        mode = self.retry_mode or _env("AWS_RETRY_MODE") or "standard"
        if mode not in RETRY_MODES:
            raise ParameterError(f"AWS_RETRY_MODE must be one of {', '.join(RETRY_MODES)} (got {mode!r})")
        attempts = self.max_attempts
        if attempts is None:
            text = _env("AWS_MAX_ATTEMPTS") or "10"
            if not text.isdigit() or not 1 <= int(text) <= 50:
                raise ParameterError(f"AWS_MAX_ATTEMPTS must be a whole number from 1 to 50 (got {text!r})")
            attempts = int(text)
        return mode, attempts

    def botocore_config_kwargs(self, *, max_attempts: int | None = None) -> dict[str, Any]:
        """Keyword arguments for `botocore.config.Config`: the one retry layer, addressing and checksums."""
        mode, attempts = self.effective_retries()
        config: dict[str, Any] = {
            # "standard" retries 5xx, throttling and dropped connections with jittered exponential backoff.
            "retries": {"total_max_attempts": max_attempts or attempts, "mode": mode},
            "connect_timeout": 10,
            "read_timeout": 120,
        }
        if self.path_style:
            config["s3"] = {"addressing_style": "path"}
        if not self.is_aws:
            # botocore >= 1.36 adds CRC checksums (and aws-chunked bodies) to every upload by default; several
            # S3-compatible stores (older MinIO, R2, B2, Ceph) reject those requests. Content-MD5/SigV4 remain.
            config["request_checksum_calculation"] = "when_required"
            config["response_checksum_validation"] = "when_required"
        return config

    def to_fsspec_kwargs(self, *, retries: int | None = None) -> dict[str, Any]:
        """Keyword arguments for `s3fs.S3FileSystem` (also fsspec `storage_options` for pandas/pyarrow)."""
        kwargs: dict[str, Any] = {
            "client_kwargs": {"region_name": self.effective_region()},
            "config_kwargs": self.botocore_config_kwargs(max_attempts=retries),
        }
        if self.key:
            kwargs["key"] = self.key
        if self.secret:
            kwargs["secret"] = self.secret
        if self.session_token:
            kwargs["token"] = self.session_token
        if self.custom_endpoint:
            kwargs["endpoint_url"] = self.custom_endpoint
        if self.profile:
            kwargs["profile"] = self.profile
        return kwargs

    def object_store_options(self) -> dict[str, str]:
        """Options for Rust object_store users: deltalake `storage_options`, polars `storage_options`."""
        cfg = self.resolved()
        options: dict[str, str] = {"aws_region": cfg.region or DEFAULT_REGION}
        if cfg.key:
            options["aws_access_key_id"] = cfg.key
        if cfg.secret:
            options["aws_secret_access_key"] = cfg.secret
        if cfg.session_token:
            options["aws_session_token"] = cfg.session_token
        if cfg.endpoint_url:
            options["aws_endpoint_url"] = cfg.endpoint_url
            if not cfg.use_ssl:
                options["aws_allow_http"] = "true"
        options["aws_virtual_hosted_style_request"] = "false" if cfg.path_style else "true"
        return options

    def delta_storage_options(self) -> dict[str, str]:
        """`storage_options` for deltalake (object_store keys, upper-case as in the delta-rs docs)."""
        return {name.upper(): value for name, value in self.object_store_options().items()}

    def pyiceberg_properties(self) -> dict[str, str]:
        """FileIO properties for a pyiceberg catalog (`load_catalog(..., **props)`)."""
        cfg = self.resolved()
        props: dict[str, str] = {"s3.region": cfg.region or DEFAULT_REGION}
        if cfg.key:
            props["s3.access-key-id"] = cfg.key
        if cfg.secret:
            props["s3.secret-access-key"] = cfg.secret
        if cfg.session_token:
            props["s3.session-token"] = cfg.session_token
        if cfg.endpoint_url:
            props["s3.endpoint"] = cfg.endpoint_url
        props["s3.force-virtual-addressing"] = "false" if cfg.path_style else "true"
        return props

    def duckdb_secret_sql(self, name: str = "dataset_generator_s3", scope: str | None = None) -> str:
        """A `CREATE OR REPLACE SECRET` statement for DuckDB httpfs. The SQL holds the secret: never log it."""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ParameterError(f"invalid DuckDB secret name {name!r}")
        cfg = self.resolved()
        fields = ["TYPE s3", f"REGION {_sql_literal(cfg.region or DEFAULT_REGION)}"]
        if cfg.key:
            fields.append(f"KEY_ID {_sql_literal(cfg.key)}")
        if cfg.secret:
            fields.append(f"SECRET {_sql_literal(cfg.secret)}")
        if cfg.session_token:
            fields.append(f"SESSION_TOKEN {_sql_literal(cfg.session_token)}")
        if cfg.endpoint_url:
            parts = urlsplit(cfg.endpoint_url)
            fields.append(f"ENDPOINT {_sql_literal(parts.netloc)}")
            fields.append(f"USE_SSL {'true' if parts.scheme != 'http' else 'false'}")
        fields.append(f"URL_STYLE {_sql_literal('path' if cfg.path_style else 'vhost')}")
        if scope:
            fields.append(f"SCOPE {_sql_literal(scope)}")
        return f"CREATE OR REPLACE SECRET {name} (" + ", ".join(fields) + ")"
