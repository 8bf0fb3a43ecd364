"""Fixtures for the blob storage tests: a real S3-compatible server (moto) on loopback and a backend per test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

S3_KEY_ID = "jiradr-test-key"  # moto accepts any credentials; real ones never appear in tests
S3_SECRET = "jiradr-test-secret"
S3_REGION = "us-east-1"
SMALL_CHUNK = 4096  # plaintext bytes per chunk in most tests: many chunks from little data


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen | None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the S3 server process exited with code {proc.returncode} before answering")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(f"the S3 server at {url} did not answer within 30 s")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The S3-compatible server: CI's (TEST_S3_ENDPOINT_URL, started by .ci/run), else a moto_server of our own."""
    configured = (os.environ.get("TEST_S3_ENDPOINT_URL") or "").rstrip("/")
    if configured:
        _wait_until_up(configured, None)
        yield configured
        return
    url = f"http://127.0.0.1:{_free_port()}"
    port = url.rsplit(":", 1)[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def raw_s3_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, region_name=S3_REGION, aws_access_key_id=S3_KEY_ID,
                        aws_secret_access_key=S3_SECRET, config=Config(s3={"addressing_style": "path"}))


@pytest.fixture(scope="session")
def s3_bucket(s3_endpoint: str) -> str:
    """A bucket of this test run (each test then writes under a prefix of its own)."""
    name = f"jiradr-test-{uuid.uuid4().hex[:12]}"
    raw_s3_client(s3_endpoint).create_bucket(Bucket=name)
    return name


def s3_settings(endpoint: str, bucket: str) -> dict[str, Any]:
    return {"BACKUP_STORAGE_URL": f"s3://{bucket}/run-{uuid.uuid4().hex[:8]}",
            "BACKUP_S3_ENDPOINT_URL": endpoint, "BACKUP_S3_REGION": S3_REGION,
            "BACKUP_S3_ACCESS_KEY_ID": S3_KEY_ID, "BACKUP_S3_SECRET_ACCESS_KEY": S3_SECRET,
            "BACKUP_S3_PART_BYTES": 5 * 1024 * 1024}


@pytest.fixture(params=["db", "file", "s3"])
def blob_backend(request: pytest.FixtureRequest, app_config: dict, tmp_path: Path) -> str:
    """Each backend in turn, configured through BACKUP_STORAGE_URL as an operator would (set before ``app``)."""
    kind = str(request.param)
    if kind == "file":
        app_config["BACKUP_STORAGE_URL"] = f"file://{tmp_path}/blobs"
    elif kind == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        app_config.update(s3_settings(endpoint, request.getfixturevalue("s3_bucket")))
    app_config["BACKUP_BLOB_CHUNK_BYTES"] = SMALL_CHUNK
    return kind
