"""Do the backup and restore benches measure the app against an emulated Jira in its own process (the default), and
does ``RemoteCloud`` never leave an emulator behind or hide why one died?"""

from __future__ import annotations

import pytest

from bench.remote_cloud import EmulatorError, RemoteCloud
from tests.reliability.test_benches import run_bench


def test_the_backup_bench_runs_against_an_emulator_process() -> None:
    figures = run_bench("bench/backup_bench.py", "--quick")
    assert figures["emulator"] == "process" and figures["state"] == "succeeded"
    assert figures["api_calls"] >= figures["minimum_calls_paged"] > 0
    assert figures["calls_ratio_paged"] <= 1.10
    assert figures["second_over_first"] == 0
    # this process no longer pays for the emulator, and the emulator's own CPU is reported apart
    assert figures["app_cpu_seconds"] == figures["cpu_seconds"] and figures["emulator_cpu_seconds"] > 0


def test_the_restore_bench_runs_against_an_emulator_process() -> None:
    figures = run_bench("bench/restore_bench.py", "--quick")
    assert figures["emulator"] == "process" and figures["state"] == "succeeded"
    assert figures["unexplained"] == 0 and figures["writes"] > 0, figures
    assert figures["second_run_writes"] == 0 and figures["spec_violations"] == 0
    assert figures["quota_points"] > figures["calls"]  # the points came from the emulator's per-template count
    assert figures["app_cpu_seconds"] > 0 and figures["emulator_cpu_seconds"] > 0


def test_a_child_that_cannot_start_is_reported_with_its_stderr() -> None:
    with pytest.raises(EmulatorError, match=r"(?s)exited \(1\) before READY.*unknown preset 'huge'"), \
            RemoteCloud({"a": "preset:huge"}):
        pass


def test_a_child_that_dies_is_reported_and_the_cloud_stops_its_child() -> None:
    with RemoteCloud({"a": None}) as cloud:
        proc = cloud._proc
        assert proc is not None and cloud.call_count("a") == 0
        proc.kill()
        proc.wait(timeout=10)
        with pytest.raises(EmulatorError, match=r"the emulator process exited \(-9\)"):
            cloud.call_count("a")
    with RemoteCloud({"a": None}) as cloud:
        proc = cloud._proc
    assert proc is not None and proc.poll() is not None  # terminated when the block ended


def test_an_exception_in_the_block_still_stops_the_child() -> None:
    with pytest.raises(KeyboardInterrupt), RemoteCloud({"a": None}) as cloud:
        proc = cloud._proc
        raise KeyboardInterrupt
    assert proc is not None and proc.poll() is not None
