"""The built-in plugins' part of the seeded world (see seed.py): each plugin switched on at the
root unit P, so its routes answer at every position, and the plugin's own objects at each
position, kept in ``Seed.plugins[<plugin>][<position>]``.

evaluation, at each position: a template of the unit (the venue position, whose conference is
P's, uses P's); on the published conference a named form, open, asking all invitees, answered
by the position's invitee with a written answer (``text``), and a form not yet open
(``draft_form``); at the own position also an anonymous editable form the attendee answered
(``anonymous_form``, ``edit_key``).

qr_checkin, at each position: a badge sheet of the published conference (at the venue position,
of the venue A hosts), built; at the own position also a scanner key for the published
conference (``device_token``).
"""

from __future__ import annotations

from tests.web.generated.seed import POSITIONS, SYSTEM, Place

ON_AT_ROOT = ("ical", "evaluation", "qr_checkin")
# the channels only where their callback routes are called (the sibling unit B), so that the
# core's message routes elsewhere keep the console channel
ON_AT_SIBLING = ("sms", "email")
EVALUATION_CONTENT = {
    "title": "Phiếu đánh giá hội nghị",
    "sections": [{"title": "Nội dung", "questions": [
        {"key": "noi_dung", "type": "rating", "text": "Nội dung có thiết thực không?", "required": True},
        {"key": "gop_y", "type": "long_text", "text": "Góp ý khác"},
    ]}],
}
EVALUATION_ANSWERS = {"noi_dung": 4, "gop_y": "Đề nghị gửi tài liệu sớm hơn."}


async def seed_plugins(places: dict[str, Place], *, root: dict, attendee: dict) -> dict[str, dict]:
    from core.plugins import build_plugin_host

    host = build_plugin_host()
    for plugin in ON_AT_ROOT:
        await host.set_state(SYSTEM, root["id"], plugin, "on")
    for plugin in ON_AT_SIBLING:
        await host.set_state(SYSTEM, places["sibling"].unit["id"], plugin, "on")
    return {"evaluation": await _evaluation(host, places, attendee), "qr_checkin": await _qr_checkin(places)}


async def _evaluation(host, places: dict[str, Place], attendee: dict) -> dict[str, dict]:
    from plugins.evaluation import services
    from plugins.evaluation.tables import EvaluationText

    found: dict[str, dict] = {}
    for position in POSITIONS:
        place = places[position]
        if position != "venue":
            template = await services.create_template(SYSTEM, unit_id=place.unit["id"], name=f"Mẫu phiếu {position}",
                                                      content=EVALUATION_CONTENT)
        else:
            template = found["parent"]["template"]
        conference_id = place.conference["id"]
        form = (await services.attach_form(SYSTEM, conference_id=conference_id, template_id=template["id"], audience="invited",
                                           close_after_days=30))[0]
        await services.open_form(SYSTEM, host, conference_id=conference_id, form_id=form["id"])
        await services.submit_response(place.invitation["person"], form_id=form["id"], answers=EVALUATION_ANSWERS,
                                       conference_ids=[conference_id])
        text = await EvaluationText.select(EvaluationText.id).where(EvaluationText.form_id == form["id"]).first()
        draft = (await services.attach_form(SYSTEM, conference_id=conference_id, template_id=template["id"], close_after_days=30))[0]
        found[position] = {"template": template, "form": form, "text": text, "draft_form": draft}
    own = places["own"]
    anonymous = (await services.attach_form(SYSTEM, conference_id=own.conference["id"], template_id=found["own"]["template"]["id"],
                                            audience="invited", anonymous=True, editable=True, close_after_days=30))[0]
    await services.open_form(SYSTEM, host, conference_id=own.conference["id"], form_id=anonymous["id"])
    answered = await services.submit_response(attendee["id"], form_id=anonymous["id"], answers=EVALUATION_ANSWERS,
                                              conference_ids=[own.conference["id"]])
    found["own"].update(anonymous_form=anonymous, edit_key=answered["edit_key"])
    return found


async def _qr_checkin(places: dict[str, Place]) -> dict[str, dict]:
    from core.services import tokens
    from plugins.qr_checkin import badges

    found: dict[str, dict] = {}
    for position in POSITIONS:
        place = places[position]
        venue_id = place.published_venue["id"] if position == "venue" else None
        sheet = await badges.request_sheet(SYSTEM, conference_id=place.conference["id"], venue_id=venue_id)
        await badges.build_sheet(sheet["id"])
        found[position] = {"sheet": sheet}
    _, found["own"]["device_token"] = await tokens.issue_device_token(SYSTEM, conference_id=places["own"].conference["id"],
                                                                      label="máy quét kiểm thử")
    return found
