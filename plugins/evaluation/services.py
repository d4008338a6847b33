"""Use cases of the evaluation plugin: templates, forms, answering, results.

Plain async functions with keyword-only arguments; staff functions take the acting user and
check access through ``core.access`` (NotFound when the unit is out of sight, Forbidden when it
is visible but the role does not allow the change). Attendee functions take the person signed
in through their personal link.

Anonymous answering writes no audit entry and no event; nothing it stores carries a time finer
than the day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import secrets
import uuid
import zoneinfo
from typing import Any

from core import clock
from core.access import Actor, conference_scope, require
from core.config import get_settings
from core.db import bulk_insert, transaction
from core.errors import Conflict, Forbidden, Label, NotFound, ValidationError
from core.services import audit
from core.services.units import get_unit
from core.tables import AgendaSession, Attendance, Conference, Invitation, Person, SessionSpeaker, Speaker, Unit
from core.text import clean
from plugins.evaluation import questions as q
from plugins.evaluation.i18n import _, pgettext
from plugins.evaluation.settings import PLUGIN, unit_value
from plugins.evaluation.tables import (EvaluationAnswer, EvaluationForm, EvaluationParticipation, EvaluationResponse,
                                       EvaluationTemplate, EvaluationTemplateVersion, EvaluationText)

MIN_GROUP = 5  # no distribution, mean, breakdown or text list for fewer responses than this
PRESENT = ("present", "late")  # recorded there by the roll-call
AUDIENCES = {"present": q.N_("Người có mặt (theo điểm danh)"), "invited": q.N_("Tất cả người được mời")}
TEXT_STATUSES = {"new": q.N_("Mới"), "answered": q.N_("Đã trả lời"), "passed_up": q.N_("Đã chuyển cấp trên")}
MULTI_MARK = -1  # a multiple-choice answer also stores one row with this value: "answered at all"
MAX_TAGS, TAG_MAX = 10, 40
KIND_OPEN = "evaluation_open"
JOB_CLOSE = "evaluation_close"


def _day(zone: str | None = None) -> dt.date:
    """Today in the unit's zone (the only time an answer keeps)."""
    return clock.now().astimezone(zoneinfo.ZoneInfo(zone or "Asia/Ho_Chi_Minh")).date()


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def public_url() -> str:
    return (getattr(get_settings(), "public_url", "") or "http://127.0.0.1:8000").rstrip("/")


def conference_form_url(conference_id: int) -> str:
    """Where a QR on the venue screen leads: the person's open forms of this conference."""
    return f"{public_url()}/me/evaluation/conferences/{conference_id}"


def _default_host():
    """The plugin host for the worker's hooks and jobs (which receive no host): built when
    needed, once per opening, from the deployment's plugins.toml."""
    from core.plugins import build_plugin_host

    return build_plugin_host()


# -- templates ----------------------------------------------------------------------------------

def _template_out(row: dict, version: dict | None = None) -> dict:
    out = {"id": row["id"], "unit_id": row["unit_id"], "name": row["name"], "current_version": row["current_version"],
           "archived": row["archived"], "created_at": row["created_at"], "updated_at": row["updated_at"]}
    if version is not None:
        content = _json(version["content"])
        out.update(version_id=version["id"], version=version["number"], content=content,
                   questions=[question.as_dict() for question in q.questions_of(content)])
    return out


async def _unit_with_access(actor: Actor, unit_id: int, permission: str) -> dict:
    unit = await get_unit(unit_id)
    require(actor, permission, unit["path"], what=Label("đơn vị"))
    return unit


def _ancestor_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


async def create_template(actor: Actor, *, unit_id: int, name: str, content: Any) -> dict:
    """A new template of the unit, version 1."""
    await _unit_with_access(actor, unit_id, "manage")
    name = clean(name or "")
    if not name:
        raise ValidationError("Mẫu phiếu cần có tên.", field="name")
    normalised = q.normalise_content(content)
    now = clock.now()
    async with transaction():
        row = (await EvaluationTemplate.insert(EvaluationTemplate(unit_id=unit_id, name=name, current_version=1, created_at=now,
                                                                  updated_at=now)).returning(*EvaluationTemplate.all_columns()))[0]
        await EvaluationTemplateVersion.insert(EvaluationTemplateVersion(template_id=row["id"], number=1, content=normalised,
                                                                         created_by=actor.user_id, created_at=now))
        await audit.record(actor, "evaluation.template.create", object_type="unit", object_id=unit_id, unit_id=unit_id,
                           template_id=row["id"], name=name)
    return await get_template(actor, unit_id=unit_id, template_id=row["id"])


async def _template_row(unit: dict, template_id: int) -> dict:
    """A template usable at ``unit``: its own or one of its ancestors'."""
    row = await EvaluationTemplate.select().where(EvaluationTemplate.id == template_id).first()
    if row is None or row["unit_id"] not in _ancestor_ids(unit["path"]):
        raise NotFound("Không tìm thấy mẫu phiếu.")
    return row


async def get_template(actor: Actor, *, unit_id: int, template_id: int, version: int | None = None) -> dict:
    unit = await _unit_with_access(actor, unit_id, "read")
    row = await _template_row(unit, template_id)
    number = version or row["current_version"]
    found = await EvaluationTemplateVersion.select().where(
        (EvaluationTemplateVersion.template_id == template_id) & (EvaluationTemplateVersion.number == number)).first()
    if found is None:
        raise NotFound("Không tìm thấy phiên bản này của mẫu phiếu.")
    out = _template_out(row, found)
    out["versions"] = [v["number"] for v in await EvaluationTemplateVersion.select(EvaluationTemplateVersion.number).where(
        EvaluationTemplateVersion.template_id == template_id).order_by(EvaluationTemplateVersion.number)]
    return out


async def list_templates(actor: Actor, *, unit_id: int) -> list[dict]:
    """Templates usable at the unit: its own and its ancestors' (a province's reaches its districts)."""
    unit = await _unit_with_access(actor, unit_id, "read")
    rows = await EvaluationTemplate.select().where(
        EvaluationTemplate.unit_id.is_in(_ancestor_ids(unit["path"])) & (EvaluationTemplate.archived == False)  # noqa: E712
    ).order_by(EvaluationTemplate.id)
    return [_template_out(row) for row in rows]


