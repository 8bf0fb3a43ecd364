"""Does a job always end in a truthful state, resume after a crash from its checkpoint, and never run twice at once?"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.jobs import dispatch as job_dispatch
from app.jobs import runtime
from app.jobs.models import TRANSITIONS, IllegalTransition, Job, JobState, move
from app.jobs.runtime import JobCancelled, JobFailed, RetryLater, claim, enqueue, request_cancel, run_job
from app.jobs.sweeper import stalled_jobs, tick
from app.tenants import Tenant

SEEN: dict[str, list] = {}


def count_to(ctx: runtime.JobContext) -> dict:
    """Counts to params.n, checkpointing each step; crashes once at params.crash_at (a simulated worker death)."""
    start = ctx.checkpoint.get("i", 0)
    SEEN.setdefault(ctx.job_id, []).append(start)
    ctx.progress(start, ctx.params["n"], "counting")
    for i in range(start, ctx.params["n"]):
        if i == ctx.params.get("crash_at") and ctx.attempt == 1:
            raise SystemExit("worker killed")  # not an Exception: nothing in the runner records a state
        ctx.check_cancelled()
        ctx.save_checkpoint({"i": i + 1}, done=i + 1)
    return {"counted": ctx.params["n"]}


def fail(ctx: runtime.JobContext) -> None:
    raise JobFailed("Jira refused the backup: no permission to read workflows.")


def crash(ctx: runtime.JobContext) -> None:
    raise KeyError("secret-should-not-leak")


def wait(ctx: runtime.JobContext) -> None:
    raise RetryLater(600, "Jira asked us to wait 600 s (rate limit).")


def cancel_me(ctx: runtime.JobContext) -> None:
    ctx.progress(1, 10)
    raise JobCancelled()


TEST_RUNNERS = {"test-count": count_to, "test-fail": fail, "test-crash": crash, "test-wait": wait,
                "test-cancel": cancel_me}


@pytest.fixture(autouse=True)
def test_runners(app) -> None:
    """This module's runners, wired into the test's app as app/wiring.py wires the real ones."""
    app.extensions["wiring"].runners.update(TEST_RUNNERS)


@pytest.fixture
def tenant_id(app) -> int:
    with app.app_context():
        tenant = Tenant(client_key="ck-jobs", base_url="https://jobs.atlassian.net", shared_secret_enc="x")
        db.session.add(tenant)
        db.session.commit()
        return tenant.id


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def job(job_id: str) -> Job:
    return db.session.get(Job, job_id, populate_existing=True)


@pytest.mark.parametrize("source", list(JobState))
@pytest.mark.parametrize("target", list(JobState))
def test_transitions_table_is_enforced(ctx, tenant_id, source, target) -> None:
    j = Job(tenant_id=tenant_id, kind="x", state=source.value)
    db.session.add(j)
    db.session.commit()
    if target in TRANSITIONS[source]:
        assert move(j, target)
        assert j.state == target.value
    else:
        with pytest.raises(IllegalTransition):
            move(j, target)
        assert job(j.id).state == source.value


def test_success_records_result_and_full_progress(ctx, tenant_id) -> None:
    j, created = enqueue(tenant_id, "test-count", {"n": 3})
    assert created and j.state == "queued" and j.percent is None
    assert run_job(j.id) == "succeeded"
    done = job(j.id)
    assert done.result == {"counted": 3} and done.percent == 100 and done.finished_at is not None
    assert done.singleton_key is None


def test_failure_is_a_state_with_a_message_not_100_percent(ctx, tenant_id) -> None:
    j, _ = enqueue(tenant_id, "test-fail")
    assert run_job(j.id) == "failed"
    assert job(j.id).message.startswith("Jira refused the backup")
    assert job(j.id).percent != 100


def test_crash_fails_without_leaking_details(ctx, tenant_id) -> None:
    j, _ = enqueue(tenant_id, "test-crash")
    assert run_job(j.id) == "failed"
    assert "KeyError" in job(j.id).message and "secret-should-not-leak" not in job(j.id).message


def test_retry_later_requeues_with_a_not_before(ctx, tenant_id) -> None:
    j, _ = enqueue(tenant_id, "test-wait")
    assert run_job(j.id) == "queued"
    assert job(j.id).not_before > utcnow() + timedelta(seconds=500)
    assert j.id not in stalled_jobs()
    assert j.id in stalled_jobs(utcnow() + timedelta(seconds=700))
    assert claim(j.id) is None  # not due yet


def test_cancel(ctx, tenant_id) -> None:
    queued, _ = enqueue(tenant_id, "test-count", {"n": 2})
    request_cancel(queued)
    assert job(queued.id).state == "cancelled"
    assert run_job(queued.id) is None
    running, _ = enqueue(tenant_id, "test-cancel")
    assert run_job(running.id) == "cancelled"


def test_cancel_of_a_running_job_stops_it_between_steps(ctx, tenant_id) -> None:
    j, _ = enqueue(tenant_id, "test-count", {"n": 1000})
    claimed = claim(j.id, "w1")
    request_cancel(claimed)
    assert job(j.id).cancel_requested and job(j.id).state == "running"


def test_one_live_job_per_singleton(ctx, tenant_id) -> None:
    first, created = enqueue(tenant_id, "test-count", {"n": 1}, singleton=f"backup:{tenant_id}")
    again, created_again = enqueue(tenant_id, "test-count", {"n": 1}, singleton=f"backup:{tenant_id}")
    assert created and not created_again and again.id == first.id
    run_job(first.id)
    later, created_later = enqueue(tenant_id, "test-count", {"n": 1}, singleton=f"backup:{tenant_id}")
    assert created_later and later.id != first.id


def test_killed_worker_resumes_from_checkpoint_after_lease_expiry(ctx, tenant_id, monkeypatch) -> None:
    j, _ = enqueue(tenant_id, "test-count", {"n": 10, "crash_at": 6})
    with pytest.raises(SystemExit):
        run_job(j.id, worker="dead-worker")
    db.session.rollback()
    stuck = job(j.id)
    assert stuck.state == "running" and stuck.checkpoint == {"i": 6}
    assert j.id not in stalled_jobs()  # the lease still looks alive
    assert j.id in stalled_jobs(utcnow() + timedelta(seconds=runtime.LEASE_SECONDS + 1))
    db.session.execute(Job.__table__.update().where(Job.id == j.id).values(lease_expires_at=utcnow()))
    db.session.commit()
    assert run_job(j.id, worker="new-worker") == "succeeded"
    assert SEEN[j.id] == [0, 6]  # resumed where it was, didn't start over
    assert job(j.id).attempts == 2


def test_a_worker_that_lost_its_lease_stops_writing(ctx, tenant_id) -> None:
    j, _ = enqueue(tenant_id, "test-count", {"n": 5})
    claimed = claim(j.id, "slow-worker")
    context = runtime.JobContext(claimed, "slow-worker")
    db.session.execute(Job.__table__.update().where(Job.id == j.id).values(lease_expires_at=utcnow()))
    db.session.commit()
    assert claim(j.id, "rescuer") is not None
    with pytest.raises(runtime.LeaseLost):
        context.save_checkpoint({"i": 99})
    assert job(j.id).checkpoint == {}


def test_concurrent_claims_one_winner(app, tenant_id) -> None:
    with app.app_context():
        j, _ = enqueue(tenant_id, "test-count", {"n": 1})
        job_id = j.id
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def contender(name: str) -> None:
        with app.app_context():
            barrier.wait()
            if claim(job_id, name) is not None:
                winners.append(name)

    threads = [threading.Thread(target=contender, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_in_process_dispatcher_runs_jobs_in_threads(app, tenant_id) -> None:
    app.config["JOBS_MODE"] = "thread"
    job_dispatch.init_app(app)
    with app.app_context():
        j, _ = enqueue(tenant_id, "test-count", {"n": 5})
        deadline = time.monotonic() + 10
        while job(j.id).state != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job(j.id).state == "succeeded"


def test_tick_runs_periodic_tasks_and_redispatches_stalled_jobs(ctx, tenant_id, app) -> None:
    calls = []
    app.extensions["wiring"].periodic["test-periodic"] = calls.append
    j, _ = enqueue(tenant_id, "test-count", {"n": 1}, dispatch=False)
    tick()
    assert calls and app.extensions["job_dispatcher"].sent == [j.id]


@pytest.mark.redis
def test_rq_path_against_real_redis(app, tenant_id) -> None:
    """With REDIS_URL the job goes through a real RQ queue and an RQ worker runs it."""
    redis_url = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    from redis import Redis
    from rq import Queue, SimpleWorker

    connection = Redis.from_url(redis_url)
    try:
        connection.ping()
    except Exception:
        pytest.fail(f"Redis is not running at {redis_url}: start it with scripts/services.sh")
    connection.flushdb()
    app.config.update(JOBS_MODE="rq", REDIS_URL=redis_url)
    job_dispatch.init_app(app)
    job_dispatch._worker_app = app
    try:
        with app.app_context():
            j, _ = enqueue(tenant_id, "test-count", {"n": 4})
            queue = Queue(job_dispatch.RQ_QUEUE, connection=connection)
            assert queue.count == 1
            SimpleWorker([queue], connection=connection).work(burst=True)
            assert job(j.id).state == "succeeded" and job(j.id).result == {"counted": 4}
    finally:
        job_dispatch._worker_app = None
        connection.flushdb()


def test_live_jobs_lists_only_unfinished(ctx, tenant_id) -> None:
    a, _ = enqueue(tenant_id, "test-count", {"n": 1})
    b, _ = enqueue(tenant_id, "test-fail")
    run_job(b.id)
    assert [j.id for j in runtime.live_jobs(tenant_id)] == [a.id]
    assert db.session.scalars(select(Job)).all()


def quiet(ctx: runtime.JobContext) -> dict:
    """Works for params.seconds without a word of progress (one large project's issues, a long upload)."""
    time.sleep(ctx.params["seconds"])
    return {"quiet": True}


def test_a_runner_quiet_for_longer_than_its_lease_keeps_its_job(app, ctx, tenant_id, monkeypatch) -> None:
    """A step that reports no progress for longer than the lease (a project of thousands of issues took over 20
    minutes at 50 ms a request) must not look like a dead worker: the sweeper would hand the job to a second worker
    while the first still writes, and the project would be restored twice at once. The heartbeat holds the lease
    while the runner lives; the job is never claimable meanwhile, and ends succeeded."""
    monkeypatch.setattr(runtime, "LEASE_SECONDS", 0.6)
    app.extensions["wiring"].runners["test-quiet"] = quiet
    j, _ = enqueue(tenant_id, "test-quiet", {"seconds": 2.0})
    ended: list[str | None] = []
    context = app.app_context

    def work() -> None:
        with context():
            ended.append(run_job(j.id, worker="busy-worker"))

    worker = threading.Thread(target=work)
    worker.start()
    stolen = []
    deadline = time.monotonic() + 1.6
    time.sleep(0.3)
    while time.monotonic() < deadline:
        db.session.rollback()
        stolen.append(claim(j.id, "second-worker") is not None or j.id in stalled_jobs())
        time.sleep(0.2)
    worker.join(timeout=30)
    assert not any(stolen), "a second worker could take a job whose runner was alive and working"
    assert ended == ["succeeded"] and job(j.id).attempts == 1
