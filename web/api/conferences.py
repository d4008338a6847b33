"""/api/v1/conferences, /api/v1/audiences, invitations and roll-call: thin handlers over services."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Response, get, patch, post

from core.access import Actor
from core.services import audiences, conferences, invitations, rollcall, rollcall_export


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


class CancelRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: str = ""


class AudienceCreate(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: int
    name: str
    rules: dict = {}
    include_ids: list[int] = []
    exclude_ids: list[int] = []


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
        fields = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET and k != "expected_version"}
        return await conferences.update_conference(actor, conference_id, expected_version=data.expected_version, **fields)

    @post("/{conference_id:int}/publish", status_code=200)
    async def publish(self, actor: Actor, conference_id: int) -> dict:
        return await conferences.publish_conference(actor, conference_id)

    @post("/{conference_id:int}/cancel", status_code=200)
    async def cancel(self, actor: Actor, conference_id: int, data: CancelRequest) -> dict:
        return await conferences.cancel_conference(actor, conference_id, reason=data.reason)

    @post("/{conference_id:int}/end", status_code=200)
    async def end(self, actor: Actor, conference_id: int) -> dict:
        return await conferences.end_conference(actor, conference_id)

    @get("/{conference_id:int}/invitations")
    async def invitations(self, actor: Actor, conference_id: int, rsvp: str | None = None, venue_id: int | None = None,
                          q: str = "", limit: int = 100, offset: int = 0) -> dict:
        rows = await invitations.list_invitations(actor, conference_id, rsvp=rsvp, venue_id=venue_id, query=q, limit=limit,
                                                  offset=offset)
        return {"counts": await invitations.count_by_rsvp(actor, conference_id), "items": rows}

    @post("/{conference_id:int}/invitations/re-resolve", status_code=200)
    async def re_resolve(self, actor: Actor, conference_id: int, confirm: bool = False) -> dict:
        """Without ?confirm=true a change answers 409 with the diff to confirm."""
        return await invitations.re_resolve(actor, conference_id, confirm=confirm)

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

    @get("/{audience_id:int}/preview")
    async def preview(self, actor: Actor, audience_id: int) -> dict:
        """How many people the audience means now, and the first of them."""
        return await audiences.preview_audience(actor, audience_id)
