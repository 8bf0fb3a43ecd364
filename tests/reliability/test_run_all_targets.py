"""Are issue #19's quota targets judged by the runner, on recorded figures too (no bench re-run)?"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import run_all  # noqa: E402  (bench/ is scripts, not a package)

RESTORE = next(b for b in run_all.BENCHES if b.name == "restore")
BACKUP = next(b for b in run_all.BENCHES if b.name == "backup")


def restore_row(**figures: Any) -> dict[str, Any]:
    base = {"unexplained": 0, "writes_per_entity": 0.5, "wall_ratio": 1.2, "rate_limited_ratio": 0.0,
            "second_run_writes": 0, "points_ratio": 1.018, "second_run_points_ratio": 1.001, "least_windows": 3,
            "windows": 3}
    return run_all.judge(RESTORE, {"bench": "restore", "exit": 0, "figures": {**base, **figures}}, False)


def test_the_restore_is_judged_on_its_points_its_second_run_and_its_windows() -> None:
    assert restore_row()["passed"]
    assert restore_row()["verdicts"]["windows"] is True
    assert restore_row(windows=4)["verdicts"]["windows"] is False  # a window more than the least the points take
    assert restore_row(points_ratio=1.31)["verdicts"]["points_ratio"] is False
    assert restore_row(second_run_points_ratio=1.06)["verdicts"]["second_run_points_ratio"] is False
    assert restore_row(second_run_writes=1)["verdicts"]["second_run_writes"] is False
    assert not restore_row(windows=4)["passed"]


def test_a_row_recorded_before_the_windows_existed_is_not_judged_on_them() -> None:
    row = restore_row()
    del row["figures"]["least_windows"]
    assert run_all.judge(RESTORE, row, False)["verdicts"]["windows"] is None


def test_the_backup_is_judged_on_its_points() -> None:
    figures = {"calls_ratio_paged": 1.0, "wall_ratio_paged": 1.1, "peak_rss_mb": 100, "second_over_first": 0.0}
    over = run_all.judge(BACKUP, {"exit": 0, "figures": {**figures, "points_ratio": 1.11}}, False)
    assert over["verdicts"]["points_ratio"] is False and not over["passed"]
    assert run_all.judge(BACKUP, {"exit": 0, "figures": {**figures, "points_ratio": 1.0}}, False)["passed"]


def test_rejudging_rewrites_the_results_from_the_recorded_rows(tmp_path) -> None:
    results = tmp_path / "RESULTS.md"
    shutil.copy(ROOT / "bench" / "RESULTS.md", results)
    before = {r["bench"]: r["figures"] for r in run_all.previous_rows(results)}
    done = subprocess.run([sys.executable, "bench/run_all.py", "--rejudge", "--results", str(results),
                           "--pg-url", "sqlite://"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {r["bench"]: r for r in run_all.previous_rows(results)}
    assert {name: row["figures"] for name, row in rows.items()} == before  # figures untouched, only verdicts
    assert set(rows["restore"]["verdicts"]) >= {"points_ratio", "second_run_points_ratio", "windows"}
    assert "points_ratio" in rows["backup"]["verdicts"]
    text = results.read_text(encoding="utf-8")
    assert "| windows |" in text and "least_windows" in text
    json.loads(text[text.index(run_all.ROWS_MARK) + len(run_all.ROWS_MARK):text.rindex(" -->")])
