"""Does a restore survive its worker being SIGKILLed at random points and around its start, resuming to the same
destination with no duplicates? Does deactivating the connection mid-restore stop it between objects? (The short
version of ``bench/crash_bench.py``, on a tiny site: three random kills of the DB-fed worker, one kill at each phase
of the run's start, one deactivation, one kill of the RQ worker.)"""

from __future__ import annotations

import random

import pytest

from bench.crash_bench import (
    DEACTIVATED_REASON,
    START_PHASES,
    compare_states,
    deactivation_trial,
    destination_state,
    killed_at_start,
    killed_restore,
)

SEED = 9  # kill points are random but reproducible


def test_does_a_restore_killed_at_random_points_resume_to_the_uninterrupted_result(world, clean_restore,
                                                                                    tmp_path) -> None:
    clean_run, clean = clean_restore
    rng = random.Random(SEED)
    for _ in range(3):
        outcome = killed_restore(world, "thread", rng.uniform(0.05, 0.8) * clean_run["seconds"],
                                 tmp_path / "worker.log")
        assert outcome["killed_in"].startswith("running"), outcome  # the kill landed mid-run
        assert outcome["job_state"] == "succeeded" and outcome["attempts"] >= 2, outcome
        assert outcome["run_status"] == "done" and outcome["run_fidelity"] == clean_run["run_fidelity"], outcome
        assert compare_states(clean, destination_state(world)) == [], outcome["killed_in"]


@pytest.mark.parametrize("phase", START_PHASES)
def test_does_a_restore_killed_around_its_start_resume_to_the_uninterrupted_result(world, clean_restore, tmp_path,
                                                                                    phase) -> None:
    clean_run, clean = clean_restore
    outcome = killed_at_start(world, "thread", phase, tmp_path / "worker.log")
    assert outcome["killed_in"].startswith("running"), outcome  # the worker had claimed the job
    assert outcome["job_state"] == "succeeded" and outcome["attempts"] >= 2, outcome
    assert outcome["run_status"] == "done" and outcome["run_fidelity"] == clean_run["run_fidelity"], outcome
    assert compare_states(clean, destination_state(world)) == [], outcome["killed_in"]


def test_does_deactivating_the_connection_mid_restore_stop_it_between_objects(world, clean_restore,
                                                                              tmp_path) -> None:
    outcome = deactivation_trial(world, "thread", 0.3, tmp_path / "worker.log")
    assert outcome["problems"] == [], outcome
    assert outcome["run_status"] == "cancelled" and DEACTIVATED_REASON in outcome["run_message"], outcome
    assert outcome["outcomes"].get("pending", 0) > 0, outcome  # it stopped before the end


@pytest.mark.redis
def test_does_an_rq_worker_killed_mid_restore_resume_to_the_same_result(world, clean_restore, tmp_path) -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    clean_run, clean = clean_restore
    outcome = killed_restore(world, "rq", 0.4 * clean_run["seconds"], tmp_path / "worker.log")
    assert outcome["killed_in"].startswith("running") and outcome["attempts"] >= 2, outcome
    assert outcome["job_state"] == "succeeded", outcome
    assert compare_states(clean, destination_state(world)) == []
