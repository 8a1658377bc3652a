"""S3 errors as one line a user can act on: the S3 operation, the HTTP status and error code, the bucket/key and
the endpoint, never a secret.

botocore has already retried whatever was worth retrying when an error reaches this module (its "standard" or
"adaptive" retry mode is the only retry layer), so every error here is final. Problems of the request (no
credentials, unknown key, missing bucket, access denied, wrong region) are `StorageError` (bad input, exit code
2); failures of the service under a valid request (5xx and throttling that outlasted the retries, unreachable or
dropped connections) are `StorageFailure` (exit code 1).
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import StorageError, StorageFailure
from .config import S3Config, redact_url

# Codes S3 (and S3-compatible stores) answer when the service, not the request, is at fault.
SERVICE_CODES = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
    }
)
MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "404"})


def _response(error: BaseException) -> dict[str, Any]:
    response = getattr(error, "response", None)
    return response if isinstance(response, dict) else {}


def error_code(error: BaseException) -> str | None:
    """The S3 error code of a botocore `ClientError` ("NoSuchKey", "SlowDown", or the status for a HEAD)."""
    code = _response(error).get("Error", {}).get("Code")
    return str(code) if code else None


def http_status(error: BaseException) -> int | None:
    """The HTTP status of a botocore `ClientError`, None for errors without a response."""
    status = _response(error).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status else None


def is_missing(error: BaseException) -> bool:
    """True for "no such key" answers (GetObject's NoSuchKey, HeadObject's bare 404)."""
    return error_code(error) in MISSING_CODES or (error_code(error) is None and http_status(error) == 404)


def _attempts(error: BaseException) -> str:
    retries = _response(error).get("ResponseMetadata", {}).get("RetryAttempts")
    if retries is None:
        return ""
    return f" after {int(retries) + 1} attempt{'s' if retries else ''}"


def redact(text: str, config: S3Config) -> str:
    """`text` with the secret key, session token and any URL password of `config` replaced by ***."""
    for secret in (config.secret, config.session_token):
        # A secret of a few characters would turn every message into asterisks and protect nothing.
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    for url in (config.endpoint_url, os.environ.get("AWS_ENDPOINT_URL_S3"), os.environ.get("AWS_ENDPOINT_URL")):
        if url and "@" in url:
            text = text.replace(url, redact_url(url))
    return text


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def describe_error(
    error: BaseException, config: S3Config, operation: str, bucket: str, key: str | None = None
) -> tuple[str, bool]:
    """One line for an S3 error, and whether it is a failure of the service (True) or of the request (False).

    Args:
        error: what botocore raised, after its retries.
        config: the S3 settings in use (for the endpoint and the names of missing credentials).
        operation: the S3 API operation, as AWS names it ("PutObject", "UploadPart", ...).
        bucket: the bucket of the request.
        key: the key of the request, if any.
    """
    from botocore.exceptions import (
        BotoCoreError,
        HTTPClientError,
        NoCredentialsError,
        PartialCredentialsError,
        ProfileNotFound,
    )
    from botocore.exceptions import ConnectionError as BotoConnectionError

    endpoint = redact_url(config.custom_endpoint) if config.custom_endpoint else "AWS S3"
    where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return (
            "no S3 credentials found: pass the key and secret, or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
            "or AWS_PROFILE",
            False,
        )
    if isinstance(error, ProfileNotFound):
        return f"AWS profile {config.profile or os.environ.get('AWS_PROFILE')!r} not found in ~/.aws/config", False
    if isinstance(error, (BotoConnectionError, ConnectionRefusedError, TimeoutError)):
        return (
            f"cannot reach S3 endpoint {endpoint}: {operation} {where} failed with {type(error).__name__}",
            True,
        )
    if isinstance(error, (HTTPClientError, ConnectionError)):
        return (
            f"the connection to S3 endpoint {endpoint} broke: {operation} {where} failed with "
            f"{type(error).__name__}",
            True,
        )
    code, status = error_code(error), http_status(error)
    shown = code if code and code != str(status) else ("" if status else type(error).__name__)
    detail = f"{operation} {where}: HTTP {status or '?'}{' ' + shown if shown else ''}{_attempts(error)}"
    if code == "NoSuchBucket":
        return f"S3 bucket {bucket!r} does not exist at {endpoint} ({detail})", False
    if code in ("InvalidAccessKeyId", "InvalidClientTokenId"):
        shown = config.key or "(from the AWS environment)"
        return f"S3 rejected the access key {shown!r} at {endpoint}: unknown key ({detail})", False
    if code == "SignatureDoesNotMatch":
        return (
            f"S3 rejected the credentials at {endpoint}: the secret key does not match the access key ({detail})",
            False,
        )
    if code in ("ExpiredToken", "TokenRefreshRequired"):
        return f"the S3 session token has expired ({endpoint}); refresh your AWS credentials ({detail})", False
    if code in ("AccessDenied", "AllAccessDisabled", "AccountProblem") or status == 403:
        return (
            f"access denied by S3 at {endpoint}: {detail}; check the credentials and the bucket policy",
            False,
        )
    if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException") or (
        status == 301
    ):
        return (
            f"S3 bucket {bucket!r} is in another region than {config.effective_region()!r}: set the S3 region "
            f"({detail})",
            False,
        )
    service = code in SERVICE_CODES or (status is not None and status >= 500)
    if service:
        return f"S3 failed at {endpoint}: {detail}", True
    if status is None and isinstance(error, BotoCoreError):
        return f"S3 {operation} {where} failed at {endpoint}: {type(error).__name__}: {_first_line(error)}", True
    return f"S3 {detail} at {endpoint}: {_first_line(error)}", False


def s3_error(
    error: BaseException, config: S3Config, operation: str, bucket: str, key: str | None = None
) -> StorageError:
    """The typed, one-line, redacted error to raise for `error` (see `describe_error` for the arguments).

    Returns:
        StorageFailure for failures of the service, StorageError for problems of the request.
    """
    message, service = describe_error(error, config, operation, bucket, key)
    message = redact(" ".join(message.split()), config)
    return StorageFailure(message) if service else StorageError(message)
