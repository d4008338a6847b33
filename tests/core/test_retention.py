import datetime as dt

from core import clock
from core.services import retention
from core.tables import Attendance, AuditEntry, Conference, DomainEvent, Invitation, Person
from core.text import search_key, sort_key
from tests.factories import make_tree

UTC = dt.timezone.utc


async def _conference_with_roster(unit_id: int, ends_at: dt.datetime) -> int:
    person = (
        await Person.insert(
            Person(full_name="Lê Văn Tám", search_folded=search_key("Lê Văn Tám"), sort_key=sort_key("Lê Văn Tám"), unit=unit_id)
        ).returning(Person.id)
    )[0]["id"]
    conference = (
        await Conference.insert(
            Conference(unit=unit_id, title="Hội nghị", kind="periodic_briefing", format="in_person",
                       starts_at=ends_at - dt.timedelta(hours=3), ends_at=ends_at, status="ended")
        ).returning(Conference.id)
    )[0]["id"]
    await Invitation.insert(Invitation(conference=conference, person=person, rsvp="excused", rsvp_reason="ốm", substitute_name="Bà Năm"))
    await Attendance.insert(
        Attendance(conference=conference, person=person, status="excused", method="manual", reason="ốm", recorded_at=ends_at)
    )
    return conference


async def test_purge_keeps_counts_and_drops_identifying_text(db):
    tree = await make_tree()
    now = dt.datetime(2031, 1, 1, tzinfo=UTC)
    old = await _conference_with_roster(tree["province"]["id"], now - dt.timedelta(days=2000))
    recent = await _conference_with_roster(tree["province"]["id"], now - dt.timedelta(days=10))
    await AuditEntry.insert(AuditEntry(at=now - dt.timedelta(days=1200), action="old", object_type="x"))
    await DomainEvent.insert(DomainEvent(name="unit_created", created_at=now - dt.timedelta(days=100)))
    clock.set_now(now)

    result = await retention.purge()

    assert result["invitations_cleared"] == 1 and result["attendance_cleared"] == 1
    assert result["audit_entries_removed"] >= 1 and result["events_removed"] >= 1
    old_rows = await Attendance.select().where(Attendance.conference == old)
    assert len(old_rows) == 1 and old_rows[0]["status"] == "excused" and old_rows[0]["reason"] == ""
    recent_invitation = await Invitation.select().where(Invitation.conference == recent).first()
    assert recent_invitation["rsvp_reason"] == "ốm" and recent_invitation["substitute_name"] == "Bà Năm"
    assert await AuditEntry.exists().where(AuditEntry.action == "retention.purge")
    assert (await retention.purge())["invitations_cleared"] == 0  # idempotent
