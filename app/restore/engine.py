"""Executing a plan: objects in dependency order, independent ones in parallel, each outcome and id recorded as it
happens (through a ``RunState``) so a crash resumes without creating anything twice; progress through a reporter.

An object whose create succeeded but whose follow-up writes (``after_create``) failed is recorded ``incomplete``
with its destination id: dependants still map to it, and the next run (or a resume) retries only the follow-up
writes. Transient failures (5xx, timeouts beyond the client's retries) are retried a bounded number of times per
object, each create preceded by a look-up, so a lost answer never creates twice."""

from __future__ import annotations

import enum
import heapq
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..jira.access import SiteAccess
from ..jira.errors import JiraError, JiraUnavailable, NeedsAuthorisation, RateLimited
from ..jira.operations import Operation
from ..quota.points import is_read
from .ids import NO_STAND_IN, PeoplePolicy, RunIdMap
from .notes import collecting, note
from .plan import Action, Key, Plan, PlannedItem
from .restorers import load
from .subobjects import attach
from .types.base import CannotRestore, Ref, Restorer, UnmappedReference, fresh_follow_up

log = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    PENDING = "pending"  # not reached yet (or the run was cancelled before it)
    CREATING = "creating"  # a create was sent or is about to be: on resume, look it up before creating again
    CREATED = "created"
    REUSED = "reused"
    UPDATED = "updated"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANNOT = "cannot"
    INCOMPLETE = "incomplete"  # created, but follow-up writes failed: the next run retries only those


FINAL = frozenset({Outcome.CREATED, Outcome.REUSED, Outcome.UPDATED, Outcome.SKIPPED, Outcome.FAILED,
                   Outcome.CANNOT})
MAPPED = frozenset({Outcome.CREATED, Outcome.REUSED, Outcome.UPDATED})
HAS_ID = MAPPED | {Outcome.INCOMPLETE}  # the object exists on the destination: dependants may refer to it


@dataclass
class Result:
    outcome: Outcome
    dest_id: str | None = None
    reason: str = ""
    fix: str = ""
    notes: list[str] = field(default_factory=list)


class RunState(Protocol):
    """Where outcomes live (``RestoreItem`` rows: ``app/restore/models.py``). Called from the engine's thread only.

    A state may also offer ``hold()`` and ``sync()``: after ``hold()`` records wait for the next ``sync()`` to be
    made durable, which the engine calls once per round (before any request of that round goes out), not once per
    object. A state without them makes every record durable at once.
    """

    def recorded(self, key: Key) -> Result | None: ...

    def record(self, item: PlannedItem, result: Result) -> None: ...


class Reporter:
    """Told what the engine does; every method does nothing by default (subclass what you need)."""

    def starting(self, plan: Plan, total: int) -> None: ...

    def item_done(self, item: PlannedItem, result: Result, done: int, total: int) -> None: ...

    def step(self, text: str) -> None: ...

    def should_stop(self) -> bool:
        return False


class Cancelled(Exception):
    """The run stopped between objects because someone asked it to."""


