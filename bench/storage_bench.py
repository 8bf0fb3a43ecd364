"""Streamed blob storage per backend: put and get MB/s of a 50 MB blob, and peak RSS during a 200 MB streamed put.

Each measurement runs in a fresh child process (the app, an SQLite database in a temporary folder or
``--database-url``, a generated key), so one backend's memory never counts against another's. The S3 backend talks
to moto's S3 server on loopback (``--s3-endpoint`` or TEST_S3_ENDPOINT_URL; else one is started here). Memory is the
kernel's high-water mark of the child (``VmHWM``) against its resident size just before the put (``VmRSS``): a
streamed put should grow by about a chunk (a multipart part for S3), not by the blob.

Usage: python bench/storage_bench.py [--backends db,file,s3] [--blob-mb 50] [--rss-mb 200]   (one JSON line)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024
S3_KEY_ID, S3_SECRET = "bench-key", "bench-secret"  # moto accepts any credentials


def proc_status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def source(total_mb: int, written: Any) -> Iterator[bytes]:
    """``total_mb`` MiB of incompressible bytes in 64 KiB pieces, never all in memory."""
    block = os.urandom(MIB)
    for i in range(total_mb):
        piece = i.to_bytes(8, "big") + block[8:]
        written.update(piece)
        for start in range(0, MIB, 64 * 1024):
            yield piece[start:start + 64 * 1024]


def child_config(backend: str, work: Path, database_url: str, s3_endpoint: str) -> dict[str, Any]:
    from cryptography.fernet import Fernet

    config: dict[str, Any] = {
        "TESTING": True, "SCHEMA_CHECK": False, "AUTO_MIGRATE": False, "JOBS_MODE": "manual",
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{work / 'bench.sqlite3'}",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(), "BACKUP_STORAGE_URL": "",
    }
    if backend == "file":
        config["BACKUP_STORAGE_URL"] = f"file://{work / 'blobs'}"
    elif backend == "s3":
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        config.update(BACKUP_STORAGE_URL=f"s3://{bucket}/bench", BACKUP_S3_ENDPOINT_URL=s3_endpoint,
                      BACKUP_S3_ACCESS_KEY_ID=S3_KEY_ID, BACKUP_S3_SECRET_ACCESS_KEY=S3_SECRET)
    return config


def run_child(args: argparse.Namespace) -> None:
    """One measurement in this (fresh) process; prints its figures as JSON."""
    from app import create_app
    from app.backups.blobs import object_store, open_stream, put_stream
    from app.connect.installs import save_installation
    from app.extensions import db

    work = Path(args.work)
    app = create_app(child_config(args.child, work, args.database_url, args.s3_endpoint))
    app.instance_path = str(work / "instance")
    with app.app_context():
        db.drop_all()
        db.create_all()
        if args.child == "s3":
            store = object_store()
            store.client.create_bucket(Bucket=store.bucket)  # type: ignore[attr-defined]
        tenant = save_installation({"clientKey": "bench", "baseUrl": "https://bench.atlassian.net",
                                    "sharedSecret": "s" * 32}).id
        figures: dict[str, Any] = {}
        written = hashlib.sha256()
        if args.mode == "rss":
            before = proc_status_kb("VmRSS")
            put_stream(tenant, source(args.rss_mb, written))
            peak = proc_status_kb("VmHWM")
            figures.update(rss_before_mb=round(before / 1024, 1), rss_peak_mb=round(peak / 1024, 1),
                           rss_growth_mb=round((peak - before) / 1024, 1))
        else:
            started = time.perf_counter()
            ref = put_stream(tenant, source(args.blob_mb, written))
            put_seconds = time.perf_counter() - started
            started = time.perf_counter()
            read = hashlib.sha256()
            for chunk in open_stream(tenant, ref.digest):
                read.update(chunk)
            get_seconds = time.perf_counter() - started
            if read.hexdigest() != written.hexdigest():
                raise SystemExit("the blob read back differs from what was put")
            figures.update(put_mb_s=round(args.blob_mb / put_seconds, 1), get_mb_s=round(args.blob_mb / get_seconds, 1))
        db.session.remove()  # end the reading transaction: it holds locks the drop would wait for
        db.drop_all()
    print(json.dumps(figures))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_s3_server() -> tuple[str, subprocess.Popen]:
    import requests

    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", url.rsplit(":", 1)[1]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return url, proc
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("moto's S3 server did not start within 30 s")


def measure(backend: str, mode: str, args: argparse.Namespace, s3_endpoint: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="storage-bench-") as work:
        command = [sys.executable, str(Path(__file__).resolve()), "--child", backend, "--mode", mode,
                   "--work", work, "--blob-mb", str(args.blob_mb), "--rss-mb", str(args.rss_mb),
                   "--database-url", args.database_url, "--s3-endpoint", s3_endpoint]
        out = subprocess.run(command, cwd=str(ROOT), capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"{backend} {mode} failed:\n{out.stderr[-3000:]}")
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="db,file,s3")
    parser.add_argument("--blob-mb", type=int, default=50)
    parser.add_argument("--rss-mb", type=int, default=200)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--s3-endpoint", default=os.environ.get("TEST_S3_ENDPOINT_URL", ""))
    parser.add_argument("--child", default="")
    parser.add_argument("--mode", default="throughput", choices=["throughput", "rss"])
    parser.add_argument("--work", default="")
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    server = None
    endpoint = args.s3_endpoint
    if "s3" in backends and not endpoint:
        endpoint, server = start_s3_server()
    try:
        results = {b: {**measure(b, "throughput", args, endpoint), **measure(b, "rss", args, endpoint)}
                   for b in backends}
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
    chunk = int(os.environ.get("BACKUP_BLOB_CHUNK_BYTES") or MIB)
    print(json.dumps({"bench": "storage", "blob_mb": args.blob_mb, "rss_put_mb": args.rss_mb,
                      "chunk_mb": round(chunk / MIB, 2),
                      "database": (args.database_url or "sqlite").split(":")[0], "backends": results}))


if __name__ == "__main__":
    main()
