"""Badges: the QR code (SVG or PNG at print size), the attendee's panel, and the printable A4
sheet of a conference or venue, built by a background job that reports its progress.

QR codes use level M and a fixed mask pattern: evaluating all eight masks is 6x slower and
only tunes a penalty score; every mask decodes the same (tested with zxing-cpp)."""

from __future__ import annotations

import functools
import html
import io
import itertools
import sys
from pathlib import Path

import qrcode
import qrcode.exceptions
from qrcode.constants import ERROR_CORRECT_M

from core import clock, jobs
from core.access import Actor, conference_scope
from core.config import get_settings
from core.db import transaction
from core.errors import NotFound
from core.tables import Conference, Invitation, Venue
from plugins.qr_checkin import services
from plugins.qr_checkin.settings import PLUGIN
from plugins.qr_checkin.tables import QrBadgeSheet


def _(message: str) -> str:
    """``message`` in the language of the page being rendered: the web app, when it runs in this
    process, has loaded the catalogs (ours in qr-checkin.po) and knows the request's language; a
    plugin does not import the web package (``web -> core <- plugins``), so it is looked up."""
    web_i18n = sys.modules.get("web.i18n")
    return web_i18n.gettext(message) if web_i18n is not None else message

JOB_KIND = "qr_checkin.badge_sheet"
BADGES_PER_PART = 1000  # one print file per 1,000 badges (125 A4 pages): browsers print it without choking
PROGRESS_EVERY = 200
QUIET_ZONE = 4  # modules of white border the QR standard asks for
PRINT_MM = 38  # printed side of a badge's QR code (with its quiet zone)


@functools.lru_cache(maxsize=32)
def _version_for(length: int) -> int:
    """The smallest QR version holding a text of this length at level M. Every credential has the
    same length, so the fit (a third of the QR's cost) is searched once, not once per badge."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=2)
    code.add_data("A" * length)  # the alphanumeric alphabet our texts use; other texts fit below
    code.make(fit=True)
    return code.version


def matrix(text: str) -> list[list[bool]]:
    code = qrcode.QRCode(version=_version_for(len(text)), error_correction=ERROR_CORRECT_M, border=0, mask_pattern=2)
    code.add_data(text)
    try:
        code.make(fit=False)
    except qrcode.exceptions.DataOverflowError:  # not alphanumeric: a larger version
        code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=2)
        code.add_data(text)
        code.make(fit=True)
    return code.modules


def svg(text: str, *, size_mm: float = PRINT_MM) -> str:
    """A compact SVG: one path of horizontal runs, quiet zone included, ``size_mm`` wide."""
    modules = matrix(text)
    total = len(modules) + 2 * QUIET_ZONE
    parts = []
    for y, row in enumerate(modules, start=QUIET_ZONE):
        x = QUIET_ZONE
        for dark, run in itertools.groupby(row):
            length = sum(1 for _ in run)
            if dark:
                parts.append(f"M{x} {y}h{length}v1h-{length}z")
            x += length
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total} {total}" width="{size_mm}mm" height="{size_mm}mm" '
            f'shape-rendering="crispEdges" role="img"><rect width="{total}" height="{total}" fill="#fff"/>'
            f'<path fill="#000" d="{"".join(parts)}"/></svg>')


def png(text: str, *, size_mm: float = PRINT_MM, dpi: int = 300) -> bytes:
    """A PNG at print size: ``size_mm`` at ``dpi`` (whole pixels per module)."""
    modules = matrix(text)
    total = len(modules) + 2 * QUIET_ZONE
    box = max(1, round(size_mm / 25.4 * dpi / total))
    from PIL import Image

    image = Image.new("1", (total, total), 1)
    pixels = image.load()
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                pixels[x + QUIET_ZONE, y + QUIET_ZONE] = 0
    image = image.resize((total * box, total * box), Image.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


# -- the attendee's panel ------------------------------------------------------------------------

def badge_html(*, credential: str, short_code: str, name: str, unit: str, conference_title: str, venue: str | None,
               translate=lambda s: s) -> str:
    _ = translate
    venue_line = f'<p class="qr-badge-venue">{html.escape(venue)}</p>' if venue else ""
    return (f'<figure class="qr-badge"><div class="qr-badge-code">{svg(credential)}</div><figcaption>'
            f'<p class="qr-badge-name">{html.escape(name)}</p><p class="qr-badge-unit">{html.escape(unit)}</p>'
            f'<p class="qr-badge-title">{html.escape(conference_title)}</p>{venue_line}'
            f'<p class="qr-badge-short">{html.escape(_("Mã ngắn"))}: <strong>{html.escape(short_code)}</strong></p>'
            f'</figcaption></figure>')


async def badge_for(person_id: int, conference_id: int) -> dict | None:
    """Everything the attendee's badge shows, or None when the person is not invited."""
    credential = await services.credential_for_person(conference_id, person_id)
    if credential is None or credential["credential"] is None:
        return None
    row = await Invitation.select(Invitation.person.full_name.as_alias("name"), Invitation.person.unit.name.as_alias("unit"),
                                  Invitation.conference.title.as_alias("title"), Invitation.venue.name.as_alias("venue")).where(
        Invitation.id == credential["invitation_id"]).first()
    return {**credential, **row}


