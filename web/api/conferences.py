"""/api/v1/conferences, /api/v1/audiences, invitations and roll-call: thin handlers over services."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Response, delete, get, patch, post

from core.access import Actor
from core.services import audiences, conferences, invitations, rollcall, rollcall_export
from web.api.conference_parts import INVITATION_EXAMPLE, InvitationOut
from web.api.docs import answers, convert, given_fields


class VenueIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    address: str = ""
    host_unit_id: int | None = None
    online_url: str | None = None


class ConferenceCreate(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: int
    title: str
    kind: str
    format: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str | None = None
    description: str = ""
    is_public: bool = False
    venues: list[VenueIn] = []
    audience_ids: list[int] = []


class ConferenceUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    expected_version: int | None = None
    title: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    kind: str | msgspec.UnsetType = msgspec.UNSET
    format: str | msgspec.UnsetType = msgspec.UNSET
    starts_at: dt.datetime | msgspec.UnsetType = msgspec.UNSET
    ends_at: dt.datetime | msgspec.UnsetType = msgspec.UNSET
    timezone: str | msgspec.UnsetType = msgspec.UNSET
    is_public: bool | msgspec.UnsetType = msgspec.UNSET
    # a significant revision of a published conference sends the invitees a change notice
    notify: bool = True


class CancelRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: str = ""
    # the invitees of a published conference who have not declined get the cancellation
    notify: bool = True


class AudienceCreate(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: int
    name: str
    rules: dict = {}
    include_ids: list[int] = []
    exclude_ids: list[int] = []


class AudienceUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Only the fields sent change; ``include_ids``/``exclude_ids`` replace the lists."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    rules: dict | msgspec.UnsetType = msgspec.UNSET
    include_ids: list[int] | msgspec.UnsetType = msgspec.UNSET
    exclude_ids: list[int] | msgspec.UnsetType = msgspec.UNSET


class AudienceRules(msgspec.Struct):
    categories: list[str] = []
    unit_ids: list[int] = []
    briefer_levels: list[str] = []
    active_only: bool = True


class AudienceOut(msgspec.Struct):
    id: int
    unit: int
    name: str
    rules: AudienceRules
    include_ids: list[int] = []
    exclude_ids: list[int] = []


AUDIENCE_EXAMPLE = {"id": 2, "unit": 1, "name": "Báo cáo viên cấp huyện",
                    "rules": {"categories": ["briefer"], "unit_ids": [3], "briefer_levels": ["district"], "active_only": True},
                    "include_ids": [118], "exclude_ids": []}


class PersonBrief(msgspec.Struct):
    id: int
    full_name: str
    unit_name: str


class AudiencePreview(msgspec.Struct):
    count: int
    first: list[PersonBrief]


class ReResolveDiff(msgspec.Struct):
    added: int
    withdrawn: int
    first_added: list[PersonBrief]
    first_withdrawn: list[PersonBrief]
    applied: bool


RE_RESOLVE_PREVIEW = {"added": 1, "withdrawn": 1, "first_added": [{"id": 7, "full_name": "Lê Thị Hoa", "unit_name": "Huyện ủy Tiên Du"}],
                      "first_withdrawn": [{"id": 9, "full_name": "Trần Văn Nam", "unit_name": "Thị ủy Quế Võ"}]}


class InviteIn(msgspec.Struct, forbid_unknown_fields=True):
    person_id: int
    venue_id: int | None = None


class RecordRequest(msgspec.Struct, forbid_unknown_fields=True):
    person_id: int
    venue_id: int | None = None
    at: dt.datetime | None = None
    substitute_name: str | None = None


class ExcuseRequest(msgspec.Struct, forbid_unknown_fields=True):
    person_id: int
    reason: str


class ConferencesController(Controller):
    path = "/api/v1/conferences"
    opt = {"access": "staff"}

    @get("/")
    async def list_(self, actor: Actor, unit_id: int, start: dt.datetime | None = None, end: dt.datetime | None = None,
                    status: str | None = None, kind: str | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
        """Conferences of a unit's subtree, and those hosted at its venues."""
        return await conferences.list_conferences(actor, unit_id=unit_id, start=start, end=end, status=status, kind=kind,
                                                  limit=limit, offset=offset)

    @post("/")
    async def create(self, actor: Actor, data: ConferenceCreate) -> dict:
        fields = msgspec.structs.asdict(data)
        fields["venues"] = [msgspec.structs.asdict(v) for v in data.venues]
        return await conferences.create_conference(actor, **fields)

    @get("/{conference_id:int}")
    async def detail(self, actor: Actor, conference_id: int) -> dict:
        return await conferences.get_conference(actor, conference_id)

    @patch("/{conference_id:int}")
    async def update(self, actor: Actor, conference_id: int, data: ConferenceUpdate) -> dict:
        """Edit fields; ``notice_recipients`` says how many invitees the change notice goes to."""
        fields = given_fields(data, leave_out=("expected_version", "notify"))
        return await conferences.update_conference(actor, conference_id, expected_version=data.expected_version, notify=data.notify,
                                                   **fields)

    @post("/{conference_id:int}/publish", status_code=200)
    async def publish(self, actor: Actor, conference_id: int) -> dict:
        return await conferences.publish_conference(actor, conference_id)

    @post("/{conference_id:int}/cancel", status_code=200)
    async def cancel(self, actor: Actor, conference_id: int, data: CancelRequest) -> dict:
        """Cancel; ``notice_recipients`` says how many invitees the cancellation goes to."""
        return await conferences.cancel_conference(actor, conference_id, reason=data.reason, notify=data.notify)

    @post("/{conference_id:int}/end", status_code=200)
    async def end(self, actor: Actor, conference_id: int) -> dict:
        return await conferences.end_conference(actor, conference_id)

    @get("/{conference_id:int}/invitations")
    async def invitations(self, actor: Actor, conference_id: int, rsvp: str | None = None, venue_id: int | None = None,
                          q: str = "", limit: int = 100, offset: int = 0) -> dict:
        rows = await invitations.list_invitations(actor, conference_id, rsvp=rsvp, venue_id=venue_id, query=q, limit=limit,
                                                  offset=offset)
        return {"counts": await invitations.count_by_rsvp(actor, conference_id), "items": rows}

    @post("/{conference_id:int}/invitations",
          responses=answers(201, InvitationOut, {**INVITATION_EXAMPLE, "source": "individual", "rsvp": "pending",
                                                 "rsvp_reason": "", "responded_at": None}, errors=(403, 404, 409, 422)))
    async def invite(self, actor: Actor, conference_id: int, data: InviteIn) -> InvitationOut:
        """Invite one person individually (kept when the audiences are re-resolved)."""
        return convert(await invitations.invite_person(actor, conference_id, data.person_id, venue_id=data.venue_id), InvitationOut)

    @post("/{conference_id:int}/invitations/re-resolve", status_code=200, responses=answers(
        200, ReResolveDiff, {**RE_RESOLVE_PREVIEW, "applied": True}, errors=(404, 409),
        error_examples={409: {"error": "Cập nhật danh sách mời sẽ thêm 1 người và rút lời mời 1 người. Xác nhận để áp dụng.",
                              "fields": {}, "preview": RE_RESOLVE_PREVIEW}}))
    async def re_resolve(self, actor: Actor, conference_id: int, confirm: bool = False) -> ReResolveDiff:
        """Bring the invitations in line with the audiences now. Without ?confirm=true a change
        answers 409 with the diff in "preview"; send it again with confirm=true to apply."""
        return convert(await invitations.re_resolve(actor, conference_id, confirm=confirm), ReResolveDiff)

    @get("/{conference_id:int}/rollcall")
    async def roll_call(self, actor: Actor, conference_id: int, venue_id: int | None = None) -> dict:
        return await rollcall.roll_call(actor, conference_id, venue_id=venue_id)

    @post("/{conference_id:int}/rollcall", status_code=200)
    async def record(self, actor: Actor, conference_id: int, data: RecordRequest) -> dict:
        return await rollcall.record_attendance(actor, conference_id=conference_id, person_id=data.person_id, method="manual",
                                                venue_id=data.venue_id, at=data.at, substitute_name=data.substitute_name)

    @post("/{conference_id:int}/rollcall/excuse", status_code=200)
    async def excuse(self, actor: Actor, conference_id: int, data: ExcuseRequest) -> dict:
        return await rollcall.excuse(actor, conference_id, data.person_id, data.reason)

    @get("/{conference_id:int}/rollcall.xlsx")
    async def export(self, actor: Actor, conference_id: int, venue_id: int | None = None) -> Response:
        content = await rollcall_export.export_xlsx(actor, conference_id, venue_id=venue_id)
        return Response(content, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="diem-danh-{conference_id}.xlsx"'})


class AudiencesController(Controller):
    path = "/api/v1/audiences"
    opt = {"access": "staff"}

    @post("/")
    async def create(self, actor: Actor, data: AudienceCreate) -> dict:
        return await audiences.create_audience(actor, **msgspec.structs.asdict(data))

    @get("/", responses=answers(200, list[AudienceOut], [AUDIENCE_EXAMPLE], errors=(404,)))
    async def list_(self, actor: Actor, unit_id: int) -> list[AudienceOut]:
        """Audiences owned by the unit and the units below it."""
        return convert(await audiences.list_audiences(actor, unit_id), list[AudienceOut])

    @get("/{audience_id:int}", responses=answers(200, AudienceOut, AUDIENCE_EXAMPLE, errors=(404,)))
    async def detail(self, actor: Actor, audience_id: int) -> AudienceOut:
        return convert(await audiences.get_audience(actor, audience_id), AudienceOut)

    @patch("/{audience_id:int}", responses=answers(200, AudienceOut, AUDIENCE_EXAMPLE, errors=(403, 404, 409, 422)))
    async def update(self, actor: Actor, audience_id: int, data: AudienceUpdate) -> AudienceOut:
        """Edit an audience; published conferences keep their invitations until re-resolved."""
        changes = given_fields(data)
        return convert(await audiences.update_audience(actor, audience_id, **changes), AudienceOut)

    @delete("/{audience_id:int}", status_code=204, responses=answers(204, None, None, errors=(403, 404, 409)))
    async def remove(self, actor: Actor, audience_id: int) -> None:
        """Delete an audience no published conference uses."""
        await audiences.delete_audience(actor, audience_id)

    @get("/{audience_id:int}/preview", responses=answers(200, AudiencePreview, {
        "count": 214, "first": [{"id": 7, "full_name": "Lê Thị Hoa", "unit_name": "Huyện ủy Tiên Du"}]}, errors=(404,)))
    async def preview(self, actor: Actor, audience_id: int) -> AudiencePreview:
        """How many people the audience means now, and the first of them in Vietnamese order."""
        return convert(await audiences.preview_audience(actor, audience_id), AudiencePreview)
