"""Exports of a form's results: CSV and XLSX (openpyxl), a summary sheet (per question) and,
when the form has at least MIN_GROUP responses, one row per response (anonymous responses carry
only their random id and day; named ones the respondent's name)."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from core.access import Actor
from core.tables import Person
from plugins.evaluation import questions as q
from plugins.evaluation import services
from plugins.evaluation.tables import EvaluationAnswer, EvaluationResponse, EvaluationText


async def _data(actor: Actor, conference_id: int, form_id: int) -> tuple[dict, list[str], list[list], list[list]]:
    result = await services.results(actor, conference_id=conference_id, form_id=form_id, texts=False)
    form = await services._form(conference_id, form_id)
    questions = q.questions_of(await services._version_content(form["version_id"]))
    summary = [["Câu", "Câu hỏi", "Loại", "Số trả lời", "Trung bình", "Lựa chọn", "Số lượt", "Tỷ lệ"]]
    for item in result["questions"]:
        base = [item["index"] + 1, item["text"], item["type_label"], item["n"], item.get("mean")]
        if item.get("distribution"):
            for part in item["distribution"]:
                summary.append([*base, part["label"], part["count"], part["share"]])
        else:
            summary.append([*base, "(dưới 5 phiếu: không hiển thị)" if item["suppressed"] else "", None, None])
    header = ["Mã phiếu", "Ngày"] + ([] if form["anonymous"] else ["Người trả lời"]) + [f"{x.index + 1}. {x.text}" for x in questions]
    rows: list[list] = []
    if not result["suppressed"]:
        responses = await EvaluationResponse.select(EvaluationResponse.id, EvaluationResponse.person_id, EvaluationResponse.updated_day).where(
            EvaluationResponse.form_id == form_id).order_by(EvaluationResponse.id)
        names = {}
        if not form["anonymous"]:
            ids = [r["person_id"] for r in responses if r["person_id"] is not None]
            names = {p["id"]: p["full_name"] for p in await Person.select(Person.id, Person.full_name).where(Person.id.is_in(ids))} if ids else {}
        values: dict[str, dict[int, list[str]]] = {}
        for answer in await EvaluationAnswer.select(EvaluationAnswer.response_id, EvaluationAnswer.question, EvaluationAnswer.value).where(
                (EvaluationAnswer.form_id == form_id) & (EvaluationAnswer.value >= 0)):
            question = questions[answer["question"]] if answer["question"] < len(questions) else None
            if question is None:
                continue
            if question.type == "rating":
                shown = str(answer["value"])
            elif question.type == "yes_no":
                shown = "Có" if answer["value"] else "Không"
            else:
                shown = question.options[answer["value"]] if answer["value"] < len(question.options) else str(answer["value"])
            values.setdefault(answer["response_id"], {}).setdefault(answer["question"], []).append(shown)
        for text in await EvaluationText.select(EvaluationText.response_id, EvaluationText.question, EvaluationText.text,
                                                EvaluationText.topic).where(EvaluationText.form_id == form_id):
            shown = f"[{text['topic']}] {text['text']}" if text["topic"] else text["text"]
            values.setdefault(text["response_id"], {}).setdefault(text["question"], []).append(shown)
        for response in responses:
            cells = [response["id"], response["updated_day"].strftime("%d/%m/%Y")]
            if not form["anonymous"]:
                cells.append(names.get(response["person_id"], ""))
            answered = values.get(response["id"], {})
            cells += ["; ".join(answered.get(question.index, [])) for question in questions]
            rows.append(cells)
    return result, header, summary, rows


def _safe(value):
    """A cell that a spreadsheet would read as a formula is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


async def csv_export(actor: Actor, *, conference_id: int, form_id: int) -> bytes:
    result, header, summary, rows = await _data(actor, conference_id, form_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([result["title"]])
    writer.writerow(["Số phiếu", result["responses"], "Được hỏi", result["asked"]])
    writer.writerow([])
    for row in summary:
        writer.writerow([_safe(cell) for cell in row])
    writer.writerow([])
    if rows:
        writer.writerow(header)
        for row in rows:
            writer.writerow([_safe(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # a BOM, so Excel reads the Vietnamese right


async def xlsx_export(actor: Actor, *, conference_id: int, form_id: int) -> bytes:
    result, header, summary, rows = await _data(actor, conference_id, form_id)
    book = Workbook()
    sheet = book.active
    sheet.title = "Tổng hợp"
    sheet.append([result["title"]])
    sheet.append(["Số phiếu", result["responses"], "Được hỏi", result["asked"], "Tỷ lệ trả lời", result["response_rate"]])
    sheet.append([])
    for row in summary:
        sheet.append([_safe(cell) for cell in row])
    if rows:
        answers = book.create_sheet("Phiếu trả lời")
        answers.append(header)
        for row in rows:
            answers.append([_safe(cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