async def _panels(person: dict, conference: dict) -> list[dict]:
    badge = await badge_for(person["id"], conference["id"])
    if badge is None:
        return []
    body = badge_html(credential=badge["credential"], short_code=badge["short_code"], name=badge["name"], unit=badge["unit"],
                      conference_title=badge["title"], venue=badge["venue"], translate=_)
    link = f'<p><a href="/me/qr_checkin/badges">{html.escape(_("Mở thẻ điểm danh (xem được khi mất mạng)"))}</a></p>'
    return [{"title": _("Thẻ điểm danh"), "html": body + link}]


def attendee_panels(person: dict, conference: dict):
    return _panels(person, conference)


def conference_panel(conference: dict) -> list[dict]:
    """Links for staff on the conference page: badge sheets and the scanner."""
    cid = int(conference["id"])
    return [{"title": _("Điểm danh bằng mã QR"),
             "html": f'<p><a href="/qr_checkin/conferences/{cid}/badges">{html.escape(_("In thẻ điểm danh"))}</a> · '
                     f'<a href="/qr_checkin/conferences/{cid}/devices">{html.escape(_("Máy quét"))}</a></p>'}]


# -- the A4 sheet, as a background job -----------------------------------------------------------

def sheet_dir() -> Path:
    path = get_settings().var_dir / "qr_checkin" / "sheets"
    path.mkdir(parents=True, exist_ok=True)
    return path


async def request_sheet(actor: Actor, *, conference_id: int, venue_id: int | None = None) -> dict:
    """Start building the sheet; returns its row (progress in ``done``/``total``)."""
    scope = await conference_scope(actor, conference_id, "checkin")
    if venue_id is not None:
        if not await Venue.exists().where((Venue.id == venue_id) & (Venue.conference == conference_id)):
            raise NotFound("Không tìm thấy điểm cầu.")
    if not scope.whole and (venue_id is None or not scope.covers_venue(venue_id)):
        raise NotFound("Không tìm thấy điểm cầu.")
    async with transaction():
        row = (await QrBadgeSheet.insert(QrBadgeSheet(conference=conference_id, venue=venue_id, created_by=actor.user_id,
                                                       created_at=clock.now())).returning(*QrBadgeSheet.all_columns()))[0]
        await jobs.schedule(JOB_KIND, run_at=clock.now(), plugin=PLUGIN, unit_id=scope.conference["unit"], conference_id=conference_id,
                            payload={"sheet_id": row["id"]})
    return row