async def update_template(actor: Actor, *, unit_id: int, template_id: int, name: str | None = None, content: Any = None) -> dict:
    """Rename, and/or write a new version of the questions. Forms already attached keep their
    version, so editing never changes a form already answered."""
    unit = await _unit_with_access(actor, unit_id, "manage")
    row = await _template_row(unit, template_id)
    if row["unit_id"] != unit_id:
        raise NotFound("Không tìm thấy mẫu phiếu.")  # an ancestor's template is edited at the ancestor
    changes: dict = {EvaluationTemplate.updated_at: clock.now()}
    if name is not None:
        if not clean(name):
            raise ValidationError("Mẫu phiếu cần có tên.", field="name")
        changes[EvaluationTemplate.name] = clean(name)
    normalised = q.normalise_content(content) if content is not None else None
    async with transaction():
        if normalised is not None:
            number = row["current_version"] + 1
            await EvaluationTemplateVersion.insert(EvaluationTemplateVersion(template_id=template_id, number=number, content=normalised,
                                                                             created_by=actor.user_id, created_at=clock.now()))
            changes[EvaluationTemplate.current_version] = number
        await EvaluationTemplate.update(changes).where(EvaluationTemplate.id == template_id)
        await audit.record(actor, "evaluation.template.update", object_type="unit", object_id=unit_id, unit_id=unit_id,
                           template_id=template_id, new_version=normalised is not None)
    return await get_template(actor, unit_id=unit_id, template_id=template_id)


# -- forms --------------------------------------------------------------------------------------


async def _organiser_scope(actor: Actor, conference_id: int, permission: str):
    """The conference as its organising unit sees it: a unit that only hosts a venue (a venue
    grant) does not see the conference's evaluation."""
    scope = await conference_scope(actor, conference_id, permission)
    if not scope.whole:
        raise Forbidden("Chỉ đơn vị tổ chức hội nghị mới xem và quản lý được phiếu đánh giá.")
    return scope

def _form_out(row: dict, content: dict | None = None) -> dict:
    out = {key: row[key] for key in ("id", "unit_id", "conference_id", "session_id", "template_id", "version_id", "title",
                                      "anonymous", "editable", "audience", "open_on_end", "close_after_days", "status",
                                      "opened_at", "closes_at", "closed_at", "created_at")}
    out["speaker_ids"] = _json(row["speaker_ids"]) or []
    out["is_open"] = is_open(row)
    if content is not None:
        out["content"] = content
        out["questions"] = [question.as_dict() for question in q.questions_of(content)]
    return out


def is_open(form: dict) -> bool:
    return form["status"] == "open" and (form["closes_at"] is None or clock.now() < form["closes_at"])


async def _version_content(version_id: int) -> dict:
    row = await EvaluationTemplateVersion.select(EvaluationTemplateVersion.content).where(EvaluationTemplateVersion.id == version_id).first()
    return _json(row["content"]) if row else {"title": "", "sections": []}


async def _form(conference_id: int, form_id: int) -> dict:
    row = await EvaluationForm.select().where((EvaluationForm.id == form_id) & (EvaluationForm.conference_id == conference_id)).first()
    if row is None:
        raise NotFound("Không tìm thấy phiếu đánh giá.")
    return row


async def attach_form(
    actor: Actor, *, conference_id: int, template_id: int, per_session: bool = False, anonymous: bool = False,
    audience: str | None = None, close_after_days: int | None = None, editable: bool | None = None, open_on_end: bool = True,
    title: str | None = None,
) -> list[dict]:
    """Attach the template's current version to the conference (one form), or to each of its
    sessions (one form per session, rating its speakers). Defaults come from the unit's settings."""
    scope = await _organiser_scope(actor, conference_id, "manage")
    conference = scope.conference
    if conference["status"] == "cancelled":
        raise Conflict("Hội nghị đã huỷ; không gắn phiếu đánh giá được.")
    unit = await get_unit(conference["unit"])
    template = await _template_row(unit, template_id)
    version = await EvaluationTemplateVersion.select(EvaluationTemplateVersion.id, EvaluationTemplateVersion.content).where(
        (EvaluationTemplateVersion.template_id == template_id) & (EvaluationTemplateVersion.number == template["current_version"])).first()
    if audience is None:
        audience = "invited" if await unit_value(unit["path"], "ask_all_invitees") else "present"
    if audience not in AUDIENCES:
        raise ValidationError("Đối tượng được hỏi phải là \"present\" (người có mặt) hoặc \"invited\" (tất cả người được mời).",
                              field="audience")
    if close_after_days is None:
        close_after_days = int(await unit_value(unit["path"], "close_after_days"))
    if isinstance(close_after_days, bool) or not isinstance(close_after_days, int) or not 1 <= close_after_days <= 90:
        raise ValidationError("Số ngày mở phiếu phải từ 1 đến 90.", field="close_after_days")
    if editable is None:
        editable = bool(await unit_value(unit["path"], "anonymous_editable")) if anonymous else True
    base_title = clean(title or "") or _json(version["content"]).get("title") or template["name"]
    targets: list[tuple[int | None, list[int], str]] = [(None, [], base_title)]
    if per_session:
        sessions = await AgendaSession.select().where(AgendaSession.conference == conference_id).order_by(AgendaSession.position,
                                                                                                          AgendaSession.id)
        if not sessions:
            raise ValidationError("Hội nghị chưa có phiên nào trong chương trình để đánh giá theo phiên.", field="per_session")
        links = await SessionSpeaker.select(SessionSpeaker.session, SessionSpeaker.speaker).where(
            SessionSpeaker.session.is_in([s["id"] for s in sessions]))
        targets = [(s["id"], sorted(link["speaker"] for link in links if link["session"] == s["id"]), f"{base_title} – {s['title']}")
                   for s in sessions]
    created = []
    async with transaction():
        for session_id, speakers, form_title in targets:
            row = (await EvaluationForm.insert(EvaluationForm(
                unit_id=conference["unit"], conference_id=conference_id, session_id=session_id, speaker_ids=json.dumps(speakers),
                template_id=template_id, version_id=version["id"], title=form_title[:500], anonymous=anonymous, editable=editable,
                audience=audience, open_on_end=open_on_end, close_after_days=close_after_days, created_at=clock.now(),
            )).returning(*EvaluationForm.all_columns()))[0]
            created.append(row)
        await audit.record(actor, "evaluation.form.attach", object_type="conference", object_id=conference_id,
                           unit_id=conference["unit"], template_id=template_id, forms=[row["id"] for row in created])
    content = _json(version["content"])
    return [_form_out(row, content) for row in created]


async def list_forms(actor: Actor, *, conference_id: int) -> list[dict]:
    await _organiser_scope(actor, conference_id, "read")
    rows = await EvaluationForm.select().where(EvaluationForm.conference_id == conference_id).order_by(EvaluationForm.id)
    counts = await _response_counts([row["id"] for row in rows])
    return [{**_form_out(row), "responses": counts.get(row["id"], 0)} for row in rows]


