"""Matrix entries of the core's HTML pages (and the API routes they brought), as in expectations.py.

Pages answer as the API does (404 out of reach, 403 visible but not allowed), except that a caller
who is not signed in as staff is sent to /login (303); a form posted successfully answers 303 to
the page that shows the result. Pages that work on a unit take it as ``?unit=`` (or the form's
``unit_id``): the position's unit, so that reaching a sibling's or parent's unit is refused.
"""

from __future__ import annotations

from typing import Any, Callable

from tests.web.generated.expectations import (  # noqa: F401  (entries use the helpers there)
    ALL_POSITIONS, API, DRAFT, ONCE, OCCURRENCE, PUBLISHED_VENUE, UNIT, Expect, body, query,
)
from tests.web.generated.seed import Place, Seed


def form(**values: Callable[[Seed, Place], Any] | Any):
    """A urlencoded form (what the pages post), values computed per position."""
    def build(seed: Seed, place: Place) -> dict:
        return {"data": {key: str(value(seed, place)) if callable(value) else value for key, value in values.items()}}
    return build


def at_unit(**more: Any):
    """``?unit=<the position's unit>`` plus any other query values."""
    return query(unit=UNIT, **more)


PERSON = lambda seed, place: place.person["id"]  # noqa: E731
SPARE_PERSON = lambda seed, place: place.spare_person["id"]  # noqa: E731
INVITEE = lambda seed, place: place.invitation["person"]  # noqa: E731
STAFF_USER = {"user_id": lambda seed, place: place.staff_user["id"]}
SEE_OTHER = (303,)

