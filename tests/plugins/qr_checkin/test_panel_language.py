"""The plugin's panels speak the page's language: Vietnamese by default, English from the catalog."""

import web.i18n  # noqa: F401  (the web app is loaded in this process, as when a page renders)
from plugins.qr_checkin import badges


def test_the_staff_panel_and_the_badge_follow_the_language_of_the_page():
    from web.i18n import use_locale

    use_locale("en")
    try:
        staff, = badges.conference_panel({"id": 7})
        assert staff["title"] == "QR code roll-call" and "Print badges" in staff["html"] and "Scanners" in staff["html"]
        badge = badges.badge_html(credential="c", short_code="ABC123", name="Nguyễn Văn An", unit="Tỉnh ủy", conference_title="Hội nghị",
                                  venue=None, translate=badges._)
        assert "Short code" in badge and "Mã ngắn" not in badge
    finally:
        use_locale("vi")
    staff, = badges.conference_panel({"id": 7})
    assert staff["title"] == "Điểm danh bằng mã QR" and "In thẻ điểm danh" in staff["html"]
