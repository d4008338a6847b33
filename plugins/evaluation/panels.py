"""Panels the plugin adds to other pages: the attendee's page (open forms to answer) and the
venue screen (a QR code leading to the form). Autoescaped Jinja2; the only unescaped fragment is
the SVG that ``qrcode`` drew from our own URL."""

from __future__ import annotations

import functools
from pathlib import Path

import qrcode
import qrcode.image.svg
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from plugins.evaluation import services
from plugins.evaluation.i18n import _

TEMPLATES = Path(__file__).parent / "templates"


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                              extensions=["jinja2.ext.i18n"])
    environment.install_gettext_callables(_, lambda singular, plural, n: _(singular if n == 1 else plural), newstyle=True)
    return environment


def qr_svg(text: str) -> Markup:
    """An inline <svg> (no XML declaration) drawing ``text`` as a QR code."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return Markup(svg[svg.index("<svg"):])


async def attendee_panels(person: dict, conference: dict) -> list[dict]:
    forms = await services.forms_for_person(person["id"], conference_ids=[conference["id"]])
    if not forms:
        return []
    html = _environment().get_template("evaluation/panel.html").render(forms=forms)
    return [{"title": _("Phiếu đánh giá"), "html": html}]


def venue_screen_panels(conference: dict, venue: dict) -> list[dict]:
    """Synchronous (the venue screen calls it without awaiting): the QR leads to the person's open
    forms of this conference, which says so when none is open yet."""
    url = services.conference_form_url(conference["id"])
    html = _environment().get_template("evaluation/venue_qr.html").render(qr_svg=qr_svg(url), url=url)
    return [{"title": _("Đánh giá hội nghị"), "html": html}]
