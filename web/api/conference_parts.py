"""/api/v1: the parts of a conference — venues (connection points), agenda sessions, speakers,
its audiences — and the staff side of invitations (withdraw one, record an answer on the
invitee's behalf; inviting one person lives beside the list in conferences.py). Thin handlers over core/services/conferences.py and
invitations.py; the services check who may do what.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, delete, patch, post, put

from core.access import Actor
from core.services import conferences, invitations
from web.api.docs import answers, convert, given_fields


class VenueIn(msgspec.Struct, forbid_unknown_fields=True):
    """A connection point (điểm cầu); ``host_unit_id`` lets that unit's staff run its roll-call."""

    name: str
    address: str = ""
    host_unit_id: int | None = None
    online_url: str | None = None


class VenueChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    address: str | msgspec.UnsetType = msgspec.UNSET
    host_unit_id: int | None | msgspec.UnsetType = msgspec.UNSET
    online_url: str | None | msgspec.UnsetType = msgspec.UNSET


class VenueOut(msgspec.Struct):
    id: int
    conference: int
    name: str
    address: str
    host_unit: int | None
    online_url: str | None


VENUE_EXAMPLE = {"id": 12, "conference": 5, "name": "Hội trường Huyện ủy Tiên Du", "address": "Số 1 đường Lý Thái Tổ",
                 "host_unit": 3, "online_url": None}


class SessionIn(msgspec.Struct, forbid_unknown_fields=True):
    """An item of the agenda; its times, when given, lie within the conference's."""

    title: str
    topic: str = ""
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None


class SessionChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: str | msgspec.UnsetType = msgspec.UNSET
    topic: str | msgspec.UnsetType = msgspec.UNSET
    starts_at: dt.datetime | None | msgspec.UnsetType = msgspec.UNSET
    ends_at: dt.datetime | None | msgspec.UnsetType = msgspec.UNSET


class SessionOut(msgspec.Struct):
    id: int
    conference: int
    title: str
    topic: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    position: int


SESSION_EXAMPLE = {"id": 7, "conference": 5, "title": "Thông tin thời sự trong nước và quốc tế", "topic": "Thời sự",
                   "starts_at": "2030-03-12T01:00:00Z", "ends_at": "2030-03-12T02:00:00Z", "position": 0}


class SpeakerIn(msgspec.Struct, forbid_unknown_fields=True):
    """A person of the system (``person_id``) or an external guest (``name``)."""

    person_id: int | None = None
    name: str = ""
    position_title: str = ""
    organisation: str = ""


class SpeakerChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    position_title: str | msgspec.UnsetType = msgspec.UNSET
    organisation: str | msgspec.UnsetType = msgspec.UNSET


class SpeakerOut(msgspec.Struct):
    id: int
    person: int | None
    name: str
    position_title: str
    organisation: str
    unit: int


SPEAKER_EXAMPLE = {"id": 3, "person": None, "name": "Nguyễn Văn Bình", "position_title": "Phó Trưởng Ban Tuyên giáo Tỉnh ủy",
                   "organisation": "Ban Tuyên giáo Tỉnh ủy", "unit": 1}


class AudienceChoice(msgspec.Struct, forbid_unknown_fields=True):
    """The audiences whose members the conference invites (applied at publishing; after it,
    re-resolve the invitations to apply a change)."""

    audience_ids: list[int]


class AudienceChoiceOut(msgspec.Struct):
    conference_id: int
    audience_ids: list[int]


class RsvpOnBehalf(msgspec.Struct, forbid_unknown_fields=True):
    """The invitee's answer as staff heard it (by phone, on paper): accepted, declined,
    excused (with a reason) or delegated (with the substitute)."""

    answer: str
    reason: str = ""
    substitute_name: str | None = None
    substitute_person_id: int | None = None


class InvitationOut(msgspec.Struct):
    id: int
    conference: int
    person: int
    venue: int | None
    source: str
    status: str
    rsvp: str
    rsvp_reason: str
    substitute_name: str | None
    substitute_person: int | None
    sequence: int
    responded_at: dt.datetime | None


INVITATION_EXAMPLE = {"id": 41, "conference": 5, "person": 118, "venue": 12, "source": "audience", "status": "active",
                      "rsvp": "excused", "rsvp_reason": "Đi công tác", "substitute_name": None, "substitute_person": None,
                      "sequence": 1, "responded_at": "2030-03-10T02:15:00Z"}


