"""Piccolo tables of the core.

Choices made on purpose:
- Foreign keys are explicit about deletion: structural children cascade (a venue goes with its
  conference), references to people and units that must not vanish are RESTRICT, optional
  references are SET NULL.
- Composite uniqueness (person+category, conference+person, ...) is a unique index created in
  the migration (see ``COMPOSITE_UNIQUE_INDEXES``), because Piccolo's ``Unique`` constraint fails
  on SQLite.
- Every datetime is timezone-aware (``Timestamptz``); the local wall-clock of a series is stored
  as text plus a timezone id, because a series is defined in local time.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
    BigInt,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


class Unit(Table, tablename="unit"):
    """A party committee or organisation; a tree held as a materialised path ("/1/5/12/")."""

    id: Serial
    name = Varchar(length=255)
    short_code = Varchar(length=64, unique=True)
    kind = Varchar(length=32)  # central, province, district, commune, cell, organisation
    parent = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    path = Varchar(length=1024, index=True)
    depth = SmallInt(default=0)
    timezone = Varchar(length=64, default=DEFAULT_TIMEZONE)
    created_at = Timestamptz(default=TimestamptzNow())


class Person(Table, tablename="person"):
    id: Serial
    full_name = Varchar(length=255)
    # word-prefix search: " nguyen van an " folded, lower case, diacritics and đ removed
    search_folded = Varchar(length=512)
    # Vietnamese collation: given name, middle names, family name; letters then tones
    sort_key = Varchar(length=1024)
    phone = Varchar(length=32, null=True, index=True)  # E.164
    phone_shared = Boolean(default=False)  # an organiser allowed a phone shared with another person
    email = Varchar(length=255, null=True)
    unit = ForeignKey(Unit, null=False, on_delete=OnDelete.restrict, index=True)
    briefer_level = Varchar(length=32, null=True)  # central, province, district, commune
    position = Varchar(length=255, null=True)
    is_head = Boolean(default=False)
    active = Boolean(default=True)
    erased_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PersonCategory(Table, tablename="person_category"):
    id: Serial
    person = ForeignKey(Person, null=False, on_delete=OnDelete.cascade)
    category = Varchar(length=32, index=True)


class Audience(Table, tablename="audience"):
    """Rules (categories x unit subtrees x briefer levels) plus explicit includes/excludes."""

    id: Serial
    name = Varchar(length=255)
    unit = ForeignKey(Unit, null=False, on_delete=OnDelete.restrict, index=True)
    # {"categories": [...], "unit_ids": [...], "briefer_levels": [...], "active_only": true}
    rules = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class AudienceMember(Table, tablename="audience_member"):
    id: Serial
    audience = ForeignKey(Audience, null=False, on_delete=OnDelete.cascade)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.cascade)
    mode = Varchar(length=8)  # include, exclude


class Series(Table, tablename="series"):
    """An RFC 5545 recurrence in local wall-clock time plus a timezone id."""

    id: Serial
    unit = ForeignKey(Unit, null=False, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=500)
    kind = Varchar(length=32)
    format = Varchar(length=16)
    rrule = Text()  # e.g. FREQ=MONTHLY;BYDAY=2TU
    local_start = Varchar(length=32)  # first occurrence, wall-clock ISO "2026-01-13T08:00:00"
    duration_minutes = Integer()
    timezone = Varchar(length=64, default=DEFAULT_TIMEZONE)
    until_local = Varchar(length=32, null=True, default=None)  # set when split or ended
    revision = Integer(default=0)  # rises with any significant revision of an occurrence
    split_from = ForeignKey("self", null=True, on_delete=OnDelete.set_null)
    template = JSON(default="{}")  # venues, audiences, agenda copied into each occurrence
    materialised_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Conference(Table, tablename="conference"):
    id: Serial
    unit = ForeignKey(Unit, null=False, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=500)
    description = Text(default="")
    kind = Varchar(length=32)
    format = Varchar(length=16)
    starts_at = Timestamptz(index=True)
    ends_at = Timestamptz()
    timezone = Varchar(length=64, default=DEFAULT_TIMEZONE)
    status = Varchar(length=16, default="draft", index=True)  # draft, published, ended, cancelled
    is_public = Boolean(default=False)
    revision = Integer(default=0)  # significant revisions: time, venue, link, cancellation
    version = Integer(default=1)  # every change (optimistic concurrency)
    series = ForeignKey(Series, null=True, on_delete=OnDelete.set_null, index=True)
    occurrence_key = Varchar(length=32, null=True, default=None)  # original local start in the series
    is_exception = Boolean(default=False)  # moved/edited/skipped occurrence survives regeneration
    skipped = Boolean(default=False)
    published_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    cancel_reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Venue(Table, tablename="venue"):
    """A connection point (điểm cầu): a place, optionally hosted by another unit, optional link."""

    id: Serial
    conference = ForeignKey(Conference, null=False, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=255)
    address = Text(default="")
    host_unit = ForeignKey(Unit, null=True, on_delete=OnDelete.set_null, index=True)
    online_url = Varchar(length=1000, null=True, default=None)


class AgendaSession(Table, tablename="agenda_session"):
    id: Serial
    conference = ForeignKey(Conference, null=False, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=500)
    topic = Varchar(length=255, default="")
    starts_at = Timestamptz(null=True, default=None)
    ends_at = Timestamptz(null=True, default=None)
    position = Integer(default=0)


class Speaker(Table, tablename="speaker"):
    """A person of the system, or an external guest."""

    id: Serial
    person = ForeignKey(Person, null=True, on_delete=OnDelete.set_null)
    name = Varchar(length=255)
    position_title = Varchar(length=255, default="")
    organisation = Varchar(length=255, default="")
    unit = ForeignKey(Unit, null=False, on_delete=OnDelete.restrict, index=True)


class SessionSpeaker(Table, tablename="session_speaker"):
    id: Serial
    session = ForeignKey(AgendaSession, null=False, on_delete=OnDelete.cascade, index=True)
    speaker = ForeignKey(Speaker, null=False, on_delete=OnDelete.restrict)


class ConferenceAudience(Table, tablename="conference_audience"):
    id: Serial
    conference = ForeignKey(Conference, null=False, on_delete=OnDelete.cascade, index=True)
    audience = ForeignKey(Audience, null=False, on_delete=OnDelete.restrict)


class ConferenceChange(Table, tablename="conference_change"):
    """Every change to a conference: who, what, when, and whether it was significant."""

    id: Serial
    conference = ForeignKey(Conference, null=False, on_delete=OnDelete.cascade, index=True)
    actor_id = Integer(null=True, default=None)
    changed_at = Timestamptz(default=TimestamptzNow())
    changes = JSON(default="{}")  # {"field": [old, new]}
    significant = Boolean(default=False)
    revision = Integer(default=0)


class Material(Table, tablename="material"):
    id: Serial
    conference = ForeignKey(Conference, null=False, on_delete=OnDelete.cascade, index=True)
    session = ForeignKey(AgendaSession, null=True, on_delete=OnDelete.set_null)
    title = Varchar(length=500)
    official_number = Varchar(length=64, default="")
    official_date = Varchar(length=10, null=True, default=None)  # ISO date
    kind = Varchar(length=32)
    access = Varchar(length=16, default="audience")  # public, audience, restricted
    classification = Varchar(length=32, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class MaterialVersion(Table, tablename="material_version"):
    id: Serial
    material = ForeignKey(Material, null=False, on_delete=OnDelete.cascade, index=True)
    number = Integer()
    sha256 = Varchar(length=64, index=True)
    size = BigInt()
    mime_type = Varchar(length=128)
    filename = Varchar(length=255)
    uploaded_by = Integer(null=True, default=None)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class MaterialStaff(Table, tablename="material_staff"):
    """Named staff users who may read a restricted material."""

    id: Serial
    material = ForeignKey(Material, null=False, on_delete=OnDelete.cascade, index=True)
    user_id = Integer()


class Invitation(Table, tablename="invitation"):
    id: Serial
    conference = ForeignKey(Conference, null=False, on_delete=OnDelete.cascade, index=True)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, index=True)
    venue = ForeignKey(Venue, null=True, on_delete=OnDelete.set_null)
    source = Varchar(length=16, default="audience")  # audience, individual
    status = Varchar(length=16, default="active", index=True)  # active, withdrawn
    rsvp = Varchar(length=16, default="pending")  # pending, accepted, declined, excused, delegated
    rsvp_reason = Text(default="")
    substitute_name = Varchar(length=255, null=True, default=None)
    substitute_person = ForeignKey(Person, null=True, on_delete=OnDelete.set_null)
    sequence = Integer(default=0)
    responded_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Attendance(Table, tablename="attendance"):
    id: Serial
    # by conference: the unique index (conference, person) (attendance_uniq)
    conference = ForeignKey(Conference, null=False, on_delete=OnDelete.cascade)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, index=True)
    venue = ForeignKey(Venue, null=True, on_delete=OnDelete.set_null)
    status = Varchar(length=16)  # present, late, excused, absent, substitute
    method = Varchar(length=16)  # staff_scan, self_scan, manual, online, derived
    reason = Text(default="")
    substitute_name = Varchar(length=255, null=True, default=None)
    recorded_at = Timestamptz()
    recorded_by = Integer(null=True, default=None)


class StaffUser(Table, tablename="staff_user"):
    id: Serial
    username = Varchar(length=150, unique=True)
    full_name = Varchar(length=255, default="")
    email = Varchar(length=255, null=True, default=None)
    password_hash = Varchar(length=255, default="")
    person = ForeignKey(Person, null=True, on_delete=OnDelete.set_null)
    active = Boolean(default=True)
    session_generation = Integer(default=0)  # bump to log out everywhere
    created_at = Timestamptz(default=TimestamptzNow())


class LoginThrottle(Table, tablename="login_throttle"):
    """Sign-in attempts per (username, client address), counted atomically in the database so
    that parallel attempts from several server processes cannot slip past the limit (web/throttle.py)."""

    id: Serial
    key = Varchar(length=64, unique=True)  # sha256 of (username, client address): neither kept in clear
    attempts = Integer(default=0)  # since the last success
    locked_until = BigInt(default=0)  # epoch milliseconds; 0 = not locked
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)  # old rows are purged


class RoleAssignment(Table, tablename="role_assignment"):
    """A role on a unit, applying to its whole subtree."""

    id: Serial
    user = ForeignKey(StaffUser, null=False, on_delete=OnDelete.cascade, index=True)
    unit = ForeignKey(Unit, null=False, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=16)  # admin, organiser, checkin_staff, viewer


class AuditEntry(Table, tablename="audit_entry"):
    id: Serial
    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor_id = Integer(null=True, default=None)
    actor_label = Varchar(length=255, default="")
    action = Varchar(length=64, index=True)
    object_type = Varchar(length=32)
    object_id = Integer(null=True, default=None)
    unit_id = Integer(null=True, default=None, index=True)
    details = JSON(default="{}")


class Token(Table, tablename="token"):
    """Every secret that reaches a person or a device.

    Shown-once secrets keep only ``secret_hash``; re-displayable ones are derived from the
    deployment key, the subject and ``generation``, so only the generation is stored.
    """

    id: Serial
    purpose = Varchar(length=24, index=True)
    secret_hash = Varchar(length=64, null=True, default=None, unique=True)
    subject_type = Varchar(length=24)  # person, staff_user, conference, venue, invitation
    subject_id = Integer()
    generation = Integer(default=0)
    label = Varchar(length=255, default="")
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)


class DomainEvent(Table, tablename="domain_event"):
    """The outbox: written in the same transaction as the change it describes."""

    id: Serial
    name = Varchar(length=64, index=True)
    unit_id = Integer(null=True, default=None)
    conference_id = Integer(null=True, default=None, index=True)
    payload = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    dispatched = Boolean(default=False, index=True)  # delivery rows exist for every plugin concerned


class PluginState(Table, tablename="plugin_state"):
    """Per-unit switch of one plugin: 'on' or 'off'; no row means inherit from the parent."""

    id: Serial
    unit = ForeignKey(Unit, null=False, on_delete=OnDelete.cascade, index=True)
    plugin = Varchar(length=64)
    state = Varchar(length=8)
    updated_at = Timestamptz(default=TimestamptzNow())


class PluginGeneration(Table, tablename="plugin_generation"):
    """One row whose counter rises with every enablement change, so every process drops its
    cached hook callers."""

    id: Serial
    generation = BigInt(default=0)


class EventDelivery(Table, tablename="event_delivery"):
    """Delivery of one event to one plugin: a failing handler never re-runs the others."""

    id: Serial
    event = ForeignKey(DomainEvent, null=False, on_delete=OnDelete.cascade, index=True)
    plugin = Varchar(length=64)
    status = Varchar(length=12, default="pending", index=True)  # pending, delivered, dead, skipped
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(default="")
    delivered_at = Timestamptz(null=True, default=None)


class Job(Table, tablename="job"):
    """Scheduled work with ``run_at``; claimed under a lease so a crashed worker's job returns."""

    id: Serial
    kind = Varchar(length=64, index=True)
    plugin = Varchar(length=64, null=True, default=None)  # None: a core job
    dedupe_key = Varchar(length=255, null=True, default=None, unique=True)
    unit_id = Integer(null=True, default=None)
    conference_id = Integer(null=True, default=None, index=True)
    payload = JSON(default="{}")
    run_at = Timestamptz(default=TimestamptzNow(), index=True)
    status = Varchar(length=12, default="pending", index=True)  # pending, running, done, dead, cancelled
    attempts = Integer(default=0)
    lease_until = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class Message(Table, tablename="message"):
    """One message to one person on one channel: the delivery log.

    queued -> sending -> sent -> delivered, or failed (with reason), or unknown (a crash while
    sending: reconciled, never blindly resent). ``idempotency_key`` makes a second queueing of
    the same (kind, conference, person, revision) a no-op.
    """

    id: Serial
    kind = Varchar(length=64, index=True)
    unit_id = Integer(null=True, default=None, index=True)
    conference_id = Integer(null=True, default=None, index=True)
    person = ForeignKey(Person, null=True, on_delete=OnDelete.set_null, index=True)
    channel = Varchar(length=32)
    address = Varchar(length=255, default="")
    subject = Varchar(length=500, default="")
    body = Text(default="")
    urgent = Boolean(default=False)
    status = Varchar(length=12, default="queued", index=True)
    idempotency_key = Varchar(length=255, unique=True)
    send_after = Timestamptz(default=TimestamptzNow(), index=True)
    provider_id = Varchar(length=255, null=True, default=None)
    error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sending_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)


