"""Form content and answers, as pure functions (no database).

A template version's content::

    {"title": "...", "intro": "...",
     "sections": [{"title": "...", "questions": [
         {"key": "q1", "type": "rating", "text": "...", "help": "...", "required": true},
         {"key": "q2", "type": "single_choice", "text": "...", "options": ["...", "..."]},
         {"key": "q3", "type": "recommendation", "text": "...", "topics": ["Kinh tế", "..."]}]}]}

Questions are numbered in order across sections (0, 1, ...): answers are stored by that number,
and matched across versions and forms by ``key`` (trends, speakers).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from core.errors import Label, Phrase, ValidationError
from core.text import clean



def N_(message: str) -> str:
    """Marks a label for the catalog; translated where it is shown (the page templates)."""
    return message


TYPES = {
    "rating": N_("Chấm điểm 1–5"),
    "single_choice": N_("Chọn một"),
    "multiple_choice": N_("Chọn nhiều"),
    "yes_no": N_("Có / Không"),
    "short_text": N_("Trả lời ngắn"),
    "long_text": N_("Trả lời dài"),
    "recommendation": N_("Kiến nghị"),
}
NUMERIC_TYPES = ("rating", "single_choice", "multiple_choice", "yes_no")
TEXT_TYPES = ("short_text", "long_text", "recommendation")
CHOICE_TYPES = ("single_choice", "multiple_choice")
RATING_MIN, RATING_MAX = 1, 5
SHORT_TEXT_MAX, LONG_TEXT_MAX = 500, 5000
MAX_QUESTIONS, MAX_OPTIONS = 100, 30
KEY = re.compile(r"^[a-z0-9_]{1,32}$")
YES = {"1", "true", "yes", "co", "có"}
NO = {"0", "false", "no", "khong", "không"}


@dataclasses.dataclass(frozen=True)
class Question:
    index: int
    key: str
    type: str
    text: str
    help: str
    required: bool
    options: tuple[str, ...]
    topics: tuple[str, ...]
    section: str

    def as_dict(self) -> dict:
        return {"index": self.index, "key": self.key, "type": self.type, "text": self.text, "help": self.help,
                "required": self.required, "options": list(self.options), "topics": list(self.topics), "section": self.section}


def _string(value: Any, field: str, label: str) -> str:
    """A text field of the content: a string (or nothing), cleaned."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("{label} phải là chữ.", field=field, label=label)
    return clean(value)


