"""Shared set-up of the ical tests: the plugin switched on, people with e-mail addresses, both
parsers, and the hook called as the notification service calls it."""

from __future__ import annotations

import inspect

import icalendar
import vobject

from core.plugins import build_plugin_host
from core.services import people
from tests.core.flows import make_conference
from tests.factories import SYSTEM


def plugin_host(tmp_path):
    """The installed plugins (ical among them), with a plugins.toml of our own."""
    toml = tmp_path / "plugins.toml"
    toml.write_text('[plugins.ical]\ndefault = "off"\n')
    return build_plugin_host(plugins_toml=toml)


async def switch(host, unit: dict, state: str) -> None:
    await host.set_state(SYSTEM, unit["id"], "ical", state)


async def make_invitees(unit: dict, count: int, *, prefix: str = "Người") -> list[dict]:
    return [await people.create_person(SYSTEM, unit_id=unit["id"], full_name=f"{prefix} {index}", email=f"nguoi{index}@example.vn",
                                       categories=["briefer"]) for index in range(count)]


async def published_conference(tree: dict, **extra) -> dict:
    from core.services import conferences

    conference = await make_conference(tree, **extra)
    session = await conferences.add_session(SYSTEM, conference["id"], title="Thông tin thời sự", topic="Kinh tế",
                                            starts_at=conference["starts_at"], ends_at=conference["ends_at"])
    await conferences.add_speaker(SYSTEM, conference["id"], session_id=session["id"], name="Trần Văn Báo",
                                  position_title="Phó Trưởng ban Tuyên giáo", organisation="Tỉnh ủy")
    return await conferences.publish_conference(SYSTEM, conference["id"])


async def attachments(host, unit_path: str, message: dict) -> list[dict]:
    """The hook as core/notifications.py ``_send`` calls it, awaiting what it returns."""
    hooks = await host.hooks_for_path(unit_path)
    found = []
    for result in hooks.message_attachments(message=message):
        if inspect.isawaitable(result):
            result = await result
        found.extend(result or [])
    return found


def parse(data: bytes) -> icalendar.Calendar:
    """Parse with icalendar AND with vobject (an independent parser); both must accept it."""
    calendar = icalendar.Calendar.from_ical(data)
    independent = vobject.readOne(data.decode())
    assert independent.name == "VCALENDAR"
    assert len(getattr(independent, "vevent_list", [])) == len(calendar.walk("VEVENT"))
    return calendar


def events(calendar: icalendar.Calendar) -> list:
    return calendar.walk("VEVENT")
