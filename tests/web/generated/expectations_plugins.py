"""Matrix entries of the built-in plugins' routes, as in expectations.py.

Every plugin is on at the root unit P (seed_plugins.py), so a plugin route answers at each
position what its own rule says; the plugin guard's 404 where the plugin is off is tested by the
plugins' own tests. The plugins' seeded objects are ``seed.plugins[<plugin>][<position>]``.
"""

from __future__ import annotations

from typing import Any, Callable

from tests.web.generated.expectations import ONCE, Expect, body, query
from tests.web.generated.seed import Place, Seed
from tests.web.generated.seed_plugins import EVALUATION_ANSWERS, EVALUATION_CONTENT


def _position(seed: Seed, place: Place) -> str:
    return next(name for name, candidate in seed.places.items() if candidate is place)


def evaluation(*keys: str) -> Callable[[Seed, Place], Any]:
    """The id (or, for a last key not naming an object, the value) of the position's seeded evaluation object."""
    def pick(seed: Seed, place: Place) -> Any:
        value: Any = seed.plugins["evaluation"][_position(seed, place)]
        for key in keys:
            value = value[key]
        return value["id"] if isinstance(value, dict) else value
    return pick


def qr(*keys: str) -> Callable[[Seed, Place], Any]:
    def pick(seed: Seed, place: Place) -> Any:
        value: Any = seed.plugins["qr_checkin"][_position(seed, place)]
        for key in keys:
            value = value[key]
        return value["id"] if isinstance(value, dict) else value
    return pick


def _attendee_fill(name: str, *keys: str) -> dict:
    """The attendee's own object at the own position, someone else's (the sibling's) elsewhere."""
    return {name: lambda seed, place: evaluation(*keys)(seed, seed.place("own") if place is seed.place("own") else seed.place("sibling"))}


TEMPLATE = {"template_id": evaluation("template")}
FORM = {"form_id": evaluation("form")}
TEXT = {"text_id": evaluation("text")}
ATTENDEE_POSITIONS = ("own", "sibling")
ATTENDEE_FORM = _attendee_fill("form_id", "form")
ANONYMOUS_FORM = {"form_id": lambda seed, place: evaluation("anonymous_form")(seed, seed.place("own"))
                  if place is seed.place("own") else evaluation("form")(seed, seed.place("sibling"))}
EVAL = "/api/v1/evaluation"
FORMS = f"{EVAL}/conferences/{{conference_id:int}}/forms"
PAGE_FORMS = "/evaluation/conferences/{conference_id:int}/forms"


def _form_body(seed: Seed, place: Place) -> dict:
    return {"json": {"template_id": evaluation("template")(seed, place if _position(seed, place) != "venue" else seed.place("parent")),
                     "audience": "invited", "close_after_days": 7}}


def _form_fields(seed: Seed, place: Place) -> dict:
    return {"data": {"template_id": str(_form_body(seed, place)["json"]["template_id"]), "audience": "invited", "close_after_days": "7"}}


def _edit_key(seed: Seed, place: Place) -> dict:
    return {"data": {"edit_key": seed.plugins["evaluation"]["own"]["edit_key"]}}


def _device(extra: Callable[[Seed, Place], dict] | None = None) -> Callable[[Seed, Place], dict]:
    """A scanner's request: its key in X-Device-Token (whatever cookies the caller also sends)."""
    def build(seed: Seed, place: Place) -> dict:
        return {"headers": {"x-device-token": seed.plugins["qr_checkin"]["own"]["device_token"]}, **(extra(seed, place) if extra else {})}
    return build


def _screen_code(seed: Seed, place: Place) -> str:
    from plugins.qr_checkin import selfcheck

    return selfcheck.screen_code(place.published_venue["id"])


def _sms_secret(seed: Seed, place: Place) -> str:
    from plugins.sms.channel import receipt_secret

    return receipt_secret(seed.place("sibling").unit["id"])


def _unsubscribe_token(seed: Seed, place: Place) -> str:
    from plugins.email.channel import unsubscribe_token

    return unsubscribe_token(seed.place("sibling").person["id"])


