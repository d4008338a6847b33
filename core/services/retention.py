"""Retention of personal data: the purge job.

Old audit entries and delivered events are deleted; rosters of long-past conferences keep
their rows (so roll-call counts and reports stay true) but lose the free text that identifies
circumstances (excuse reasons, substitutes' names); superseded material versions are deleted
with their content when no other version refers to it.
"""

from __future__ import annotations

import datetime as dt

from core import clock
from core.access import Actor
from core.config import get_settings
from core.db import transaction
from core.services import audit, materials
from core.tables import Attendance, AuditEntry, Conference, DomainEvent, Invitation, LoginThrottle

LOGIN_RECORD_DAYS = dt.timedelta(days=1)


async def purge(actor: Actor | None = None, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Apply every retention setting once; idempotent. Returns what was removed or cleared."""
    actor = actor or Actor.system_actor("retention job")
    settings = get_settings()
    now = now or clock.now()
    audit_cutoff = now - dt.timedelta(days=settings.retain_audit_days)
    events_cutoff = now - dt.timedelta(days=settings.retain_events_days)
    roster_cutoff = now - dt.timedelta(days=settings.retain_roster_days)
    old_conferences = Conference.select(Conference.id).where(Conference.ends_at < roster_cutoff)
    async with transaction():
        audit_removed = len(await AuditEntry.delete().where(AuditEntry.at < audit_cutoff).returning(AuditEntry.id))
        events_removed = len(await DomainEvent.delete().where(DomainEvent.created_at < events_cutoff).returning(DomainEvent.id))
        # sign-in counters of pairs not seen for a day, whose lockout (at most an hour) is over
        login_records_removed = len(await LoginThrottle.delete().where(
            (LoginThrottle.updated_at < now - LOGIN_RECORD_DAYS) & (LoginThrottle.locked_until < int(now.timestamp() * 1000))
        ).returning(LoginThrottle.id))
        invitations_cleared = len(
            await Invitation.update({Invitation.rsvp_reason: "", Invitation.substitute_name: None})
            .where(
                Invitation.conference.is_in(old_conferences)
                & ((Invitation.rsvp_reason != "") | Invitation.substitute_name.is_not_null())
            )
            .returning(Invitation.id)
        )
        attendance_cleared = len(
            await Attendance.update({Attendance.reason: "", Attendance.substitute_name: None})
            .where(
                Attendance.conference.is_in(old_conferences)
                & ((Attendance.reason != "") | Attendance.substitute_name.is_not_null())
            )
            .returning(Attendance.id)
        )
    versions_removed = await materials.purge_old_versions(keep_days=settings.retain_material_versions_days)
    result = {
        "audit_entries_removed": audit_removed,
        "events_removed": events_removed,
        "invitations_cleared": invitations_cleared,
        "attendance_cleared": attendance_cleared,
        "material_versions_removed": versions_removed,
        "login_records_removed": login_records_removed,
    }
    async with transaction():
        await audit.record(actor, "retention.purge", object_type="system", object_id=None, unit_id=None, **result)
    return result
