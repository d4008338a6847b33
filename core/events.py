"""Domain events: every state change that plugins may react to goes through :func:`emit`.

The row is written in the caller's transaction (the outbox), so an event exists exactly when
its change committed. Delivery to plugins is the worker's job (the plugin contract issue).
"""

from __future__ import annotations

from typing import Any

from core import clock
from core.tables import DomainEvent

EVENT_NAMES = frozenset(
    {
        "unit_created",
        "unit_moved",
        "person_created",
        "person_updated",
        "person_deactivated",
        "person_erased",
        "conference_created",
        "conference_updated",
        "conference_published",
        "conference_revised",  # significant revision: time, venue, link
        "conference_cancelled",
        "conference_ended",
        # one event per batch (publish, re-resolve, a single addition): person_ids when at most
        # 1,000, else None and handlers read the invitations
        "invitations_issued",
        "invitations_withdrawn",
        "rsvp_changed",
        "attendance_recorded",
        "material_added",
        "material_version_added",
        "series_created",
        "series_updated",
        "series_split",
        "occurrence_skipped",
    }
)


async def emit(name: str, *, unit_id: int | None, conference_id: int | None = None, **payload: Any) -> int:
    """Write one event row; call inside the transaction of the change it describes."""
    if name not in EVENT_NAMES:
        raise ValueError(f"unknown domain event {name!r}")
    row = await DomainEvent.insert(
        DomainEvent(name=name, unit_id=unit_id, conference_id=conference_id, payload=payload, created_at=clock.now())
    ).returning(DomainEvent.id)
    return row[0]["id"]
