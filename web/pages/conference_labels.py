"""Labels of the conference pages' codes (kinds, formats, statuses, answers), marked for the
catalog so that English pages say them in English; the core keeps its own Vietnamese labels for
the CLI and exports, and a test checks both lists name the same codes."""

from __future__ import annotations

import re

from web.errors import N_
from web.i18n import gettext as _

KINDS = {
    "periodic_briefing": N_("Hội nghị báo cáo viên định kỳ"),
    "extraordinary": N_("Hội nghị đột xuất"),
    "all_member": N_("Hội nghị toàn thể cán bộ, đảng viên"),
    "study": N_("Hội nghị học tập, quán triệt"),
    "review": N_("Hội nghị giao ban, sơ kết, tổng kết"),
    "other": N_("Khác"),
}
FORMATS = {"in_person": N_("Trực tiếp"), "online": N_("Trực tuyến"), "hybrid": N_("Trực tiếp và trực tuyến")}
STATUSES = {"draft": N_("Bản nháp"), "published": N_("Đã công bố"), "ended": N_("Đã kết thúc"), "cancelled": N_("Đã huỷ")}
RSVP = {"pending": N_("Chưa trả lời"), "accepted": N_("Tham dự"), "declined": N_("Không tham dự"),
        "excused": N_("Vắng có lý do"), "delegated": N_("Cử người dự thay")}
ATTENDANCE = {"present": N_("Có mặt"), "late": N_("Đến muộn"), "excused": N_("Vắng có lý do"), "absent": N_("Vắng"),
              "substitute": N_("Dự thay"), "not_recorded": N_("Chưa điểm danh")}
METHODS = {"staff_scan": N_("Quét mã (cán bộ)"), "self_scan": N_("Tự quét mã"), "manual": N_("Ghi tay"),
           "online": N_("Trực tuyến"), "derived": N_("Tự động")}
MATERIAL_KINDS = {
    "chi_thi": N_("Chỉ thị"), "ke_hoach": N_("Kế hoạch"), "cong_van": N_("Công văn"), "huong_dan": N_("Hướng dẫn"),
    "bao_cao": N_("Báo cáo"), "quyet_dinh": N_("Quyết định"), "nghi_quyet": N_("Nghị quyết"), "other": N_("Khác"),
}
ACCESS = {"public": N_("Công khai"), "audience": N_("Người được mời và cán bộ đơn vị"),
          "restricted": N_("Chỉ cán bộ được chỉ định")}
REPEAT = {"none": N_("Không lặp (một lần)"), "monthly_weekday": N_("Hàng tháng, cùng thứ trong tuần"),
          "monthly_day": N_("Hàng tháng, cùng ngày trong tháng")}
WEEKDAYS = (N_("Thứ Hai"), N_("Thứ Ba"), N_("Thứ Tư"), N_("Thứ Năm"), N_("Thứ Sáu"), N_("Thứ Bảy"), N_("Chủ nhật"))
WEEKDAYS_SHORT = (N_("T2"), N_("T3"), N_("T4"), N_("T5"), N_("T6"), N_("T7"), N_("CN"))

# What a line of the conference's change history names (the keys core/services/conferences.py
# writes); the page shows the words, never the keys.
CHANGES = {
    "created": N_("lập hội nghị"), "status": N_("trạng thái"), "title": N_("tên hội nghị"), "description": N_("nội dung chính"),
    "kind": N_("loại hội nghị"), "format": N_("hình thức"), "starts_at": N_("giờ bắt đầu"), "ends_at": N_("giờ kết thúc"),
    "timezone": N_("múi giờ"), "is_public": N_("công khai"), "audiences": N_("đối tượng được mời"),
    "venue_added": N_("thêm điểm cầu"), "venue_removed": N_("bỏ điểm cầu"), "venue.name": N_("tên điểm cầu"),
    "venue.address": N_("địa chỉ điểm cầu"), "venue.host_unit": N_("đơn vị chủ trì điểm cầu"),
    "venue.online_url": N_("đường dẫn trực tuyến"),
    "session_added": N_("thêm phiên"), "session_removed": N_("bỏ phiên"),
    "session.title": N_("tên phiên"), "session.topic": N_("chủ đề phiên"),
    "session.starts_at": N_("giờ bắt đầu phiên"), "session.ends_at": N_("giờ kết thúc phiên"),
    "speaker_added": N_("thêm người trình bày"), "speaker_removed": N_("bỏ người trình bày"),
    "speaker.name": N_("tên người trình bày"), "speaker.position_title": N_("chức vụ người trình bày"),
    "speaker.organisation": N_("cơ quan người trình bày"),
}

LABELS = {"KINDS": KINDS, "FORMATS": FORMATS, "STATUSES": STATUSES, "RSVP": RSVP, "ATTENDANCE": ATTENDANCE, "METHODS": METHODS,
          "MATERIAL_KINDS": MATERIAL_KINDS, "ACCESS": ACCESS, "REPEAT": REPEAT, "WEEKDAYS": WEEKDAYS,
          "WEEKDAYS_SHORT": WEEKDAYS_SHORT, "CHANGES": CHANGES}

_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_MONTHLY_WEEKDAY = re.compile(r"^FREQ=MONTHLY;BYDAY=(-1|[1-4])(MO|TU|WE|TH|FR|SA|SU)(;COUNT=\d+|;UNTIL=[0-9TZ]+)?$")
_MONTHLY_DAY = re.compile(r"^FREQ=MONTHLY;BYMONTHDAY=([1-9]|[12][0-9]|3[01])(;COUNT=\d+|;UNTIL=[0-9TZ]+)?$")
_WEEKLY = re.compile(r"^FREQ=WEEKLY;BYDAY=(MO|TU|WE|TH|FR|SA|SU)(;COUNT=\d+|;UNTIL=[0-9TZ]+)?$")


def recurrence(rrule: str) -> str:
    """A series' RFC 5545 rule as a person says it ("Hàng tháng, Thứ Ba tuần thứ 2, 6 lần"): the
    rules the conference form makes, and a weekly one; any other rule is shown as it is."""
    if match := _MONTHLY_WEEKDAY.match(rrule):
        weekday = _(WEEKDAYS[_WEEKDAY_CODES.index(match.group(2))])
        if match.group(1) == "-1":
            return _("Hàng tháng, %(weekday)s cuối tháng") % {"weekday": weekday} + _ending(match.group(3))
        return _("Hàng tháng, %(weekday)s tuần thứ %(week)d") % {"weekday": weekday, "week": int(match.group(1))} \
            + _ending(match.group(3))
    if match := _MONTHLY_DAY.match(rrule):
        return _("Hàng tháng, ngày %(day)d") % {"day": int(match.group(1))} + _ending(match.group(2))
    if match := _WEEKLY.match(rrule):
        return _("Hàng tuần, %(weekday)s") % {"weekday": _(WEEKDAYS[_WEEKDAY_CODES.index(match.group(1))])} \
            + _ending(match.group(2))
    return rrule


def _ending(part: str | None) -> str:
    """How a rule ends (";COUNT=6", ";UNTIL=20301231T000000Z") in words, after a comma."""
    if not part:
        return ""
    name, _sep, value = part.lstrip(";").partition("=")
    if name == "COUNT":
        return ", " + _("%(count)d lần") % {"count": int(value)}
    return ", " + _("đến %(date)s") % {"date": f"{value[6:8]}/{value[4:6]}/{value[0:4]}"}

