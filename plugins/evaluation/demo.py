"""The demo template "Phiếu đánh giá hội nghị báo cáo viên", and ``hoinghi evaluation demo``.

``hoinghi demo`` calls it through the ``demo_data`` hook (and ``hoinghi evaluation demo`` runs it
alone): the template on the root unit, the plugin switched on there, and the template attached
(anonymous) to the demo's ended district conference with answers from most of those present.
"""

from __future__ import annotations

import argparse
import random

DEMO_TEMPLATE_NAME = "Phiếu đánh giá hội nghị báo cáo viên"
TOPICS = ["Kinh tế - xã hội", "Quốc phòng - an ninh", "Xây dựng Đảng", "Chính sách, pháp luật", "Đời sống nhân dân"]
DEMO_CONTENT = {
    "title": DEMO_TEMPLATE_NAME,
    "intro": "Đề nghị đồng chí cho ý kiến để Ban Tuyên giáo nâng cao chất lượng hội nghị báo cáo viên.",
    "sections": [
        {"title": "Nội dung thông tin", "questions": [
            {"key": "noi_dung", "type": "rating", "text": "Nội dung thông tin có thiết thực, kịp thời không?", "required": True,
             "help": "1: rất kém · 5: rất tốt"},
            {"key": "bao_cao_vien", "type": "rating", "text": "Báo cáo viên trình bày rõ ràng, dễ hiểu?", "required": True},
            {"key": "thoi_luong", "type": "single_choice", "text": "Thời lượng hội nghị",
             "options": ["Quá ngắn", "Vừa phải", "Quá dài"], "required": True},
            {"key": "chu_de", "type": "multiple_choice", "text": "Chủ đề đồng chí muốn được thông tin thêm",
             "options": ["Tình hình quốc tế", "Kinh tế - xã hội của tỉnh", "Phản bác luận điệu sai trái", "Chính sách mới"]},
        ]},
        {"title": "Tổ chức hội nghị", "questions": [
            {"key": "tai_lieu", "type": "yes_no", "text": "Tài liệu có được gửi trước hội nghị không?", "required": True},
            {"key": "to_chuc", "type": "rating", "text": "Công tác tổ chức (địa điểm, âm thanh, đường truyền)", "required": True},
            {"key": "gop_y", "type": "long_text", "text": "Góp ý khác về hội nghị"},
        ]},
        {"title": "Ý kiến, kiến nghị của cơ sở", "questions": [
            {"key": "kien_nghi", "type": "recommendation", "text": "Câu hỏi, kiến nghị của cán bộ, đảng viên và nhân dân nơi đồng chí sinh hoạt",
             "help": "Ban Tuyên giáo sẽ trả lời hoặc chuyển lên cấp trên.", "topics": TOPICS},
        ]},
    ],
}
SAMPLE_RECOMMENDATIONS = [
    ("Kinh tế - xã hội", "Nhân dân đề nghị thông tin rõ hơn về tiến độ giải phóng mặt bằng khu công nghiệp."),
    ("Đời sống nhân dân", "Đề nghị sớm sửa chữa tuyến đường liên thôn bị hư hỏng sau mưa lũ."),
    ("Chính sách, pháp luật", "Cần hướng dẫn cụ thể về thủ tục cấp đổi giấy chứng nhận quyền sử dụng đất."),
    ("Xây dựng Đảng", "Đề nghị cung cấp thêm tài liệu sinh hoạt chi bộ theo chuyên đề."),
]


async def load(progress=print) -> dict:
    """Idempotent: the template once on the root unit; the demo conference's form once."""
    from core.access import Actor
    from core.plugins import build_plugin_host
    from core.tables import Attendance, Conference, Invitation, Unit
    from plugins.evaluation import services
    from plugins.evaluation.tables import EvaluationForm, EvaluationTemplate

    system = Actor.system_actor("hoinghi evaluation demo")
    root = await Unit.select().where(Unit.parent.is_null()).order_by(Unit.id).first()
    if root is None:
        raise RuntimeError("Chưa khởi tạo: chạy `hoinghi init` trước.")
    from core.demo import switch_on_at_root

    host = build_plugin_host()
    await switch_on_at_root("evaluation")
    template = await EvaluationTemplate.select().where((EvaluationTemplate.unit_id == root["id"])
                                                       & (EvaluationTemplate.name == DEMO_TEMPLATE_NAME)).first()
    if template is None:
        progress("Mẫu phiếu đánh giá…")
        template = await services.create_template(system, unit_id=root["id"], name=DEMO_TEMPLATE_NAME, content=DEMO_CONTENT)
    result = {"template_id": template["id"], "form_id": None, "responses": 0}
    past = await Conference.select().where(Conference.status == "ended").order_by(Conference.id).first()
    if past is None or await EvaluationForm.exists().where(EvaluationForm.conference_id == past["id"]):
        return result
    progress("Phiếu đánh giá của hội nghị đã kết thúc, và câu trả lời mẫu…")
    form = (await services.attach_form(system, conference_id=past["id"], template_id=template["id"], anonymous=True,
                                       close_after_days=30))[0]
    await services.open_form(system, host, conference_id=past["id"], form_id=form["id"])
    present = await Attendance.select(Attendance.person).where(
        (Attendance.conference == past["id"]) & Attendance.status.is_in(list(services.PRESENT))
        & Attendance.person.is_in(Invitation.select(Invitation.person).where(Invitation.conference == past["id"])))
    rng = random.Random(8)
    for index, row in enumerate(present):
        if rng.random() < 0.3:
            continue
        answers = {"noi_dung": rng.choice([3, 4, 4, 5, 5]), "bao_cao_vien": rng.choice([3, 4, 5, 5]),
                   "thoi_luong": rng.choice(["Vừa phải", "Vừa phải", "Quá dài"]), "chu_de": rng.sample(DEMO_CONTENT["sections"][0]["questions"][3]["options"], 2),
                   "tai_lieu": rng.random() < 0.7, "to_chuc": rng.choice([2, 3, 4, 5])}
        if index % 4 == 0:
            topic, text = SAMPLE_RECOMMENDATIONS[(index // 4) % len(SAMPLE_RECOMMENDATIONS)]
            answers["kien_nghi"] = {"topic": topic, "text": text}
        await services.submit_response(row["person"], form_id=form["id"], answers=answers, conference_ids=[past["id"]])
        result["responses"] += 1
    result["form_id"] = form["id"]
    return result


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser("evaluation", help="plugin phiếu đánh giá")
    actions = command.add_subparsers(dest="evaluation_command", required=True, metavar="ACTION")
    demo = actions.add_parser("demo", help=f"nạp mẫu \"{DEMO_TEMPLATE_NAME}\" và câu trả lời mẫu (chạy sau `hoinghi demo`)")
    demo.set_defaults(handler=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    import sys

    from core.commands.runtime import run_with_database

    result = run_with_database(lambda: load(progress=lambda text: print(text, file=sys.stderr, flush=True)))
    print(f"Mẫu phiếu: #{result['template_id']} \"{DEMO_TEMPLATE_NAME}\".")
    if result["form_id"]:
        print(f"Phiếu #{result['form_id']} gắn vào hội nghị đã kết thúc, {result['responses']} câu trả lời mẫu.")
    return 0