PAGE_EXPECTATIONS: dict = {
    ("GET", "/healthz/live"): Expect("fixed", fixed=200, positions=ONCE),

    # -- overview, calendar, conference lists
    ("GET", "/"): Expect("read", request=at_unit()),
    ("GET", "/calendar"): Expect("read", request=at_unit(month="2030-03")),
    ("GET", "/conferences"): Expect("read", request=at_unit()),
    # ?unit= only preselects one of the units the caller organises for (none: an empty choice)
    ("GET", "/conferences/new"): Expect("staff", positions=ONCE, request=at_unit()),
    ("POST", "/conferences/new"): Expect("manage", ok=SEE_OTHER, request=form(
        unit_id=UNIT, title="Hội nghị mới", kind="periodic_briefing", format="in_person",
        date="10/09/2030", start_time="08:00", end_time="11:00")),
    ("GET", "/conferences/audience-choices"): Expect("read", request=query(unit_id=UNIT)),
    ("GET", "/conferences/reach"): Expect("read", request=lambda seed, place: {
        "params": {"audience_ids": place.audience["id"]}}),

    # -- the conference editor (organising unit) and its working pages
    ("GET", "/conferences/{conference_id:int}"): Expect("read", venue="scope"),
    ("POST", "/conferences/{conference_id:int}/edit"): Expect("manage", venue="forbid", fill=DRAFT, ok=SEE_OTHER,
                                                             request=form(
        title="Hội nghị đổi tên", kind="periodic_briefing", format="in_person", date="10/03/2030", start_time="08:00",
        end_time="11:00")),
    ("POST", "/conferences/{conference_id:int}/venues"): Expect("manage", venue="forbid", fill=DRAFT, ok=SEE_OTHER,
                                                               request=form(venue_name="Điểm cầu mới", venue_address="Số 9")),
    ("POST", "/conferences/{conference_id:int}/venues/{venue_id:int}/edit"): Expect(
        "manage", venue="forbid", fill=DRAFT, ok=SEE_OTHER, request=form(venue_name="Hội trường lớn", venue_address="Số 1")),
    ("POST", "/conferences/{conference_id:int}/venues/{venue_id:int}/remove"): Expect(
        "manage", venue="forbid", ok=SEE_OTHER,
        fill={**DRAFT, "venue_id": lambda seed, place: place.spare_venue["id"]}),
    ("POST", "/conferences/{conference_id:int}/sessions"): Expect("manage", venue="forbid", fill=DRAFT, ok=SEE_OTHER,
                                                                 request=form(session_title="Phiên mới")),
    ("POST", "/conferences/{conference_id:int}/sessions/{session_id:int}/edit"): Expect(
        "manage", venue="forbid", fill=DRAFT, ok=SEE_OTHER, request=form(session_title="Phiên đổi tên")),
    ("POST", "/conferences/{conference_id:int}/sessions/{session_id:int}/remove"): Expect(
        "manage", venue="forbid", fill=DRAFT, ok=SEE_OTHER),
    ("POST", "/conferences/{conference_id:int}/sessions/{session_id:int}/speakers/{speaker_id:int}/edit"): Expect(
        "manage", venue="forbid", fill=DRAFT, ok=SEE_OTHER, request=form(speaker_name="Khách mời")),
    ("POST", "/conferences/{conference_id:int}/sessions/{session_id:int}/speakers/{speaker_id:int}/remove"): Expect(
        "manage", venue="forbid", fill=DRAFT, ok=SEE_OTHER),
    ("POST", "/conferences/{conference_id:int}/sessions/{session_id:int}/speakers"): Expect(
        "manage", venue="forbid", fill=DRAFT, ok=SEE_OTHER, request=form(speaker_name="Khách mời")),
    ("POST", "/conferences/{conference_id:int}/audiences"): Expect(
        "manage", venue="forbid", fill=DRAFT, ok=SEE_OTHER, request=form(audience_ids=lambda seed, place: place.audience["id"])),
    ("POST", "/conferences/{conference_id:int}/invitations/re-resolve"): Expect("manage", venue="forbid", ok=SEE_OTHER,
                                                                               request=form(confirm="1")),
    ("POST", "/conferences/{conference_id:int}/publish"): Expect("manage", venue="forbid", fill=DRAFT, ok=SEE_OTHER),
    ("POST", "/conferences/{conference_id:int}/cancel"): Expect("manage", venue="forbid", ok=SEE_OTHER,
                                                               request=form(reason="Hoãn")),
    ("POST", "/conferences/{conference_id:int}/end"): Expect("manage", venue="forbid", ok=SEE_OTHER),
    ("GET", "/conferences/{conference_id:int}/materials"): Expect("read", venue="scope"),
    ("GET", "/conferences/{conference_id:int}/invitations"): Expect("read", venue="scope"),

    # -- roll-call (a venue's host takes its own roll-call)
    ("GET", "/conferences/{conference_id:int}/rollcall"): Expect("read", venue="scope"),
    ("GET", "/conferences/{conference_id:int}/rollcall/board"): Expect("read", venue="scope"),
    ("POST", "/conferences/{conference_id:int}/rollcall/record"): Expect("checkin", venue="scope", ok=SEE_OTHER,
                                                                        request=form(person_id=INVITEE)),
    ("POST", "/conferences/{conference_id:int}/rollcall/excuse"): Expect("checkin", venue="scope", ok=SEE_OTHER,
                                                                        request=form(person_id=INVITEE, reason="Ốm")),

    # -- people
    ("GET", "/people"): Expect("read", request=at_unit()),
    ("GET", "/people/new"): Expect("manage", request=at_unit()),
    ("POST", "/people/new"): Expect("manage", ok=SEE_OTHER, request=form(unit_id=UNIT, full_name="Lê Thị Mới")),
    ("GET", "/people/{person_id:int}"): Expect("read"),
    ("POST", "/people/{person_id:int}"): Expect("manage", ok=SEE_OTHER, request=form(
        unit_id=UNIT, full_name=lambda seed, place: place.person["full_name"], position="Báo cáo viên")),
    ("POST", "/people/{person_id:int}/active"): Expect("manage", ok=SEE_OTHER, request=form(active="0")),
    ("POST", "/people/{person_id:int}/link"): Expect("manage", ok=(200,)),  # the link is shown once, on this page
    ("GET", "/people/import"): Expect("manage", request=at_unit()),
    ("POST", "/people/import"): Expect("manage", ok=(200,), request=lambda seed, place: {
        "files": {"file": ("nhap.csv", "Họ và tên,Số điện thoại\nTrần Thị Nhập,0987000111\n".encode(), "text/csv")},
        "data": {"unit_id": str(place.unit["id"]), "dry_run": "1"}}),

    # -- audiences
    ("GET", "/audiences"): Expect("read", request=at_unit()),
    ("GET", "/audiences/new"): Expect("manage", request=at_unit()),
    ("POST", "/audiences/new"): Expect("manage", ok=SEE_OTHER, request=form(unit_id=UNIT, name="Đối tượng mới",
                                                                             categories="briefer")),
    ("GET", "/audiences/{audience_id:int}"): Expect("read"),
    ("POST", "/audiences/{audience_id:int}"): Expect("manage", ok=SEE_OTHER, request=form(
        unit_id=UNIT, name="Đối tượng đổi tên", categories="briefer")),
    ("POST", "/audiences/{audience_id:int}/delete"): Expect(
        "manage", ok=SEE_OTHER, fill={"audience_id": lambda seed, place: place.spare_audience["id"]}),
    ("GET", "/audiences/preview"): Expect("read", request=query(unit_id=UNIT, categories="briefer")),
    ("GET", "/audiences/people-picker"): Expect("read", request=query(unit_id=UNIT, q="Nguyễn")),
    ("GET", "/audiences/member"): Expect("read", request=query(person_id=PERSON)),
    (
        "POST", f"{API}/audiences/preview"): Expect("read", request=body(unit_id=UNIT, rules={"categories": ["briefer"]})),

    # -- units
    ("GET", "/units"): Expect("staff", positions=ONCE),
    ("POST", "/units"): Expect("admin", ok=SEE_OTHER, request=form(parent_id=UNIT, name="Chi bộ mới", short_code="CB-MOI",
                                                                     kind="commune")),
    ("POST", "/units/move"): Expect("admin", ok=SEE_OTHER, request=form(
        unit_id=lambda seed, place: place.leaf["id"], new_parent_id=UNIT)),

    # -- staff users, roles and keys
    # who holds which role in a unit is visible to its readers; granting and revoking is the admins'
    ("GET", "/users"): Expect("read", request=at_unit()),
    ("POST", "/users/grant"): Expect("admin", ok=SEE_OTHER, request=form(
        unit_id=UNIT, role="viewer", username=lambda seed, place: seed.newcomer["username"])),
    ("GET", "/users/{user_id:int}"): Expect("read", fill=STAFF_USER),
    ("POST", "/users/{user_id:int}/revoke"): Expect("admin", ok=SEE_OTHER, fill=STAFF_USER, request=form(unit_id=UNIT, role="admin")),
    ("POST", "/users/{user_id:int}/logout-everywhere"): Expect("admin", ok=SEE_OTHER, fill=STAFF_USER),
    ("GET", "/users/tokens"): Expect("staff", positions=ONCE),
    # a key carries one of the caller's own grants (that unit, that role): here the admin role on
    # unit A, which only the admin holds
    ("POST", "/users/tokens"): Expect("admin", ok=(200,), positions=ONCE, request=lambda seed, place: {
        "data": {"grant": f"{place.unit['id']}:admin", "label": "đồng bộ", "ttl_days": "30"}}),
    ("POST", "/users/tokens/{token_id:int}/revoke"): Expect("admin", refused=404, ok=SEE_OTHER),
    ("GET", f"{API}/users"): Expect("read", request=query(unit_id=UNIT)),
    ("GET", f"{API}/users/{{user_id:int}}"): Expect("read", fill=STAFF_USER),
    ("POST", f"{API}/users/{{user_id:int}}/logout-everywhere"): Expect("admin", fill=STAFF_USER),
    ("GET", f"{API}/users/{{user_id:int}}/venue-grants"): Expect("read", fill=STAFF_USER),

    # -- plugins of a unit
    ("GET", "/plugins"): Expect("read", request=at_unit()),
    ("POST", "/plugins/{plugin:str}/state"): Expect("admin", ok=SEE_OTHER, request=lambda seed, place: {
        "params": {"unit": place.unit["id"]}, "data": {"state": "off"}}),
    ("POST", "/plugins/{plugin:str}/settings"): Expect("admin", ok=SEE_OTHER, request=lambda seed, place: {
        "params": {"unit": place.unit["id"]}, "data": {"organizer_name": "Ban Tuyên giáo"}}),
    ("GET", f"{API}/units/{{unit_id:int}}/plugins/{{plugin:str}}/settings"): Expect("read"),
    ("PUT", f"{API}/units/{{unit_id:int}}/plugins/{{plugin:str}}/settings/{{key:str}}"): Expect(
        "admin", fill={"key": lambda seed, place: "organizer_name"}, request=body(value="Ban Tuyên giáo")),

    # -- notifications: wording, campaigns, the message log, settings
    ("GET", "/notifications"): Expect("read", request=at_unit()),
    ("GET", "/notifications/templates/edit"): Expect("manage", request=at_unit(kind="invitation", channel="console")),
    # the wording filled with sample values: nothing of the unit's people
    ("GET", "/notifications/templates/preview"): Expect("read", request=at_unit(
        channel="console", body="Kính mời {{ten}}")),
    ("POST", "/notifications/templates"): Expect("manage", ok=SEE_OTHER, request=form(
        unit_id=UNIT, kind="invitation", channel="console", body="Kính mời {{ten}} dự {{hoi_nghi}}")),
    ("GET", "/notifications/compose"): Expect("manage", request=at_unit()),
    ("GET", "/notifications/compose/preview"): Expect("manage", request=lambda seed, place: {"params": {
        "unit_id": place.unit["id"], "target": f"audience:{place.audience['id']}", "text": "Kính gửi"}}),
    ("POST", "/notifications/compose"): Expect("manage", ok=(200,), request=lambda seed, place: {"data": {
        "unit_id": str(place.unit["id"]), "target": f"audience:{place.audience['id']}", "text": "Kính gửi các đồng chí",
        "campaign": "ma-tran"}}),
    ("GET", "/notifications/log"): Expect("read", request=at_unit()),
    ("GET", "/notifications/settings"): Expect("read", request=at_unit()),
    ("POST", "/notifications/settings"): Expect("admin", ok=SEE_OTHER, request=form(
        unit_id=UNIT, reminder_offsets_hours="24, 2", quiet_start="21", quiet_end="7", channel_order="console")),
    ("GET", f"{API}/units/{{unit_id:int}}/notifications/templates"): Expect("read"),
    ("POST", f"{API}/notifications/templates/preview"): Expect("read", request=body(
        unit_id=UNIT, channel="console", body="Kính mời {{ten}}")),
    ("GET", f"{API}/units/{{unit_id:int}}/messages"): Expect("read"),
    ("GET", f"{API}/conferences/{{conference_id:int}}/messages/campaign-preview"): Expect(
        "manage", venue="forbid", request=query(kind="reminder")),
    ("GET", f"{API}/audiences/{{audience_id:int}}/messages/preview"): Expect("manage", request=query(text="Kính gửi")),
    ("POST", f"{API}/audiences/{{audience_id:int}}/messages"): Expect("manage", ok=(201,), request=body(
        text="Kính gửi các đồng chí", campaign="ma-tran")),

    # -- the audit log
    ("GET", "/audit"): Expect("admin", request=at_unit()),

    # -- the attendee's pages (personal link session)
    ("GET", "/me"): Expect("attendee", positions=ONCE),
    ("GET", "/me/conferences/{conference_id:int}"): Expect("attendee", positions=("own", "sibling")),
    ("POST", "/me/invitations/{invitation_id:int}/rsvp"): Expect(
        "attendee", positions=("own", "sibling"), ok=SEE_OTHER, request=form(answer="accepted"),
        fill={"invitation_id": lambda seed, place: (seed.attendee_invitation if place is seed.place("own")
                                                    else seed.other_invitation)["id"]}),
    ("GET", "/me/materials"): Expect("attendee", positions=ONCE),
    ("GET", "/me/materials/{material_id:int}/download"): Expect("attendee", positions=("own", "sibling")),
}
