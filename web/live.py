"""Live updates of the roll-call and conference pages, across every server process.

Every change that a live page shows already leaves a row in the ``domain_event`` outbox, whoever
made it: this process, another server process, the worker or the CLI. So the outbox is the
source, and Litestar's channels carry it to the listeners:

* A **relay** reads the outbox by id, once per ``HOINGHI_LIVE_POLL_SECONDS`` (0.5 s), builds one
  small JSON message per relevant event (with the conference's current RSVP and roll-call counts,
  computed once per batch, not per listener) and publishes it on the conference's channel.
* Without ``REDIS_URL`` every process runs its own relay over an in-memory channels backend: one
  query per interval per process, fanned out in memory to that process's listeners.
* With ``REDIS_URL`` the channels backend is Redis pub/sub and one relay per deployment runs, in
  whichever process holds a lease in Redis; its cursor lives in Redis too, so another process
  takes over where it stopped.
* ``GET /api/v1/conferences/{id}/live`` is a server-sent event stream: a snapshot (or, after a
  reconnect with ``Last-Event-ID``, the events missed since), then one event per change, and a
  keep-alive comment every ``HOINGHI_LIVE_KEEPALIVE_SECONDS`` (15 s). Events are idempotent (a
  person marked present, the current counts), so a repeated one is harmless.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Awaitable, Callable

from litestar import Request, get
from litestar.background_tasks import BackgroundTask
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.config.app import AppConfig
from litestar.exceptions import NotAuthorizedException
from litestar.params import Parameter
from litestar.plugins import InitPlugin
from litestar.response import ServerSentEventMessage, Stream

from core.access import Actor, conference_scope
from core.errors import DomainError, NotFound
from core.services import conferences, invitations, rollcall
from core.tables import DomainEvent, Invitation, Person
from web.auth import current_actor
from web.stores import redis_client, redis_namespace, redis_url

log = logging.getLogger("hoinghi.live")

LIVE_EVENT_NAMES = frozenset({
    "attendance_recorded", "rsvp_changed", "invitations_issued", "invitations_withdrawn",
    "conference_published", "conference_revised", "conference_cancelled", "conference_ended",
})
# a sequence id still missing after this long belongs to a rolled-back transaction
GAP_SECONDS = 10.0
# a gap this wide is not in-flight transactions (ids burnt by a failed bulk insert): not waited for
MAX_GAP_WIDTH = 10_000
BATCH = 1000
# a listener coming back after more missed events than this gets a fresh snapshot instead
BACKLOG_LIMIT = 500
LEASE_MILLISECONDS = 5000
RECONNECT_MILLISECONDS = 2000
# a bare comment: Litestar's comment messages carry an empty "data:" line, which browsers
# dispatch as an empty message event
KEEPALIVE = b": keep-alive\r\n\r\n"
SYSTEM = Actor.system_actor("trang trực tiếp")


def _seconds_env(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    return value if value > 0 else default


def poll_seconds() -> float:
    return _seconds_env("HOINGHI_LIVE_POLL_SECONDS", 0.5)


def keepalive_seconds() -> float:
    return _seconds_env("HOINGHI_LIVE_KEEPALIVE_SECONDS", 15.0)


# ---------------------------------------------------------------------------------------------
# reading the outbox


class OutboxCursor:
    """Reads ``domain_event`` in id order without losing rows that commit out of id order.

    On PostgreSQL an id is taken from a sequence at insert time, so a row with a lower id can
    commit after one with a higher id, and a rolled-back transaction leaves a hole for good. The
    cursor remembers the holes below the highest id it has read and asks for them again until
    they appear or are ``GAP_SECONDS`` old. (On SQLite writers are serialised; holes never fill.)
    """

    def __init__(self, top: int) -> None:
        self.top = top
        self.gaps: dict[int, float] = {}

    @property
    def low_water(self) -> int:
        """Every id up to this one has been read or given up: where a successor starts."""
        return min(self.gaps) - 1 if self.gaps else self.top

    async def read(self) -> list[dict]:
        columns = (DomainEvent.id, DomainEvent.name, DomainEvent.conference_id, DomainEvent.payload)
        rows = await DomainEvent.select(*columns).where(DomainEvent.id > self.top).order_by(DomainEvent.id).limit(BATCH).output(
            load_json=True)
        now = time.monotonic()
        if self.gaps:
            waited = sorted(self.gaps)[:BATCH]
            late = await DomainEvent.select(*columns).where(DomainEvent.id.is_in(waited)).output(load_json=True)
            for row in late:
                del self.gaps[row["id"]]
            rows = sorted(late, key=lambda row: row["id"]) + rows
            self.gaps = {event_id: since for event_id, since in self.gaps.items() if now - since < GAP_SECONDS}
        for row in rows:
            if row["id"] > self.top:
                if row["id"] - self.top <= MAX_GAP_WIDTH:
                    self.gaps.update(dict.fromkeys(range(self.top + 1, row["id"]), now))
                self.top = row["id"]
        return rows


async def latest_event_id(conference_id: int | None = None) -> int:
    query = DomainEvent.select(DomainEvent.id).order_by(DomainEvent.id, ascending=False).limit(1)
    if conference_id is not None:
        query = query.where((DomainEvent.conference_id == conference_id) & DomainEvent.name.is_in(sorted(LIVE_EVENT_NAMES)))
    row = await query.first()
    return row["id"] if row else 0


# ---------------------------------------------------------------------------------------------
# messages: built once per batch, shaped per listener


async def build_messages(rows: list[dict]) -> list[dict]:
    """One message per live event row, with the current counts of its conference (one set of
    count queries per conference in the batch). Rows of a deleted conference are dropped."""
    rows = [row for row in rows if row["name"] in LIVE_EVENT_NAMES and row["conference_id"]]
    if not rows:
        return []
    person_ids = {row["payload"].get("person_id") for row in rows if row["name"] == "attendance_recorded"} - {None}
    invitation_ids = {row["payload"].get("invitation_id") for row in rows if row["name"] == "rsvp_changed"} - {None}
    names = {}
    if person_ids:
        names = {p["id"]: p["full_name"] for p in await Person.select(Person.id, Person.full_name).where(Person.id.is_in(sorted(person_ids)))}
    answered = {}
    if invitation_ids:
        answered = {i["id"]: i for i in await Invitation.select(
            Invitation.id, Invitation.person, Invitation.venue, Invitation.person.full_name.as_alias("full_name"),
        ).where(Invitation.id.is_in(sorted(invitation_ids)))}
    counts = {}
    for conference_id in sorted({row["conference_id"] for row in rows}):
        with contextlib.suppress(NotFound):
            counts[conference_id] = {
                "rsvp": await invitations.count_by_rsvp(SYSTEM, conference_id),
                "rollcall_by_venue": [[venue, totals] for venue, totals in (await rollcall.counts_by_venue(conference_id)).items()],
            }
    messages = []
    for row in rows:
        if row["conference_id"] not in counts:
            continue
        payload = row["payload"]
        message: dict[str, Any] = {"id": row["id"], "kind": row["name"], "conference_id": row["conference_id"]}
        if row["name"] == "attendance_recorded":
            message.update(person_id=payload.get("person_id"), person_name=names.get(payload.get("person_id")),
                           status=payload.get("status"), venue_id=payload.get("venue_id"))
        elif row["name"] == "rsvp_changed":
            invitation = answered.get(payload.get("invitation_id")) or {}
            message.update(person_id=invitation.get("person"), person_name=invitation.get("full_name"),
                           answer=payload.get("answer"), venue_id=invitation.get("venue"))
        elif row["name"] in ("invitations_issued", "invitations_withdrawn"):
            person_list = payload.get("person_ids")
            message["count"] = len(person_list) if isinstance(person_list, list) else None
        message.update(counts[row["conference_id"]])
        messages.append(message)
    return messages


def shape_for(message: dict, visible_venue_ids: frozenset[int] | None) -> dict:
    """What one listener may see: staff granted only some venues see those venues' totals, and
    no names from other venues."""
    shaped = {key: value for key, value in message.items() if key != "rollcall_by_venue"}
    totals: dict[str, int] = collections.Counter()
    for venue, venue_totals in message.get("rollcall_by_venue", []):
        if visible_venue_ids is None or venue in visible_venue_ids:
            totals.update(venue_totals)
    shaped["rollcall"] = dict(totals)
    if visible_venue_ids is not None and "person_id" in shaped and shaped.get("venue_id") not in visible_venue_ids:
        for key in ("person_id", "person_name"):
            shaped.pop(key, None)
    return shaped


async def snapshot(conference_id: int) -> dict:
    """The current counts, as the first event of a stream (its id: the conference's latest event)."""
    message = {"id": await latest_event_id(conference_id), "kind": "snapshot", "conference_id": conference_id,
               "rsvp": await invitations.count_by_rsvp(SYSTEM, conference_id),
               "rollcall_by_venue": [[venue, totals] for venue, totals in (await rollcall.counts_by_venue(conference_id)).items()]}
    return message


async def backlog(conference_id: int, after: int) -> list[dict] | None:
    """The live events of a conference after ``after``; None when there are too many to replay."""
    rows = await DomainEvent.select(DomainEvent.id, DomainEvent.name, DomainEvent.conference_id, DomainEvent.payload).where(
        (DomainEvent.conference_id == conference_id) & (DomainEvent.id > after) & DomainEvent.name.is_in(sorted(LIVE_EVENT_NAMES))
    ).order_by(DomainEvent.id).limit(BACKLOG_LIMIT + 1).output(load_json=True)
    if len(rows) > BACKLOG_LIMIT:
        return None
    return await build_messages(rows)


# ---------------------------------------------------------------------------------------------
# who relays: every process (memory) or the holder of a lease (Redis)


class ProcessLeadership:
    """Without Redis each process relays for its own listeners."""

    async def hold(self) -> bool:
        return True

    async def saved_cursor(self) -> int | None:
        return None

    async def save_cursor(self, low_water: int) -> None:
        return None

    async def release(self) -> None:
        return None


class RedisLeadership:
    """One relay per deployment: a lease in Redis, renewed every poll; the cursor beside it."""

    _RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

    def __init__(self, redis, namespace: str) -> None:
        self.redis = redis
        self.lease_key = f"{namespace}:live:relay"
        self.cursor_key = f"{namespace}:live:cursor"
        self.token = uuid.uuid4().hex

    async def hold(self) -> bool:
        if await self.redis.eval(self._RENEW, 1, self.lease_key, self.token, LEASE_MILLISECONDS):
            return True
        return bool(await self.redis.set(self.lease_key, self.token, nx=True, px=LEASE_MILLISECONDS))

    async def saved_cursor(self) -> int | None:
        value = await self.redis.get(self.cursor_key)
        return int(value) if value is not None else None

    async def save_cursor(self, low_water: int) -> None:
        await self.redis.set(self.cursor_key, low_water)

    async def release(self) -> None:
        await self.redis.eval(self._RELEASE, 1, self.lease_key, self.token)


# ---------------------------------------------------------------------------------------------
# the per-process hub: relay task, channel subscriptions, listener streams


class LiveHub:
    def __init__(self, channels: ChannelsPlugin, *, namespace: str, redis=None) -> None:
        self.channels = channels
        self.namespace = namespace
        self.redis = redis
        self.leadership = RedisLeadership(redis, namespace) if redis is not None else ProcessLeadership()
        self.listeners: collections.Counter[int] = collections.Counter()
        self.cursor: OutboxCursor | None = None

    def channel(self, conference_id: int) -> str:
        return f"{self.namespace}:conference:{conference_id}"

    async def listened(self, conference_ids: set[int]) -> set[int]:
        """Conferences somebody listens to: here (memory) or in any process (Redis)."""
        if self.redis is None:
            return {cid for cid in conference_ids if self.listeners[cid]}
        counts = await self.redis.pubsub_numsub(*(self.channel(cid) for cid in conference_ids))
        listened_channels = {name.decode() if isinstance(name, bytes) else name for name, count in counts if count}
        return {cid for cid in conference_ids if self.channel(cid) in listened_channels}

    async def relay_once(self) -> int:
        """Read new outbox rows and publish the live ones somebody listens to; returns how many."""
        if not await self.leadership.hold():
            self.cursor = None  # whoever holds the lease moves the cursor; start from it if ours again
            return 0
        if self.cursor is None:
            latest = await latest_event_id()
            saved = await self.leadership.saved_cursor()
            # a saved cursor beyond the database (a restored or replaced one) is worthless
            self.cursor = OutboxCursor(saved if saved is not None and saved <= latest else latest)
        rows = [row for row in await self.cursor.read() if row["name"] in LIVE_EVENT_NAMES and row["conference_id"]]
        published = 0
        if rows:
            wanted = await self.listened({row["conference_id"] for row in rows})
            for message in await build_messages([row for row in rows if row["conference_id"] in wanted]):
                await self.channels.wait_published(json.dumps(message).encode(), self.channel(message["conference_id"]))
                published += 1
        await self.leadership.save_cursor(self.cursor.low_water)
        return published

    async def run_relay(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.relay_once()
            except Exception:  # a database or Redis hiccup must not end live updates for good
                log.exception("live relay failed; retrying")
                if self.redis is not None:
                    self.cursor = None  # the lease may have passed on meanwhile: start again from the saved cursor
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds())

    @asynccontextmanager
    async def lifespan(self, app) -> AsyncGenerator[None, None]:
        stop = asyncio.Event()
        task = asyncio.create_task(self.run_relay(stop))
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=5)
            if self.redis is not None:
                with contextlib.suppress(Exception):
                    await self.leadership.release()
                await self.redis.aclose()

    async def stream(self, conference_id: int, visible_venue_ids: frozenset[int] | None, resume_after: int | None,
                     still_allowed: Callable[[], Awaitable[bool]]) -> AsyncGenerator[bytes, None]:
        """The event stream of one listener. Every keep-alive interval it sends a comment and asks
        ``still_allowed`` (signed out everywhere, or no longer allowed to read the conference: the
        stream ends). It also ends when the client goes away (the response is cancelled, or closes
        this generator afterwards)."""
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=BACKLOG_LIMIT)

        async def enqueue(data: bytes) -> None:
            with contextlib.suppress(asyncio.QueueFull):  # a listener this far behind is beyond help; it reconnects
                queue.put_nowait(data)

        # subscribe before reading the database, so nothing committed in between is missed
        async with self.channels.start_subscription(self.channel(conference_id)) as subscriber, \
                subscriber.run_in_background(enqueue, join=False):
            self.listeners[conference_id] += 1
            try:
                sent: set[int] = set()
                first = await backlog(conference_id, resume_after) if resume_after is not None else None
                if first is None:
                    first = [await snapshot(conference_id)]
                retry = RECONNECT_MILLISECONDS
                for message in first:
                    sent.add(message["id"])
                    yield self._event(message, visible_venue_ids, retry=retry)
                    retry = None
                next_check = time.monotonic() + keepalive_seconds()
                while True:
                    try:
                        data = await asyncio.wait_for(queue.get(), timeout=max(0.0, next_check - time.monotonic()))
                    except asyncio.TimeoutError:
                        if not await still_allowed():
                            return
                        yield KEEPALIVE
                        next_check = time.monotonic() + keepalive_seconds()
                        continue
                    message = json.loads(data)
                    if message["id"] in sent:
                        continue
                    sent.add(message["id"])
                    yield self._event(message, visible_venue_ids)
            finally:
                self.listeners[conference_id] -= 1
                if self.listeners[conference_id] <= 0:
                    del self.listeners[conference_id]

    @staticmethod
    def _event(message: dict, visible_venue_ids, *, retry: int | None = None) -> bytes:
        return ServerSentEventMessage(data=json.dumps(shape_for(message, visible_venue_ids), ensure_ascii=False),
                                      event=message["kind"], id=str(message["id"]), retry=retry).encode()