SIBLING_UNIT = lambda seed, place: seed.place("sibling").unit["id"]  # noqa: E731
SMS_RECEIPT = {"unit_id": SIBLING_UNIT, "secret": _sms_secret}
UNSUBSCRIBE = {"unit_id": SIBLING_UNIT, "person_id": lambda seed, place: seed.place("sibling").person["id"], "token": _unsubscribe_token}
QR = "/api/v1/qr_checkin/conferences/{conference_id:int}"
QR_PAGES = "/qr_checkin/conferences/{conference_id:int}"
SHEET = {"sheet_id": qr("sheet")}
VENUE_FIELD = lambda seed, place: {"data": {"venue_id": str(place.published_venue["id"])}}  # noqa: E731
HOSTED_VENUE = {"venue_id": lambda seed, place: place.published_venue["id"]}

PLUGIN_EXPECTATIONS: dict[tuple[str, str], Expect] = {
    # -- ical: feeds are read by calendar clients, authenticated by their address alone
    ("GET", "/ical/{feed_token:str}"): Expect("fixed", fixed=200, positions=ONCE,
                                              fill={"feed_token": lambda seed, place: f"{seed.feed_token}.ics"}),
    # a unit's public conferences: public, whichever unit
    ("GET", "/ical/units/{unit_id:int}/cong-khai.ics"): Expect("fixed", fixed=200),
    # not public: its invitees only (the attendee is invited to the own unit's conference); staff
    # have the conference's pages, not this download
    ("GET", "/ical/conferences/{conference_id:int}/hoi-nghi.ics"): Expect("fixed", fixed=404, fixed_for={"attendee": 200},
                                                                          positions=ONCE),
    ("GET", "/me/ical"): Expect("attendee", positions=ONCE),
    ("POST", "/me/ical/feed/rotate"): Expect("attendee", positions=ONCE, ok=(303,)),
    # -- sms and email (on at unit B): callbacks authenticated by the secret in their URL alone;
    # a request carrying any cookie comes from a browser, not a gateway or mail client, and is
    # refused (422) even with the right secret — every caller here carries at least the CSRF cookie
    ("GET", "/api/v1/sms/units/{unit_id:int}/receipts/{secret:str}"): Expect("fixed", fixed=422, positions=ONCE, fill=SMS_RECEIPT),
    ("POST", "/api/v1/sms/units/{unit_id:int}/receipts/{secret:str}"): Expect("fixed", fixed=422, positions=ONCE, fill=SMS_RECEIPT),
    ("POST", "/api/v1/email/units/{unit_id:int}/unsubscribe/{person_id:int}/{token:str}"): Expect(
        "fixed", fixed=422, positions=ONCE, fill=UNSUBSCRIBE),

    # -- evaluation: templates belong to a unit (usable below it); forms to the organising unit's
    # conference — a unit that only hosts a venue may not see them (403)
    ("GET", f"{EVAL}/units/{{unit_id:int}}/templates"): Expect("read"),
    ("POST", f"{EVAL}/units/{{unit_id:int}}/templates"): Expect("manage", ok=(201,),
                                                               request=body(name="Mẫu mới", content=EVALUATION_CONTENT)),
    ("GET", f"{EVAL}/units/{{unit_id:int}}/templates/{{template_id:int}}"): Expect("read", fill=TEMPLATE),
    ("PUT", f"{EVAL}/units/{{unit_id:int}}/templates/{{template_id:int}}"): Expect("manage", fill=TEMPLATE,
                                                                                  request=body(name="Mẫu đổi tên")),
    ("GET", FORMS): Expect("read", venue="forbid"),
    ("POST", FORMS): Expect("manage", venue="forbid", ok=(201,), request=_form_body),
    ("GET", f"{FORMS}/{{form_id:int}}"): Expect("read", venue="forbid", fill=FORM),
    ("POST", f"{FORMS}/{{form_id:int}}/open"): Expect("manage", venue="forbid", fill={"form_id": evaluation("draft_form")}),
    ("POST", f"{FORMS}/{{form_id:int}}/close"): Expect("manage", venue="forbid", fill=FORM),
    ("GET", f"{FORMS}/{{form_id:int}}/results"): Expect("read", venue="forbid", fill=FORM, request=query(by_unit="true")),
    ("GET", f"{FORMS}/{{form_id:int}}/export.csv"): Expect("read", venue="forbid", fill=FORM),
    ("GET", f"{FORMS}/{{form_id:int}}/export.xlsx"): Expect("read", venue="forbid", fill=FORM),
    ("PATCH", f"{EVAL}/conferences/{{conference_id:int}}/texts/{{text_id:str}}"): Expect(
        "manage", venue="forbid", fill=TEXT, request=body(status="answered", tags=["tài liệu"])),
    ("GET", f"{EVAL}/units/{{unit_id:int}}/recommendations"): Expect("read"),
    ("GET", f"{EVAL}/units/{{unit_id:int}}/speakers"): Expect("read"),
    ("GET", f"{EVAL}/units/{{unit_id:int}}/series/{{series_id:int}}/trend"): Expect("read"),
    # the attendee: forms of their conferences only; someone else's is not revealed
    ("GET", f"{EVAL}/me/forms"): Expect("attendee", positions=ONCE),
    ("GET", f"{EVAL}/me/forms/{{form_id:int}}"): Expect("attendee", positions=ATTENDEE_POSITIONS, fill=ATTENDEE_FORM),
    ("POST", f"{EVAL}/me/forms/{{form_id:int}}/responses"): Expect(
        "attendee", positions=ATTENDEE_POSITIONS, fill=ATTENDEE_FORM, request=body(answers=EVALUATION_ANSWERS)),
    # staff pages: the same rules as the API
    ("GET", "/evaluation/units/{unit_id:int}"): Expect("read"),
    ("GET", "/evaluation/units/{unit_id:int}/recommendations"): Expect("read"),
    ("GET", "/evaluation/units/{unit_id:int}/speakers"): Expect("read"),
    ("GET", "/evaluation/units/{unit_id:int}/series/{series_id:int}"): Expect("read"),
    ("GET", "/evaluation/conferences/{conference_id:int}"): Expect("read", venue="forbid"),
    ("POST", PAGE_FORMS): Expect("manage", venue="forbid", ok=(303,), request=_form_fields),
    ("GET", f"{PAGE_FORMS}/{{form_id:int}}"): Expect("read", venue="forbid", fill=FORM),
    ("GET", f"{PAGE_FORMS}/{{form_id:int}}/print"): Expect("read", venue="forbid", fill=FORM),
    ("POST", f"{PAGE_FORMS}/{{form_id:int}}/{{action:str}}"): Expect("manage", venue="forbid", ok=(303,),
                                                                     fill={**FORM, "action": lambda seed, place: "close"}),
    ("POST", "/evaluation/conferences/{conference_id:int}/texts/{text_id:str}"): Expect(
        "manage", venue="forbid", ok=(303,), fill=TEXT, request=lambda seed, place: {"data": {"status": "passed_up", "tags": "đường"}}),
    # the attendee's pages
    ("GET", "/me/evaluation/conferences/{conference_id:int}"): Expect(
        "attendee", positions=ATTENDEE_POSITIONS,
        fill={"conference_id": lambda seed, place: (seed.place("own") if place is seed.place("own") else seed.place("sibling")).conference["id"]}),
    ("GET", "/me/evaluation/forms/{form_id:int}"): Expect("attendee", positions=ATTENDEE_POSITIONS, fill=ATTENDEE_FORM),
    ("POST", "/me/evaluation/forms/{form_id:int}"): Expect(
        "attendee", positions=ATTENDEE_POSITIONS, fill=ATTENDEE_FORM, ok=(200,),
        request=lambda seed, place: {"data": {"q_noi_dung": "5", "q_gop_y": "Tốt"}}),
    ("POST", "/me/evaluation/forms/{form_id:int}/edit"): Expect(
        "attendee", positions=ATTENDEE_POSITIONS, fill=ANONYMOUS_FORM, ok=(200,), request=_edit_key),
    # -- qr_checkin: check-in staff act on the badges of the invitations they may check in (a
    # venue grant: that venue's); conference-wide settings belong to the organising unit
    ("POST", f"{QR}/credentials/{{invitation_id:int}}/revoke"): Expect("checkin", venue="scope"),
    ("POST", f"{QR}/credentials/{{invitation_id:int}}/reissue"): Expect("checkin", venue="scope"),
    ("PUT", f"{QR}/settings"): Expect("manage", venue="forbid", request=body(staff_scans_only=True)),
    ("GET", f"{QR}/flags"): Expect("checkin", venue="scope"),
    # the scanner's API: its device key alone authenticates (the own conference's key here), the
    # caller's session neither helps nor hinders
    ("GET", "/api/v1/qr_checkin/device"): Expect("fixed", fixed=200, positions=ONCE, request=_device()),
    ("GET", f"{QR}/roster"): Expect("fixed", fixed=200, positions=ONCE, request=_device()),
    ("GET", f"{QR}/recent"): Expect("fixed", fixed=200, positions=ONCE, request=_device()),
    ("POST", f"{QR}/scans"): Expect("fixed", fixed=200, positions=ONCE, request=_device(
        lambda seed, place: {"json": {"short_code": "KHONGCO1", "nonce": "matrix-1"}})),
    ("POST", f"{QR}/scans/batch"): Expect("fixed", fixed=200, positions=ONCE, request=_device(
        lambda seed, place: {"json": {"scans": [{"short_code": "KHONGCO2", "nonce": "matrix-2"}]}})),
    # the scanner page is a shell for a phone with no session (its key is in the link's
    # fragment); its service worker likewise
    ("GET", f"{QR_PAGES}/scanner"): Expect("fixed", fixed=200),
    ("GET", f"{QR_PAGES}/sw.js"): Expect("fixed", fixed=200, positions=ONCE),
    ("GET", "/me/qr_checkin/badges"): Expect("attendee", positions=ONCE),
    ("GET", "/me/qr_checkin/sw.js"): Expect("attendee", positions=ONCE),
    ("GET", f"{QR_PAGES}/devices"): Expect("checkin", venue="scope"),
    # the page again, the new key shown once
    ("POST", f"{QR_PAGES}/devices"): Expect("checkin", venue="scope", ok=(200,), request=VENUE_FIELD),
    ("GET", f"{QR_PAGES}/badges"): Expect("checkin", venue="scope"),
    ("POST", f"{QR_PAGES}/badges"): Expect("checkin", venue="scope", ok=(303,), request=VENUE_FIELD),
    ("GET", f"{QR_PAGES}/badges/{{sheet_id:int}}"): Expect("checkin", venue="scope", fill=SHEET),
    ("GET", f"{QR_PAGES}/badges/{{sheet_id:int}}/parts/{{part:int}}"): Expect(
        "checkin", venue="scope", fill={**SHEET, "part": lambda seed, place: 1}),
    # the venue screen: check-in staff of the venue
    ("GET", "/qr_checkin/venues/{venue_id:int}/screen"): Expect("checkin", venue="scope", fill=HOSTED_VENUE),
    ("GET", "/qr_checkin/venues/{venue_id:int}/screen/code"): Expect("checkin", venue="scope", fill=HOSTED_VENUE),
    # self check-in: whoever scans the screen's current code (it binds the code to the session);
    # without that pass the next steps send them back to the screen
    ("GET", "/qr_checkin/venues/{venue_id:int}/self/{code:str}"): Expect(
        "fixed", fixed=200, positions=ONCE, fill={**HOSTED_VENUE, "code": _screen_code}),
    ("POST", "/qr_checkin/venues/{venue_id:int}/self"): Expect("fixed", fixed=410, positions=ONCE, fill=HOSTED_VENUE),
    ("POST", "/qr_checkin/venues/{venue_id:int}/self/phone"): Expect(
        "fixed", fixed=422, positions=ONCE, fill=HOSTED_VENUE, request=lambda seed, place: {"data": {"phone": "0912000003"}}),
    ("POST", "/qr_checkin/venues/{venue_id:int}/self/verify"): Expect(
        "fixed", fixed=410, positions=ONCE, fill=HOSTED_VENUE, request=lambda seed, place: {"data": {"code": "123456"}}),
    ("GET", "/static/qr_checkin/{file_path:path}"): Expect("fixed", fixed=200, positions=ONCE,
                                                           fill={"file_path": lambda seed, place: "scanner.css"}),
    ("HEAD", "/static/qr_checkin/{file_path:path}"): Expect("fixed", fixed=200, positions=ONCE,
                                                            fill={"file_path": lambda seed, place: "scanner.css"}),
    ("GET", "/static/evaluation/{file_path:path}"): Expect("fixed", fixed=200, positions=ONCE,
                                                           fill={"file_path": lambda seed, place: "evaluation.css"}),
    ("HEAD", "/static/evaluation/{file_path:path}"): Expect("fixed", fixed=200, positions=ONCE,
                                                            fill={"file_path": lambda seed, place: "evaluation.css"}),
}
