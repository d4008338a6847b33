"""The worker's side of the outbox: events to plugins, tracked per (event, plugin).

``dispatch`` turns each new event row into one delivery row per plugin that implements the
event's hook and is on for the event's unit. ``deliver_due`` calls each due delivery's plugin
alone — never inside a database transaction — so a failing SMS handler never re-runs the
calendar handler; it retries with exponential backoff and ends in ``dead`` after the maximum
of attempts, where an admin sees it and may retry. Events of one conference reach one plugin in
order: a delivery waits while an earlier one for the same conference and plugin is unfinished.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
import os

from core import clock
from core.db import transaction
from core.errors import NotFound
from core.plugins import PluginHost
from core.tables import Conference, DomainEvent, EventDelivery, Unit

log = logging.getLogger("hoinghi.jobs")
MAX_ATTEMPTS = int(os.environ.get("HOINGHI_MAX_ATTEMPTS", "8"))
BACKOFF_BASE_SECONDS = int(os.environ.get("HOINGHI_BACKOFF_SECONDS", "30"))
BACKOFF_MAX_SECONDS = 6 * 3600


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... capped at 6 h."""
    return dt.timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def _implementers(host: PluginHost, hook: str) -> set[str]:
    caller = getattr(host.pm.hook, hook, None)
    if caller is None:
        return set()
    return {impl.plugin_name for impl in caller.get_hookimpls()}


async def dispatch(host: PluginHost, *, batch: int = 500) -> int:
    """Create delivery rows for new events; returns how many events were dispatched."""
    events = await DomainEvent.select().where(DomainEvent.dispatched == False).order_by(DomainEvent.id).limit(batch)  # noqa: E712
    paths: dict[int, str] = {}
    for event in events:
        plugins: set[str] = set()
        implementers = _implementers(host, event["name"])
        if implementers and event["unit_id"] is not None:
            if event["unit_id"] not in paths:
                unit = await Unit.select(Unit.path).where(Unit.id == event["unit_id"]).first()
                paths[event["unit_id"]] = unit["path"] if unit else ""
            if paths[event["unit_id"]]:
                plugins = implementers & await host.enabled_for_path(paths[event["unit_id"]])
        async with transaction():
            for plugin in sorted(plugins):
                await EventDelivery.insert(EventDelivery(event=event["id"], plugin=plugin, next_attempt_at=event["created_at"])) \
                    .on_conflict(action="DO NOTHING")
            await DomainEvent.update({DomainEvent.dispatched: True}).where(DomainEvent.id == event["id"])
    return len(events)


async def _blocked(delivery: dict) -> bool:
    """An earlier event of the same conference is not yet delivered to this plugin."""
    if delivery["conference_id"] is None:
        return False
    return await EventDelivery.exists().where(
        (EventDelivery.plugin == delivery["plugin"]) & EventDelivery.status.is_in(["pending", "dead"])
        & (EventDelivery.event < delivery["event"]) & (EventDelivery.event.conference_id == delivery["conference_id"]))


async def _call(host: PluginHost, delivery: dict) -> None:
    caller = getattr(host.pm.hook, delivery["name"])
    impls = [impl for impl in caller.get_hookimpls() if impl.plugin_name == delivery["plugin"]]
    if not impls:
        return  # the plugin was uninstalled: nothing to do
    conference = None
    if delivery["conference_id"] is not None:
        conference = await Conference.select().where(Conference.id == delivery["conference_id"]).first()
        if conference is None:
            raise NotFound("conference gone")
    event = {"id": delivery["event"], "name": delivery["name"], "unit_id": delivery["unit_id"],
             "conference_id": delivery["conference_id"], "payload": delivery["payload"]}
    result = impls[0].function(conference=conference, event=event)
    if inspect.isawaitable(result):
        await result


async def deliver_due(host: PluginHost, *, limit: int = 200) -> dict[str, int]:
    """Run due deliveries once; returns counts by outcome."""
    now = clock.now()
    due = await EventDelivery.select(
        EventDelivery.all_columns(), EventDelivery.event.name.as_alias("name"), EventDelivery.event.unit_id.as_alias("unit_id"),
        EventDelivery.event.conference_id.as_alias("conference_id"), EventDelivery.event.payload.as_alias("payload"),
    ).where((EventDelivery.status == "pending") & (EventDelivery.next_attempt_at <= now)).order_by(
        EventDelivery.event).limit(limit).output(load_json=True)
    outcome = {"delivered": 0, "retry": 0, "dead": 0, "waiting": 0}
    for delivery in due:
        if await _blocked(delivery):
            outcome["waiting"] += 1
            continue
        try:
            await _call(host, delivery)
        except Exception as error:  # a plugin's failure is recorded, never propagated
            attempts = delivery["attempts"] + 1
            status = "dead" if attempts >= MAX_ATTEMPTS else "pending"
            log.warning("delivery %s of event %s to %s failed (%s/%s): %r", delivery["id"], delivery["event"], delivery["plugin"],
                        attempts, MAX_ATTEMPTS, error)
            await EventDelivery.update({
                EventDelivery.attempts: attempts, EventDelivery.status: status, EventDelivery.last_error: repr(error)[:2000],
                EventDelivery.next_attempt_at: clock.now() + backoff(attempts),
            }).where(EventDelivery.id == delivery["id"])
            outcome["dead" if status == "dead" else "retry"] += 1
            continue
        await EventDelivery.update({EventDelivery.status: "delivered", EventDelivery.attempts: delivery["attempts"] + 1,
                                    EventDelivery.delivered_at: clock.now(), EventDelivery.last_error: ""}).where(
            EventDelivery.id == delivery["id"])
        outcome["delivered"] += 1
    return outcome


