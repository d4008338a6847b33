"""Form content and answers checked as pure functions (no database)."""

from __future__ import annotations

import pytest

from core.errors import ValidationError
from plugins.evaluation import charts
from plugins.evaluation import questions as q
from plugins.evaluation.demo import DEMO_CONTENT


def _questions():
    return q.questions_of(q.normalise_content(DEMO_CONTENT))


def test_the_demo_content_is_valid_and_numbered_across_sections():
    found = _questions()
    assert [x.index for x in found] == list(range(8)) and found[4].section == "Tổ chức hội nghị"
    assert {x.type for x in found} == set(q.TYPES) - {"short_text"}
    assert found[7].topics[0] == "Kinh tế - xã hội"


@pytest.mark.parametrize("content, field", [
    (None, "content"),
    ({"title": 5, "sections": []}, "title"),
    ({"title": "P", "sections": []}, "sections"),
    ({"title": "P", "sections": [{"questions": [{"type": "rating", "text": ["?"]}]}]}, "sections.0.questions.0.text"),
    ({"title": "P", "sections": [{"questions": [{"type": "rating", "text": "?", "key": 3}]}]}, "sections.0.questions.0.key"),
    ({"title": "P", "sections": [{"questions": [{"type": "rating", "text": "?", "required": "yes"}]}]}, "sections.0.questions.0.required"),
    ({"title": "P", "sections": [{"questions": [{"type": "multiple_choice", "text": "?", "options": ["A", "A"]}]}]},
     "sections.0.questions.0.options"),
    ({"title": "P", "sections": [{"questions": [{"type": "rating", "text": "?", "help": {"x": 1}}]}]}, "sections.0.questions.0.help"),
])
def test_bad_content_names_its_field(content, field):
    with pytest.raises(ValidationError) as refused:
        q.normalise_content(content)
    assert field in refused.value.fields


def test_answers_of_every_type_and_what_the_form_posts():
    found = _questions()
    fields = {"q_noi_dung": "5", "q_bao_cao_vien": "3", "q_thoi_luong": "2", "q_chu_de": ["0", "3"], "q_tai_lieu": "0", "q_to_chuc": "4",
              "q_gop_y": "  Tốt \r\n lắm ", "q_kien_nghi": "Sửa đường", "q_kien_nghi_topic": "Đời sống nhân dân"}
    checked = q.check_answers(found, q.form_answers(found, fields))
    assert checked.numeric == [(0, 5), (1, 3), (2, 2), (3, 0), (3, 3), (4, 0), (5, 4)]
    assert checked.texts == [(6, "long_text", "Tốt \n lắm", ""), (7, "recommendation", "Sửa đường", "Đời sống nhân dân")]
    assert checked.given["thoi_luong"] == "Quá dài" and checked.given["tai_lieu"] is False


@pytest.mark.parametrize("key, value", [("noi_dung", "9" * 5000), ("noi_dung", 3.5), ("noi_dung", {"x": 1}), ("thoi_luong", 7),
                                        ("thoi_luong", {"a": 1}), ("chu_de", ["Không có"]), ("tai_lieu", 2), ("kien_nghi", ["a"])])
def test_wrong_values_are_refused_never_crash(key, value):
    answers = {"noi_dung": 4, "bao_cao_vien": 4, "thoi_luong": "Vừa phải", "tai_lieu": True, "to_chuc": 4, key: value}
    with pytest.raises(ValidationError) as refused:
        q.check_answers(_questions(), answers)
    assert key in refused.value.fields


def test_charts_are_escaped_svg():
    svg = charts.bars([{"label": "<script>", "count": 3, "share": 0.75}, {"label": "B", "count": 1, "share": 0.25}], title="A & B")
    assert svg.startswith("<svg") and "<script>" not in svg and "&lt;script&gt;" in svg and "3 (75%)" in svg
    line = charts.trend_line([("01/2026", 4.5), ("02/2026", None), ("03/2026", 3.0)])
    assert line.count("<circle") == 2 and "<polyline" not in line  # a gap breaks the line
