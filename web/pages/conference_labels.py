"""Labels of the conference pages' codes (kinds, formats, statuses, answers), marked for the
catalog so that English pages say them in English; the core keeps its own Vietnamese labels for
the CLI and exports, and a test checks both lists name the same codes."""

from __future__ import annotations

from web.errors import N_

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

LABELS = {"KINDS": KINDS, "FORMATS": FORMATS, "STATUSES": STATUSES, "RSVP": RSVP, "ATTENDANCE": ATTENDANCE, "METHODS": METHODS,
          "MATERIAL_KINDS": MATERIAL_KINDS, "ACCESS": ACCESS, "REPEAT": REPEAT, "WEEKDAYS": WEEKDAYS,
          "WEEKDAYS_SHORT": WEEKDAYS_SHORT}