async def get_form(actor: Actor, *, conference_id: int, form_id: int) -> dict:
    await _organiser_scope(actor, conference_id, "read")
    row = await _form(conference_id, form_id)
    return _form_out(row, await _version_content(row["version_id"]))


async def _response_counts(form_ids: list[int]) -> dict[int, int]:
    if not form_ids:
        return {}
    rows = await EvaluationResponse.raw(
        f"SELECT form_id, COUNT(*) AS n FROM evaluation_response WHERE form_id IN ({', '.join(str(int(i)) for i in form_ids)}) "
        f"GROUP BY form_id")
    return {row["form_id"]: row["n"] for row in rows}


async def _open(form: dict, *, actor: Actor) -> dict:
    from core import jobs

    now = clock.now()
    closes_at = now + dt.timedelta(days=form["close_after_days"])
    updated = await EvaluationForm.update({EvaluationForm.status: "open", EvaluationForm.opened_at: now,
                                           EvaluationForm.closes_at: closes_at, EvaluationForm.closed_at: None}).where(
        (EvaluationForm.id == form["id"]) & EvaluationForm.status.is_in(["draft", "closed"])).returning(EvaluationForm.id)
    if updated:
        await jobs.schedule(JOB_CLOSE, run_at=closes_at, dedupe_key=f"evaluation:close:{form['id']}", plugin=PLUGIN,
                            unit_id=form["unit_id"], conference_id=form["conference_id"], payload={"form_id": form["id"]})
        await audit.record(actor, "evaluation.form.open", object_type="conference", object_id=form["conference_id"],
                           unit_id=form["unit_id"], form_id=form["id"], closes_at=closes_at.isoformat())
    return await EvaluationForm.select().where(EvaluationForm.id == form["id"]).first()


async def notify_open(host, conference_id: int) -> dict[str, int]:
    """The "evaluation open" message to the people asked, on whatever channels the unit has (once
    per person and conference: the notification service drops duplicates)."""
    forms = await EvaluationForm.select(EvaluationForm.audience).where(
        (EvaluationForm.conference_id == conference_id) & (EvaluationForm.status == "open"))
    if not forms:
        return {"queued": 0}
    from core import notifications

    audience = "all" if any(form["audience"] == "invited" for form in forms) else "present"
    try:
        return await notifications.queue_conference_messages(Actor.system_actor("evaluation"), host or _default_host(), kind=KIND_OPEN,
                                                             conference_id=conference_id, audience=audience, campaign="evaluation")
    except Conflict:  # the unit has no channel: the form is still reached from the personal page and the QR
        return {"queued": 0, "no_channel": 1}


async def open_form(actor: Actor, host, *, conference_id: int, form_id: int) -> dict:
    """Open a form by hand (before or after the conference ended); it closes after its days."""
    scope = await _organiser_scope(actor, conference_id, "manage")
    form = await _form(conference_id, form_id)
    if scope.conference["status"] not in ("published", "ended"):
        raise Conflict("Chỉ mở được phiếu của hội nghị đã công bố hoặc đã kết thúc.")
    if is_open(form):
        raise Conflict("Phiếu đang mở.")
    async with transaction():
        row = await _open(form, actor=actor)
    result = _form_out(row)
    result["notified"] = await notify_open(host, conference_id)
    return result


async def close_form(actor: Actor, *, conference_id: int, form_id: int) -> dict:
    from core import jobs

    await _organiser_scope(actor, conference_id, "manage")
    form = await _form(conference_id, form_id)
    if form["status"] != "open":
        raise Conflict("Phiếu không ở trạng thái mở.")
    async with transaction():
        await EvaluationForm.update({EvaluationForm.status: "closed", EvaluationForm.closed_at: clock.now()}).where(
            EvaluationForm.id == form_id)
        await audit.record(actor, "evaluation.form.close", object_type="conference", object_id=conference_id, unit_id=form["unit_id"],
                           form_id=form_id)
    await jobs.cancel(dedupe_key=f"evaluation:close:{form_id}")
    return _form_out(await EvaluationForm.select().where(EvaluationForm.id == form_id).first())


async def open_on_conference_end(conference_id: int, host=None) -> int:
    """The ``conference_ended`` hook: open the conference's draft forms set to open at the end,
    then send the message. Idempotent (an open form is not opened again)."""
    forms = await EvaluationForm.select().where((EvaluationForm.conference_id == conference_id) & (EvaluationForm.status == "draft")
                                                & (EvaluationForm.open_on_end == True))  # noqa: E712
    actor = Actor.system_actor("evaluation: hội nghị kết thúc")
    for form in forms:
        async with transaction():
            await _open(form, actor=actor)
    if forms:
        await notify_open(host, conference_id)
    return len(forms)


async def close_due(job: dict) -> int:
    """The close job: forms whose time ran out become closed (answers were refused already)."""
    closed = await EvaluationForm.update({EvaluationForm.status: "closed", EvaluationForm.closed_at: clock.now()}).where(
        (EvaluationForm.status == "open") & (EvaluationForm.closes_at <= clock.now())).returning(EvaluationForm.id)
    return len(closed)


# -- the attendee's side ------------------------------------------------------------------------

async def _asked(form: dict, person_id: int) -> bool:
    """Is the person asked: an active invitee, recorded present unless the form asks all invitees."""
    if not await Invitation.exists().where((Invitation.conference == form["conference_id"]) & (Invitation.person == person_id)
                                           & (Invitation.status == "active")):
        return False
    if form["audience"] == "invited":
        return True
    return await Attendance.exists().where((Attendance.conference == form["conference_id"]) & (Attendance.person == person_id)
                                           & Attendance.status.is_in(list(PRESENT)))


async def _answered(form: dict, person_id: int) -> bool:
    table = EvaluationParticipation if form["anonymous"] else EvaluationResponse
    return await table.exists().where((table.form_id == form["id"]) & (table.person_id == person_id))


async def forms_for_person(person_id: int, *, conference_ids: list[int], conference_id: int | None = None) -> list[dict]:
    """The person's open forms among ``conference_ids`` (those where the plugin is on), with
    whether they answered; ``conference_id`` narrows to one conference (the venue screen's QR)."""
    ids = [c for c in conference_ids if conference_id is None or c == conference_id]
    if not ids:
        return []
    rows = await EvaluationForm.select(EvaluationForm.all_columns(), ).where(
        EvaluationForm.conference_id.is_in(ids) & (EvaluationForm.status == "open")).order_by(EvaluationForm.id)
    titles = {row["id"]: row for row in await Conference.select(Conference.id, Conference.title, Conference.timezone).where(
        Conference.id.is_in(ids))}
    found = []
    for row in rows:
        if not is_open(row) or not await _asked(row, person_id):
            continue
        found.append({**_form_out(row), "conference_title": titles[row["conference_id"]]["title"],
                      "timezone": titles[row["conference_id"]]["timezone"], "answered": await _answered(row, person_id)})
    return found