class ConferencePartsController(Controller):
    path = "/api/v1"
    opt = {"access": "staff"}

    @post("/conferences/{conference_id:int}/venues",
          responses=answers(201, VenueOut, VENUE_EXAMPLE, errors=(403, 404, 422)))
    async def add_venue(self, actor: Actor, conference_id: int, data: VenueIn, notify: bool = True) -> VenueOut:
        """Add a venue; after publishing it is a significant revision, of which the invitees get a
        change notice unless ``notify=false``."""
        return convert(await conferences.add_venue(actor, conference_id, notify=notify, **msgspec.structs.asdict(data)), VenueOut)

    @patch("/venues/{venue_id:int}", responses=answers(200, VenueOut, VENUE_EXAMPLE, errors=(403, 404, 422)))
    async def update_venue(self, actor: Actor, venue_id: int, data: VenueChange, notify: bool = True) -> VenueOut:
        """Change a venue; a new address, link or host unit is a significant revision (a change
        notice to the invitees unless ``notify=false``), a new name is not."""
        return convert(await conferences.update_venue(actor, venue_id, notify=notify, **given_fields(data)), VenueOut)

    @delete("/venues/{venue_id:int}", status_code=204, responses=answers(204, None, None, errors=(403, 404)))
    async def remove_venue(self, actor: Actor, venue_id: int, notify: bool = True) -> None:
        """Remove a venue: a significant revision (a change notice unless ``notify=false``)."""
        await conferences.remove_venue(actor, venue_id, notify=notify)

    @post("/conferences/{conference_id:int}/sessions",
          responses=answers(201, SessionOut, SESSION_EXAMPLE, errors=(403, 404, 422)))
    async def add_session(self, actor: Actor, conference_id: int, data: SessionIn) -> SessionOut:
        """Append a session to the agenda."""
        return convert(await conferences.add_session(actor, conference_id, **msgspec.structs.asdict(data)), SessionOut)

    @patch("/sessions/{session_id:int}", responses=answers(200, SessionOut, SESSION_EXAMPLE, errors=(403, 404, 422)))
    async def update_session(self, actor: Actor, session_id: int, data: SessionChange) -> SessionOut:
        """Retitle or retime an item of the agenda."""
        return convert(await conferences.update_session(actor, session_id, **given_fields(data)), SessionOut)

    @delete("/sessions/{session_id:int}", status_code=204, responses=answers(204, None, None, errors=(403, 404)))
    async def remove_session(self, actor: Actor, session_id: int) -> None:
        await conferences.remove_session(actor, session_id)

    @post("/conferences/{conference_id:int}/sessions/{session_id:int}/speakers",
          responses=answers(201, SpeakerOut, SPEAKER_EXAMPLE, errors=(403, 404, 422)))
    async def add_speaker(self, actor: Actor, conference_id: int, session_id: int, data: SpeakerIn) -> SpeakerOut:
        """Put a speaker on a session of the agenda."""
        return convert(await conferences.add_speaker(actor, conference_id, session_id=session_id, **msgspec.structs.asdict(data)),
                       SpeakerOut)

    @patch("/conferences/{conference_id:int}/sessions/{session_id:int}/speakers/{speaker_id:int}",
           responses=answers(200, SpeakerOut, SPEAKER_EXAMPLE, errors=(403, 404, 422)))
    async def update_speaker(self, actor: Actor, conference_id: int, session_id: int, speaker_id: int,
                             data: SpeakerChange) -> SpeakerOut:
        """Correct a speaker's name, position or organisation."""
        return convert(await conferences.update_speaker(actor, conference_id, session_id=session_id, speaker_id=speaker_id,
                                                        **given_fields(data)), SpeakerOut)

    @delete("/conferences/{conference_id:int}/sessions/{session_id:int}/speakers/{speaker_id:int}", status_code=204,
            responses=answers(204, None, None, errors=(403, 404)))
    async def remove_speaker(self, actor: Actor, conference_id: int, session_id: int, speaker_id: int) -> None:
        """Take a speaker off a session of the agenda."""
        await conferences.remove_speaker(actor, conference_id, session_id=session_id, speaker_id=speaker_id)

    @put("/conferences/{conference_id:int}/audiences",
         responses=answers(200, AudienceChoiceOut, {"conference_id": 5, "audience_ids": [2, 9]}, errors=(403, 404, 422)))
    async def set_audiences(self, actor: Actor, conference_id: int, data: AudienceChoice) -> AudienceChoiceOut:
        """Replace the conference's audiences."""
        await conferences.set_audiences(actor, conference_id, data.audience_ids)
        return AudienceChoiceOut(conference_id=conference_id, audience_ids=sorted(set(data.audience_ids)))

    @post("/invitations/{invitation_id:int}/withdraw", status_code=200,
          responses=answers(200, InvitationOut, {**INVITATION_EXAMPLE, "status": "withdrawn", "sequence": 2},
                            errors=(403, 404, 409)))
    async def withdraw(self, actor: Actor, invitation_id: int) -> InvitationOut:
        """Withdraw (revoke) one invitation; the invitee's calendar is told. Idempotent."""
        return convert(await invitations.withdraw_invitation(actor, invitation_id), InvitationOut)

    @post("/invitations/{invitation_id:int}/rsvp", status_code=200,
          responses=answers(200, InvitationOut, INVITATION_EXAMPLE, errors=(403, 404, 409, 422)))
    async def rsvp(self, actor: Actor, invitation_id: int, data: RsvpOnBehalf) -> InvitationOut:
        """Record the invitee's answer on their behalf (audited under the staff member's name)."""
        return convert(await invitations.respond_on_behalf(actor, invitation_id, **msgspec.structs.asdict(data)), InvitationOut)