class MustWait(Exception):
    """Jira asked for a longer pause than a worker should sleep: the run stops and resumes after ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Jira asked us to wait {seconds:.0f} s (rate limit).")
        self.seconds = seconds


class WriteCounting:
    """The executor's access: every request passes through unchanged; those that may write are counted before
    they go out (``writes``), so the job knows whether the destination can differ from what planning read."""

    def __init__(self, access: SiteAccess) -> None:
        self._access = access
        self._lock = threading.Lock()
        self.writes = 0

    def call(self, op: Operation, **kwargs: Any) -> Any:
        if not is_read(op.method, op.template):
            with self._lock:
                self.writes += 1
        return self._access.call(op, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._access, name)


class Executor:
    """Runs a plan against the destination. ``concurrency`` workers; all state writes happen on the calling thread."""

    def __init__(self, access: SiteAccess, state: RunState, *, reporter: Reporter | None = None,
                 concurrency: int = 4, people: PeoplePolicy = NO_STAND_IN,
                 restorers: dict[str, Restorer] | None = None, max_wait: float = 60.0,
                 create_attempts: int = 4, transient_attempts: int = 3, transient_pause: float = 0.2,
                 thread_initializer: Callable[[], None] | None = None, short_wait: float = 5.0,
                 rate_waits: int = 5) -> None:
        self.access = WriteCounting(access)
        # Run in each worker thread first (the job passes one giving the thread the app's context, which
        # credentials backed by the database — the OAuth grant's token refresh — need).
        self.thread_initializer = thread_initializer
        self.state = state
        self.reporter = reporter or Reporter()
        self.concurrency = max(1, concurrency)
        self.people = people  # who takes the place of a person the destination lacks
        self.restorers = restorers if restorers is not None else load()
        self.max_wait = max_wait
        self.create_attempts = create_attempts  # each after a look-up, so a lost answer never creates twice
        # Whole-object retries when Jira stays unavailable beyond the client's own retries (reads, follow-ups).
        self.transient_attempts = max(1, transient_attempts)
        self.transient_pause = transient_pause
        # Rate-limit answers (beyond the client's retries) waited out per object when no longer than this.
        self.short_wait = short_wait
        self.rate_waits = rate_waits
        self.plan = Plan({}, {}, [])  # the plan being run (``run``)

    @property
    def writes(self) -> int:
        """Requests that may have written to the destination, sent by this executor so far."""
        return self.access.writes

    def run(self, plan: Plan) -> RunIdMap:
        """Execute every selected item; returns the id map. Raises ``Cancelled`` or ``MustWait`` between objects.

        Ready items wait in a queue ordered by the work that hangs on them (``priorities``) and go to the workers
        only as one is free: an object on the longest chain (a screen every project waits for) is not queued behind
        thousands of independent filters, and an object is marked ``creating`` only when its request is about to go
        out (so a crash leaves a handful to look up on resume, not every ready object).
        """
        self.plan = plan
        ids = RunIdMap(plan.items, self.people, plan.missing_users)
        attach(plan, ids, self.access, self.restorers)  # ids of parts (versions, options) inside strings
        sorter = plan.order()
        priority = priorities(plan, self.restorers)
        total = len(plan.selected())
        done = 0
        self.reporter.starting(plan, total)
        stop: BaseException | None = None
        inflight: dict[Future[Result | _Wait], PlannedItem] = {}
        ready: list[tuple[int, int, Key]] = []  # (-priority, arrival, key): a heap
        arrivals = 0
        hold, sync = getattr(self.state, "hold", None), getattr(self.state, "sync", None)
        if hold is not None and sync is not None:
            hold()  # one commit per round below, not one per outcome and one per "creating" mark
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="restore",
                                initializer=self.thread_initializer) as pool:
            try:
                while sorter.is_active():
                    released = stop is None  # items finished without Jira may release others: read them too
                    while released:
                        released = False
                        for key in sorter.get_ready():
                            previous = self.state.recorded(key)
                            if previous is not None and previous.outcome in FINAL:
                                # Done by an earlier attempt of this run: keep its outcome, don't touch Jira.
                                self._remember(ids, plan.items[key], previous)
                                sorter.done(key)
                                done += 1
                                released = True
                                continue
                            heapq.heappush(ready, (-priority.get(key, 0), arrivals, key))
                            arrivals += 1
                    starting: list[tuple[PlannedItem, tuple[Any, ...]]] = []
                    while stop is None and ready and len(inflight) + len(starting) < self.concurrency:
                        if self.reporter.should_stop():
                            stop = Cancelled()
                            break  # what is still queued stays pending; the graph is abandoned below
                        item = plan.items[heapq.heappop(ready)[2]]
                        starting.append((item, self._prepare(plan, item, ids)))
                    if sync is not None:
                        sync()  # outcomes so far and this round's "creating" marks, before its requests go out
                    for item, args in starting:
                        inflight[pool.submit(self._one, *args)] = item
                    if not inflight:
                        break
                    finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                    for future in finished:
                        item = inflight.pop(future)
                        result = future.result()  # SystemExit/KeyboardInterrupt from a worker propagate: a crash
                        if isinstance(result, _Wait):
                            stop = stop or MustWait(result.seconds)
                            continue
                        self.state.record(item, result)
                        self._remember(ids, item, result)
                        sorter.done(item.key)
                        done += 1
                        self.reporter.item_done(item, result, done, total)
            except BaseException:
                if sync is not None:
                    try:
                        sync()  # keep the outcomes that finished before whatever went wrong...
                    except Exception:
                        # ...if the database still takes them. When it is what went wrong (cut, locked), this second
                        # commit fails too, and its error must not replace the original: the job runner tells a lost
                        # database (wait, requeue, resume) from a bug (fail) by that original error.
                        log.warning("restore: outcomes of the last round could not be saved", exc_info=True)
                raise
        if stop is None:
            self._complete(plan, ids)
        if sync is not None:
            sync()
        if stop is not None:
            raise stop
        return ids

    def _complete(self, plan: Plan, ids: RunIdMap) -> None:
        """Complete the objects that name parts of objects restored after them, now that those exist. Runs after
        every object (again on a resumed run: ``complete`` compares before writing), one object at a time (there
        are few); its notes replace the create's, which said what was left out for want of those parts."""
        for item in plan.selected():
            recorded = self.state.recorded(item.key)
            if not item.later or recorded is None or recorded.outcome not in MAPPED or not recorded.dest_id:
                continue
            if any(ids.get(ref.type_key, ref.source_id) is None for ref in item.later):
                continue  # what it names didn't come back: the create's notes say so
            restorer = self.restorers[item.type_key]
            with collecting() as notes:
                try:
                    wrote = restorer.complete(self.access, recorded.dest_id, plan.objects[item.key], ids)
                except RateLimited as exc:
                    raise MustWait(exc.retry_after or self.max_wait) from None  # the resumed run completes it
                except JiraUnavailable:
                    raise MustWait(self.transient_pause * self.transient_attempts) from None
                except (JiraError, CannotRestore, UnmappedReference) as exc:
                    note(f"Completing it once what it names was restored failed: {exc}.")
                    wrote = True
            if wrote:
                self.state.record(item, Result(recorded.outcome, recorded.dest_id, recorded.reason, recorded.fix,
                                               notes=list(dict.fromkeys(notes))))

    def _prepare(self, plan: Plan, item: PlannedItem, ids: RunIdMap) -> tuple[Any, ...]:
        """Mark a create ``creating`` (durable at the round's sync, before its request) and give the work's args."""
        previous = self.state.recorded(item.key)
        interrupted = previous is not None and previous.outcome == Outcome.CREATING
        unfinished = previous.dest_id if previous is not None and previous.outcome == Outcome.INCOMPLETE else None
        if item.action == Action.CREATE and not interrupted and unfinished is None:
            # Written before the request goes out: a crash from here on is reconciled on resume.
            self.state.record(item, Result(Outcome.CREATING))
        return item, plan.objects[item.key], ids, interrupted, unfinished

    def _remember(self, ids: RunIdMap, item: PlannedItem, result: Result) -> None:
        if result.outcome in HAS_ID and result.dest_id:
            ids.set(item.key, result.dest_id)
        else:
            ids.forget(item.key)  # a failed/skipped object maps to nothing: its dependants are skipped

    # -- one object (on a worker thread: Jira only, no database) -----------------------------------------

    def _one(self, item: PlannedItem, obj: dict[str, Any], ids: RunIdMap, interrupted: bool,
             unfinished: str | None = None) -> Result | _Wait:
        with collecting() as notes:
            result = self._guarded(item, obj, ids, interrupted, unfinished)
        if isinstance(result, Result):
            result.notes = list(dict.fromkeys([*result.notes, *notes]))
        return result

    def _guarded(self, item: PlannedItem, obj: dict[str, Any], ids: RunIdMap, interrupted: bool,
                 unfinished: str | None) -> Result | _Wait:
        restorer = self.restorers[item.type_key]
        try:
            attempt = waits = 0
            while True:
                try:
                    return self._act(restorer, item, obj, ids, interrupted, unfinished)
                except RateLimited as exc:
                    # The client's own retries met 429 after 429 (workers competing for one endpoint's burst
                    # bucket): a short wait is waited here, for this object only, instead of stopping the run
                    # and planning it again; a long one (the hourly quota) still stops it.
                    if exc.retry_after is None or exc.retry_after > self.short_wait or waits >= self.rate_waits:
                        raise
                    waits += 1
                    interrupted = interrupted or item.action == Action.CREATE
                    time.sleep(exc.retry_after)
                except JiraUnavailable:
                    attempt += 1
                    if attempt >= self.transient_attempts:
                        raise
                    # A read or a create's look-up kept failing: try the object again, looking before creating.
                    interrupted = interrupted or item.action == Action.CREATE
                    time.sleep(self.transient_pause * attempt)
        except RateLimited as exc:
            return _Wait(exc.retry_after or self.max_wait)
        except UnmappedReference as exc:
            return Result(Outcome.SKIPPED, reason=self._dependency_reason(self.plan, exc.ref))
        except CannotRestore as exc:
            return Result(Outcome.CANNOT, reason=exc.reason, fix=exc.fix)
        except NeedsAuthorisation as exc:
            return Result(Outcome.CANNOT, reason=f"{exc.method} {exc.path} can't be called with the access the app "
                                                 "has.", fix=exc.fix)
        except JiraError as exc:
            return Result(Outcome.FAILED, item.dest_id, reason=f"Jira refused it: {exc.describe()}")
        except Exception as exc:  # one object's bug must not stop the run
            log.exception("restore of %s %s crashed", item.type_key, item.source_id)
            return Result(Outcome.FAILED, reason=f"Internal error ({type(exc).__name__}).")

    def _act(self, restorer: Restorer, item: PlannedItem, obj: dict[str, Any], ids: RunIdMap,
             interrupted: bool, unfinished: str | None = None) -> Result:
        if unfinished is not None and item.action in (Action.CREATE, Action.REUSE, Action.UPDATE):
            # Created by an earlier run whose follow-up writes failed: only those are retried.
            for ref in item.refs:
                if not ref.optional:
                    ids.require(ref.type_key, ref.source_id)
            return self._follow_up(restorer, unfinished, obj, ids, "Follow-up writes finished on a later attempt.")
        if item.action == Action.CANNOT:
            return Result(Outcome.CANNOT, reason=item.reason, fix=item.fix)
        if item.action == Action.SKIP:
            return Result(Outcome.SKIPPED, reason=item.reason)
        for ref in item.refs:
            if not ref.optional:
                ids.require(ref.type_key, ref.source_id)
        if item.action == Action.REUSE:
            if interrupted and item.dest_id:
                # An earlier attempt created it and died before recording: finish its follow-up writes.
                return self._follow_up(restorer, item.dest_id, obj, ids,
                                       "Created by an interrupted attempt; reconciled.")
            return Result(Outcome.REUSED, item.dest_id, item.reason, item.fix)
        if item.action == Action.UPDATE:
            assert item.dest_id is not None
            restorer.update(self.access, item.dest_id, obj, ids)
            return Result(Outcome.UPDATED, item.dest_id, item.reason)
        dest_id, fresh = self._create(restorer, item, obj, ids, interrupted)
        return self._follow_up(restorer, dest_id, obj, ids, "", fresh=fresh)

    def _follow_up(self, restorer: Restorer, dest_id: str, obj: dict[str, Any], ids: RunIdMap,
                   reason: str, *, fresh: bool = False) -> Result:
        """Run ``after_create``; when it fails the object still exists: ``incomplete``, with its id kept."""
        # Follow-ups are idempotent and each attempt keeps what the last one wrote (a project's versions, say), so
        # they get more attempts than a whole object: under a steady fault rate a project with many versions would
        # otherwise end "incomplete" although every retry was making progress.
        attempts = self.transient_attempts * 3
        try:
            for attempt in range(attempts):
                try:
                    # Only the first attempt after our own create may trust the object to be as Jira made it.
                    with fresh_follow_up(fresh and attempt == 0):
                        restorer.after_create(self.access, dest_id, obj, ids)
                    return Result(Outcome.CREATED, dest_id, reason)
                except RateLimited:
                    raise
                except JiraUnavailable:
                    if attempt == attempts - 1:
                        raise
                    time.sleep(self.transient_pause * (attempt + 1))
        except CannotRestore as exc:
            return Result(Outcome.INCOMPLETE, dest_id, f"Created, but its follow-up writes hit a wall: {exc.reason}",
                          exc.fix)
        except NeedsAuthorisation as exc:
            return Result(Outcome.INCOMPLETE, dest_id, f"Created, but {exc.method} {exc.path} can't be called with "
                                                       "the access the app has.", exc.fix)
        except UnmappedReference as exc:
            return Result(Outcome.INCOMPLETE, dest_id, f"Created, but its follow-up writes need {exc}.",
                          "Restore what it refers to, then run the restore again.")
        except RateLimited:
            raise
        except JiraError as exc:
            return Result(Outcome.INCOMPLETE, dest_id, f"Created, but Jira refused a follow-up write: "
                                                       f"{exc.describe()}", "Run the restore again to retry them.")
        raise AssertionError("unreachable")

    def _create(self, restorer: Restorer, item: PlannedItem, obj: dict[str, Any], ids: RunIdMap,
                interrupted: bool) -> tuple[str, bool]:
        """The destination id, and whether this call created it (``fresh``) rather than found it."""
        if interrupted:
            found = self._lookup(restorer, item, obj, ids)
            if found is not None:
                return found, False
        for attempt in range(self.create_attempts):
            try:
                return restorer.create(self.access, obj, ids), True
            except RateLimited:
                raise  # Jira did not process it; the run pauses as told
            except JiraUnavailable:
                if attempt == self.create_attempts - 1:
                    raise
                # The create may have happened and only its answer was lost: look before sending it again.
                found = self._lookup(restorer, item, obj, ids)
                if found is not None:
                    return found, False
        raise AssertionError("unreachable")

    def _lookup(self, restorer: Restorer, item: PlannedItem, obj: dict[str, Any], ids: RunIdMap) -> str | None:
        """The destination id of the object if it exists already (a read: retried while Jira is unavailable).

        Not by the plan's key alone: a key built on the id map (a board's filter) is built again on the run's ids,
        which know what this run created since planning; and a restorer whose key holds only after its follow-up
        writes (a filter's owner) finds a create that stopped before them through ``find_created``.
        """
        find_created = getattr(restorer, "find_created", None)
        match_key = getattr(restorer, "match_key", None)
        key = match_key(obj, ids) if match_key is not None else item.natural_key
        for attempt in range(self.transient_attempts):
            try:
                found = find_created(self.access, obj, ids) if find_created is not None \
                    else restorer.lookup(self.access, key)
                return found.dest_id if found is not None else None
            except RateLimited:
                raise
            except JiraUnavailable:
                if attempt == self.transient_attempts - 1:
                    raise
                time.sleep(self.transient_pause * (attempt + 1))
        raise AssertionError("unreachable")

    def _dependency_reason(self, plan: Plan, ref: Ref) -> str:
        target = plan.items.get((ref.type_key, ref.source_id))
        if target is None:
            return f"It depends on {ref.type_key} {ref.source_id}, which the snapshot doesn't hold."
        title = self.restorers[target.type_key].title.rstrip("s").lower() if target.type_key in self.restorers \
            else target.type_key
        return f"It depends on {title} {target.name!r}, which was not restored."


