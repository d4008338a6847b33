"""The audit log: who did what to which object, for every change and every sensitive read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core import clock
from core.access import Actor, require
from core.errors import Label
from core.tables import AuditEntry


async def record(
    actor: Actor,
    action: str,
    *,
    object_type: str,
    object_id: int | None,
    unit_id: int | None,
    **details: Any,
) -> None:
    """Append one entry; call inside the transaction of the change (or right after a read)."""
    await AuditEntry.insert(
        AuditEntry(
            at=clock.now(),
            actor_id=actor.user_id,
            actor_label=actor.label,
            action=action,
            object_type=object_type,
            object_id=object_id,
            unit_id=unit_id,
            details=details,
        )
    )


async def list_entries(
    actor: Actor,
    *,
    unit_path: str,
    object_type: str | None = None,
    object_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """Entries about units in a subtree the actor administers, newest first; ``action`` matches
    an action or, ending in ".", its family ("person." for every person action); ``until`` is
    exclusive."""
    from core.tables import Unit

    require(actor, "admin", unit_path, what=Label("nhật ký"))
    unit_ids = Unit.select(Unit.id).where(Unit.path.like(f"{unit_path}%"))
    query = AuditEntry.select().where(AuditEntry.unit_id.is_in(unit_ids)).order_by(AuditEntry.id, ascending=False)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if action:
        query = query.where(AuditEntry.action.like(f"{action}%") if action.endswith(".") else AuditEntry.action == action)
    return await query.limit(max(1, min(limit, 1000))).offset(max(0, offset)).output(load_json=True)  # details as a dict


async def actions_seen(actor: Actor, *, unit_path: str) -> list[str]:
    """The distinct actions recorded in the subtree (for a filter's choices)."""
    from core.tables import Unit

    require(actor, "admin", unit_path, what=Label("nhật ký"))
    rows = await AuditEntry.select(AuditEntry.action).distinct().where(
        AuditEntry.unit_id.is_in(Unit.select(Unit.id).where(Unit.path.like(f"{unit_path}%"))))
    return sorted(row["action"] for row in rows)