async def form_for_person(person_id: int, *, form_id: int, conference_ids: list[int]) -> dict:
    """The form to fill in, with the person's earlier answers when it is named. NotFound unless
    the person is asked (as if it did not exist)."""
    row = await EvaluationForm.select().where(EvaluationForm.id == form_id).first()
    if row is None or row["conference_id"] not in conference_ids or row["status"] == "draft" or not await _asked(row, person_id):
        raise NotFound("Không tìm thấy phiếu đánh giá.")
    content = await _version_content(row["version_id"])
    out = _form_out(row, content)
    conference = await Conference.select(Conference.title, Conference.timezone).where(Conference.id == row["conference_id"]).first()
    out.update(conference_title=conference["title"], timezone=conference["timezone"], answered=await _answered(row, person_id),
               answers={})
    if not row["anonymous"]:
        response = await EvaluationResponse.select(EvaluationResponse.id).where(
            (EvaluationResponse.form_id == form_id) & (EvaluationResponse.person_id == person_id)).first()
        if response:
            out["answers"] = await _stored_answers(response["id"], q.questions_of(content))
    return out


async def _stored_answers(response_id: str, questions: list[q.Question]) -> dict[str, Any]:
    by_index = {question.index: question for question in questions}
    answers: dict[str, Any] = {}
    for row in await EvaluationAnswer.select(EvaluationAnswer.question, EvaluationAnswer.value).where(
            EvaluationAnswer.response_id == response_id):
        question = by_index.get(row["question"])
        if question is None or row["value"] == MULTI_MARK:
            continue
        if question.type == "rating":
            answers[question.key] = row["value"]
        elif question.type == "yes_no":
            answers[question.key] = bool(row["value"])
        elif question.type == "single_choice":
            answers[question.key] = question.options[row["value"]]
        else:
            answers.setdefault(question.key, []).append(question.options[row["value"]])
    for row in await EvaluationText.select(EvaluationText.question, EvaluationText.text, EvaluationText.topic).where(
            EvaluationText.response_id == response_id):
        question = by_index.get(row["question"])
        if question is not None:
            answers[question.key] = {"text": row["text"], "topic": row["topic"]} if question.type == "recommendation" else row["text"]
    return answers


async def answers_for_edit_key(*, form_id: int, edit_key: str, conference_ids: list[int], person_id: int) -> dict:
    """An anonymous response's answers, found by its edit key (for the form shown again)."""
    form = await form_for_person(person_id, form_id=form_id, conference_ids=conference_ids)
    response = await EvaluationResponse.select(EvaluationResponse.id).where(
        (EvaluationResponse.form_id == form_id) & (EvaluationResponse.edit_key_hash == _hash_key(edit_key.strip()))).first()
    if response is None:
        raise ValidationError("Mã sửa phiếu không đúng.", field="edit_key")
    form["answers"] = await _stored_answers(response["id"], q.questions_of(form["content"]))
    return form


async def _write_answers(form: dict, response_id: str, clean_answers: q.CleanAnswers, group_unit_id: int | None, day: dt.date) -> None:
    numeric = [(response_id, form["id"], index, value, group_unit_id) for index, value in clean_answers.numeric]
    multi = {question.index for question in q.questions_of(await _version_content(form["version_id"])) if question.type == "multiple_choice"}
    numeric += [(response_id, form["id"], index, MULTI_MARK, group_unit_id) for index in sorted({i for i, _ in clean_answers.numeric} & multi)]
    await bulk_insert(EvaluationAnswer, ["response_id", "form_id", "question", "value", "group_unit_id"], numeric)
    texts = [(str(uuid.uuid4()), response_id, form["id"], form["unit_id"], form["conference_id"], index, kind, text, topic, "[]", "new", "",
              day) for index, kind, text, topic in clean_answers.texts]
    await bulk_insert(EvaluationText, ["id", "response_id", "form_id", "unit_id", "conference_id", "question", "kind", "text", "topic",
                                       "tags", "status", "reply", "day"], texts)


async def _clear_answers(response_id: str) -> None:
    await EvaluationAnswer.delete().where(EvaluationAnswer.response_id == response_id)
    await EvaluationText.delete().where(EvaluationText.response_id == response_id)


async def submit_response(person_id: int, *, form_id: int, answers: Any, conference_ids: list[int], edit_key: str | None = None) -> dict:
    """Answer (or re-answer) a form. Every answer is checked before anything is written, and all
    is written in one transaction: a refusal leaves nothing behind.

    Named: one response per invitee, replaced by a later answer until the form closes (when the
    form is editable). Anonymous: a participation record (person, day) refuses a second response;
    the response gets a random UUID and, when the form is editable, an edit key returned once
    (only its hash is kept); ``edit_key`` replaces the answers of that response.
    """
    row = await EvaluationForm.select().where(EvaluationForm.id == form_id).first()
    if row is None or row["conference_id"] not in conference_ids or row["status"] == "draft" or not await _asked(row, person_id):
        raise NotFound("Không tìm thấy phiếu đánh giá.")
    if not is_open(row):
        raise Conflict("Phiếu đánh giá đã đóng; không nhận thêm câu trả lời.")
    content = await _version_content(row["version_id"])
    checked = q.check_answers(q.questions_of(content), answers)
    if not checked.numeric and not checked.texts:
        raise ValidationError("Phiếu chưa có câu trả lời nào.", field="answers")
    person = await Person.select(Person.unit, Person.unit.timezone.as_alias("timezone")).where(Person.id == person_id).first()
    day = _day(person["timezone"] if person else None)
    group_unit_id = person["unit"] if person else None
    if row["anonymous"]:
        return await _submit_anonymous(row, person_id, checked, group_unit_id, day, edit_key)
    async with transaction():
        existing = await EvaluationResponse.select(EvaluationResponse.id).where(
            (EvaluationResponse.form_id == form_id) & (EvaluationResponse.person_id == person_id)).first()
        if existing is not None:
            if not row["editable"]:
                raise Conflict("Đồng chí đã gửi phiếu này; phiếu không cho sửa sau khi gửi.")
            response_id = existing["id"]
            await _clear_answers(response_id)
            await EvaluationResponse.update({EvaluationResponse.updated_day: day}).where(EvaluationResponse.id == response_id)
        else:
            response_id = str(uuid.uuid4())
            inserted = await EvaluationResponse.insert(EvaluationResponse(
                id=response_id, form_id=form_id, person_id=person_id, group_unit_id=group_unit_id, day=day, updated_day=day,
            )).on_conflict(action="DO NOTHING").returning(EvaluationResponse.id)
            if not inserted:
                raise Conflict("Phiếu của đồng chí vừa được gửi từ nơi khác; hãy tải lại trang.")
        await _write_answers(row, response_id, checked, group_unit_id, day)
    return {"response_id": response_id, "updated": existing is not None, "edit_key": None, "answers": checked.given}


