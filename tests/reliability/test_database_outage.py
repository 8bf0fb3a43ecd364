"""Is the database going away in the middle of a job survivable: does the job fail cleanly or wait, and resume once
the database is back, to the same final result? A real worker process runs a restore; on PostgreSQL a TCP proxy in
front of the server is cut (every connection dropped, new ones refused) and restored; on SQLite another connection
holds an exclusive lock on the file for longer than the driver's busy timeout."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest
from sqlalchemy.engine import make_url

from bench.crash_bench import (
    Worker,
    compare_states,
    destination_state,
    preview,
    queue_restore,
    reset_destination,
    run_outcome,
    wait_for,
)

OUTAGE_SECONDS = 7.0  # longer than SQLite's 5 s busy timeout, so the job sees errors rather than only waiting


class CuttableProxy:
    """A TCP proxy on loopback in front of one server; ``cut()`` drops every connection and refuses new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = threading.Event()
        self.live: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True, name="db-proxy").start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.live |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                self._close(s)

    def _close(self, s: socket.socket) -> None:
        with self.lock:
            self.live.discard(s)
        with suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()

    def cut(self) -> None:
        self.down.set()
        with self.lock:
            live = list(self.live)
        for s in live:
            self._close(s)

    def restore(self) -> None:
        self.down.clear()

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.listener.close()


@contextmanager
def outage_switch(world) -> Iterator[tuple[dict[str, str], object]]:
    """(env overrides for the worker, ``outage(seconds)``) for the database the world runs on."""
    url = make_url(world.db_url)
    if url.get_backend_name() == "postgresql":
        proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)

        def pg_outage(seconds: float) -> None:
            proxy.cut()
            time.sleep(seconds)
            proxy.restore()

        try:
            yield ({"DATABASE_URL": url.set(host="127.0.0.1", port=proxy.port).render_as_string(
                hide_password=False)}, pg_outage)
        finally:
            proxy.close()
        return

    def sqlite_outage(seconds: float) -> None:
        holder = sqlite3.connect(url.database, timeout=30, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # no other connection may read or write the file now
        time.sleep(seconds)
        holder.execute("COMMIT")
        holder.close()

    yield {}, sqlite_outage


def test_does_a_restore_resume_to_the_same_result_after_the_database_was_away(world, clean_restore,
                                                                             tmp_path) -> None:
    log = tmp_path / "worker.log"
    clean_run, clean = clean_restore
    reset_destination(world)

    with outage_switch(world) as (env, outage):
        run_id = preview(world)
        job_id = queue_restore(world, run_id)
        worker = Worker(world, "thread", log=log)
        worker.env.update(env)
        try:
            worker.start()
            assert wait_for(world, job_id, ("running",), 60).state == "running"
            time.sleep(0.3 * clean_run["seconds"])  # well inside the run
            outage(OUTAGE_SECONDS)
            job = wait_for(world, job_id, ("succeeded", "failed", "cancelled"), 180)
            alive = worker.proc.poll() is None
        finally:
            worker.stop()
    outcome = run_outcome(world, run_id)
    assert alive, "the worker process died with the database: " + log.read_text()[-2000:]
    assert job.state == "succeeded", (job.state, job.message)
    assert outcome["status"] == "done" and outcome["fidelity"] == clean_run["run_fidelity"], outcome
    assert compare_states(clean, destination_state(world)) == []


@pytest.mark.parametrize("error", ["OperationalError", "InterfaceError"])
def test_is_a_database_error_not_recorded_as_the_jobs_failure(app, error) -> None:
    """A runner that loses the database mid-way leaves the job to resume (queued), not failed with a message."""
    from sqlalchemy import exc

    from app.extensions import db
    from app.jobs.models import Job
    from app.jobs.runtime import enqueue, run_job
    from app.tenants import Tenant

    def lose_database(ctx) -> None:
        ctx.save_checkpoint({"at": 3})
        raise getattr(exc, error)("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    app.extensions["wiring"].runners["test-db-lost"] = lose_database
    with app.app_context():
        tenant = Tenant(client_key="ck-outage", base_url="https://outage.atlassian.net", shared_secret_enc="x")
        db.session.add(tenant)
        db.session.commit()
        job, _ = enqueue(tenant.id, "test-db-lost", dispatch=False)
        assert run_job(job.id) == "queued"
        row = db.session.get(Job, job.id, populate_existing=True)
        assert row.state == "queued" and row.checkpoint == {"at": 3} and row.lease_owner is None
        assert row.message == "The database was unavailable for a while; the job carries on from its checkpoint."