def priorities(plan: Plan, restorers: dict[str, Restorer] | None = None) -> dict[Key, int]:
    """Per selected item, the heaviest chain of work that can't start before it ends (itself included).

    An item's own weight is its restorer's ``cost`` estimate of the requests it will make (a screen: one per tab
    and per field on it; a project: one per component, version and role), else ``1 + len(refs)``: the objects with
    the longest runs of sequential requests start first instead of being left to run alone at the end.
    """
    selected = {i.key: i for i in plan.selected()}
    dependants: dict[Key, list[Key]] = {}
    for item in selected.values():
        for ref in item.refs:
            target = (ref.type_key, ref.source_id)
            if target in selected and target != item.key:
                dependants.setdefault(target, []).append(item.key)
    sorter = plan.order()
    order: list[Key] = []
    while sorter.is_active():
        batch = list(sorter.get_ready())
        order.extend(batch)
        sorter.done(*batch)
    heights: dict[Key, int] = {}
    for key in reversed(order):
        below = max((heights[d] for d in dependants.get(key, ()) if d in heights), default=0)
        item = selected[key]
        restorer = (restorers or {}).get(item.type_key)
        own = restorer.cost(plan.objects[key]) if restorer is not None and key in plan.objects else None
        heights[key] = (own if own is not None else 1 + len(item.refs)) + below
    return heights


@dataclass
class _Wait:
    seconds: float