def normalise_content(content: Any) -> dict:
    """Checked and cleaned content (keys filled in as q1, q2, ...), or a ValidationError whose
    field names the question (``sections.0.questions.2.options``)."""
    if not isinstance(content, dict):
        raise ValidationError("Nội dung phiếu phải là một đối tượng có các phần (sections).", field="content")
    title = _string(content.get("title"), "title", Label("Tiêu đề phiếu"))
    if not title:
        raise ValidationError("Phiếu cần có tiêu đề.", field="title")
    sections = content.get("sections")
    if not isinstance(sections, list) or not sections:
        raise ValidationError("Phiếu cần ít nhất một phần có câu hỏi.", field="sections")
    seen: set[str] = set()
    count = 0
    out_sections = []
    for s_index, section in enumerate(sections):
        where = f"sections.{s_index}"
        if not isinstance(section, dict) or not isinstance(section.get("questions"), list) or not section["questions"]:
            raise ValidationError("Phần {section} cần ít nhất một câu hỏi.", field=where, section=s_index + 1)
        questions = []
        for q_index, question in enumerate(section["questions"]):
            count += 1
            at = f"{where}.questions.{q_index}"
            if not isinstance(question, dict):
                raise ValidationError("Câu hỏi {count} không hợp lệ.", field=at, count=count)
            kind = question.get("type")
            if kind not in TYPES:
                raise ValidationError("Câu hỏi {count}: loại câu hỏi phải là một trong: {choices}.", field=f"{at}.type",
                                      count=count, choices=TYPES)
            text = _string(question.get("text"), f"{at}.text", Phrase("Câu hỏi {count}: nội dung", {"count": count}))
            if not text:
                raise ValidationError("Câu hỏi {count} chưa có nội dung.", field=f"{at}.text", count=count)
            key = question.get("key") or f"q{count}"
            if not isinstance(key, str) or not KEY.match(key):
                raise ValidationError("Câu hỏi {count}: mã câu hỏi chỉ gồm chữ thường không dấu, số và dấu gạch dưới (tối đa 32).",
                                      field=f"{at}.key", count=count)
            if key in seen:
                raise ValidationError("Câu hỏi {count}: mã câu hỏi {key!r} bị trùng.", field=f"{at}.key", count=count, key=key)
            seen.add(key)
            options = question.get("options") or []
            if kind in CHOICE_TYPES:
                if not isinstance(options, list) or len(options) < 2 or len(options) > MAX_OPTIONS:
                    raise ValidationError("Câu hỏi {count}: cần từ 2 đến {max_options} lựa chọn.", field=f"{at}.options",
                                          count=count, max_options=MAX_OPTIONS)
                options = [clean(str(option)) for option in options]
                if any(not option for option in options) or len(set(options)) != len(options):
                    raise ValidationError("Câu hỏi {count}: lựa chọn không được trống hoặc trùng nhau.", field=f"{at}.options",
                                          count=count)
            else:
                options = []
            topics = question.get("topics") or []
            if kind == "recommendation":
                if not isinstance(topics, list):
                    raise ValidationError("Câu hỏi {count}: danh sách lĩnh vực không hợp lệ.", field=f"{at}.topics", count=count)
                topics = [clean(str(topic))[:64] for topic in topics if clean(str(topic))]
            else:
                topics = []
            required = question.get("required", False)
            if not isinstance(required, bool):
                raise ValidationError("Câu hỏi {count}: 'bắt buộc' phải là true hoặc false.", field=f"{at}.required", count=count)
            help_text = _string(question.get("help"), f"{at}.help", Phrase("Câu hỏi {count}: phần hướng dẫn", {"count": count}))
            questions.append({"key": key, "type": kind, "text": text, "help": help_text,
                              "required": required, "options": options, "topics": topics})
        out_sections.append({"title": _string(section.get("title"), f"{where}.title", Phrase("Phần {section}: tiêu đề", {"section": s_index + 1})),
                             "questions": questions})
    if count > MAX_QUESTIONS:
        raise ValidationError("Một phiếu có tối đa {max_questions} câu hỏi.", field="sections", max_questions=MAX_QUESTIONS)
    return {"title": title, "intro": _string(content.get("intro"), "intro", Label("Lời dẫn")), "sections": out_sections}


def questions_of(content: dict) -> list[Question]:
    """The questions of a (normalised) content, numbered in order across sections."""
    found = []
    for section in content.get("sections", []):
        for question in section.get("questions", []):
            found.append(Question(index=len(found), key=question["key"], type=question["type"], text=question["text"],
                                  help=question.get("help", ""), required=bool(question.get("required")),
                                  options=tuple(question.get("options") or ()), topics=tuple(question.get("topics") or ()),
                                  section=section.get("title", "")))
    return found


@dataclasses.dataclass
class CleanAnswers:
    numeric: list[tuple[int, int]]  # (question index, value)
    texts: list[tuple[int, str, str, str]]  # (question index, kind, text, topic)
    given: dict[str, Any]  # what the form shows back: key -> value


