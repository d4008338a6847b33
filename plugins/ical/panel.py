"""The attendee's "Thêm vào lịch" panel: subscription links, a QR code of the webcal link (inline
SVG from ``qrcode``), the conference's .ics download and the rotate button. Autoescaped Jinja2;
the only unescaped fragment is the SVG that ``qrcode`` generated from our own URL."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import qrcode
import qrcode.image.svg
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from plugins.ical import services

TEMPLATES = Path(__file__).parent / "templates"
ROTATE_URL = "/me/ical/feed/rotate"


def _(message: str) -> str:
    """``message`` in the language of the page being rendered. A plugin does not import the web
    package (``web -> core <- plugins``); the web app, when it runs in this process, has loaded
    its catalogs (web/locale, ours in ical.po) and knows the request's language, so its
    ``gettext`` is used; elsewhere (worker, CLI) the Vietnamese source stays."""
    web_i18n = sys.modules.get("web.i18n")
    return web_i18n.gettext(message) if web_i18n is not None else message


def _ngettext(singular: str, plural: str, number: int) -> str:
    web_i18n = sys.modules.get("web.i18n")
    return web_i18n.ngettext(singular, plural, number) if web_i18n is not None else (singular if number == 1 else plural)


def title() -> str:
    return _("Thêm vào lịch")


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                              extensions=["jinja2.ext.i18n"])
    environment.install_gettext_callables(_, _ngettext, newstyle=True)
    return environment


def qr_svg(text: str) -> Markup:
    """An inline <svg> (no XML declaration) drawing ``text`` as a QR code."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return Markup(svg[svg.index("<svg"):])


async def render_panel(person_id: int, conference_id: int | None, *, csrf_token: str = "") -> str:
    links = await services.feed_links(person_id)
    download = f"/ical/conferences/{conference_id}/hoi-nghi.ics" if conference_id is not None else None
    return _environment().get_template("ical/panel.html").render(
        links=links, qr_svg=qr_svg(links["webcal"]) if links else "", download_url=download, rotate_url=ROTATE_URL,
        csrf_token=csrf_token)


async def attendee_panels(person: dict, conference: dict) -> list[dict]:
    """The panel for the attendee's page (the page's htmx sends the CSRF header for the rotate
    button; a plain form post needs the page to add its own token)."""
    return [{"title": title(), "html": await render_panel(person["id"], conference.get("id"))}]
