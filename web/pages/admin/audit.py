"""/audit: the audit log of a unit's subtree (unit admins), filtered by object, action and dates."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from litestar import Request, get
from litestar.response import Template

from core.access import Actor
from core.errors import Label, ValidationError
from core.services import audit
from web.errors import N_
from web.pages import PAGE
from web.pages.admin.common import page, unit_choices, working_unit

STAFF = {"access": "staff", **PAGE}
PAGE_SIZE = 100
# What the log says in words: the codes stay in the data (and in the filter's URL), a person reads
# the label; a code without a label (a third-party plugin's) is shown as it is.
OBJECT_TYPES = {  # singular nouns ("Người dự": a person), apart from the menu's plural ones
    "person": Label("Người dự", "audit object"), "conference": Label("Hội nghị", "audit object"), "audience": Label("Đối tượng", "audit object"),
    "unit": Label("Đơn vị", "audit object"), "staff_user": Label("Tài khoản cán bộ", "audit object"), "token": Label("Mã truy cập", "audit object"),
    "material": Label("Tài liệu", "audit object"), "invitation": Label("Lời mời", "audit object"), "series": Label("Chuỗi hội nghị", "audit object"),
    "attendance": Label("Điểm danh", "audit object"), "qr_signing_key": Label("Khoá ký mã QR", "audit object"), "system": Label("Hệ thống", "audit object"),
}
ACTIONS = {
    "attendance.record": N_("Ghi điểm danh"), "attendance.excuse": N_("Ghi vắng có lý do"),
    "audience.create": N_("Tạo đối tượng"), "audience.update": N_("Sửa đối tượng"), "audience.delete": N_("Xoá đối tượng"),
    "conference.create": N_("Tạo hội nghị"), "conference.update": N_("Sửa hội nghị"), "conference.publish": N_("Công bố hội nghị"),
    "conference.end": N_("Kết thúc hội nghị"), "conference.delete": N_("Xoá hội nghị"),
    "series.create": N_("Tạo chuỗi hội nghị"), "series.split": N_("Tách chuỗi hội nghị"),
    "invitations.snapshot": N_("Lập danh sách mời"), "invitations.re_resolve": N_("Cập nhật danh sách mời"),
    "invitation.add": N_("Thêm người được mời"), "invitation.withdraw": N_("Rút lời mời"),
    "invitation.respond": N_("Trả lời lời mời"),
    "material.add": N_("Thêm tài liệu"), "material.version": N_("Thêm bản mới của tài liệu"), "material.read": N_("Mở tài liệu"),
    "material.delete": N_("Xoá tài liệu"),
    "messages.queue": N_("Xếp hàng gửi tin"), "template.save": N_("Lưu mẫu tin"),
    "people.import": N_("Nhập người dự từ tệp"), "person.create": N_("Thêm người dự"), "person.update": N_("Sửa người dự"),
    "person.activate": N_("Cho người dự hoạt động lại"), "person.deactivate": N_("Ngừng hoạt động người dự"),
    "person.erase": N_("Xoá thông tin cá nhân"), "person.export": N_("Xuất thông tin cá nhân"),
    "plugin.set_state": N_("Bật, tắt tiện ích"), "setting.set": N_("Đổi thiết lập"),
    "role.grant": N_("Cấp quyền"), "role.revoke": N_("Thu hồi quyền"),
    "rollcall.export": N_("Xuất kết quả điểm danh"), "retention.purge": N_("Xoá dữ liệu hết hạn lưu giữ"),
    # a token is an API key, a personal link, a calendar feed or a scanner device (its purpose is in the details)
    "token.issue": N_("Cấp mã truy cập"), "token.rotate": N_("Đổi mã truy cập"), "token.revoke": N_("Thu hồi mã truy cập"),
    "unit.create": N_("Tạo đơn vị"), "unit.update": N_("Sửa đơn vị"), "unit.move": N_("Chuyển đơn vị"), "unit.delete": N_("Xoá đơn vị"),
    "user.create": N_("Tạo tài khoản cán bộ"), "user.password_reset": N_("Đặt lại mật khẩu"),
    "user.logout_everywhere": N_("Đăng xuất khỏi mọi nơi"),
    # the built-in plugins' own actions
    "evaluation.template.create": N_("Tạo mẫu phiếu đánh giá"), "evaluation.template.update": N_("Sửa mẫu phiếu đánh giá"),
    "evaluation.form.attach": N_("Gắn phiếu đánh giá vào hội nghị"), "evaluation.form.open": N_("Mở phiếu đánh giá"),
    "evaluation.form.close": N_("Đóng phiếu đánh giá"), "evaluation.text.update": N_("Xử lý ý kiến, kiến nghị"),
    "qr_checkin.credential_reissue": N_("Cấp lại mã điểm danh"), "qr_checkin.credential_revoke": N_("Thu hồi mã điểm danh"),
    "qr_checkin.key_rotate": N_("Đổi khoá ký mã QR"),
}


def _day(value: str, timezone: str, field: str) -> dt.datetime | None:
    """A date from the form (yyyy-mm-dd) as the start of that day in the unit's time zone."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError("Ngày không hợp lệ.", field=field) from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo(timezone))


@get("/audit", opt=STAFF, include_in_schema=False)
async def audit_page(request: Request, actor: Actor, unit: int | None = None, object_type: str = "", action: str = "",
                     object_id: int | None = None, since: str = "", until: str = "", offset: int = 0) -> Template:
    current = await working_unit(actor, unit)
    start = _day(since, current["timezone"], "since")
    end = _day(until, current["timezone"], "until")
    rows = await audit.list_entries(actor, unit_path=current["path"], object_type=object_type or None, object_id=object_id,
                                    action=action or None, since=start, until=end + dt.timedelta(days=1) if end else None,
                                    limit=PAGE_SIZE + 1, offset=max(0, offset))
    return await page(request, actor, "admin/audit.html", unit=current, choices=await unit_choices(actor), rows=rows[:PAGE_SIZE],
                      more=len(rows) > PAGE_SIZE, actions=await audit.actions_seen(actor, unit_path=current["path"]),
                      object_types=OBJECT_TYPES, action_labels=ACTIONS, object_type=object_type, action=action, object_id=object_id, since=since,
                      until=until, offset=max(0, offset), page_size=PAGE_SIZE)


AUDIT_PAGES = [audit_page]
