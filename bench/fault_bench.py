"""Faults: a whole backup and restore through 10 % injected 5xx and timeouts plus 429 storms on both sites, compared
with a clean run: the snapshots must hold the same objects, and the destinations must be equal after id mapping.

The faults (emulator ``site.faults``, ``site.limits``), on the source during the backup and on the destination during
the restore: 5xx (500/502/503/504 in equal parts) on 7 % of calls, timeouts on 3 % (half dropped connections after a
short hang, half hangs longer than the app's read timeout), and 429 storms: every 4 s, for 1 s, the site's points
quota is spent and every call is refused (``Retry-After`` up to 1 s), plus a per-endpoint burst bucket throughout.

Usage: python bench/fault_bench.py [--quick] [--preset small] [--seed N] [--database-url URL]   (one JSON line)
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.crash_bench import (  # noqa: E402  (after the path set-up, so the bench runs as a script)
    World,
    compare_states,
    destination_state,
    preview,
    queue_restore,
    recovery_world,
    reset_destination,
    run_outcome,
    run_to_end,
    take_backup,
)

FAULT_RATE = 0.10
READ_TIMEOUT = 0.5  # the app's JIRA_READ_TIMEOUT in this bench: long hangs exceed it
# A fault world's app: short timeouts and backoffs so a run takes seconds, enough retries to ride out 10 % faults.
FAULT_CONFIG = {"JIRA_READ_TIMEOUT": READ_TIMEOUT, "JIRA_CONNECT_TIMEOUT": 1.0, "JIRA_MAX_RETRIES": 6,
                "JIRA_RETRY_BASE_DELAY": 0.05, "JIRA_MAX_RETRY_WAIT": 5}


class Storm:
    """429 storms: every ``period`` seconds, for ``length`` seconds, the site refuses every call (its quota is spent
    until the window rolls over, ``Retry-After`` up to a second), as when a tenant's points run out."""

    def __init__(self, site: Any, period: float = 4.0, length: float = 1.0) -> None:
        self.site, self.period, self.length = site, period, length
        self.storms = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"storm-{site.name}")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.period - self.length):
            self.site.limits.configure(quota=0, window=1)
            self.storms += 1
            self._stop.wait(self.length)
            self.site.limits.configure(quota=OPEN_QUOTA)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


OPEN_QUOTA = 10**12  # between storms: a quota nobody reaches


def inject(site: Any, seed: int, *, rate: float = FAULT_RATE, burst_rate: float = 40.0) -> Storm:
    """10 % faults (5xx and timeouts), a per-endpoint burst bucket and 429 storms on ``site``."""
    site.faults.clear()
    site.faults.seed(seed)
    share = rate * 0.7 / 4
    for status in (500, 502, 503, 504):
        site.faults.add(status, rate=share)
    site.faults.add_timeout(0.1, drop=True, rate=rate * 0.15)
    site.faults.add_timeout(READ_TIMEOUT + 0.5, drop=True, rate=rate * 0.15)
    site.limits.configure(quota=OPEN_QUOTA, window=1, burst_rate=burst_rate, burst_capacity=burst_rate / 4)
    return Storm(site)


def calm(site: Any, storm: Storm | None = None) -> int:
    """Faults and limits off; returns how many storms there were."""
    if storm is not None:
        storm.stop()
    site.faults.clear()
    site.limits.reset()
    return storm.storms if storm is not None else 0


def snapshot_contents(world: World, snapshot_id: int) -> dict[str, Any]:
    """Per type: the snapshot's status and its objects (as stored, decrypted), sorted canonically."""
    from app.backups.snapshots import SnapshotReader

    with world.app.app_context():
        reader = SnapshotReader(snapshot_id)
        reader.verify()
        out = {}
        for summary in reader.type_summaries():
            objects = sorted(json.dumps(o, sort_keys=True) for o in reader.objects(summary.type_key))
            out[summary.type_key] = {"status": summary.status, "objects": objects}
        return out


