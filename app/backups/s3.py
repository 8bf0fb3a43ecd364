"""The S3 client backups use (boto3), built from BACKUP_S3_* settings or boto3's standard credential chain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .storage_url import check_endpoint_url

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client  # stubs only (boto3-stubs[s3], a dev dependency)

DEFAULT_REGION = "us-east-1"


def s3_client(config: Mapping[str, Any]) -> S3Client:
    """A boto3 S3 client for the configured endpoint (AWS when unset); path-style addressing for other endpoints.

    Credentials come from BACKUP_S3_ACCESS_KEY_ID / BACKUP_S3_SECRET_ACCESS_KEY when both are set, else from boto3's
    chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role…). They never reach a message.
    """
    import boto3  # imported here: the database and file backends need none of it
    from botocore.config import Config

    endpoint = check_endpoint_url(str(config.get("BACKUP_S3_ENDPOINT_URL") or ""))
    key_id = str(config.get("BACKUP_S3_ACCESS_KEY_ID") or "")
    secret = str(config.get("BACKUP_S3_SECRET_ACCESS_KEY") or "")
    both = bool(key_id and secret)  # one without the other: boto3's chain (None is boto3's own "not given")
    session = boto3.session.Session()
    return session.client(
        "s3", endpoint_url=endpoint or None,
        region_name=str(config.get("BACKUP_S3_REGION") or "") or DEFAULT_REGION,
        # S3-compatible servers seldom resolve bucket subdomains; AWS itself is happy with either style.
        config=Config(s3={"addressing_style": "path"} if endpoint else {},
                      retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10, read_timeout=60),
        aws_access_key_id=key_id if both else None, aws_secret_access_key=secret if both else None)


def is_missing(error: Exception) -> bool:
    """Whether a botocore ClientError says the object (or bucket) isn't there."""
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}
