"""How the pieces are joined: runners, periodic tasks, page sections, credentials, purge hooks, operations, tables.

One explicit list, read top to bottom. ``create_app`` builds a ``Wiring`` (``init_app``) and keeps it in
``app.extensions["wiring"]``; the job runtime, the sweeper, the Disaster recovery page, ``tenant_access``, retention
and the tenant purge read what they need from there. No module registers itself when it is imported: a runner, a
periodic task or a section that isn't listed here doesn't exist. A worker process (``flask --app app worker``, RQ's
``rq_entry``) calls ``create_app`` too, so it runs with the same wiring as the web process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType

from flask import Flask, current_app

from . import tenants
from .admin import backups_views, restore_views
from .admin.sections import PageSection
from .backups import blob_models, capture, catalogue, purge, retention, schedule
from .backups import models as backup_models
from .backups.retention import Protector
from .connect import impersonation
from .forge import installations as forge_installations
from .forge import lifecycle as forge_lifecycle
from .forge import tokens as forge_tokens
from .issuedata import backup as issue_backup
from .issuedata import before as issue_before
from .issuedata import changes as issue_changes
from .issuedata import restricted as issue_restricted
from .issuedata import sprints as issue_sprints
from .jira import operations
from .jira.operations import Operation
from .jobs import journal
from .jobs import models as job_models
from .jobs.runtime import CrashHandler, Runner
from .jobs.sweeper import Periodic
from .oauth import flow as oauth_flow
from .oauth import models as oauth_models
from .oauth import views as oauth_views
from .oauth.credential import oauth_credential
from .presenters import people
from .quota import models as quota_models
from .recovery import activity, audit, connections
from .restore import job as restore_job
from .restore import models as restore_models
from .restore import plan, subobjects
from .restore.issues import agile as issue_agile
from .restore.issues import restore as issue_restore
from .restore.issues import run as issue_run
from .restore.issues import verify as issue_verify
from .restore.types import fields, projects, schemes, screens, sharing, simple, workflows
from .tenant_access import CredentialSource
from .tenants import PurgeHook

EXTENSION = "wiring"  # the key in ``app.extensions``

# kind -> the function that runs jobs of that kind (app/jobs/runtime.py claims the job and calls it)
RUNNERS: dict[str, Runner] = {
    capture.JOB_KIND: capture.run_backup,
    forge_lifecycle.SITE_INFO_KIND: forge_lifecycle.run_site_info,
    restore_job.PREVIEW_KIND: restore_job.run_preview,
    restore_job.RESTORE_KIND: restore_job.run_restore,
}

# kind -> what ends the job's work when its runner crashes on a bug (a run left "running" would refuse new starts)
CRASH_HANDLERS: dict[str, CrashHandler] = {
    restore_job.PREVIEW_KIND: restore_job.crashed,
    restore_job.RESTORE_KIND: restore_job.crashed,
}

# name -> fn(now), run on every tick of the sweeper or the clock; each idempotent, cheap when there's nothing to do
PERIODIC: dict[str, Periodic] = {
    "backup-schedule": schedule.enqueue_due_backups,
    "backups.retention": retention.run_retention,
    "audit.job-events": activity.catch_up_all,
}

# Sections of the Disaster recovery page other features contribute (shown in their ``order``)
SECTIONS: tuple[PageSection, ...] = (backups_views.SECTION, restore_views.SECTION, oauth_views.SECTION)

# Credentials a Connect tenant may hold besides its Connect JWT, tried in this order (app/tenant_access.py)
CREDENTIAL_SOURCES: tuple[CredentialSource, ...] = (oauth_credential,)

# Pins of snapshots retention must keep, besides an active connection's (app/backups/retention.py): none today
PROTECTORS: tuple[Protector, ...] = ()

# What purging a tenant (app/tenants.py) calls per tenant id: in its transaction, before the tenant's row goes; then
# after the commit, for what it kept outside the database
PURGING: tuple[PurgeHook, ...] = (purge.before_tenant_purged,)
PURGED: tuple[PurgeHook, ...] = (purge.after_tenant_purged,)

# Every module that defines tables: imported here, its models are in the metadata Alembic and create_all() read
MODEL_MODULES: tuple[ModuleType, ...] = (
    tenants, forge_installations, forge_tokens, oauth_models, connections, audit, job_models, journal,
    backup_models, blob_models, schedule, issue_changes, restore_models, quota_models,
)

# Every module that calls Jira declares, at module level, the operations it calls (``declare``): the descriptor's,
# the OAuth request's and the Forge manifest's scopes are derived from these declarations.
OPERATION_MODULES: tuple[ModuleType, ...] = (
    operations, impersonation, forge_lifecycle, oauth_flow, people,
    catalogue, issue_backup, issue_before, issue_restricted, issue_sprints,
    plan, subobjects, simple, fields, screens, workflows, schemes, projects, sharing,
    issue_run, issue_restore, issue_agile, issue_verify,
)


@dataclass
class Wiring:
    """One app's joins. Each app gets its own copy, so a test adding a runner or a credential changes only its app."""

    runners: dict[str, Runner] = field(default_factory=lambda: dict(RUNNERS))
    crash_handlers: dict[str, CrashHandler] = field(default_factory=lambda: dict(CRASH_HANDLERS))
    periodic: dict[str, Periodic] = field(default_factory=lambda: dict(PERIODIC))
    sections: list[PageSection] = field(default_factory=lambda: list(SECTIONS))
    credential_sources: list[CredentialSource] = field(default_factory=lambda: list(CREDENTIAL_SOURCES))
    protectors: list[Protector] = field(default_factory=lambda: list(PROTECTORS))
    purging: list[PurgeHook] = field(default_factory=lambda: list(PURGING))
    purged: list[PurgeHook] = field(default_factory=lambda: list(PURGED))
    operations: tuple[Operation, ...] = field(default_factory=lambda: declared_operations())


def declared_in(modules: Iterable[ModuleType]) -> list[Operation]:
    """The operations ``modules`` declare at module level, once each, in the order first met."""
    found: dict[tuple[str, str], Operation] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Operation):
                found.setdefault((value.method, value.template), value)
    return list(found.values())


def declared_operations() -> tuple[Operation, ...]:
    """Every Jira operation the app calls, as the declaring modules name them."""
    return tuple(declared_in(OPERATION_MODULES))


def init_app(app: Flask) -> Wiring:
    """Give ``app`` its wiring (``app.extensions["wiring"]``)."""
    wiring = Wiring()
    app.extensions[EXTENSION] = wiring
    return wiring


def current() -> Wiring:
    """The wiring of the app in context."""
    wiring: Wiring = current_app.extensions[EXTENSION]
    return wiring

