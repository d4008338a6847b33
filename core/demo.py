"""The demo data set: a province with 2 districts and 6 communes, about 300 people, a monthly
briefing series, an extraordinary conference with sessions, speakers and materials, and a past
conference with its roll-call. Built through the services, as an organiser would."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from typing import AsyncIterator

from core import clock
from core.access import Actor
from core.demo_names import vietnamese_mobile_numbers, vietnamese_names
from core.tables import Unit

DEMO_MARKER_CODE = "HU-TD"
TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")

DISTRICTS = [
    ("Huyện ủy Tiên Du", DEMO_MARKER_CODE, ["Đảng ủy xã Phật Tích", "Đảng ủy xã Lạc Vệ", "Đảng ủy thị trấn Lim"]),
    ("Thị ủy Quế Võ", "TX-QV", ["Đảng ủy phường Phố Mới", "Đảng ủy xã Bằng An", "Đảng ủy xã Việt Hùng"]),
]


async def _bytes(content: bytes) -> AsyncIterator[bytes]:
    yield content


def _pdf(title: str) -> bytes:
    """A small valid one-page PDF carrying ``title`` (ASCII-folded: core PDF fonts lack Vietnamese)."""
    from core.text import fold

    text = fold(title).replace("(", "[").replace(")", "]")
    stream = f"BT /F1 14 Tf 60 780 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


async def already_loaded() -> bool:
    return await Unit.exists().where(Unit.short_code == DEMO_MARKER_CODE)


async def load_demo(progress=print) -> dict:
    """Create the demo data under the root unit; refuses to run twice."""
    from core.services import audiences, conferences, invitations, materials, people, rollcall, series, units, users

    system = Actor.system_actor("hoinghi demo")
    root = await Unit.select().where(Unit.parent.is_null()).order_by(Unit.id).first()
    if root is None:
        raise RuntimeError("Chưa khởi tạo: chạy `hoinghi init` trước.")
    rng = random.Random(2026)

    from core.notifications import set_unit_setting

    # the demo's phone numbers look real: its messages only ever go to the console channel
    await set_unit_setting(system, root["id"], "notifications.channels_allowed", ["console"])
    progress("Đơn vị…")
    communes: list[dict] = []
    districts: list[dict] = []
    for district_name, code, commune_names in DISTRICTS:
        district = await units.create_unit(system, name=district_name, short_code=code, kind="district", parent_id=root["id"])
        districts.append(district)
        for index, commune_name in enumerate(commune_names, start=1):
            communes.append(
                await units.create_unit(system, name=commune_name, short_code=f"{code}-X{index}", kind="commune", parent_id=district["id"])
            )

    progress("Cán bộ, báo cáo viên, tuyên truyền viên (300 người)…")
    names = vietnamese_names(300, seed=7)
    phones = vietnamese_mobile_numbers(300, seed=7)
    placements = [(root, "province")] * 30 + [(d, "district") for d in districts for _ in range(30)]
    placements += [(c, "commune") for c in communes for _ in range(35)]
    person_ids: list[int] = []
    for index, ((unit, level), name, phone) in enumerate(zip(placements, names, phones)):
        roll = rng.random()
        if roll < 0.25:
            categories = ["briefer", "cadre", "member"]
        elif roll < 0.55:
            categories = ["propagandist", "member"]
        elif roll < 0.75:
            categories = ["opinion_collaborator"]
        elif roll < 0.95:
            categories = ["cadre", "member"]
        else:
            categories = ["guest"]
        # some grassroots members have no phone of their own
        has_phone = not (level == "commune" and rng.random() < 0.08)
        person = await people.create_person(
            system,
            unit_id=unit["id"],
            full_name=name,
            phone=phone if has_phone else None,
            categories=categories,
            briefer_level=level if "briefer" in categories else None,
            is_head=index % 35 == 0,
        )
        person_ids.append(person["id"])
    # a family phone shared by two members, allowed explicitly by the organiser
    shared = await people.create_person(
        system, unit_id=communes[0]["id"], full_name="Nguyễn Thị Hòa", phone=phones[60], categories=["member"], allow_shared_phone=True
    )
    person_ids.append(shared["id"])

    progress("Người dùng…")
    accounts = []
    for district in districts:
        username = f"tochuc.{district['short_code'].lower()}"
        password = users.generate_password()
        user = await users.create_user(system, username=username, password=password, full_name=f"Ban Tuyên giáo {district['name']}")
        await users.grant_role(system, user_id=user["id"], unit_id=district["id"], role="organiser")
        accounts.append((username, password, f"tổ chức, {district['name']}"))
    username, password = "diemdanh.phattich", users.generate_password()
    user = await users.create_user(system, username=username, password=password, full_name="Tổ điểm danh xã Phật Tích")
    await users.grant_role(system, user_id=user["id"], unit_id=communes[0]["id"], role="checkin_staff")
    accounts.append((username, password, "điểm danh, xã Phật Tích"))

    progress("Đối tượng…")
    briefers = await audiences.create_audience(
        system, unit_id=root["id"], name="Báo cáo viên toàn tỉnh", rules={"categories": ["briefer"], "unit_ids": [root["id"]]}
    )
    grassroots = await audiences.create_audience(
        system,
        unit_id=root["id"],
        name="Tuyên truyền viên và cộng tác viên dư luận xã hội",
        rules={"categories": ["propagandist", "opinion_collaborator"], "unit_ids": [root["id"]]},
    )

    today = clock.now().astimezone(TZ).date()
    progress("Chuỗi hội nghị báo cáo viên định kỳ hàng tháng…")
    first_month = today.replace(day=1)
    monthly = await series.create_series(
        system,
        unit_id=root["id"],
        title="Hội nghị báo cáo viên định kỳ tháng",
        kind="periodic_briefing",
        format="hybrid",
        rrule="FREQ=MONTHLY;BYDAY=2TU",
        local_start=dt.datetime(first_month.year, first_month.month, 1, 8, 0),
        duration_minutes=180,
        timezone="Asia/Ho_Chi_Minh",
        template={
            "description": "Thông tin thời sự trong nước, quốc tế; tình hình kinh tế - xã hội của tỉnh; định hướng dư luận.",
            "venues": [
                {"name": "Hội trường Tỉnh ủy", "address": "Số 1 đường Lý Thái Tổ", "online_url": "https://hop.example.vn/tinh-uy"},
                *[
                    {"name": f"Điểm cầu {d['name']}", "address": "Hội trường huyện", "host_unit_id": d["id"], "online_url": "https://hop.example.vn/tinh-uy"}
                    for d in districts
                ],
            ],
            "audience_ids": [briefers["id"]],
        },
    )
    await series.materialise_series(monthly["id"])

    progress("Hội nghị đột xuất…")
    start = _local(today + dt.timedelta(days=3), 14)
    extraordinary = await conferences.create_conference(
        system,
        unit_id=root["id"],
        title="Hội nghị báo cáo viên đột xuất: thông tin về phòng, chống thiên tai",
        kind="extraordinary",
        format="in_person",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2, minutes=30),
        description="Quán triệt chỉ đạo của Tỉnh ủy về ứng phó bão lũ; định hướng thông tin trên mạng xã hội.",
        venues=[{"name": "Hội trường Tỉnh ủy", "address": "Số 1 đường Lý Thái Tổ"}],
        audience_ids=[briefers["id"], grassroots["id"]],
    )
    conference_id = extraordinary["id"]
    session = await conferences.add_session(
        system, conference_id, title="Tình hình thiên tai và công tác ứng phó", topic="Thời sự trong tỉnh",
        starts_at=start, ends_at=start + dt.timedelta(hours=1),
    )
    guest = await conferences.add_speaker(
        system, conference_id, session_id=session["id"], name="Trần Quốc Bảo", position_title="Phó Chánh Văn phòng",
        organisation="Ban Chỉ huy phòng, chống thiên tai tỉnh",
    )
    await conferences.add_session(
        system, conference_id, title="Định hướng thông tin, phản bác luận điệu sai trái", topic="Định hướng dư luận",
        starts_at=start + dt.timedelta(hours=1), ends_at=start + dt.timedelta(hours=2, minutes=30),
    )
    for title, kind, number, date in [
        ("Công văn về việc tăng cường công tác tuyên truyền miệng", "cong_van", "978-CV/TU", "14/03/2024"),
        ("Kế hoạch tổ chức hội nghị báo cáo viên năm 2024", "ke_hoach", "129-KH/TU", "02/01/2024"),
        ("Hướng dẫn tuyên truyền kỷ niệm các ngày lễ lớn", "huong_dan", "105-HD/BTGTU", "20/02/2024"),
    ]:
        await materials.add_material(
            system, conference_id=conference_id, title=title, kind=kind, official_number=number, official_date=date,
            access="audience", filename=f"{number.replace('/', '-')}.pdf", chunks=_bytes(_pdf(f"{number} {title}")),
        )
    await conferences.publish_conference(system, conference_id)

    progress("Hội nghị tháng trước và kết quả điểm danh…")
    past_day = today - dt.timedelta(days=30)
    past_start = _local(past_day, 8)
    past = await conferences.create_conference(
        system,
        unit_id=districts[0]["id"],
        title="Hội nghị báo cáo viên huyện: sơ kết 6 tháng",
        kind="review",
        format="in_person",
        starts_at=past_start,
        ends_at=past_start + dt.timedelta(hours=3),
        venues=[{"name": "Hội trường Huyện ủy Tiên Du", "address": "Thị trấn Lim"}],
        audience_ids=[briefers["id"]],
    )
    await conferences.publish_conference(system, past["id"])
    roster = await invitations.list_invitations(system, past["id"], limit=1000)
    with clock_at(past_start + dt.timedelta(minutes=5)):
        for index, invitation in enumerate(roster):
            at = past_start + dt.timedelta(minutes=rng.randrange(-20, 40))
            if index % 10 == 0:
                await rollcall.excuse(system, past["id"], invitation["person"], "Đi công tác")
            elif index % 7 != 0:
                await rollcall.record_attendance(system, conference_id=past["id"], person_id=invitation["person"], method="manual", at=at)
    with clock_at(past_start + dt.timedelta(hours=4)):
        await conferences.end_conference(system, past["id"])

    return {"people": len(person_ids), "units": 1 + len(districts) + len(communes), "accounts": accounts, "speaker": guest}


class clock_at:
    """Run a block with the clock set to ``moment`` (the demo records a past roll-call)."""

    def __init__(self, moment: dt.datetime):
        self.moment = moment

    def __enter__(self):
        self.previous = clock._frozen
        clock.set_now(self.moment)

    def __exit__(self, *exc):
        clock.set_now(self.previous)
        return False


async def switch_on_at_root(plugin: str) -> bool:
    """For a plugin's ``demo_data``: the plugin on at the root unit (so the whole demo tree
    inherits it), unless plugins.toml does not offer it or locks it. True when switched on."""
    from core.access import Actor
    from core.plugins import build_plugin_host
    from core.tables import Unit

    host = build_plugin_host()
    root = await Unit.select(Unit.id).where(Unit.parent.is_null()).order_by(Unit.id).first()
    if root is None or plugin not in host.available or host.configs[plugin].locked:
        return False
    await host.set_state(Actor.system_actor("hoinghi demo"), root["id"], plugin, "on")
    return True
