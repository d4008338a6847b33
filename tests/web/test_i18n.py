"""Every message of the interface has its English translation, and the language follows the
person's choice, then the browser."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.conftest import PROJECT_ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("web/**.py", "python"), ("plugins/**.py", "python"), ("web/templates/**.html", "jinja2"),
           ("plugins/**/templates/**.html", "jinja2")]


def test_every_interface_message_has_an_english_translation():
    translated = set()
    for po in sorted((PROJECT_ROOT / "web/locale/en/LC_MESSAGES").glob("*.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle, locale="en")
        translated |= {message.id if isinstance(message.id, str) else message.id[0] for message in catalog if message.id and message.string}
    missing = []
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(PROJECT_ROOT), method_map=METHODS, keywords=KEYWORDS,
            options_map={"web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        text = message if isinstance(message, str) else message[0]
        if text and text not in translated:
            missing.append(f"{filename}:{lineno}: {text!r}")
    assert not missing, "untranslated (run `make i18n`, then translate in web/locale/en/LC_MESSAGES/*.po):\n" + "\n".join(missing)


def test_dates_in_the_conference_time_zone():
    import datetime as dt

    from web.i18n import local_date, local_datetime

    moment = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone.utc)
    assert local_datetime(moment, "Asia/Ho_Chi_Minh") == "29/03/2026 08:30"
    assert local_datetime(moment, "Europe/Berlin") == "29/03/2026 03:30"  # daylight saving began at 01:00 UTC
    assert local_date(moment.isoformat(), "Asia/Ho_Chi_Minh") == "29/03/2026"
    assert local_datetime(None) == ""
