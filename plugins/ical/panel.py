"""The attendee's "Thêm vào lịch" panel: subscription links, a QR code of the webcal link (inline
SVG from ``qrcode``), the conference's .ics download and the rotate button. Autoescaped Jinja2;
the only unescaped fragment is the SVG that ``qrcode`` generated from our own URL."""

from __future__ import annotations

import functools
from pathlib import Path

import qrcode
import qrcode.image.svg
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from plugins.ical import services

TEMPLATES = Path(__file__).parent / "templates"
TITLE = "Thêm vào lịch"
ROTATE_URL = "/me/ical/feed/rotate"


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def qr_svg(text: str) -> Markup:
    """An inline <svg> (no XML declaration) drawing ``text`` as a QR code."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return Markup(svg[svg.index("<svg"):])


async def render_panel(person_id: int, conference_id: int | None) -> str:
    links = await services.feed_links(person_id)
    download = f"/ical/conferences/{conference_id}/hoi-nghi.ics" if conference_id is not None else None
    return _environment().get_template("ical/panel.html").render(
        links=links, qr_svg=qr_svg(links["webcal"]) if links else "", download_url=download, rotate_url=ROTATE_URL)


async def attendee_panels(person: dict, conference: dict) -> list[dict]:
    return [{"title": TITLE, "html": await render_panel(person["id"], conference.get("id"))}]
