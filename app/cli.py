"""``flask --app app ...`` commands for operators: workers, the clock, housekeeping."""

from __future__ import annotations

import logging
import time

import click
from flask import Flask, current_app

from . import tenants
from .backups.keys_cli import keys as keys_commands

log = logging.getLogger(__name__)


def register_cli(app: Flask) -> None:
    app.cli.add_command(keys_commands)

    @app.cli.command("purge-tenants")
    def purge_tenants() -> None:
        """Delete tenants uninstalled longer than UNINSTALL_RETENTION_DAYS ago."""
        gone = tenants.purge_uninstalled(current_app.config["UNINSTALL_RETENTION_DAYS"])
        click.echo(f"purged {len(gone)} tenant(s)")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Run what is queued, then exit.")
    def worker(burst: bool) -> None:
        """Run jobs: an RQ worker when REDIS_URL is set, else an in-process runner fed by the database."""
        from .jobs.sweeper import Sweeper, run_periodic, stalled_jobs

        application = current_app._get_current_object()  # type: ignore[attr-defined]
        interval = application.config["JOBS_SWEEP_SECONDS"]
        if application.config["JOBS_MODE"] == "rq":
            from redis import Redis
            from rq import Queue, SimpleWorker

            from .jobs.dispatch import RQ_QUEUE

            Sweeper(application, interval).start()
            connection = Redis.from_url(application.config["REDIS_URL"])
            SimpleWorker([Queue(RQ_QUEUE, connection=connection)], connection=connection).work(burst=burst)
            return
        from .jobs.runtime import run_job

        click.echo("worker: in-process mode (no REDIS_URL)")
        while True:
            run_periodic()
            for job_id in stalled_jobs():
                run_job(job_id)
            if burst:
                return
            time.sleep(min(interval, 5))

    @app.cli.command("clock")
    def clock() -> None:
        """Tick the schedule (and re-dispatch stalled jobs) every JOBS_SWEEP_SECONDS; safe on several machines."""
        from .jobs.sweeper import run_forever

        run_forever(current_app._get_current_object(), current_app.config["JOBS_SWEEP_SECONDS"])  # type: ignore
