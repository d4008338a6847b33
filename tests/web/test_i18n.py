"""Every message of the interface has its English translation, and the language follows the
person's choice, then the browser."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.conftest import PROJECT_ROOT

# the Makefile's `i18n` keywords: a domain error's message (core/errors.py), a Phrase, a Label (one
# spec with a context when it has two arguments), and Litestar's refusals raised with our own text
ERROR_CLASSES = ("DomainError", "ValidationError", "NotFound", "Forbidden", "Conflict", "TooLarge", "NeedsConfirmation",
                 "ImportFailed", "Phrase", "NotFoundException", "NotAuthorizedException")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3),
            "N_": None, **dict.fromkeys(ERROR_CLASSES), "Label": {1: (1,), 2: (1, (2, "c"))}}
METHODS = [("core/**.py", "python"), ("web/**.py", "python"), ("plugins/**.py", "python"), ("web/templates/**.html", "jinja2"),
           ("plugins/**/templates/**.html", "jinja2")]


def _catalog_entries() -> list[tuple[str, str | None, str, str]]:
    """(catalog, context, msgid, English) of every translated entry of every area's catalog."""
    entries = []
    for po in sorted((PROJECT_ROOT / "web/locale/en/LC_MESSAGES").glob("*.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle, locale="en")
        for message in catalog:
            if message.id and message.string:
                text = message.id if isinstance(message.id, str) else message.id[0]
                english = message.string if isinstance(message.string, str) else message.string[0]
                entries.append((po.stem, message.context, text, english))
    return entries


def test_every_interface_message_has_an_english_translation():
    translated = {(context, text) for _catalog, context, text, _english in _catalog_entries()}
    missing = []
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(PROJECT_ROOT), method_map=METHODS, keywords=KEYWORDS,
            options_map={"web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        text = message if isinstance(message, str) else message[0]
        if text and (context, text) not in translated:
            missing.append(f"{filename}:{lineno}: {text!r}" + (f" (context {context!r})" if context else ""))
    assert not missing, "untranslated (run `make i18n`, then translate in web/locale/en/LC_MESSAGES/*.po):\n" + "\n".join(missing)


def test_no_two_catalogs_translate_one_message_differently():
    """The area catalogs are merged into one, so the last would win: a word whose English depends
    on where it stands needs a context (``pgettext("verb", "Tham dự")``), not a second entry."""
    seen: dict[tuple[str | None, str], dict[str, list[str]]] = {}
    for catalog, context, text, english in _catalog_entries():
        seen.setdefault((context, text), {}).setdefault(english, []).append(catalog)
    conflicts = {key: found for key, found in seen.items() if len(found) > 1}
    assert not conflicts, "\n".join(f"{text!r} (context {context!r}): {found}" for (context, text), found in conflicts.items())


def test_a_context_chooses_the_english_of_a_word():
    from web import i18n

    i18n.use_locale("en")
    try:
        assert i18n.pgettext("verb", "Tham dự") == "Attend"
        assert i18n.gettext("Tham dự") == "Attending"
        assert i18n.pgettext("verb", "Điểm danh") == "Check in" and i18n.gettext("Điểm danh") == "Roll-call"
    finally:
        i18n.use_locale("vi")
    assert i18n.pgettext("verb", "Tham dự") == "Tham dự"


def test_dates_in_the_conference_time_zone():
    import datetime as dt

    from web.i18n import local_date, local_datetime

    moment = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone.utc)
    assert local_datetime(moment, "Asia/Ho_Chi_Minh") == "29/03/2026 08:30"
    assert local_datetime(moment, "Europe/Berlin") == "29/03/2026 03:30"  # daylight saving began at 01:00 UTC
    assert local_date(moment.isoformat(), "Asia/Ho_Chi_Minh") == "29/03/2026"
    assert local_datetime(None) == ""


def _calls(*names: str):
    """(file, call) for every call of one of ``names`` in core/, web/ and plugins/."""
    import ast

    for folder in ("core", "web", "plugins"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
                    if name in names:
                        yield path.relative_to(PROJECT_ROOT), node


def test_an_error_message_is_a_template_not_a_formatted_string():
    """An f-string or a concatenation cannot be looked up in a catalog: the message is a template
    with named parameters (``ValidationError("… {limit} MB.", limit=...)``, core/errors.py)."""
    import ast

    formatted = [f"{path}:{call.lineno}" for path, call in _calls(*ERROR_CLASSES[:-2])
                 if call.args and isinstance(call.args[0], (ast.JoinedStr, ast.BinOp))
                 or any(isinstance(value, ast.JoinedStr) for keyword in call.keywords if keyword.arg == "fields"
                        and isinstance(keyword.value, ast.Dict) for value in keyword.value.values)]
    assert not formatted, "\n".join(formatted)


def test_what_a_refusal_names_is_a_label():
    """``require(..., what=...)`` puts ``what`` into "Không tìm thấy {what}.": a word of the
    interface, so it is a Label that the catalog translates, never a bare string."""
    import ast

    bare = [f"{path}:{call.lineno}" for path, call in _calls("require", "require_any")
            for keyword in call.keywords if keyword.arg == "what" and isinstance(keyword.value, ast.Constant)]
    assert not bare, "\n".join(bare)


def test_phone_numbers_are_shown_as_people_here_write_them():
    from web.i18n import local_phone

    assert local_phone("+84912345678") == "0912 345 678"
    assert local_phone("+842223812345") == "0222 3812 345"  # a Bắc Ninh landline
    assert local_phone("+14155550100") == "+1 415-555-0100"  # abroad: the international form
    assert local_phone("không rõ") == "không rõ" and local_phone(None) == local_phone("") == ""