async def sheet_status(actor: Actor, *, conference_id: int, sheet_id: int) -> dict:
    scope = await conference_scope(actor, conference_id, "checkin")
    row = await QrBadgeSheet.select().where((QrBadgeSheet.id == sheet_id) & (QrBadgeSheet.conference == conference_id)).first()
    if row is None or not (scope.whole or scope.covers_venue(row["venue"])):
        raise NotFound("Không tìm thấy bản in.")
    return {**row, "parts": _parts(row)}


def _parts(row: dict) -> int:
    return max(1, -(-row["total"] // BADGES_PER_PART)) if row["status"] == "done" else 0


def part_path(sheet_id: int, part: int) -> Path:
    return sheet_dir() / f"sheet-{sheet_id}-{part}.html"


SHEET_STYLE = (
    "@page{size:A4;margin:8mm}body{margin:0;font-family:sans-serif}"
    ".sheet{display:grid;grid-template-columns:repeat(2,97mm);grid-auto-rows:68mm;gap:0}"
    ".qr-badge{box-sizing:border-box;margin:0;padding:4mm;border:0.2mm dashed #999;display:flex;gap:3mm;align-items:center;"
    "break-inside:avoid}.qr-badge p{margin:0 0 1.5mm}.qr-badge-name{font-weight:bold;font-size:13pt}"
    ".qr-badge-unit,.qr-badge-title,.qr-badge-venue{font-size:9pt}.qr-badge-short strong{font-family:monospace;font-size:12pt;"
    "letter-spacing:0.5mm}"
)


async def build_sheet(sheet_id: int) -> dict:
    """Build every part of a sheet, writing progress as it goes; safe to run again."""
    row = await QrBadgeSheet.select().where(QrBadgeSheet.id == sheet_id).first()
    if row is None:
        return {}
    conference = await Conference.select(Conference.title).where(Conference.id == row["conference"]).first()
    credentials = await services.credentials_for(row["conference"], venue_id=row["venue"])
    people = {r["id"]: r for r in await Invitation.select(
        Invitation.id, Invitation.person.full_name.as_alias("name"), Invitation.person.unit.name.as_alias("unit"),
        Invitation.person.sort_key.as_alias("sort_key"), Invitation.venue.name.as_alias("venue")).where(
        Invitation.conference == row["conference"])}
    items = sorted((c for c in credentials if not c["revoked"]), key=lambda c: people[c["invitation_id"]]["sort_key"] or "")
    await QrBadgeSheet.update({QrBadgeSheet.status: "running", QrBadgeSheet.total: len(items), QrBadgeSheet.done: 0}).where(
        QrBadgeSheet.id == sheet_id)
    title = html.escape(conference["title"] if conference else "")
    for part_start in range(0, max(len(items), 1), BADGES_PER_PART):
        chunk = items[part_start:part_start + BADGES_PER_PART]
        out = [f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>'
               f'<style>{SHEET_STYLE}</style></head><body><div class="sheet">']
        for index, item in enumerate(chunk, start=1):
            person = people[item["invitation_id"]]
            out.append(badge_html(credential=item["credential"], short_code=item["short_code"], name=person["name"],
                                  unit=person["unit"], conference_title=conference["title"], venue=person["venue"]))
            if index % PROGRESS_EVERY == 0:
                await QrBadgeSheet.update({QrBadgeSheet.done: part_start + index}).where(QrBadgeSheet.id == sheet_id)
        out.append("</div></body></html>")
        part_path(sheet_id, part_start // BADGES_PER_PART + 1).write_text("".join(out), encoding="utf-8")
    await QrBadgeSheet.update({QrBadgeSheet.status: "done", QrBadgeSheet.done: len(items), QrBadgeSheet.finished_at: clock.now()}).where(
        QrBadgeSheet.id == sheet_id)
    return await QrBadgeSheet.select().where(QrBadgeSheet.id == sheet_id).first()


async def build_sheet_job(job: dict) -> None:
    await build_sheet(int(job["payload"]["sheet_id"]))


__all__ = ["svg", "png", "matrix", "badge_html", "badge_for", "request_sheet", "sheet_status", "build_sheet"]
