"""Who may call each route of the app, for the generated authorisation matrix and CSRF tests.

One entry per (method, path) of ``app.routes``; a route of the app without an entry fails the
matrix test, naming it, so a new route cannot ship without its guard being stated here (and a
stale entry fails too). An entry says which permission of ``core.access.PERMISSIONS`` the route
needs on the unit its objects belong to, and how to make a valid request at a position of
``seed.py``; the expected answer follows from the role and the position:

* anonymous: 401 (``staff`` and ``attendee`` routes);
* a role that does not see the position (sibling, parent): 404 — existence is not revealed;
* a role that sees it without the permission: 403 (``refused=404`` where the rule is that
  the object's existence is hidden from those who may not manage it, e.g. API keys);
* a role holding the permission: ``ok`` (2xx).

``venue`` says what the venue position (A's staff reaching P's conference only through a
venue A hosts) gets: ``"scope"`` — the same rule as at their own unit (the route serves a venue
grant, limited to that venue), ``"forbid"`` — 403 whatever the role (only the organising unit
may), or ``None`` — the route takes no conference, so the position does not apply.

Path parameters are filled by name from the position's seeded objects (``fill`` overrides).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from core.access import ROLES
from tests.web.generated.seed import Place, Seed

Request = Callable[[Seed, Place], dict]


def none(seed: Seed, place: Place) -> dict:
    return {}


@dataclasses.dataclass(frozen=True)
class Expect:
    need: str  # read | checkin | manage | admin | staff (any staff user) | public | attendee | fixed
    request: Request = none
    venue: str | None = None  # "scope" | "forbid" | None (see module docstring)
    ok: tuple[int, ...] = ()  # default: 200 for GET/PUT/PATCH/POST-with-status-200, 201 for create, 204 for DELETE
    refused: int = 403
    fill: dict[str, Callable[[Seed, Place], Any]] = dataclasses.field(default_factory=dict)
    positions: tuple[str, ...] = ("own", "child", "sibling", "parent")
    # need="fixed": the status every caller gets, whoever they are (token-authenticated routes)
    fixed: int | None = None
    fixed_for: dict[str, int] = dataclasses.field(default_factory=dict)  # callers answered otherwise
    resets_session: bool = False  # the call ends or replaces the caller's session (login, logout)
    stream: bool = False  # an endless response (server-sent events): only its status is read
    by_api_key: int | None = None  # what an admin's API key gets, where it differs from ``ok``


# -- path parameters, by name ------------------------------------------------------------------

def _id(value: dict | None) -> int | None:
    return None if value is None else value["id"]


DEFAULT_FILL: dict[str, Callable[[Seed, Place], Any]] = {
    "unit_id": lambda seed, place: place.unit["id"],
    "conference_id": lambda seed, place: place.conference["id"],
    "person_id": lambda seed, place: place.person["id"],
    "audience_id": lambda seed, place: place.audience["id"],
    "venue_id": lambda seed, place: place.venue["id"],
    "session_id": lambda seed, place: place.session["id"],
    "speaker_id": lambda seed, place: place.speaker["id"],
    "material_id": lambda seed, place: place.material["id"],
    "invitation_id": lambda seed, place: place.invitation["id"],
    "series_id": lambda seed, place: _id(place.series),
    "token_id": lambda seed, place: _id(place.token),
    "user_id": lambda seed, place: seed.newcomer["id"],
    "plugin": lambda seed, place: "ical",
    "key": lambda seed, place: "notifications.quiet_hours",
}
DRAFT = {"conference_id": lambda seed, place: place.draft["id"]}
OCCURRENCE = {"conference_id": lambda seed, place: _id(place.occurrence)}
PUBLISHED_VENUE = {"venue_id": lambda seed, place: place.published_venue["id"]}
ALL_POSITIONS = ("own", "child", "sibling", "parent", "venue")
ONCE = ("own",)


def body(**values: Callable[[Seed, Place], Any] | Any) -> Request:
    def build(seed: Seed, place: Place) -> dict:
        return {"json": {key: value(seed, place) if callable(value) else value for key, value in values.items()}}
    return build


def query(**values: Callable[[Seed, Place], Any] | Any) -> Request:
    def build(seed: Seed, place: Place) -> dict:
        return {"params": {key: value(seed, place) if callable(value) else value for key, value in values.items()}}
    return build


UNIT = lambda seed, place: place.unit["id"]  # noqa: E731
PDF = b"%PDF-1.4\n% matrix\n%%EOF\n"


def upload(seed: Seed, place: Place) -> dict:
    return {"content": PDF, "headers": {"content-type": "application/pdf"},
            "params": {"title": "Tài liệu bổ sung", "kind": "huong_dan", "filename": "bo-sung.pdf"}}


def new_version(seed: Seed, place: Place) -> dict:
    return {"content": PDF, "headers": {"content-type": "application/pdf"}, "params": {"filename": "ban-moi.pdf"}}


def people_import(seed: Seed, place: Place) -> dict:
    csv = "Họ và tên,Số điện thoại\nTrần Thị Nhập,0987000111\n".encode()
    return {"files": {"file": ("nhap.csv", csv, "text/csv")}, "data": {"unit_id": str(place.unit["id"]), "dry_run": "true"}}


CONFERENCE_BODY = body(unit_id=UNIT, title="Hội nghị mới", kind="periodic_briefing", format="in_person",
                       starts_at="2030-09-10T08:00:00+07:00", ends_at="2030-09-10T11:00:00+07:00")
PERIOD = {"period": "year", "year": 2030}

API = "/api/v1"
EXPECTATIONS: dict[tuple[str, str], Expect] = {
    # -- public and session plumbing
    ("GET", "/healthz"): Expect("fixed", fixed=200, positions=ONCE),
    ("POST", f"{API}/auth/login"): Expect("fixed", fixed=200, positions=ONCE, resets_session=True,
                                          request=lambda seed, place: {"json": {"username": seed.newcomer["username"],
                                                                                "password": seed.password}}),
    ("POST", f"{API}/auth/logout"): Expect("staff", positions=ONCE, resets_session=True),
    # a signed-in staff member is sent on to where they were going
    ("GET", "/login"): Expect("fixed", fixed=200, fixed_for={role: 303 for role in ROLES}, positions=ONCE),
    ("POST", "/login"): Expect("fixed", fixed=303, positions=ONCE, resets_session=True, request=lambda seed, place: {
        "data": {"username": seed.newcomer["username"], "password": seed.password, "next": "/"}}),
    ("POST", "/logout"): Expect("fixed", fixed=303, positions=ONCE, resets_session=True),
    ("POST", "/lang"): Expect("fixed", fixed=303, positions=ONCE, request=lambda seed, place: {"data": {"lang": "en", "next": "/"}}),
    ("GET", "/static/{file_path:path}"): Expect("fixed", fixed=200, positions=ONCE,
                                                fill={"file_path": lambda seed, place: "css/app.css"}),
    ("HEAD", "/static/{file_path:path}"): Expect("fixed", fixed=200, positions=ONCE,
                                                 fill={"file_path": lambda seed, place: "css/app.css"}),
    ("GET", "/i/{token:str}"): Expect("fixed", fixed=303, positions=ONCE, resets_session=True,
                                      fill={"token": lambda seed, place: seed.login_path.removeprefix("/i/")}),

    # -- units
    ("GET", f"{API}/units"): Expect("staff", positions=ONCE),
    ("POST", f"{API}/units"): Expect("admin", ok=(201,), request=body(parent_id=UNIT, name="Chi bộ mới", short_code="CB-MOI",
                                                                       kind="commune")),
    ("GET", f"{API}/units/{{unit_id:int}}/tree"): Expect("read"),
    ("POST", f"{API}/units/{{unit_id:int}}/move"): Expect("admin", fill={"unit_id": lambda seed, place: place.leaf["id"]},
                                                          request=body(new_parent_id=UNIT)),
    ("GET", f"{API}/units/{{unit_id:int}}/plugins"): Expect("read"),
    ("PUT", f"{API}/units/{{unit_id:int}}/plugins/{{plugin:str}}"): Expect("admin", request=body(state="off")),
    ("GET", f"{API}/units/{{unit_id:int}}/audit"): Expect("admin"),
    ("PUT", f"{API}/units/{{unit_id:int}}/settings/{{key:str}}"): Expect(
        "admin", request=body(value=[21, 7])),
    ("GET", f"{API}/units/{{unit_id:int}}/notification-settings"): Expect("read"),
    ("PATCH", f"{API}/units/{{unit_id:int}}/notification-settings"): Expect(
        "admin", request=body(reminder_offsets_hours=[24, 2])),

    # -- people
    ("GET", f"{API}/people"): Expect("read", request=query(unit_id=UNIT, q="nguyen")),
    ("POST", f"{API}/people"): Expect("manage", ok=(201,), request=body(unit_id=UNIT, full_name="Lê Thị Mới")),
    ("GET", f"{API}/people/{{person_id:int}}"): Expect("read"),
    ("PATCH", f"{API}/people/{{person_id:int}}"): Expect("manage", request=body(position="Báo cáo viên")),
    ("POST", f"{API}/people/{{person_id:int}}/deactivate"): Expect("manage"),
    ("POST", f"{API}/people/{{person_id:int}}/login-link"): Expect("manage", ok=(201,)),
    ("POST", f"{API}/people/import"): Expect("manage", request=people_import),

    # -- audiences
    ("GET", f"{API}/audiences"): Expect("read", request=query(unit_id=UNIT)),
    ("POST", f"{API}/audiences"): Expect("manage", ok=(201,), request=body(unit_id=UNIT, name="Đối tượng mới",
                                                                           rules={"categories": ["briefer"]})),
    ("GET", f"{API}/audiences/{{audience_id:int}}"): Expect("read"),
    ("PATCH", f"{API}/audiences/{{audience_id:int}}"): Expect("manage", request=body(name="Đối tượng đổi tên")),
    ("DELETE", f"{API}/audiences/{{audience_id:int}}"): Expect(
        "manage", ok=(204,), fill={"audience_id": lambda seed, place: place.spare_audience["id"]}),
    ("GET", f"{API}/audiences/{{audience_id:int}}/preview"): Expect("read"),

    # -- conferences
    ("GET", f"{API}/conferences"): Expect("read", request=query(unit_id=UNIT)),
    ("POST", f"{API}/conferences"): Expect("manage", ok=(201,), request=CONFERENCE_BODY),
    ("GET", f"{API}/conferences/{{conference_id:int}}"): Expect("read", venue="scope"),
    ("PATCH", f"{API}/conferences/{{conference_id:int}}"): Expect("manage", venue="forbid", fill=DRAFT,
                                                                  request=body(title="Hội nghị đổi tên")),
    ("POST", f"{API}/conferences/{{conference_id:int}}/publish"): Expect("manage", venue="forbid", fill=DRAFT),
    ("POST", f"{API}/conferences/{{conference_id:int}}/cancel"): Expect("manage", venue="forbid", request=body(reason="Hoãn")),
    ("POST", f"{API}/conferences/{{conference_id:int}}/end"): Expect("manage", venue="forbid"),
    ("POST", f"{API}/conferences/{{conference_id:int}}/skip"): Expect("manage", fill=OCCURRENCE),
    ("GET", f"{API}/conferences/{{conference_id:int}}/live"): Expect("read", venue="scope", stream=True),
    ("POST", f"{API}/conferences/{{conference_id:int}}/venues"): Expect("manage", venue="forbid", ok=(201,), fill=DRAFT,
                                                                        request=body(name="Điểm cầu mới")),
    ("PATCH", f"{API}/venues/{{venue_id:int}}"): Expect("manage", venue="forbid", request=body(name="Hội trường lớn")),
    ("DELETE", f"{API}/venues/{{venue_id:int}}"): Expect("manage", venue="forbid", ok=(204,),
                                                         fill={"venue_id": lambda seed, place: place.spare_venue["id"]}),
    ("POST", f"{API}/conferences/{{conference_id:int}}/sessions"): Expect("manage", venue="forbid", ok=(201,), fill=DRAFT,
                                                                          request=body(title="Phiên mới")),
    ("PATCH", f"{API}/sessions/{{session_id:int}}"): Expect("manage", venue="forbid", request=body(title="Phiên đổi tên")),
    ("DELETE", f"{API}/sessions/{{session_id:int}}"): Expect("manage", venue="forbid", ok=(204,)),
    ("PATCH", f"{API}/conferences/{{conference_id:int}}/sessions/{{session_id:int}}/speakers/{{speaker_id:int}}"): Expect(
        "manage", venue="forbid", fill=DRAFT, request=body(name="Khách mời")),
    ("DELETE", f"{API}/conferences/{{conference_id:int}}/sessions/{{session_id:int}}/speakers/{{speaker_id:int}}"): Expect(
        "manage", venue="forbid", ok=(204,), fill=DRAFT),
    ("POST", f"{API}/conferences/{{conference_id:int}}/sessions/{{session_id:int}}/speakers"): Expect(
        "manage", venue="forbid", ok=(201,), fill=DRAFT, request=body(name="Khách mời")),
    ("PUT", f"{API}/conferences/{{conference_id:int}}/audiences"): Expect(
        "manage", venue="forbid", fill=DRAFT, request=lambda seed, place: {"json": {"audience_ids": [place.audience["id"]]}}),

    # -- invitations
    ("GET", f"{API}/conferences/{{conference_id:int}}/invitations"): Expect("read", venue="scope"),
    ("POST", f"{API}/conferences/{{conference_id:int}}/invitations"): Expect(
        "manage", venue="forbid", ok=(201,), request=lambda seed, place: {"json": {"person_id": place.spare_person["id"]}}),
    ("POST", f"{API}/conferences/{{conference_id:int}}/invitations/re-resolve"): Expect("manage", venue="forbid",
                                                                                     request=query(confirm="true")),
    ("POST", f"{API}/invitations/{{invitation_id:int}}/withdraw"): Expect("manage", venue="forbid"),
    ("POST", f"{API}/invitations/{{invitation_id:int}}/rsvp"): Expect("manage", venue="scope", request=body(answer="accepted")),

    # -- roll-call
    ("GET", f"{API}/conferences/{{conference_id:int}}/rollcall"): Expect("read", venue="scope"),
    ("POST", f"{API}/conferences/{{conference_id:int}}/rollcall"): Expect(
        "checkin", venue="scope", request=lambda seed, place: {"json": {"person_id": place.invitation["person"]}}),
    ("POST", f"{API}/conferences/{{conference_id:int}}/rollcall/excuse"): Expect(
        "checkin", venue="scope", request=lambda seed, place: {"json": {"person_id": place.invitation["person"], "reason": "Ốm"}}),
    ("GET", f"{API}/conferences/{{conference_id:int}}/rollcall.xlsx"): Expect("read", venue="scope"),

    # -- materials
    ("GET", f"{API}/conferences/{{conference_id:int}}/materials"): Expect("read", venue="scope"),
    ("POST", f"{API}/conferences/{{conference_id:int}}/materials"): Expect("manage", venue="forbid", ok=(201,), request=upload),
    ("POST", f"{API}/materials/{{material_id:int}}/versions"): Expect("manage", venue="forbid", ok=(201,), request=new_version),
    ("GET", f"{API}/materials/{{material_id:int}}/download"): Expect("read", venue="scope"),

    # -- notifications
    ("PUT", f"{API}/notifications/templates"): Expect("manage", request=body(unit_id=UNIT, kind="invitation", channel="console",
                                                                              body="Kính mời {{ten}} dự {{hoi_nghi}}")),
    ("GET", f"{API}/conferences/{{conference_id:int}}/messages/preview"): Expect(
        "manage", venue="forbid", request=query(kind="invitation", channel="console")),
    ("POST", f"{API}/conferences/{{conference_id:int}}/messages"): Expect("manage", venue="forbid", ok=(201,),
                                                                          request=body(kind="invitation", audience="all")),
    ("GET", f"{API}/conferences/{{conference_id:int}}/messages"): Expect("read", venue="scope"),

    # -- series
    ("POST", f"{API}/series"): Expect("manage", ok=(201,), request=body(
        unit_id=UNIT, title="Chuỗi mới", kind="periodic_briefing", format="in_person", rrule="FREQ=MONTHLY;COUNT=2",
        local_start="2030-05-05T08:00", duration_minutes=60)),
    ("GET", f"{API}/series/{{series_id:int}}"): Expect("read"),
    ("POST", f"{API}/series/{{series_id:int}}/split"): Expect("manage", ok=(201,), request=lambda seed, place: {
        "json": {"from_occurrence_key": place.occurrence["occurrence_key"], "duration_minutes": 90}}),

    # -- staff users and roles
    ("POST", f"{API}/users"): Expect("admin", ok=(201,), positions=ONCE,
                                     request=body(username="tai-khoan-moi", password="mat-khau-rat-dai-du")),
    ("POST", f"{API}/users/{{user_id:int}}/roles"): Expect("admin", request=body(unit_id=UNIT, role="viewer")),
    ("POST", f"{API}/users/{{user_id:int}}/roles/revoke"): Expect(
        "admin", fill={"user_id": lambda seed, place: place.staff_user["id"]}, request=body(unit_id=UNIT, role="admin")),

    # -- reports
    ("GET", f"{API}/reports/attendance"): Expect("read", request=query(unit_id=UNIT, **PERIOD)),
    ("GET", f"{API}/reports/people/{{person_id:int}}/attendance"): Expect("read", request=query(**PERIOD)),

    # -- API and device keys: one may manage only keys one owns, issued, or administers; the
    # others are not revealed (404)
    ("GET", f"{API}/tokens"): Expect("staff", positions=ONCE),
    # keys are issued by a signed-in person, never by another key
    ("POST", f"{API}/tokens"): Expect("checkin", venue="scope", ok=(201,), by_api_key=403, request=lambda seed, place: {
        "json": {"purpose": "scanner_device", "venue_id": place.published_venue["id"], "label": "máy quét"}}),
    ("POST", f"{API}/tokens/{{token_id:int}}/revoke"): Expect("admin", refused=404),

    # -- the attendee (personal link session)
    ("GET", f"{API}/me/conferences"): Expect("attendee", positions=ONCE),
    ("POST", f"{API}/me/invitations/{{invitation_id:int}}/rsvp"): Expect(
        "attendee", positions=("own", "sibling"), request=body(answer="accepted"),
        fill={"invitation_id": lambda seed, place: (seed.attendee_invitation if place is seed.place("own")
                                                    else seed.other_invitation)["id"]}),

    # plugin routes: expectations_plugins.py
}

# One module per area, so that the areas' entries are written and merged apart.
from tests.web.generated.expectations_pages import PAGE_EXPECTATIONS  # noqa: E402
from tests.web.generated.expectations_plugins import PLUGIN_EXPECTATIONS  # noqa: E402

EXPECTATIONS.update(PAGE_EXPECTATIONS)
EXPECTATIONS.update(PLUGIN_EXPECTATIONS)


def expectation_for(endpoint) -> Expect:
    """The route's entry, or — for the tests that only need a well-formed call (CSRF, headers,
    unknown ids) — a default: a staff route (an attendee one under /me), path filled by name.
    The matrix test alone insists on a real entry."""
    if endpoint.key in EXPECTATIONS:
        return EXPECTATIONS[endpoint.key]
    attendee = endpoint.opt.get("access") == "attendee" or endpoint.opt.get("unit_from") == "attendee_session"
    return Expect("attendee" if attendee else "staff" if endpoint.opt.get("access") == "staff" else "fixed", fixed=None)