def _choice(question: Question, value: Any, label: str) -> int:
    if isinstance(value, bool):
        raise ValidationError("{label}: lựa chọn không hợp lệ.", field=question.key, label=label)
    if isinstance(value, int):
        index = value
    elif isinstance(value, str) and value.strip().isdigit() and value.strip() not in question.options:
        index = int(value.strip())
    elif isinstance(value, str) and clean(value) in question.options:
        index = question.options.index(clean(value))
    else:
        raise ValidationError("{label}: lựa chọn {value!r} không có trong danh sách.", field=question.key, label=label,
                              value=value)
    if not 0 <= index < len(question.options):
        raise ValidationError("{label}: lựa chọn không có trong danh sách.", field=question.key, label=label)
    return index


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def check_answers(questions: list[Question], answers: Any) -> CleanAnswers:
    """Every answer checked against its question, all at once: a ValidationError lists every
    problem in ``fields`` (keyed by question key), so nothing is saved unless all are right."""
    if not isinstance(answers, dict):
        raise ValidationError("Câu trả lời phải gửi dạng {mã câu hỏi: giá trị}.", field="answers")
    by_key = {question.key: question for question in questions}
    problems: dict[str, str] = {}
    unknown = sorted(set(answers) - set(by_key))
    for key in unknown:
        problems[str(key)] = Phrase("Không có câu hỏi mã {key!r} trong phiếu này.", {"key": key})
    result = CleanAnswers(numeric=[], texts=[], given={})
    for question in questions:
        label = Phrase("Câu {number}", {"number": question.index + 1})
        value = answers.get(question.key)
        if _empty(value):
            if question.required:
                problems[question.key] = Phrase("{label} là câu bắt buộc, đồng chí chưa trả lời.", {"label": label})
            continue
        try:
            if question.type == "rating":
                if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().lstrip("-").isdigit() \
                        or len(str(value).strip()) > 6:
                    raise ValidationError("{label}: điểm phải là số nguyên từ {rating_min} đến {rating_max}.",
                                          field=question.key, label=label, rating_min=RATING_MIN, rating_max=RATING_MAX)
                number = int(str(value).strip())
                if not RATING_MIN <= number <= RATING_MAX:
                    raise ValidationError("{label}: điểm phải từ {rating_min} đến {rating_max}, không phải {number}.",
                                          field=question.key, label=label, rating_min=RATING_MIN, rating_max=RATING_MAX,
                                          number=number)
                result.numeric.append((question.index, number))
                result.given[question.key] = number
            elif question.type == "yes_no":
                if isinstance(value, bool):
                    flag = value
                elif isinstance(value, (str, int)) and str(value).strip().lower() in YES | NO:
                    flag = str(value).strip().lower() in YES
                else:
                    raise ValidationError("{label}: chỉ trả lời Có hoặc Không.", field=question.key, label=label)
                result.numeric.append((question.index, int(flag)))
                result.given[question.key] = flag
            elif question.type == "single_choice":
                if isinstance(value, list):
                    raise ValidationError("{label}: chỉ được chọn một.", field=question.key, label=label)
                index = _choice(question, value, label)
                result.numeric.append((question.index, index))
                result.given[question.key] = question.options[index]
            elif question.type == "multiple_choice":
                values = value if isinstance(value, list) else [value]
                indexes = sorted({_choice(question, item, label) for item in values})
                result.numeric.extend((question.index, index) for index in indexes)
                result.given[question.key] = [question.options[index] for index in indexes]
            else:  # text kinds
                topic = ""
                if question.type == "recommendation" and isinstance(value, dict):
                    topic = clean(str(value.get("topic") or ""))[:64]
                    value = value.get("text")
                    if _empty(value):
                        if question.required:
                            raise ValidationError("{label} là câu bắt buộc, đồng chí chưa trả lời.", field=question.key,
                                                  label=label)
                        continue
                if not isinstance(value, str):
                    raise ValidationError("{label}: câu trả lời phải là chữ.", field=question.key, label=label)
                text = value.strip().replace("\r\n", "\n")
                limit = SHORT_TEXT_MAX if question.type == "short_text" else LONG_TEXT_MAX
                if len(text) > limit:
                    raise ValidationError("{label}: tối đa {limit} ký tự (đồng chí đã viết {written}).", field=question.key,
                                          label=label, limit=limit, written=len(text))
                if topic and question.topics and topic not in question.topics:
                    raise ValidationError("{label}: lĩnh vực {topic!r} không có trong danh sách.", field=question.key,
                                          label=label, topic=topic)
                result.texts.append((question.index, question.type, text, topic))
                result.given[question.key] = {"text": text, "topic": topic} if question.type == "recommendation" else text
        except ValidationError as error:
            problems[question.key] = error.message
    if problems:
        first = next(iter(problems.values()))
        message = first if len(problems) == 1 else Phrase("Phiếu có {count} chỗ chưa đúng; {first}", {"count": len(problems), "first": first})
        raise ValidationError(message, fields=problems)
    return result


def form_answers(questions: list[Question], fields: dict[str, Any]) -> dict[str, Any]:
    """Answers from an HTML form post (``q_<key>``, ``q_<key>_topic``; repeated names for a
    multiple choice) in the shape :func:`check_answers` takes."""
    answers: dict[str, Any] = {}
    for question in questions:
        name = f"q_{question.key}"
        if name not in fields:
            continue
        value = fields[name]
        if question.type == "multiple_choice":
            answers[question.key] = value if isinstance(value, list) else [value]
        elif question.type == "recommendation":
            answers[question.key] = {"text": value if isinstance(value, str) else "", "topic": fields.get(f"{name}_topic") or ""}
        else:
            answers[question.key] = value[-1] if isinstance(value, list) else value
    return answers