async def _submit_anonymous(form: dict, person_id: int, checked: q.CleanAnswers, group_unit_id: int | None, day: dt.date,
                            edit_key: str | None) -> dict:
    if edit_key:
        if not form["editable"]:
            raise Conflict("Phiếu ẩn danh này không cho sửa sau khi gửi.")
        async with transaction():
            response = await EvaluationResponse.select(EvaluationResponse.id).where(
                (EvaluationResponse.form_id == form["id"]) & (EvaluationResponse.edit_key_hash == _hash_key(edit_key.strip()))).first()
            if response is None:
                raise ValidationError("Mã sửa phiếu không đúng.", field="edit_key")
            await _clear_answers(response["id"])
            await EvaluationResponse.update({EvaluationResponse.updated_day: day}).where(EvaluationResponse.id == response["id"])
            await _write_answers(form, response["id"], checked, group_unit_id, day)
        return {"response_id": response["id"], "updated": True, "edit_key": None, "answers": checked.given}
    key = secrets.token_urlsafe(18) if form["editable"] else None
    response_id = str(uuid.uuid4())
    async with transaction():
        took_part = await EvaluationParticipation.insert(EvaluationParticipation(
            id=str(uuid.uuid4()), form_id=form["id"], person_id=person_id, day=day)).on_conflict(action="DO NOTHING").returning(
            EvaluationParticipation.id)
        if not took_part:
            raise (Conflict("Đồng chí đã gửi phiếu ẩn danh này rồi; mỗi người chỉ gửi một phiếu. Muốn sửa, hãy dùng mã sửa phiếu đã nhận.")
                   if form["editable"] else Conflict("Đồng chí đã gửi phiếu ẩn danh này rồi; mỗi người chỉ gửi một phiếu."))
        await EvaluationResponse.insert(EvaluationResponse(id=response_id, form_id=form["id"], person_id=None, group_unit_id=group_unit_id,
                                                           day=day, updated_day=day, edit_key_hash=_hash_key(key) if key else None))
        await _write_answers(form, response_id, checked, group_unit_id, day)
    return {"response_id": response_id, "updated": False, "edit_key": key, "answers": checked.given}


# -- results ------------------------------------------------------------------------------------

def _mean(total: int, n: int) -> float | None:
    return round(total / n, 2) if n else None


async def tally(form_id: int) -> dict[int, dict[int, int]]:
    """{question index: {value: count}}: one GROUP BY over the (form, question, value) index."""
    rows = await EvaluationAnswer.raw(
        "SELECT question, value, COUNT(*) AS n FROM evaluation_answer WHERE form_id = {} GROUP BY question, value", form_id)
    found: dict[int, dict[int, int]] = {}
    for row in rows:
        found.setdefault(row["question"], {})[row["value"]] = row["n"]
    return found


async def _text_counts(form_id: int) -> dict[int, int]:
    rows = await EvaluationText.raw("SELECT question, COUNT(*) AS n FROM evaluation_text WHERE form_id = {} GROUP BY question", form_id)
    return {row["question"]: row["n"] for row in rows}


async def asked_count(form: dict) -> int:
    if form["audience"] == "invited":
        return await Invitation.count().where((Invitation.conference == form["conference_id"]) & (Invitation.status == "active"))
    rows = await Attendance.raw(
        "SELECT COUNT(*) AS n FROM attendance a JOIN invitation i ON i.conference = a.conference AND i.person = a.person "
        "AND i.status = 'active' WHERE a.conference = {} AND a.status IN ('present', 'late')", form["conference_id"])
    return rows[0]["n"]


def summarise_question(question: q.Question, counts: dict[int, int], text_n: int) -> dict:
    """One question's figures; suppressed below MIN_GROUP answers."""
    out = {**question.as_dict(), "type_label": q.TYPES[question.type]}
    if question.type in q.TEXT_TYPES:
        out["n"] = text_n
        out["suppressed"] = text_n < MIN_GROUP
        return out
    if question.type == "multiple_choice":
        n = counts.get(MULTI_MARK, 0)
    else:
        n = sum(counts.values())
    out["n"] = n
    out["suppressed"] = n < MIN_GROUP
    if out["suppressed"]:
        return out
    if question.type == "rating":
        distribution = [{"label": str(value), "value": value, "count": counts.get(value, 0)} for value in range(q.RATING_MIN, q.RATING_MAX + 1)]
        out["mean"] = _mean(sum(value * counts.get(value, 0) for value in range(q.RATING_MIN, q.RATING_MAX + 1)), n)
    elif question.type == "yes_no":
        distribution = [{"label": _("Có"), "value": 1, "count": counts.get(1, 0)},
                        {"label": pgettext("answer", "Không"), "value": 0, "count": counts.get(0, 0)}]
        out["mean"] = _mean(counts.get(1, 0), n)  # the share answering yes
    else:
        distribution = [{"label": option, "value": index, "count": counts.get(index, 0)} for index, option in enumerate(question.options)]
        out["mean"] = None
    for item in distribution:
        item["share"] = round(item["count"] / n, 4) if n else 0.0
    out["distribution"] = distribution
    return out


async def results(actor: Actor, *, conference_id: int, form_id: int, texts: bool = True, by_unit: bool = False,
                  text_limit: int = 500) -> dict:
    """A form's results: responses and response rate; per question the distribution, mean and n;
    text answers listed (tags, status); optionally means per respondent unit. Nothing below
    MIN_GROUP responses is broken down or listed."""
    scope = await _organiser_scope(actor, conference_id, "read")
    form = await _form(conference_id, form_id)
    return await compute_results(form, conference=scope.conference, texts=texts, by_unit=by_unit, text_limit=text_limit)