class MessageTemplate(Table, tablename="message_template"):
    """A unit's wording of one kind on one channel (the core's Vietnamese default otherwise)."""

    id: Serial
    unit = ForeignKey(Unit, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=64)
    channel = Varchar(length=32)
    subject = Varchar(length=500, default="")
    body = Text()


class NotificationOptOut(Table, tablename="notification_opt_out"):
    id: Serial
    person = ForeignKey(Person, null=False, on_delete=OnDelete.cascade, index=True)
    channel = Varchar(length=32)
    created_at = Timestamptz(default=TimestamptzNow())


class UnitSetting(Table, tablename="unit_setting"):
    """Per-unit settings (notification quotas, quiet hours, channel order, plugin settings)."""

    id: Serial
    unit = ForeignKey(Unit, null=False, on_delete=OnDelete.cascade, index=True)
    key = Varchar(length=128)
    value = JSON(default="null")


# (index name, table, columns): created as UNIQUE indexes by the initial migration.
COMPOSITE_UNIQUE_INDEXES: list[tuple[str, str, tuple[str, ...]]] = [
    ("person_category_uniq", "person_category", ("person", "category")),
    ("audience_member_uniq", "audience_member", ("audience", "person")),
    ("conference_audience_uniq", "conference_audience", ("conference", "audience")),
    ("session_speaker_uniq", "session_speaker", ("session", "speaker")),
    ("invitation_uniq", "invitation", ("conference", "person")),
    ("attendance_uniq", "attendance", ("conference", "person")),
    ("role_assignment_uniq", "role_assignment", ("user", "unit", "role")),
    ("material_version_uniq", "material_version", ("material", "number")),
    ("material_staff_uniq", "material_staff", ("material", "user_id")),
    ("conference_occurrence_uniq", "conference", ("series", "occurrence_key")),
    ("token_subject_idx", "token", ("subject_type", "subject_id", "purpose")),
    # People lists: walk names in Vietnamese order (the id breaks ties) and test the search key
    # inside the index, so a word-prefix search ("% nguyen%") touches only the rows it returns.
    ("person_search_order_idx", "person", ("sort_key", "id", "search_folded", "active", "unit")),
    ("plugin_state_uniq", "plugin_state", ("unit", "plugin")),
    ("event_delivery_uniq", "event_delivery", ("event", "plugin")),
    ("message_template_uniq", "message_template", ("unit", "kind", "channel")),
    ("notification_opt_out_uniq", "notification_opt_out", ("person", "channel")),
    ("unit_setting_uniq", "unit_setting", ("unit", "key")),
]
# Plain (non-unique) composite indexes for hot paths.
COMPOSITE_INDEXES = {"token_subject_idx", "person_search_order_idx"}
