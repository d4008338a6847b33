"""Benchmarks of the evaluation plugin (its own case module; bench/cases.py appends them)."""

from __future__ import annotations

import random
import time
import uuid

import plugins.evaluation.tables  # noqa: F401  (imported before a benchmark binds its engine, like the core's tables)
from bench.cases import _figure, _published_conference_of_100k

RATINGS, SINGLE, MULTIPLE, YES_NO, TEXTS = 12, 3, 2, 1, 2  # 20 questions


def _content() -> dict:
    questions = [{"key": f"r{i}", "type": "rating", "text": f"Tiêu chí {i}", "required": True} for i in range(RATINGS)]
    questions += [{"key": f"s{i}", "type": "single_choice", "text": f"Chọn một {i}", "options": ["A", "B", "C", "D"]} for i in range(SINGLE)]
    questions += [{"key": f"m{i}", "type": "multiple_choice", "text": f"Chọn nhiều {i}", "options": ["A", "B", "C", "D", "E"]}
                  for i in range(MULTIPLE)]
    questions += [{"key": "yn", "type": "yes_no", "text": "Có tài liệu trước?"}]
    questions += [{"key": "y_kien", "type": "long_text", "text": "Góp ý"},
                  {"key": "kien_nghi", "type": "recommendation", "text": "Kiến nghị", "topics": ["Kinh tế", "Xã hội"]}]
    assert len(questions) == 20
    return {"title": "Phiếu 20 câu", "sections": [{"title": "Đánh giá", "questions": questions}]}


async def evaluation_results_100k() -> dict:
    """Results of 100,000 responses to a 20-question form"""
    import datetime as dt

    from core.access import Actor
    from core.db import bulk_insert, transaction
    from core.tables import Attendance, Conference, Invitation, Person
    from plugins.evaluation import services
    from plugins.evaluation.tables import EvaluationAnswer, EvaluationResponse, EvaluationText

    import sys

    def progress(text: str) -> None:
        print(f"    evaluation bench: {text}", file=sys.stderr, flush=True)

    system = Actor.system_actor("bench")
    progress("100,000 people and their invitations…")
    conference = await _published_conference_of_100k()
    invited = await Invitation.select(Invitation.person, Invitation.person.unit.as_alias("unit")).where(
        Invitation.conference == conference["id"])
    now = conference["starts_at"] + dt.timedelta(minutes=5)
    async with transaction():
        await bulk_insert(Attendance, ["conference", "person", "status", "method", "reason", "recorded_at"],
                          [(conference["id"], row["person"], "present", "manual", "", now) for row in invited])
    template = await services.create_template(system, unit_id=conference["unit"], name="Phiếu 20 câu", content=_content())
    form = (await services.attach_form(system, conference_id=conference["id"], template_id=template["id"], anonymous=True))[0]
    await services._open(await services._form(conference["id"], form["id"]), actor=system)

    progress("100,000 responses…")
    rng = random.Random(5)
    day = dt.date(2030, 3, 12)
    responses, answers, texts = [], [], []
    for row in invited:
        response_id = str(uuid.uuid4())
        responses.append((response_id, form["id"], None, row["unit"], day, day, None))
        for index in range(RATINGS):
            answers.append((response_id, form["id"], index, rng.choice((3, 4, 4, 5, 5)), row["unit"]))
        for index in range(RATINGS, RATINGS + SINGLE):
            answers.append((response_id, form["id"], index, rng.randrange(4), row["unit"]))
        for index in range(RATINGS + SINGLE, RATINGS + SINGLE + MULTIPLE):
            for option in rng.sample(range(5), 2):
                answers.append((response_id, form["id"], index, option, row["unit"]))
            answers.append((response_id, form["id"], index, services.MULTI_MARK, row["unit"]))
        answers.append((response_id, form["id"], 17, rng.randrange(2), row["unit"]))
        if rng.random() < 0.3:
            texts.append((str(uuid.uuid4()), response_id, form["id"], conference["unit"], conference["id"], 19, "recommendation",
                          "Đề nghị thông tin thêm về tình hình kinh tế địa phương.", "Kinh tế", "[]", "new", "", day))
    async with transaction():
        await bulk_insert(EvaluationResponse, ["id", "form_id", "person_id", "group_unit_id", "day", "updated_day", "edit_key_hash"], responses)
        await bulk_insert(EvaluationAnswer, ["response_id", "form_id", "question", "value", "group_unit_id"], answers, chunk=20000)
        await bulk_insert(EvaluationText, ["id", "response_id", "form_id", "unit_id", "conference_id", "question", "kind", "text", "topic",
                                           "tags", "status", "reply", "day"], texts)
    progress("analyse…")
    engine = Conference._meta.db
    await engine.run_ddl("VACUUM ANALYZE" if engine.engine_type == "postgres" else "ANALYZE")
    del responses, answers, texts, invited
    assert await Person.count() >= 100_000
    form_row = await services._form(conference["id"], form["id"])
    conference_row = await Conference.select().where(Conference.id == conference["id"]).first()

    async def run():
        return await services.compute_results(form_row, conference=conference_row, texts=True, by_unit=False)

    result = await run()  # warm
    assert result["responses"] == 100_000 and result["asked"] == 100_000
    assert result["questions"][0]["n"] == 100_000 and 3.0 < result["questions"][0]["mean"] < 5.0
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - started)
    samples.sort()
    seconds = samples[len(samples) // 2]
    started = time.perf_counter()
    with_units = await services.compute_results(form_row, conference=conference_row, texts=True, by_unit=True)
    by_unit = time.perf_counter() - started
    assert with_units["by_unit"]["units"]
    limit = 1.0 if engine.engine_type == "postgres" else 3.0
    figure = _figure(seconds, limit)
    figure["measured"] += f" (+units {by_unit:.2f} s)"
    return figure


CASES = [evaluation_results_100k]