async def compute_results(form: dict, *, conference: dict, texts: bool = True, by_unit: bool = False, text_limit: int = 500) -> dict:
    content = await _version_content(form["version_id"])
    questions = q.questions_of(content)
    # independent reads, side by side (PostgreSQL's pool, SQLite's reader connections) — but
    # one after the other inside a transaction: its one connection runs one query at a time
    reads = [EvaluationResponse.count().where(EvaluationResponse.form_id == form["id"]).run(), asked_count(form), tally(form["id"]),
             _text_counts(form["id"]), _text_rows(form["id"], text_limit) if texts else _nothing()]
    if EvaluationResponse._meta.db.current_transaction.get() is None:
        responses, asked, counts, text_n, text_rows = await asyncio.gather(*reads)
    else:
        responses, asked, counts, text_n, text_rows = [await read for read in reads]
    suppressed = responses < MIN_GROUP
    summary = []
    for question in questions:
        item = summarise_question(question, counts.get(question.index, {}), text_n.get(question.index, 0))
        if suppressed:
            item.update(suppressed=True)
            item.pop("distribution", None)
            item.pop("mean", None)
        summary.append(item)
    if texts and not suppressed:
        by_question: dict[int, list] = {}
        for row in text_rows:
            row["tags"] = _json(row["tags"]) or []
            by_question.setdefault(row.pop("question"), []).append(row)
        for item in summary:
            if item["type"] in q.TEXT_TYPES and not item["suppressed"]:
                item["answers"] = by_question.get(item["index"], [])
    out = {"form": _form_out(form), "title": form["title"], "conference": {"id": conference["id"], "title": conference["title"],
                                                                          "starts_at": conference["starts_at"],
                                                                          "timezone": conference["timezone"]},
           "responses": responses, "asked": asked, "response_rate": round(responses / asked, 4) if asked else None,
           "suppressed": suppressed, "min_group": MIN_GROUP, "questions": summary}
    if by_unit and not suppressed:
        out["by_unit"] = await _breakdown(form["id"], [question for question in questions if question.type == "rating"])
    return out


async def _nothing() -> list:
    return []


async def _text_rows(form_id: int, limit: int) -> list[dict]:
    return await EvaluationText.select(EvaluationText.id, EvaluationText.question, EvaluationText.kind, EvaluationText.text,
                                       EvaluationText.topic, EvaluationText.tags, EvaluationText.status, EvaluationText.reply).where(
        EvaluationText.form_id == form_id).order_by(EvaluationText.question, EvaluationText.id).limit(limit).output(load_json=True)


async def _breakdown(form_id: int, ratings: list[q.Question]) -> dict:
    """Mean of each rating question per respondent unit, for units with at least MIN_GROUP responses."""
    groups = {row["group_unit_id"]: row["n"] for row in await EvaluationResponse.raw(
        "SELECT group_unit_id, COUNT(*) AS n FROM evaluation_response WHERE form_id = {} GROUP BY group_unit_id", form_id)}
    shown = sorted(unit for unit, n in groups.items() if unit is not None and n >= MIN_GROUP)
    hidden = sum(n for unit, n in groups.items() if unit not in shown)
    rows = []
    if shown and ratings:
        indexes = ", ".join(str(question.index) for question in ratings)
        # grouped in the tally index's own order (no sort), summed here
        counted = await EvaluationAnswer.raw(
            f"SELECT question, value, group_unit_id, COUNT(*) AS n FROM evaluation_answer WHERE form_id = {{}} "
            f"AND question IN ({indexes}) GROUP BY question, value, group_unit_id", form_id)
        names = {row["id"]: row["name"] for row in await Unit.select(Unit.id, Unit.name).where(Unit.id.is_in(shown))}
        by_group: dict[int, dict[int, tuple[int, int]]] = {}
        for row in counted:
            total, n = by_group.setdefault(row["group_unit_id"], {}).get(row["question"], (0, 0))
            by_group[row["group_unit_id"]][row["question"]] = (total + row["value"] * row["n"], n + row["n"])
        for unit_id in shown:
            means = {}
            for question in ratings:
                total, n = by_group.get(unit_id, {}).get(question.index, (0, 0))
                means[question.key] = _mean(total, n) if n >= MIN_GROUP else None
            rows.append({"unit_id": unit_id, "name": names.get(unit_id, str(unit_id)), "responses": groups[unit_id], "means": means})
    return {"units": rows, "hidden_responses": hidden, "questions": [{"key": r.key, "text": r.text} for r in ratings]}


async def update_text(actor: Actor, *, conference_id: int, text_id: str, tags: list[str] | None = None, status: str | None = None,
                      reply: str | None = None) -> dict:
    """Tag a written answer, mark it answered or passed up, note the reply."""
    scope = await _organiser_scope(actor, conference_id, "manage")
    row = await EvaluationText.select().where((EvaluationText.id == text_id) & (EvaluationText.conference_id == conference_id)).first()
    if row is None:
        raise NotFound("Không tìm thấy câu trả lời.")
    changes: dict = {}
    if tags is not None:
        if not isinstance(tags, list) or len(tags) > MAX_TAGS:
            raise ValidationError("Tối đa {max_tags} nhãn.", field="tags", max_tags=MAX_TAGS)
        cleaned = []
        for tag in tags:
            tag = clean(str(tag))[:TAG_MAX]
            if tag and tag not in cleaned:
                cleaned.append(tag)
        changes[EvaluationText.tags] = json.dumps(cleaned, ensure_ascii=False)
    if status is not None:
        if status not in TEXT_STATUSES:
            raise ValidationError("Trạng thái phải là một trong: {choices}.", field="status", choices=TEXT_STATUSES)
        changes[EvaluationText.status] = status
    if reply is not None:
        if len(reply) > q.LONG_TEXT_MAX:
            raise ValidationError("Trả lời tối đa {limit} ký tự.", field="reply", limit=q.LONG_TEXT_MAX)
        changes[EvaluationText.reply] = reply.strip()
    if changes:
        async with transaction():
            await EvaluationText.update(changes).where(EvaluationText.id == text_id)
            await audit.record(actor, "evaluation.text.update", object_type="conference", object_id=conference_id,
                               unit_id=scope.conference["unit"], status=status)
    updated = await EvaluationText.select(EvaluationText.id, EvaluationText.kind, EvaluationText.text, EvaluationText.topic,
                                          EvaluationText.tags, EvaluationText.status, EvaluationText.reply).where(
        EvaluationText.id == text_id).first()
    updated["tags"] = _json(updated["tags"]) or []
    return updated


