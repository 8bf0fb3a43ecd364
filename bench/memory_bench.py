"""Peak memory of snapshotting and restoring a ~10,000-object configuration, each job in a fresh worker process.

The emulated sites live in this process; each job runs in its own ``flask --app app worker --burst`` (the Procfile's
worker, DB-fed mode: it runs what is queued and exits), whose peak RSS is the kernel's high-water mark of its
address space (``VmHWM``, read while it runs). A burst worker with nothing to do gives the baseline (Python,
Flask, the app's imports). Full: a generated site whose snapshot holds over 10,000 objects (``TEN_THOUSAND``:
300 projects, 2,500 custom fields, 6,000 options, 3,500 filters...); ``--quick``: the ``small`` preset;
``--preset`` any generator preset.

Usage: python bench/memory_bench.py [--quick] [--preset NAME] [--database-url URL]   (one JSON line)
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.crash_bench import World, job_row, queue_restore, recovery_world, run_outcome  # noqa: E402

TARGET_MB = 512  # what a small (512 MB) dyno or container can hold beside nothing else
# The full run's site: the generator at a size whose snapshot holds over 10,000 objects (top-level configuration
# objects, as the snapshot counts them; a field's options, a screen's tabs... are inside their object).
TEN_THOUSAND = {"projects": 300, "custom_fields": 2500, "options": 6000, "workflows": 300, "filters": 3500}


def high_water_kb(pid: int) -> int | None:
    """The process's peak resident set so far (``VmHWM``), or None once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), None)


def burst_worker(world: World, log: Path) -> tuple[float, float]:
    """Run one burst worker to its end; returns (peak RSS in MB, seconds).

    The peak is the kernel's high-water mark of the worker's own address space, read from /proc while it runs
    (``ru_maxrss`` of a child would also count this process's pages it shared between fork and exec).
    """
    env = {**world.env, "JOBS_MODE": "thread", "JOBS_SWEEPER": "0"}
    started = time.monotonic()
    peak = 0
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", "--burst"], cwd=str(ROOT),
                                env=env, stdout=out, stderr=out)
        while proc.poll() is None:
            peak = max(peak, high_water_kb(proc.pid) or 0)
            time.sleep(0.02)
    if proc.returncode != 0:
        raise RuntimeError(f"the worker exited with {proc.returncode}; see {log}")
    return peak / 1024, time.monotonic() - started


def records(value: Any) -> int:
    """Configuration records in a seed/export: every list item and every entry of a map keyed by parent id, so
    a field's options, a screen's tabs and a scheme's entries count one each."""
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        return sum(records(v) if isinstance(v, list | dict) else 1 for v in value.values())
    return 1


def measure(world: World, log: Path) -> dict[str, Any]:
    """Baseline, backup, preview and restore, each in a fresh burst worker."""
    from app.backups.models import Snapshot
    from app.backups.service import start_backup
    from app.extensions import db
    from app.restore import service
    from app.tenants import Tenant
    from fakejira.seeding import export_site

    configuration_records = sum(records(v) for v in export_site(world.source).values())
    baseline, _ = burst_worker(world, log)
    with world.app.app_context():
        job, _ = start_backup(db.session.get(Tenant, world.source_id), "bench")
        backup_job = job.id
    backup_mb, backup_s = burst_worker(world, log)
    with world.app.app_context():
        done = job_row(backup_job)
        if done.state != "succeeded":
            raise RuntimeError(f"backup {done.state}: {done.message}")
        world.snapshot_id = int(done.result["snapshot_id"])
        snapshot = db.session.get(Snapshot, world.snapshot_id)
        objects, stored = snapshot.object_count, snapshot.bytes_stored
        run = service.start_preview(db.session.get(Tenant, world.dest_id), world.snapshot_id, world.admin)
        run_id, preview_job = run.id, run.job_id
    preview_mb, preview_s = burst_worker(world, log)
    with world.app.app_context():
        if job_row(preview_job).state != "succeeded":
            raise RuntimeError(f"preview {job_row(preview_job).state}: {job_row(preview_job).message}")
    restore_job = queue_restore(world, run_id)
    restore_mb, restore_s = burst_worker(world, log)
    with world.app.app_context():
        state = job_row(restore_job).state
    outcome = run_outcome(world, run_id)
    return {"configuration_records": configuration_records, "objects": objects, "snapshot_bytes_stored": stored,
            "baseline_rss_mb": round(baseline, 1),
            "backup_peak_rss_mb": round(backup_mb, 1), "preview_peak_rss_mb": round(preview_mb, 1),
            "restore_peak_rss_mb": round(restore_mb, 1), "backup_s": round(backup_s, 1),
            "preview_s": round(preview_s, 1), "restore_s": round(restore_s, 1), "restore_job": state,
            "restore_status": outcome["status"], "fidelity": outcome["fidelity"],
            "unexplained": outcome["unexplained"],
            "restored_objects": sum((outcome["outcomes"] or {}).values()), "target_mb": TARGET_MB,
            "within_target": max(backup_mb, preview_mb, restore_mb) <= TARGET_MB}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the small preset (CI)")
    parser.add_argument("--preset", default=None)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    preset = args.preset or ("small" if args.quick else "10k")
    tmp = Path(tempfile.mkdtemp(prefix="memory-bench-"))
    db_url = args.database_url or f"sqlite:///{tmp / 'memory.sqlite3'}"
    from fakejira.generator import generate_seed

    seed = generate_seed(**TEN_THOUSAND, site_name="src") if preset == "10k" else preset
    with recovery_world(db_url, seed) as world:
        figures = measure(world, tmp / "worker.log")
    print(json.dumps({"bench": "memory", "preset": preset, "database": db_url.split(":")[0], **figures}))


if __name__ == "__main__":
    main()
