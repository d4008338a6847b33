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
    # -- sms: the delivery-receipt callback, authenticated by the secret in its URL only: a wrong
    # secret is refused whoever calls
    ("GET", "/api/v1/sms/units/{unit_id:int}/receipts/{secret:str}"): Expect(
        "fixed", fixed=404, positions=ONCE, fill={"secret": lambda seed, place: "khong-dung"}),
    ("POST", "/api/v1/sms/units/{unit_id:int}/receipts/{secret:str}"): Expect(
        "fixed", fixed=404, positions=ONCE, fill={"secret": lambda seed, place: "khong-dung"}),

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
    ("GET", "/static/evaluation/{file_path:path}"): Expect("fixed", fixed=200, positions=ONCE,
                                                           fill={"file_path": lambda seed, place: "evaluation.css"}),
    ("HEAD", "/static/evaluation/{file_path:path}"): Expect("fixed", fixed=200, positions=ONCE,
                                                            fill={"file_path": lambda seed, place: "evaluation.css"}),
}