async def _subtree_form_ids(path: str, *, min_responses: int = MIN_GROUP, extra_where: str = "") -> dict[int, dict]:
    """Forms of conferences organised in the subtree, with at least ``min_responses`` responses."""
    rows = await EvaluationForm.raw(
        "SELECT f.id AS id, f.conference_id AS conference_id, f.session_id AS session_id, f.speaker_ids AS speaker_ids, "
        "f.version_id AS version_id, f.audience AS audience, f.title AS title, c.title AS conference_title, c.starts_at AS starts_at, c.series AS series, "
        "c.timezone AS timezone, (SELECT COUNT(*) FROM evaluation_response r WHERE r.form_id = f.id) AS responses "
        "FROM evaluation_form f JOIN conference c ON c.id = f.conference_id JOIN unit u ON u.id = f.unit_id "
        f"WHERE u.path LIKE {{}} {extra_where}", f"{path}%")
    return {row["id"]: row for row in rows if row["responses"] >= min_responses}


async def recommendations(actor: Actor, *, unit_id: int, topic: str | None = None, status: str | None = None, limit: int = 500) -> dict:
    """Kiến nghị gathered across the subtree's conferences: counts by topic and status, and the
    list (filtered), from forms with at least MIN_GROUP responses."""
    unit = await _unit_with_access(actor, unit_id, "read")
    forms = await _subtree_form_ids(unit["path"])
    if status is not None and status not in TEXT_STATUSES:
        raise ValidationError("Trạng thái phải là một trong: {choices}.", field="status", choices=TEXT_STATUSES)
    if not forms:
        return {"by_topic": [], "items": [], "statuses": TEXT_STATUSES}
    ids = ", ".join(str(i) for i in forms)
    grouped = await EvaluationText.raw(
        f"SELECT topic, status, COUNT(*) AS n FROM evaluation_text WHERE kind = 'recommendation' AND form_id IN ({ids}) "
        f"GROUP BY topic, status")
    topics: dict[str, dict] = {}
    for row in grouped:
        entry = topics.setdefault(row["topic"] or "", {"topic": row["topic"] or "", "total": 0, **{s: 0 for s in TEXT_STATUSES}})
        entry[row["status"]] = row["n"]
        entry["total"] += row["n"]
    query = EvaluationText.select(EvaluationText.id, EvaluationText.form_id, EvaluationText.conference_id, EvaluationText.text,
                                  EvaluationText.topic, EvaluationText.tags, EvaluationText.status, EvaluationText.reply,
                                  EvaluationText.day).where((EvaluationText.kind == "recommendation") & EvaluationText.form_id.is_in(list(forms)))
    if topic is not None:
        query = query.where(EvaluationText.topic == topic)
    if status is not None:
        query = query.where(EvaluationText.status == status)
    items = await query.order_by(EvaluationText.day, ascending=False).limit(limit)
    for item in items:
        item["tags"] = _json(item["tags"]) or []
        item["conference_title"] = forms[item["form_id"]]["conference_title"]
    return {"by_topic": sorted(topics.values(), key=lambda t: (-t["total"], t["topic"])), "items": items, "statuses": TEXT_STATUSES}


async def _rating_sums(form_ids: list[int]) -> dict[int, dict[int, tuple[int, int]]]:
    if not form_ids:
        return {}
    rows = await EvaluationAnswer.raw(
        f"SELECT form_id, question, SUM(value) AS total, COUNT(*) AS n FROM evaluation_answer "
        f"WHERE form_id IN ({', '.join(str(i) for i in form_ids)}) AND value >= 0 GROUP BY form_id, question")
    found: dict[int, dict[int, tuple[int, int]]] = {}
    for row in rows:
        found.setdefault(row["form_id"], {})[row["question"]] = (row["total"], row["n"])
    return found


async def _rating_indexes(version_ids: set[int]) -> dict[int, list[q.Question]]:
    rows = await EvaluationTemplateVersion.select(EvaluationTemplateVersion.id, EvaluationTemplateVersion.content).where(
        EvaluationTemplateVersion.id.is_in(sorted(version_ids))) if version_ids else []
    return {row["id"]: [question for question in q.questions_of(_json(row["content"])) if question.type == "rating"] for row in rows}


async def speaker_ratings(actor: Actor, *, unit_id: int) -> list[dict]:
    """Each speaker's mean over the rating questions of the per-session forms about them, with n
    (answers) and how many forms; speakers rated in forms of fewer than MIN_GROUP responses are left out."""
    unit = await _unit_with_access(actor, unit_id, "read")
    forms = {key: value for key, value in (await _subtree_form_ids(unit["path"], extra_where="AND f.session_id IS NOT NULL")).items()}
    ratings = await _rating_indexes({form["version_id"] for form in forms.values()})
    sums = await _rating_sums(list(forms))
    per_speaker: dict[int, dict] = {}
    for form_id, form in forms.items():
        indexes = {question.index for question in ratings.get(form["version_id"], [])}
        total = sum(t for index, (t, n) in sums.get(form_id, {}).items() if index in indexes)
        n = sum(n for index, (t, n) in sums.get(form_id, {}).items() if index in indexes)
        for speaker_id in _json(form["speaker_ids"]) or []:
            entry = per_speaker.setdefault(speaker_id, {"speaker_id": speaker_id, "total": 0, "n": 0, "forms": 0, "responses": 0})
            entry["total"] += total
            entry["n"] += n
            entry["forms"] += 1
            entry["responses"] += form["responses"]
    if not per_speaker:
        return []
    speakers = {row["id"]: row for row in await Speaker.select(Speaker.id, Speaker.name, Speaker.position_title, Speaker.organisation).where(
        Speaker.id.is_in(sorted(per_speaker)))}
    out = []
    for speaker_id, entry in per_speaker.items():
        speaker = speakers.get(speaker_id, {"name": f"#{speaker_id}", "position_title": "", "organisation": ""})
        out.append({"speaker_id": speaker_id, "name": speaker["name"], "position_title": speaker["position_title"],
                    "organisation": speaker["organisation"], "mean": _mean(entry.pop("total"), entry["n"]), "n": entry["n"],
                    "forms": entry["forms"], "responses": entry["responses"]})
    return sorted(out, key=lambda row: (-(row["mean"] or 0), row["name"]))