async def run_once(host: PluginHost, handlers: dict | None = None) -> dict[str, int]:
    """One pass of the worker: dispatch new events, deliver what is due, run due jobs."""
    dispatched = await dispatch(host)
    delivered = await deliver_due(host)
    jobs = await run_due_jobs(handlers if handlers is not None else all_job_handlers(host))
    return {"dispatched": dispatched, **delivered, **{f"jobs_{key}": value for key, value in jobs.items()}}


def all_job_handlers(host: PluginHost) -> dict:
    from core import notifications

    async def send_messages(job):
        await notifications.reconcile_stale()
        deadline = notifications.ROUND_CLOCK() + SEND_ROUND_SECONDS
        attempted = await notifications.send_due(host, limit=notifications.SEND_PER_JOB, deadline=deadline)
        if attempted >= notifications.SEND_PER_JOB or notifications.ROUND_CLOCK() >= deadline:
            # a campaign larger than one round, or a slow channel out of the round's time: the
            # next round at once, under a fresh lease
            await schedule("send_messages", run_at=clock.now(), dedupe_key=job["dedupe_key"] or "core:send_messages:more")

    async def conference_reminder(job):
        await notifications.send_reminder(host, job)

    async def conference_notice(job):
        await notifications.send_notice(host, job)

    handlers = {**core_job_handlers(), "send_messages": send_messages, "conference_reminder": conference_reminder,
                notifications.NOTICE_JOB: conference_notice}
    for contributed in host.pm.hook.job_handlers():
        handlers.update(contributed or {})
    return handlers


async def dead_letters(limit: int = 100) -> list[dict]:
    return await EventDelivery.select(
        EventDelivery.all_columns(), EventDelivery.event.name.as_alias("name"), EventDelivery.event.conference_id.as_alias("conference_id"),
    ).where(EventDelivery.status == "dead").order_by(EventDelivery.id).limit(limit)


async def retry_dead(delivery_id: int) -> None:
    """An admin sends a dead delivery round again (attempts start over)."""
    updated = await EventDelivery.update({EventDelivery.status: "pending", EventDelivery.attempts: 0,
                                          EventDelivery.next_attempt_at: clock.now()}).where(
        (EventDelivery.id == delivery_id) & (EventDelivery.status == "dead")).returning(EventDelivery.id)
    if not updated:
        raise NotFound("Không tìm thấy lần gửi thất bại này.")


# -- scheduled jobs -------------------------------------------------------------------------

LEASE = dt.timedelta(seconds=int(os.environ.get("HOINGHI_JOB_LEASE_SECONDS", "300")))
# a round of send_messages starts no message after this: half the lease, so the round's last
# calls (a channel's retries with backoff, a slow answer) still end well inside it
SEND_ROUND_SECONDS = LEASE.total_seconds() / 2


_fault_counts: dict[str, int] = {}


def _fault(step: str, kind: str) -> None:
    """Crash-test hook: HOINGHI_FAULT="<step>:<kind>" kills the process at that step;
    "<step>:<kind>@N" at the N-th time this process reaches it (a campaign half sent)."""
    wanted = os.environ.get("HOINGHI_FAULT")
    if not wanted:
        return
    point, _, nth = wanted.partition("@")
    if point != f"{step}:{kind}":
        return
    _fault_counts[point] = _fault_counts.get(point, 0) + 1
    if not nth or _fault_counts[point] == int(nth):
        log.error("fault injected at %s of %s", step, kind)
        os._exit(86)


