"""The evaluation plugin's services on the real database (both engines), with the real outbox
worker delivering ``conference_ended`` and running the close job."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from core import clock, jobs
from core.errors import Conflict, NotFound, ValidationError
from core.tables import AuditEntry, DomainEvent, Message
from plugins.evaluation import services
from plugins.evaluation.tables import EvaluationAnswer, EvaluationParticipation, EvaluationResponse, EvaluationText
from tests.factories import SYSTEM, actor_with, make_actor
from tests.plugins.evaluation.conftest import demo_template, end, ended_conference, good_answers


async def _worker(host) -> None:
    """What `hoinghi worker` does, until nothing is left to do now."""
    for _ in range(5):
        await jobs.run_once(host)


async def test_template_versions_never_change_an_attached_form(db, host):
    setup = await ended_conference()
    province = setup["tree"]["province"]
    template = await demo_template(province)
    assert template["version"] == 1 and [q["key"] for q in template["questions"]][:2] == ["noi_dung", "bao_cao_vien"]
    form = (await services.attach_form(SYSTEM, conference_id=setup["conference"]["id"], template_id=template["id"]))[0]
    changed = json.loads(json.dumps(template["content"]))
    changed["sections"][0]["questions"][0]["text"] = "Nội dung đã sửa?"
    updated = await services.update_template(SYSTEM, unit_id=province["id"], template_id=template["id"], content=changed)
    assert updated["version"] == 2 and updated["versions"] == [1, 2]
    attached = await services.get_form(SYSTEM, conference_id=setup["conference"]["id"], form_id=form["id"])
    assert attached["questions"][0]["text"] == "Nội dung thông tin có thiết thực, kịp thời không?"
    old = await services.get_template(SYSTEM, unit_id=province["id"], template_id=template["id"], version=1)
    assert old["questions"][0]["text"] == attached["questions"][0]["text"]
    # a district may use its province's template, not edit it; a commune organiser cannot see another district's
    district = setup["tree"]["district_a"]
    assert [t["id"] for t in await services.list_templates(SYSTEM, unit_id=district["id"])] == [template["id"]]
    with pytest.raises(NotFound):
        await services.update_template(SYSTEM, unit_id=district["id"], template_id=template["id"], name="Khác")
    with pytest.raises(NotFound):
        await services.list_templates(actor_with("organiser", setup["tree"]["district_b"]), unit_id=district["id"])
    viewer = actor_with("viewer", province)
    with pytest.raises(Exception) as refused:
        await services.create_template(viewer, unit_id=province["id"], name="X", content=changed)
    assert refused.value.status == 403


async def test_bad_templates_are_refused_with_the_question_named(db, host):
    setup = await ended_conference(with_session=False)
    province = setup["tree"]["province"]
    bad = {"title": "Phiếu", "sections": [{"title": "A", "questions": [
        {"type": "rating", "text": "Điểm?"}, {"type": "single_choice", "text": "Chọn?", "options": ["Một"]}]}]}
    with pytest.raises(ValidationError) as refused:
        await services.create_template(SYSTEM, unit_id=province["id"], name="Sai", content=bad)
    assert "Câu hỏi 2" in refused.value.message and "sections.0.questions.1.options" in refused.value.fields
    with pytest.raises(ValidationError, match="loại câu hỏi"):
        await services.create_template(SYSTEM, unit_id=province["id"], name="Sai", content={
            "title": "P", "sections": [{"questions": [{"type": "essay", "text": "?"}]}]})
    with pytest.raises(ValidationError, match="trùng"):
        await services.create_template(SYSTEM, unit_id=province["id"], name="Sai", content={
            "title": "P", "sections": [{"questions": [{"key": "a", "type": "rating", "text": "1"}, {"key": "a", "type": "rating", "text": "2"}]}]})


async def test_named_form_opens_at_the_end_asks_those_present_and_takes_edits_until_it_closes(db, host):
    setup = await ended_conference(people=8, present=6)
    conference_id = setup["conference"]["id"]
    template = await demo_template(setup["tree"]["province"])
    form = (await services.attach_form(SYSTEM, conference_id=conference_id, template_id=template["id"], close_after_days=3))[0]
    assert form["status"] == "draft" and form["audience"] == "present" and not form["anonymous"]
    present, absent = setup["present"][0], setup["absent"][0]
    mine = [conference_id]
    with pytest.raises(NotFound):  # not open yet: as if it did not exist
        await services.submit_response(present["id"], form_id=form["id"], answers=good_answers(), conference_ids=mine)

    await end(conference_id)
    await _worker(host)  # the outbox delivers conference_ended to the plugin
    opened = await services.get_form(SYSTEM, conference_id=conference_id, form_id=form["id"])
    assert opened["status"] == "open" and opened["closes_at"] == clock.now() + dt.timedelta(days=3)
    messages = await Message.select(Message.person, Message.kind, Message.body).where(Message.kind == "evaluation_open")
    assert sorted(m["person"] for m in messages) == sorted(p["id"] for p in setup["present"])  # only those present
    assert "cho ý kiến đánh giá" in messages[0]["body"]

    assert [f["id"] for f in await services.forms_for_person(present["id"], conference_ids=mine)] == [form["id"]]
    assert await services.forms_for_person(absent["id"], conference_ids=mine) == []
    with pytest.raises(NotFound):
        await services.submit_response(absent["id"], form_id=form["id"], answers=good_answers(), conference_ids=mine)

    first = await services.submit_response(present["id"], form_id=form["id"], answers=good_answers(), conference_ids=mine)
    assert first["edit_key"] is None and not first["updated"]
    again = await services.submit_response(present["id"], form_id=form["id"], answers=good_answers(noi_dung=2, gop_y=None),
                                           conference_ids=mine)
    assert again["updated"] and again["response_id"] == first["response_id"]
    shown = await services.form_for_person(present["id"], form_id=form["id"], conference_ids=mine)
    assert shown["answers"]["noi_dung"] == 2 and "gop_y" not in shown["answers"]
    assert shown["answers"]["chu_de"] == ["Tình hình quốc tế", "Chính sách mới"]
    assert await EvaluationResponse.count().where(EvaluationResponse.form_id == form["id"]) == 1

    # the close job runs at closing time; answers after it are refused
    clock.set_now(clock.now() + dt.timedelta(days=3, minutes=1))
    with pytest.raises(Conflict, match="đã đóng"):
        await services.submit_response(present["id"], form_id=form["id"], answers=good_answers(), conference_ids=mine)
    await _worker(host)
    assert (await services.get_form(SYSTEM, conference_id=conference_id, form_id=form["id"]))["status"] == "closed"


async def test_bad_answers_are_refused_and_nothing_is_saved(db, host):
    setup = await ended_conference(people=3, present=3, with_session=False)
    conference_id = setup["conference"]["id"]
    template = await demo_template(setup["tree"]["province"])
    form = (await services.attach_form(SYSTEM, conference_id=conference_id, template_id=template["id"]))[0]
    await end(conference_id)
    await services.open_on_conference_end(conference_id, host)
    person, mine = setup["present"][0]["id"], [conference_id]
    cases = [
        (good_answers(noi_dung=6), "noi_dung", "từ 1 đến 5"),
        (good_answers(noi_dung=0), "noi_dung", "từ 1 đến 5"),
        (good_answers(noi_dung="năm"), "noi_dung", "số nguyên"),
        (good_answers(noi_dung=True), "noi_dung", "số nguyên"),
        (good_answers(bao_cao_vien=None), "bao_cao_vien", "bắt buộc"),
        (good_answers(thoi_luong="Rất dài"), "thoi_luong", "không có trong danh sách"),
        (good_answers(thoi_luong=["Vừa phải", "Quá dài"]), "thoi_luong", "chỉ được chọn một"),
        (good_answers(tai_lieu="có lẽ"), "tai_lieu", "Có hoặc Không"),
        (good_answers(gop_y=42), "gop_y", "phải là chữ"),
        (good_answers(gop_y="x" * 5001), "gop_y", "tối đa 5000"),
        (good_answers(kien_nghi={"topic": "Thể thao", "text": "Sân bóng"}), "kien_nghi", "lĩnh vực"),
        ({**good_answers(), "ghost": 1}, "ghost", "Không có câu hỏi"),
    ]
    for answers, field, text in cases:
        with pytest.raises(ValidationError) as refused:
            await services.submit_response(person, form_id=form["id"], answers=answers, conference_ids=mine)
        assert field in refused.value.fields and text in refused.value.fields[field], (field, refused.value.fields)
    with pytest.raises(ValidationError) as several:
        await services.submit_response(person, form_id=form["id"], answers=good_answers(noi_dung=9, to_chuc=None), conference_ids=mine)
    assert set(several.value.fields) == {"noi_dung", "to_chuc"} and "2 chỗ" in several.value.message
    for table in (EvaluationResponse, EvaluationAnswer, EvaluationText):
        assert await table.count() == 0  # nothing partially saved


async def test_anonymous_responses_are_unlinkable_once_per_invitee_and_editable_with_the_key(db, host):
    setup = await ended_conference(people=7, present=7, with_session=False)
    conference_id = setup["conference"]["id"]
    template = await demo_template(setup["tree"]["province"])
    form = (await services.attach_form(SYSTEM, conference_id=conference_id, template_id=template["id"], anonymous=True))[0]
    await end(conference_id)
    await services.open_on_conference_end(conference_id, host)
    events_before = await DomainEvent.count()
    audit_before = await AuditEntry.count()
    person, mine = setup["present"][0]["id"], [conference_id]
    saved = await services.submit_response(person, form_id=form["id"], answers=good_answers(), conference_ids=mine)
    key = saved["edit_key"]
    assert key and len(key) >= 20
    assert len(saved["response_id"]) == 36 and saved["response_id"].count("-") == 4  # a random UUID
    response = await EvaluationResponse.select().where(EvaluationResponse.id == saved["response_id"]).first()
    assert response["person_id"] is None and response["edit_key_hash"] != key and key not in json.dumps(response, default=str)
    assert isinstance(response["day"], dt.date) and not isinstance(response["day"], dt.datetime)
    participation = await EvaluationParticipation.select().where(EvaluationParticipation.form_id == form["id"]).first()
    assert participation["person_id"] == person and set(participation) == {"id", "form_id", "person_id", "day"}
    assert participation["id"] != saved["response_id"]
    assert await DomainEvent.count() == events_before and await AuditEntry.count() == audit_before  # no trail per response

    with pytest.raises(Conflict, match="đã gửi phiếu ẩn danh"):
        await services.submit_response(person, form_id=form["id"], answers=good_answers(noi_dung=1), conference_ids=mine)
    with pytest.raises(ValidationError, match="Mã sửa phiếu không đúng"):
        await services.submit_response(person, form_id=form["id"], answers=good_answers(), edit_key="sai-ma", conference_ids=mine)
    edited = await services.submit_response(person, form_id=form["id"], answers=good_answers(noi_dung=1), edit_key=key, conference_ids=mine)
    assert edited["updated"] and edited["response_id"] == saved["response_id"]
    reloaded = await services.answers_for_edit_key(form_id=form["id"], edit_key=key, conference_ids=mine, person_id=person)
    assert reloaded["answers"]["noi_dung"] == 1
    assert await EvaluationResponse.count() == 1 and await EvaluationParticipation.count() == 1

    # the unit chooses non-editable anonymous forms: no key at all
    second = (await services.attach_form(SYSTEM, conference_id=conference_id, template_id=template["id"], anonymous=True, editable=False))[0]
    await services.open_form(SYSTEM, host, conference_id=conference_id, form_id=second["id"])
    once = await services.submit_response(person, form_id=second["id"], answers=good_answers(), conference_ids=mine)
    assert once["edit_key"] is None
    assert (await EvaluationResponse.select(EvaluationResponse.edit_key_hash).where(
        EvaluationResponse.id == once["response_id"]).first())["edit_key_hash"] is None


async def test_results_need_five_responses_and_texts_are_tagged(db, host):
    setup = await ended_conference(people=8, present=8, with_session=False)
    conference_id = setup["conference"]["id"]
    template = await demo_template(setup["tree"]["province"])
    form = (await services.attach_form(SYSTEM, conference_id=conference_id, template_id=template["id"], anonymous=True))[0]
    await end(conference_id)
    await services.open_on_conference_end(conference_id, host)
    mine = [conference_id]
    for person, score in zip(setup["present"][:4], [5, 4, 4, 3]):
        await services.submit_response(person["id"], form_id=form["id"], answers=good_answers(noi_dung=score), conference_ids=mine)
    few = await services.results(SYSTEM, conference_id=conference_id, form_id=form["id"], by_unit=True)
    assert few["responses"] == 4 and few["suppressed"] and "by_unit" not in few
    assert all("distribution" not in item and "answers" not in item and "mean" not in item for item in few["questions"])
    await services.submit_response(setup["present"][4]["id"], form_id=form["id"], answers=good_answers(noi_dung=1, chu_de=[]),
                                   conference_ids=mine)
    full = await services.results(SYSTEM, conference_id=conference_id, form_id=form["id"], by_unit=True)
    assert full["responses"] == 5 and full["asked"] == 8 and full["response_rate"] == 0.625 and not full["suppressed"]
    by_key = {item["key"]: item for item in full["questions"]}
    rating = by_key["noi_dung"]
    assert rating["n"] == 5 and rating["mean"] == 3.4
    assert [d["count"] for d in rating["distribution"]] == [1, 0, 1, 2, 1]
    assert by_key["tai_lieu"]["mean"] == 1.0 and by_key["thoi_luong"]["distribution"][1]["count"] == 5
    assert by_key["chu_de"]["n"] == 4 and by_key["chu_de"]["suppressed"]  # one left it empty: 4 answers, not shown
    answers = by_key["kien_nghi"]["answers"]
    assert len(answers) == 5 and answers[0]["topic"] == "Kinh tế - xã hội"
    assert full["by_unit"]["units"][0]["responses"] == 5 and full["by_unit"]["units"][0]["means"]["noi_dung"] == 3.4

    # a district hosting a venue of the province's conference does not see its evaluation
    from core.errors import Forbidden

    with pytest.raises(Forbidden):
        await services.results(actor_with("organiser", setup["tree"]["district_a"]), conference_id=conference_id, form_id=form["id"])
    with pytest.raises(NotFound):
        await services.results(actor_with("organiser", setup["tree"]["district_b"]), conference_id=conference_id, form_id=form["id"])

    text_id = answers[0]["id"]
    tagged = await services.update_text(SYSTEM, conference_id=conference_id, text_id=text_id, tags=["đất đai", "đất đai", " KCN "],
                                        status="passed_up", reply="Đã chuyển Ban Tuyên giáo Tỉnh ủy")
    assert tagged["tags"] == ["đất đai", "KCN"] and tagged["status"] == "passed_up"
    with pytest.raises(ValidationError):
        await services.update_text(SYSTEM, conference_id=conference_id, text_id=text_id, status="lost")
    found = await services.recommendations(SYSTEM, unit_id=setup["tree"]["province"]["id"])
    topic = found["by_topic"][0]
    assert topic["topic"] == "Kinh tế - xã hội" and topic["total"] == 5 and topic["passed_up"] == 1 and topic["new"] == 4
    only = await services.recommendations(SYSTEM, unit_id=setup["tree"]["province"]["id"], status="passed_up")
    assert [item["id"] for item in only["items"]] == [text_id]
    # a district below sees none of the province's conferences
    assert (await services.recommendations(SYSTEM, unit_id=setup["tree"]["district_a"]["id"]))["items"] == []


async def test_per_session_forms_rate_the_speaker(db, host):
    setup = await ended_conference(people=6, present=6)
    conference_id = setup["conference"]["id"]
    province = setup["tree"]["province"]
    template = await services.create_template(SYSTEM, unit_id=province["id"], name="Báo cáo viên", content={
        "title": "Đánh giá báo cáo viên", "sections": [{"questions": [
            {"key": "ro_rang", "type": "rating", "text": "Trình bày rõ ràng", "required": True},
            {"key": "hap_dan", "type": "rating", "text": "Hấp dẫn", "required": True}]}]})
    forms = await services.attach_form(SYSTEM, conference_id=conference_id, template_id=template["id"], per_session=True)
    assert len(forms) == 1 and forms[0]["session_id"] == setup["session"]["id"] and forms[0]["speaker_ids"] == [setup["speaker"]["id"]]
    await end(conference_id)
    await services.open_on_conference_end(conference_id, host)
    for person, (a, b) in zip(setup["present"], [(5, 4), (4, 4), (5, 5), (3, 4), (4, 5)]):
        await services.submit_response(person["id"], form_id=forms[0]["id"], answers={"ro_rang": a, "hap_dan": b}, conference_ids=[conference_id])
    rows = await services.speaker_ratings(SYSTEM, unit_id=province["id"])
    assert rows == [{"speaker_id": setup["speaker"]["id"], "name": "Trần Văn Báo", "position_title": "Phó Trưởng ban Tuyên giáo",
                     "organisation": "Tỉnh ủy", "mean": 4.3, "n": 10, "forms": 1, "responses": 5}]


async def test_a_series_trend_month_by_month(db, host, served):
    from core.services import conferences, rollcall, series
    from tests.core.flows import make_people

    setup = await ended_conference(people=1, present=1, with_session=False)
    tree, province = setup["tree"], setup["tree"]["province"]
    people = await make_people(province, 6, prefix="Chuỗi")
    from core.services import audiences

    audience = await audiences.create_audience(SYSTEM, unit_id=province["id"], name="Chuỗi", rules={"categories": ["briefer"]})
    clock.set_now(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    monthly = await series.create_series(SYSTEM, unit_id=province["id"], title="Hội nghị định kỳ", kind="periodic_briefing",
                                         format="in_person", rrule="FREQ=MONTHLY;BYDAY=2TU;COUNT=3",
                                         local_start=dt.datetime(2026, 1, 13, 8, 0), duration_minutes=120, timezone="Asia/Ho_Chi_Minh",
                                         template={"venues": [{"name": "Hội trường"}], "audience_ids": [audience["id"]]})
    await series.materialise_series(monthly["id"])
    template = await demo_template(province)
    occurrences = (await conferences.list_conferences(SYSTEM, unit_id=province["id"], limit=50))
    occurrences = sorted([c for c in occurrences if c.get("series") == monthly["id"]], key=lambda c: c["starts_at"])
    assert len(occurrences) == 3
    scores = [[5, 5, 4, 4, 5], [3, 3, 4], [2, 3, 3, 2, 3, 3]]
    for occurrence, month_scores in zip(occurrences, scores):
        await conferences.publish_conference(SYSTEM, occurrence["id"])
        form = (await services.attach_form(SYSTEM, conference_id=occurrence["id"], template_id=template["id"], anonymous=True))[0]
        clock.set_now(occurrence["starts_at"] + dt.timedelta(minutes=1))
        everyone = people + setup["people"]
        for person in everyone:
            await rollcall.record_attendance(SYSTEM, conference_id=occurrence["id"], person_id=person["id"], method="manual")
        clock.set_now(occurrence["ends_at"] + dt.timedelta(minutes=1))
        await end(occurrence["id"])
        await services.open_on_conference_end(occurrence["id"], host)
        for person, score in zip(everyone, month_scores):
            await services.submit_response(person["id"], form_id=form["id"], answers=good_answers(noi_dung=score, bao_cao_vien=score,
                                                                                                 to_chuc=score), conference_ids=[occurrence["id"]])
    trend = await services.series_trend(SYSTEM, unit_id=province["id"], series_id=monthly["id"])
    assert [row["month"] for row in trend["months"]] == ["2026-01", "2026-02", "2026-03"]
    assert [row["responses"] for row in trend["months"]] == [5, 3, 6]
    assert trend["months"][0]["means"]["noi_dung"] == 4.6 and trend["months"][0]["mean"] == 4.6
    assert trend["months"][1]["mean"] is None  # three responses: not shown
    assert trend["months"][2]["means"]["noi_dung"] == 2.67
    with pytest.raises(NotFound):
        await services.series_trend(SYSTEM, unit_id=tree["district_a"]["id"], series_id=monthly["id"])
    # the page over HTTP: a line chart with a gap for the month below five responses
    from tests.plugins.evaluation.test_http import PASSWORD, organiser
    from tests.web import clients

    username = await organiser(province)
    with served() as base:
        page = clients.signed_in(base, username, PASSWORD).get(f"/evaluation/units/{province['id']}/series/{monthly['id']}")
        assert page.status_code == 200 and page.text.count("<circle") == 2 and "02/2026" in page.text and "4.6" in page.text


async def test_exports_and_clean_up(db, host):
    from openpyxl import load_workbook
    import io

    setup = await ended_conference(people=6, present=6, with_session=False)
    conference_id = setup["conference"]["id"]
    template = await demo_template(setup["tree"]["province"])
    form = (await services.attach_form(SYSTEM, conference_id=conference_id, template_id=template["id"]))[0]
    await end(conference_id)
    await services.open_on_conference_end(conference_id, host)
    for person in setup["present"][:5]:
        await services.submit_response(person["id"], form_id=form["id"], answers=good_answers(gop_y="=HYPERLINK(\"x\")"),
                                       conference_ids=[conference_id])
    from plugins.evaluation import exports

    csv_text = (await exports.csv_export(SYSTEM, conference_id=conference_id, form_id=form["id"])).decode("utf-8-sig")
    assert "Nội dung thông tin có thiết thực" in csv_text and setup["present"][0]["full_name"] in csv_text
    assert "'=HYPERLINK" in csv_text and ',=HYPERLINK' not in csv_text  # no formula injection
    book = load_workbook(io.BytesIO(await exports.xlsx_export(SYSTEM, conference_id=conference_id, form_id=form["id"])))
    assert book.sheetnames == ["Tổng hợp", "Phiếu trả lời"] and book["Phiếu trả lời"].max_row == 6
    other = await make_actor("organiser", setup["tree"]["district_b"])
    with pytest.raises(NotFound):
        await exports.csv_export(other, conference_id=conference_id, form_id=form["id"])
    await services.forget_conference(conference_id)
    for table in (EvaluationResponse, EvaluationAnswer, EvaluationText):
        assert await table.count() == 0