async def series_trend(actor: Actor, *, unit_id: int, series_id: int) -> dict:
    """Month by month across a series: responses, response rate and the mean of each rating
    question (matched by key across versions), from its conference forms; months with fewer than
    MIN_GROUP responses show no means."""
    from core.tables import Series

    unit = await _unit_with_access(actor, unit_id, "read")
    series = await Series.select(Series.id, Series.title, Series.unit.path.as_alias("path"), Series.timezone).where(Series.id == series_id).first()
    if series is None or not series["path"].startswith(unit["path"]):
        raise NotFound("Không tìm thấy chuỗi hội nghị.")
    forms = await _subtree_form_ids(unit["path"], min_responses=0, extra_where=f"AND f.session_id IS NULL AND c.series = {int(series_id)}")
    ratings = await _rating_indexes({form["version_id"] for form in forms.values()})
    sums = await _rating_sums(list(forms))
    zone = zoneinfo.ZoneInfo(series["timezone"])
    months: dict[str, dict] = {}
    keys: dict[str, str] = {}
    for form_id, form in forms.items():
        starts = form["starts_at"]
        if isinstance(starts, str):
            starts = dt.datetime.fromisoformat(starts)
        if starts.tzinfo is None:
            starts = starts.replace(tzinfo=dt.timezone.utc)
        month = starts.astimezone(zone).strftime("%Y-%m")
        entry = months.setdefault(month, {"month": month, "responses": 0, "asked": 0, "sums": {}})
        entry["responses"] += form["responses"]
        entry["asked"] += await asked_count(form)
        for question in ratings.get(form["version_id"], []):
            keys.setdefault(question.key, question.text)
            total, n = sums.get(form_id, {}).get(question.index, (0, 0))
            previous = entry["sums"].get(question.key, (0, 0))
            entry["sums"][question.key] = (previous[0] + total, previous[1] + n)
    rows = []
    for month in sorted(months):
        entry = months[month]
        shown = entry["responses"] >= MIN_GROUP
        means = {key: (_mean(*entry["sums"][key]) if shown and key in entry["sums"] and entry["sums"][key][1] >= MIN_GROUP else None)
                 for key in keys}
        all_total = sum(t for t, n in entry["sums"].values())
        all_n = sum(n for t, n in entry["sums"].values())
        rows.append({"month": month, "label": f"{month[5:]}/{month[:4]}", "responses": entry["responses"], "asked": entry["asked"],
                     "response_rate": round(entry["responses"] / entry["asked"], 4) if entry["asked"] else None,
                     "mean": _mean(all_total, all_n) if shown else None, "means": means})
    return {"series": {"id": series["id"], "title": series["title"]}, "questions": [{"key": k, "text": t} for k, t in keys.items()],
            "months": rows}


# -- reports (the core's report_sections hook) ---------------------------------------------------

async def period_sections(unit: dict, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """For the core's attendance report of a unit and period: each evaluated conference's
    response rate and mean rating, and the kiến nghị by status."""
    rows = await EvaluationForm.raw(
        "SELECT f.id AS id, f.conference_id AS conference_id, f.version_id AS version_id, f.audience AS audience, f.title AS title, "
        "c.title AS conference_title, c.starts_at AS starts_at, c.timezone AS timezone FROM evaluation_form f "
        "JOIN conference c ON c.id = f.conference_id JOIN unit u ON u.id = f.unit_id "
        "WHERE u.path LIKE {} AND c.starts_at >= {} AND c.starts_at < {} AND f.status IN ('open', 'closed') ORDER BY c.starts_at, f.id",
        f"{unit['path']}%", start, end)
    if not rows:
        return []
    counts = await _response_counts([row["id"] for row in rows])
    ratings = await _rating_indexes({row["version_id"] for row in rows})
    sums = await _rating_sums([row["id"] for row in rows])
    table = []
    totals = {"asked": 0, "responses": 0}
    for row in rows:
        responses = counts.get(row["id"], 0)
        asked = await asked_count(row)
        indexes = {question.index for question in ratings.get(row["version_id"], [])}
        total = sum(t for index, (t, n) in sums.get(row["id"], {}).items() if index in indexes)
        n = sum(n for index, (t, n) in sums.get(row["id"], {}).items() if index in indexes)
        totals["asked"] += asked
        totals["responses"] += responses
        table.append({"form_id": row["id"], "conference_id": row["conference_id"], "conference": row["conference_title"],
                      "form": row["title"], "asked": asked, "responses": responses,
                      "response_rate": round(responses / asked, 4) if asked else None,
                      "mean_rating": _mean(total, n) if responses >= MIN_GROUP else None})
    ids = ", ".join(str(row["id"]) for row in rows if counts.get(row["id"], 0) >= MIN_GROUP)
    by_status = {status: 0 for status in TEXT_STATUSES}
    if ids:
        for row in await EvaluationText.raw(
                f"SELECT status, COUNT(*) AS n FROM evaluation_text WHERE kind = 'recommendation' AND form_id IN ({ids}) GROUP BY status"):
            by_status[row["status"]] = row["n"]
    return [
        {"plugin": PLUGIN, "key": "evaluation.conferences", "title": "Phiếu đánh giá: tỷ lệ trả lời và điểm trung bình",
         "columns": [{"key": "conference", "label": "Hội nghị"}, {"key": "form", "label": "Phiếu"}, {"key": "asked", "label": "Được hỏi"},
                     {"key": "responses", "label": "Số phiếu"}, {"key": "response_rate", "label": "Tỷ lệ trả lời"},
                     {"key": "mean_rating", "label": "Điểm trung bình (1–5)"}],
         "rows": table,
         "total": {**totals, "response_rate": round(totals["responses"] / totals["asked"], 4) if totals["asked"] else None}},
        {"plugin": PLUGIN, "key": "evaluation.recommendations", "title": "Kiến nghị theo trạng thái",
         "columns": [{"key": "status", "label": "Trạng thái"}, {"key": "count", "label": "Số kiến nghị"}],
         "rows": [{"status": status, "label": TEXT_STATUSES[status], "count": count} for status, count in by_status.items()]},
    ]


# -- clean-up -----------------------------------------------------------------------------------

async def forget_conference(conference_id: int) -> None:
    forms = [row["id"] for row in await EvaluationForm.select(EvaluationForm.id).where(EvaluationForm.conference_id == conference_id)]
    await _forget_forms(forms)


async def forget_unit(unit_id: int) -> None:
    forms = [row["id"] for row in await EvaluationForm.select(EvaluationForm.id).where(EvaluationForm.unit_id == unit_id)]
    await _forget_forms(forms)
    templates = [row["id"] for row in await EvaluationTemplate.select(EvaluationTemplate.id).where(EvaluationTemplate.unit_id == unit_id)]
    async with transaction():
        if templates:
            await EvaluationTemplateVersion.delete().where(EvaluationTemplateVersion.template_id.is_in(templates))
            await EvaluationTemplate.delete().where(EvaluationTemplate.id.is_in(templates))


async def _forget_forms(form_ids: list[int]) -> None:
    if not form_ids:
        return
    async with transaction():
        for table in (EvaluationAnswer, EvaluationText, EvaluationResponse, EvaluationParticipation):
            await table.delete().where(table.form_id.is_in(form_ids))
        await EvaluationForm.delete().where(EvaluationForm.id.is_in(form_ids))