async def schedule(
    kind: str, *, run_at: dt.datetime, dedupe_key: str | None = None, plugin: str | None = None, unit_id: int | None = None,
    conference_id: int | None = None, payload: dict | None = None,
) -> int:
    """Schedule a job; with a ``dedupe_key`` an existing unfinished job is moved instead."""
    from core.tables import Job

    if dedupe_key is not None:
        existing = await Job.select(Job.id, Job.status).where(Job.dedupe_key == dedupe_key).first()
        if existing is not None:
            await Job.update({Job.run_at: run_at, Job.payload: payload or {}, Job.status: "pending", Job.attempts: 0,
                              Job.lease_until: None, Job.finished_at: None}).where(Job.id == existing["id"])
            return existing["id"]
    row = await Job.insert(Job(kind=kind, plugin=plugin, dedupe_key=dedupe_key, unit_id=unit_id, conference_id=conference_id,
                               payload=payload or {}, run_at=run_at, created_at=clock.now())).returning(Job.id)
    return row[0]["id"]


async def cancel(*, dedupe_key: str | None = None, plugin: str | None = None, unit_ids: list[int] | None = None,
                 conference_id: int | None = None, kind: str | None = None) -> int:
    """Cancel unfinished jobs matching every given filter; returns how many."""
    from core.tables import Job

    query = Job.update({Job.status: "cancelled", Job.finished_at: clock.now()}).where(Job.status.is_in(["pending", "running"]))
    if dedupe_key is not None:
        query = query.where(Job.dedupe_key == dedupe_key)
    if plugin is not None:
        query = query.where(Job.plugin == plugin)
    if unit_ids is not None:
        query = query.where(Job.unit_id.is_in(unit_ids or [-1]))
    if conference_id is not None:
        query = query.where(Job.conference_id == conference_id)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return len(await query.returning(Job.id))


async def claim(*, limit: int = 20) -> list[dict]:
    """Take due jobs under a lease: pending ones whose time came, and running ones whose lease
    expired (their worker died). One UPDATE ... RETURNING on both databases; PostgreSQL also
    skips rows another worker is claiming."""
    from core.tables import Job

    now = clock.now()
    due = "(status = 'pending' AND run_at <= {}) OR (status = 'running' AND lease_until < {})"
    lock = " FOR UPDATE SKIP LOCKED" if Job._meta.db.engine_type == "postgres" else ""
    async with transaction():
        return await Job.raw(
            f"UPDATE job SET status = 'running', attempts = attempts + 1, lease_until = {{}} "
            f"WHERE id IN (SELECT id FROM job WHERE {due} ORDER BY run_at, id LIMIT {{}}{lock}) RETURNING *",
            now + LEASE, now, now, limit,
        )


# core housekeeping: kind -> how often it comes back
PERIODIC = {
    "end_conferences": dt.timedelta(minutes=5),
    "materialise_series": dt.timedelta(hours=24),
    "retention_purge": dt.timedelta(hours=24),
}


async def ensure_periodic_jobs() -> None:
    """Schedule each core housekeeping job once (the worker calls this when it starts)."""
    from core.tables import Job

    for kind in PERIODIC:
        if not await Job.exists().where((Job.dedupe_key == f"core:{kind}") & Job.status.is_in(["pending", "running"])):
            await schedule(kind, run_at=clock.now(), dedupe_key=f"core:{kind}")


def core_job_handlers() -> dict:
    from core.services import conferences, retention, series

    def periodic(kind, work):
        async def handler(job):
            await work()
            # the next round; moving the job back to pending also keeps it from being marked done
            await schedule(kind, run_at=clock.now() + PERIODIC[kind], dedupe_key=f"core:{kind}")

        return handler

    return {
        "end_conferences": periodic("end_conferences", conferences.end_due_conferences),
        "materialise_series": periodic("materialise_series", series.materialise_all_series),
        "retention_purge": periodic("retention_purge", retention.purge),
    }


async def run_due_jobs(handlers: dict, *, limit: int = 20) -> dict[str, int]:
    """Run claimed jobs; success marks done, failure retries with backoff, then dead."""
    from core.tables import Job

    outcome = {"done": 0, "rescheduled": 0, "retry": 0, "dead": 0}
    for job in await claim(limit=limit):
        handler = handlers.get(job["kind"])
        _fault("after_claim", job["kind"])
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job['kind']!r}")
            job["payload"] = json.loads(job["payload"]) if isinstance(job["payload"], str) else job["payload"]
            await handler(job)
            _fault("after_effect", job["kind"])
        except Exception as error:  # recorded on the job; the worker goes on
            dead = job["attempts"] >= MAX_ATTEMPTS
            await Job.update({Job.status: "dead" if dead else "pending", Job.last_error: repr(error)[:2000], Job.lease_until: None,
                              Job.run_at: clock.now() + backoff(job["attempts"])}).where(Job.id == job["id"])
            outcome["dead" if dead else "retry"] += 1
            continue
        finished = await Job.update({Job.status: "done", Job.finished_at: clock.now(), Job.lease_until: None, Job.last_error: ""}).where(
            (Job.id == job["id"]) & (Job.status == "running")).returning(Job.id)
        outcome["done" if finished else "rescheduled"] += 1
    return outcome
