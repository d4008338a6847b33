"""The seeded world of the generated tests: one object of every kind at every position.

Every staff role of ``core.access.ROLES`` is held by one user on unit A. Seen from A:

    P (province, root)            position "parent"
    ├── A (district)              position "own"      <- every test user's role is here
    │   └── A1 (commune)          position "child"
    └── B (district)              position "sibling"

and position "venue": a conference of P with a venue (điểm cầu) hosted by A, which A's staff
reach only through that venue grant.

At each of own, child, sibling and parent there is a person, an audience, a draft conference
(with a venue, an agenda session and the audience), a published conference (with an
invitation, a material and a venue), a series with an occurrence, and an API token; the venue
position has its own published conference, venue, session, invitation and material.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo

from core.access import ROLES, Actor

PASSWORD = "mat-khau-kiem-thu-du-dai"
TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
POSITIONS = ("own", "child", "sibling", "parent", "venue")
NOW = dt.datetime(2030, 1, 2, 1, 0, tzinfo=dt.timezone.utc)  # the clock of the whole module: every date below is ahead
SYSTEM = Actor.system_actor("generated tests")


@dataclasses.dataclass
class Place:
    """The objects at one position; ``None`` where the position has no such object."""

    unit: dict
    person: dict | None = None
    audience: dict | None = None
    draft: dict | None = None
    conference: dict | None = None  # published
    venue: dict | None = None  # a venue of the draft (removable, editable)
    published_venue: dict | None = None
    session: dict | None = None  # of the draft
    speaker: dict | None = None  # on the draft's session
    material: dict | None = None
    invitation: dict | None = None
    series: dict | None = None
    occurrence: dict | None = None
    token: dict | None = None
    staff_user: dict | None = None  # a user holding a role here (the one the admin routes act on)
    leaf: dict | None = None  # a unit just below (the one the move route moves)
    spare_audience: dict | None = None  # used by no conference (deletable)
    spare_venue: dict | None = None  # a second venue of the draft (removable)
    spare_person: dict | None = None  # not invited to the published conference


@dataclasses.dataclass
class Seed:
    places: dict[str, Place]
    usernames: dict[str, str]  # role -> username (role on unit A)
    user_ids: dict[str, int]
    password: str
    login_path: str  # the attendee's personal link /i/<token>
    attendee: dict  # the person behind login_path (own position)
    attendee_invitation: dict
    other_invitation: dict  # someone else's invitation (sibling)
    feed_token: str
    newcomer: dict  # a staff user with no role yet
    api_keys: dict[str, str]  # role -> an API key of that role's test user, on unit A
    samples: dict[str, dict]  # materials of the own conference by kind of content: pdf, png, html, svg, zip
    plugins: dict[str, dict] = dataclasses.field(default_factory=dict)  # the plugins' objects (seed_plugins.py)

    def place(self, position: str) -> Place:
        return self.places[position]


# uploads whose way of being served matters: the claimed name is never what decides
SAMPLES = {
    "pdf": (b"%PDF-1.4\n%%EOF\n", "de-cuong.pdf"),
    "png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "so-do.png"),
    "html": (b"<!doctype html><script>alert(document.cookie)</script>", "trang.pdf"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>', "hinh.png"),
    "zip": (b"PK\x03\x04not-really-an-office-file", "bang.xlsx"),
}


def local(month: int, day: int, hour: int = 8) -> dt.datetime:
    return dt.datetime(2030, month, day, hour, 0, tzinfo=TZ)


async def _chunks(data: bytes):
    yield data


async def _place(unit: dict, code: str, month: int, *, host_unit: dict | None = None) -> Place:
    from core.services import audiences, conferences, invitations, materials, people, series, tokens, units, users

    place = Place(unit=unit)
    place.person = await people.create_person(SYSTEM, unit_id=unit["id"], full_name=f"Nguyễn Văn {code}",
                                              categories=["briefer"], phone=f"0912{month:06d}")
    place.audience = await audiences.create_audience(SYSTEM, unit_id=unit["id"], name=f"Báo cáo viên {code}",
                                                     rules={"categories": ["briefer"], "unit_ids": [unit["id"]]})
    draft = await conferences.create_conference(
        SYSTEM, unit_id=unit["id"], title=f"Hội nghị nháp {code}", kind="periodic_briefing", format="in_person",
        starts_at=local(month, 10), ends_at=local(month, 10, 11),
        venues=[{"name": f"Hội trường {code}", "address": "Số 1", "host_unit_id": (host_unit or unit)["id"]}], audience_ids=[place.audience["id"]])
    place.draft = await conferences.get_conference(SYSTEM, draft["id"])
    place.venue = place.draft["venues"][0]
    place.session = await conferences.add_session(SYSTEM, draft["id"], title=f"Thời sự {code}")
    place.speaker = await conferences.add_speaker(SYSTEM, draft["id"], session_id=place.session["id"], name=f"Trần Văn {code}")
    place.spare_venue = await conferences.add_venue(SYSTEM, draft["id"], name=f"Điểm cầu phụ {code}", address="Số 3",
                                                    host_unit_id=(host_unit or unit)["id"])
    place.spare_audience = await audiences.create_audience(SYSTEM, unit_id=unit["id"], name=f"Đối tượng phụ {code}",
                                                           rules={"categories": ["guest"]})
    published = await conferences.create_conference(
        SYSTEM, unit_id=unit["id"], title=f"Hội nghị {code}", kind="periodic_briefing", format="in_person",
        starts_at=local(month, 20), ends_at=local(month, 20, 11), is_public=False,
        venues=[{"name": f"Điểm cầu {code}", "address": "Số 2", "host_unit_id": (host_unit or unit)["id"]}],
        audience_ids=[place.audience["id"]])
    await conferences.publish_conference(SYSTEM, published["id"])
    place.conference = await conferences.get_conference(SYSTEM, published["id"])
    place.published_venue = place.conference["venues"][0]
    if host_unit is None:
        place.invitation = (await invitations.list_invitations(SYSTEM, published["id"]))[0]
    else:  # someone of A invited to the venue A hosts: the one A's staff may act on
        guest = await people.create_person(SYSTEM, unit_id=host_unit["id"], full_name=f"Lê Văn {code}", categories=["guest"])
        place.invitation = await invitations.invite_person(SYSTEM, published["id"], guest["id"], venue_id=place.published_venue["id"])
    place.material = await materials.add_material(
        SYSTEM, conference_id=published["id"], title=f"Đề cương {code}", kind="huong_dan", filename=f"de-cuong-{code}.pdf",
        chunks=_chunks(b"%PDF-1.4\n% generated test\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"),
        official_number=f"{month:02d}-ĐC/BTG")
    place.spare_person = await people.create_person(SYSTEM, unit_id=(host_unit or unit)["id"], full_name=f"Trần Thị {code}",
                                                    categories=["briefer"])
    if host_unit is None:
        place.leaf = await units.create_unit(SYSTEM, name=f"Chi bộ {code}", short_code=f"CB-{code}", kind="commune",
                                             parent_id=unit["id"])
        place.series = await series.create_series(SYSTEM, unit_id=unit["id"], title=f"Giao ban {code}", kind="periodic_briefing",
                                                  format="in_person", rrule="FREQ=MONTHLY;COUNT=3", local_start=f"2030-0{month % 9 + 1}-05T08:00",
                                                  duration_minutes=120)
        occurrences = await conferences.list_conferences(SYSTEM, unit_id=unit["id"], start=None, end=None, status=None, kind=None,
                                                         limit=1000, offset=0)
        # the second occurrence: a series cannot be split at its first
        place.occurrence = [row for row in occurrences if row.get("series") == place.series["id"]][1]
        user = await users.create_user(SYSTEM, username=f"can-bo-{code.lower()}", password=PASSWORD, full_name=f"Cán bộ {code}")
        await users.grant_role(SYSTEM, user_id=user["id"], unit_id=unit["id"], role="admin")
        place.staff_user = user
        from core.access import load_actor

        owner = await load_actor(user["id"])
        row, _ = await tokens.issue_api_token(owner, unit_id=unit["id"], role="admin", label=f"đồng bộ {code}", ttl_days=30)
        place.token = row
    return place


async def seed() -> Seed:
    from core.services import people, tokens, units, users

    province = await units.create_unit(SYSTEM, name="Tỉnh ủy Kiểm Thử", short_code="TU", kind="province", parent_id=None)
    district_a = await units.create_unit(SYSTEM, name="Huyện ủy An", short_code="HU-A", kind="district", parent_id=province["id"])
    commune_a1 = await units.create_unit(SYSTEM, name="Đảng ủy xã An Một", short_code="X-A1", kind="commune",
                                         parent_id=district_a["id"])
    district_b = await units.create_unit(SYSTEM, name="Huyện ủy Bình", short_code="HU-B", kind="district", parent_id=province["id"])

    places = {
        "own": await _place(district_a, "A", 3),
        "child": await _place(commune_a1, "A1", 4),
        "sibling": await _place(district_b, "B", 5),
        "parent": await _place(province, "P", 6),
    }
    # the venue position: P's conference with a venue hosted by A (no series, token or staff there)
    places["venue"] = await _place(province, "PV", 7, host_unit=district_a)
    places["venue"].unit = district_a
    usernames, user_ids = {}, {}
    for role in ROLES:
        user = await users.create_user(SYSTEM, username=f"kiem-thu-{role.replace('_', '-')}", password=PASSWORD,
                                       full_name=f"Người kiểm thử {role}")
        await users.grant_role(SYSTEM, user_id=user["id"], unit_id=district_a["id"], role=role)
        usernames[role], user_ids[role] = user["username"], user["id"]
    from core.access import load_actor

    api_keys = {}
    for role in ROLES:
        _, api_keys[role] = await tokens.issue_api_token(await load_actor(user_ids[role]), unit_id=district_a["id"], role=role,
                                                         label=f"khoá {role}", ttl_days=30)
    newcomer = await users.create_user(SYSTEM, username="nguoi-moi", password=PASSWORD, full_name="Người mới")

    from core.services import materials

    samples = {}
    for label, (content, filename) in SAMPLES.items():
        samples[label] = await materials.add_material(
            SYSTEM, conference_id=places["own"].conference["id"], title=f"Mẫu {label}", kind="huong_dan", filename=filename,
            chunks=_chunks(content))
    attendee = places["own"].person
    from tests.web.generated.seed_plugins import seed_plugins

    plugin_objects = await seed_plugins(places, root=province, attendee=attendee)  # plugins on, and their objects
    _, plaintext = await tokens.issue_secret_token(SYSTEM, purpose="login_link", subject_type="person", subject_id=attendee["id"],
                                                   ttl=dt.timedelta(days=3650), label=attendee["full_name"])
    feed = await tokens.derived_token("calendar_feed", "person", attendee["id"])
    await people.get_person(SYSTEM, attendee["id"])
    return Seed(places=places, usernames=usernames, user_ids=user_ids, password=PASSWORD, login_path=f"/i/{plaintext}",
                attendee=attendee, attendee_invitation=places["own"].invitation, other_invitation=places["sibling"].invitation,
                feed_token=feed, newcomer=newcomer, api_keys=api_keys, samples=samples,
                plugins=plugin_objects)