def fault_counts(site: Any) -> Counter[str]:
    """What the site answered, apart from its control API: 2xx, 429, 5xx, dropped (0)."""
    out: Counter[str] = Counter()
    for call in site.calls.find():
        if call.path.startswith("/_emulator"):
            continue
        out["dropped" if call.status == 0 else "429" if call.status == 429 else
            "5xx" if call.status >= 500 else "ok"] += 1
    return out


def restore_here(world: World, snapshot_id: int) -> dict[str, Any]:
    """Preview and restore ``snapshot_id`` in this process; the run's outcome."""
    world.snapshot_id = snapshot_id
    run_id = preview(world)
    job_id = queue_restore(world, run_id)
    with world.app.app_context():
        state = run_to_end(world, job_id)
    return {"job_state": state, **{f"run_{k}": v for k, v in run_outcome(world, run_id).items()}}


def faulty_round_trip(world: World, seed: int) -> dict[str, Any]:
    """Clean backup and restore, then both again under faults; the comparison and the fault counts."""
    started = time.monotonic()
    clean_snapshot = take_backup(world)
    clean_backup_s = time.monotonic() - started
    world.source.calls.clear()
    storm = inject(world.source, seed)
    started = time.monotonic()
    faulty_snapshot = take_backup(world)
    faulty_backup_s = time.monotonic() - started
    backup_faults = fault_counts(world.source)
    backup_storms = calm(world.source, storm)
    snapshots_equal = snapshot_contents(world, clean_snapshot) == snapshot_contents(world, faulty_snapshot)

    started = time.monotonic()
    clean_restore = restore_here(world, clean_snapshot)
    clean_restore_s = time.monotonic() - started
    clean = destination_state(world)
    reset_destination(world)
    storm = inject(world.dest, seed + 1)
    started = time.monotonic()
    faulty_restore = restore_here(world, faulty_snapshot)
    faulty_restore_s = time.monotonic() - started
    restore_faults = fault_counts(world.dest)
    restore_storms = calm(world.dest, storm)
    problems = compare_states(clean, destination_state(world))
    return {
        "snapshots_equal": snapshots_equal, "destinations_equal": not problems, "problems": problems[:5],
        "clean_restore": clean_restore["run_status"], "faulty_restore": faulty_restore["run_status"],
        "clean_fidelity": clean_restore["run_fidelity"], "faulty_fidelity": faulty_restore["run_fidelity"],
        "clean_unexplained": clean_restore["run_unexplained"], "faulty_unexplained": faulty_restore["run_unexplained"],
        "objects_on_destination": sum(len(v) for v in clean.objects.values()),
        "backup_calls": dict(backup_faults), "restore_calls": dict(restore_faults),
        "storms": {"backup": backup_storms, "restore": restore_storms},
        "injected_share_backup": _share(backup_faults), "injected_share_restore": _share(restore_faults),
        "clean_backup_s": round(clean_backup_s, 1), "faulty_backup_s": round(faulty_backup_s, 1),
        "clean_restore_s": round(clean_restore_s, 1), "faulty_restore_s": round(faulty_restore_s, 1),
        "identical": snapshots_equal and not problems and faulty_restore["run_status"] == "done",
    }


def _share(counts: Counter[str]) -> float:
    total = sum(counts.values())
    return round((counts["5xx"] + counts["dropped"]) / max(1, total), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the small preset (CI)")
    parser.add_argument("--preset", default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # every injected fault is logged by the client, on purpose; not here
    # A connection dropped mid-request leaves its body to be read as the next request line: the server says so.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    preset = args.preset or ("small" if args.quick else "medium")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    db_url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'faults.sqlite3'}"
    with recovery_world(db_url, preset, config=FAULT_CONFIG) as world:
        figures = faulty_round_trip(world, seed)
    print(json.dumps({"bench": "faults", "preset": preset, "seed": seed, "fault_rate": FAULT_RATE,
                      "database": db_url.split(":")[0], **figures}))


if __name__ == "__main__":
    main()