# ---------------------------------------------------------------------------------------------
# the route and the plugin that wires it all into the app


@get("/api/v1/conferences/{conference_id:int}/live", opt={"access": "staff"}, media_type="text/event-stream")
async def conference_live(
    request: Request, actor: Actor, conference_id: int,
    last_event_id: int | None = Parameter(header="Last-Event-ID", default=None, ge=0),
) -> Stream:
    """Server-sent events of one conference: a ``snapshot`` with the RSVP and roll-call counts,
    then ``attendance_recorded``, ``rsvp_changed``, ``invitations_issued``/``_withdrawn`` and
    ``conference_*`` events, each with the current counts; keep-alive comments every 15 s.
    Reconnecting with ``Last-Event-ID`` replays what was missed."""
    conference = await conferences.get_conference(actor, conference_id)
    visible = conference["visible_venue_ids"]

    async def still_allowed() -> bool:
        try:
            await conference_scope(await current_actor(request), conference_id, "read")
        except (NotAuthorizedException, DomainError):
            return False
        return True

    hub: LiveHub = request.app.state.live_hub
    events = hub.stream(conference_id, None if visible is None else frozenset(visible), last_event_id, still_allowed)
    return Stream(events, media_type="text/event-stream", background=BackgroundTask(events.aclose),
                  headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


class LiveUpdates(InitPlugin):
    """Adds the live route, Litestar's channels (Redis pub/sub with ``REDIS_URL``, else in memory)
    and the relay that feeds them from the outbox."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        redis = redis_client() if redis_url() else None
        if redis is not None:
            from litestar.channels.backends.redis import RedisChannelsPubSubBackend

            pubsub_client = redis_client()  # pub/sub holds a connection of its own
            backend = RedisChannelsPubSubBackend(redis=pubsub_client, key_prefix=f"{redis_namespace()}_CHANNELS")

            @asynccontextmanager
            async def close_pubsub_client(app) -> AsyncGenerator[None, None]:
                yield
                await pubsub_client.aclose()

            # lifespans exit in reverse order: this one after the channels plugin has shut down
            app_config.lifespan.append(close_pubsub_client)
        else:
            backend = MemoryChannelsBackend()
        channels = ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)
        channels.on_app_init(app_config)
        hub = LiveHub(channels, namespace=redis_namespace(), redis=redis)
        app_config.state["live_hub"] = hub
        app_config.route_handlers.append(conference_live)
        app_config.lifespan.append(hub.lifespan)
        return app_config
