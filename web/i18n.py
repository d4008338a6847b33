"""Languages of the interface: Vietnamese by default, English available.

Source strings are Vietnamese (our users' language, and the language of the domain's terms);
``web/locale/en/LC_MESSAGES/*.po`` translate them to English (``messages.po`` and one catalog per
area or plugin). Catalogs are Babel .po files
read at start-up, so there is no build step. The language of a request: the person's choice
(kept in the session), then ``Accept-Language``, then Vietnamese.

Dates are shown ``dd/mm/yyyy HH:mm`` in the conference's own time zone, in both languages.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import io
import zoneinfo
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from core.errors import Phrase

LOCALES = {"vi": "Tiếng Việt", "en": "English"}
DEFAULT_LOCALE = "vi"
SESSION_LOCALE_KEY = "lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"

_current_locale: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default=DEFAULT_LOCALE)


def catalog_files(locale: str) -> list[Path]:
    """Every catalog of a language: ``messages.po`` and one file per area or plugin beside it
    (``web/locale/en/LC_MESSAGES/<area>.po``), so that parallel work never edits one file."""
    return sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po"))


@functools.cache
def translations(locale: str) -> NullTranslations:
    files = catalog_files(locale)
    if locale == DEFAULT_LOCALE or not files:
        return NullTranslations()
    merged: Translations | None = None
    for po in files:
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        part = Translations(fp=compiled)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged


def gettext(message: str) -> str:
    if isinstance(message, Phrase):  # a domain error's text, e.g. ``{{ _(error) }}`` in a template
        return message.render(gettext, pgettext)
    return translations(_current_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, number: int) -> str:
    return translations(_current_locale.get()).ngettext(singular, plural, number)


def pgettext(context: str, message: str) -> str:
    """For a Vietnamese word whose English depends on where it stands ("Tham dự": the button
    "Attend", the answer "Attending"): the catalogs hold one entry per (context, word)."""
    return translations(_current_locale.get()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, number: int) -> str:
    return translations(_current_locale.get()).npgettext(context, singular, plural, number)


@functools.lru_cache(maxsize=8192)  # a directory page shows 50 of them, each ~17 µs to format; searches repeat
def local_phone(phone: str | None) -> str:
    """A stored phone number (E.164, checked when it was saved: "+84912345678") as people here
    write it: "0912 345 678". Anything that does not parse is shown as it is."""
    import phonenumbers

    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone, "VN")
    except phonenumbers.NumberParseException:
        return phone
    if number.country_code == 84:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def current_locale() -> str:
    return _current_locale.get()


def use_locale(locale: str) -> None:
    _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


@functools.lru_cache(maxsize=512)  # a hall's phones send a handful of distinct headers, request after request
def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an ``Accept-Language`` header."""
    if not accept_language:
        return DEFAULT_LOCALE
    preferred = []
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            preferred.append((quality, tag.strip().replace("-", "_")))
    ordered = [tag for _, tag in sorted(preferred, key=lambda item: -item[0])]
    best = Locale.negotiate(ordered, list(LOCALES), sep="_")
    return best.language if best else DEFAULT_LOCALE


def speak_to(request) -> None:
    """The request's language: the session's choice, else the browser's, else Vietnamese."""
    session = request.scope.get("session")
    chosen = session.get(SESSION_LOCALE_KEY) if isinstance(session, dict) else None
    use_locale(chosen or negotiate(request.headers.get("accept-language")))


async def choose_locale(request) -> None:
    """A ``before_request`` hook (the exception handlers call :func:`speak_to` themselves: an
    unknown path or a refused guard never reaches ``before_request``)."""
    speak_to(request)


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or DEFAULT_TIMEZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)


def local_datetime(value: dt.datetime | str | None, timezone: str | None = None) -> str:
    """``dd/mm/yyyy HH:mm`` in the given zone (the conference's)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(_zone(timezone)).strftime("%d/%m/%Y %H:%M")


def local_date(value: dt.datetime | dt.date | str | None, timezone: str | None = None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        value = value.astimezone(_zone(timezone))
    return value.strftime("%d/%m/%Y")


def local_time(value: dt.datetime | str | None, timezone: str | None = None) -> str:
    return local_datetime(value, timezone)[-5:]


def error_messages(error) -> tuple[str, dict[str, str]]:
    """A domain error's message and per-field messages in the request's language: what every page
    and the API show of a refusal (``core.errors.DomainError.translated``)."""
    return error.translated(gettext, pgettext)
