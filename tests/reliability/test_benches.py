"""Do the load and memory benchmarks' CI-sized runs work and report sane figures? (Full runs: bench/run_all.py.)

Figures here are checked for shape and for what must hold on any machine (no errors, every cell served, the restore
finished with every difference named); the speed and memory targets themselves are judged by the full runs, not by
tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BENCH_PG = "postgresql+psycopg://jiradr:jiradr@127.0.0.1:5432/jiradr_bench"  # scripts/services.sh creates it


def run_bench(*args: str, timeout: float = 240) -> dict[str, Any]:
    """Run one bench as a reader would, and return its final JSON line."""
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_load_bench_serves_every_cell_without_errors() -> None:
    database = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    figures = run_bench("bench/load_bench.py", "--quick", "--duration", "0.5", "--clients", "1,8", "--db", database,
                        "--pg-url", BENCH_PG)
    cells = figures["cells"]
    assert {(c["endpoint"], c["clients"]) for c in cells} == {
        (e, n) for e in ("admin_page", "descriptor", "enabled") for n in (1, 8)}
    assert figures["errors"] == 0 and figures["spec_violations"] == 0
    for cell in cells:
        assert cell["db"] == database and cell["requests"] > 0 and cell["rps"] > 0
        assert 0 < cell["p50_ms"] <= cell["p99_ms"]


def test_the_memory_bench_backs_up_and_restores_in_full() -> None:
    figures = run_bench("bench/memory_bench.py", "--quick")
    # every difference the independent verification finds is named (board columns have no API)
    assert figures["restore_job"] == "succeeded" and figures["unexplained"] == 0, figures
    assert figures["restored_objects"] == figures["objects"] > 0
    for phase in ("backup", "preview", "restore"):
        assert figures["baseline_rss_mb"] <= figures[f"{phase}_peak_rss_mb"]
