"""The panel speaks the page's language: Vietnamese by default, English from the catalog."""

import web.i18n  # noqa: F401  (the web app is loaded in this process, as when a page renders)
from plugins.ical import panel


def test_the_panel_follows_the_language_of_the_page():
    from web.i18n import use_locale

    use_locale("vi")
    assert panel.title() == "Thêm vào lịch"
    use_locale("en")
    try:
        assert panel.title() == "Add to calendar"
        html = panel._environment().get_template("ical/panel.html").render(
            links={"https": "https://x/ical/t.ics", "webcal": "webcal://x/ical/t.ics"}, qr_svg="", download_url=None,
            rotate_url=panel.ROTATE_URL, csrf_token="abc")
        assert "Add to the calendar on your phone" in html and "Thêm vào lịch trên điện thoại" not in html
        assert 'name="_csrf_token" value="abc"' in html
    finally:
        use_locale("vi")
