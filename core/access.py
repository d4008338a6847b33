"""Who may do what: roles on unit subtrees, venue grants, and the two kinds of refusal.

A role on a unit applies to the unit's whole subtree. "Not visible" (NotFound: the actor may
not even learn the object exists) and "visible but not allowed" (Forbidden) are distinct.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Iterable

from core.errors import Forbidden, Label, NotFound
from core.reads import read_once

ROLES = ("admin", "organiser", "checkin_staff", "viewer")
ROLE_LABELS = {"admin": Label("Quản trị", "role"), "organiser": Label("Tổ chức", "role"), "checkin_staff": Label("Điểm danh", "role"),
               "viewer": Label("Xem", "role")}

# permission -> roles granting it
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "checkin": frozenset({"admin", "organiser", "checkin_staff"}),
    "manage": frozenset({"admin", "organiser"}),
    "admin": frozenset({"admin"}),
}
PERMISSION_LABELS = {
    "read": Label("xem", "permission"),
    "checkin": Label("điểm danh", "permission"),
    "manage": Label("quản lý", "permission"),
    "admin": Label("quản trị", "permission"),
}


@dataclasses.dataclass(frozen=True)
class Grant:
    role: str
    unit_id: int
    unit_path: str  # materialised path of the unit, e.g. "/1/5/"


@dataclasses.dataclass(frozen=True)
class Actor:
    """The acting user as services see it. ``system`` is the CLI, jobs and the worker."""

    user_id: int | None
    label: str
    grants: tuple[Grant, ...] = ()
    system: bool = False

    @classmethod
    def system_actor(cls, label: str = "hệ thống") -> "Actor":
        return cls(user_id=None, label=label, system=True)

    def paths_with(self, permission: str) -> list[str]:
        """Subtree prefixes where the actor holds ``permission`` (empty for system: see ``system``)."""
        roles = PERMISSIONS[permission]
        return sorted({grant.unit_path for grant in self.grants if grant.role in roles})

    def has(self, permission: str, unit_path: str) -> bool:
        if self.system:
            return True
        return any(unit_path.startswith(prefix) for prefix in self.paths_with(permission))

    def sees(self, unit_path: str) -> bool:
        return self.has("read", unit_path)


def require(actor: Actor, permission: str, unit_path: str, *, what: str = Label("đối tượng này")) -> None:
    """Raise NotFound when the actor cannot see the unit's data, Forbidden when it can but may not act."""
    if actor.has(permission, unit_path):
        return
    if not actor.sees(unit_path):
        raise NotFound("Không tìm thấy {what}.", what=Label(what))
    raise Forbidden("Bạn không có quyền {action} {what}.", action=PERMISSION_LABELS[permission], what=Label(what))


def require_any(actor: Actor, permission: str, unit_paths: Iterable[str], *, what: str = Label("đối tượng này")) -> None:
    """Like :func:`require`, satisfied by any of several units (a conference and its venues' hosts)."""
    paths = list(unit_paths)
    if any(actor.has(permission, path) for path in paths):
        return
    if not any(actor.sees(path) for path in paths):
        raise NotFound("Không tìm thấy {what}.", what=Label(what))
    raise Forbidden("Bạn không có quyền {action} {what}.", action=PERMISSION_LABELS[permission], what=Label(what))


async def load_actor(user_id: int) -> Actor:
    """The actor for a staff user, with their roles and the paths of the units they hold them on."""
    found = await load_staff_actor(user_id)
    if found is None:
        raise NotFound("Không tìm thấy người dùng.")
    return found[0]


async def load_staff_actor(user_id: int) -> tuple[Actor, int] | None:
    """The actor of an active staff user and their session generation, read fresh in one statement
    (the user's roles joined to the user and the units; a second one only for a user holding no
    role); None for an unknown or deactivated user. Every signed-in request calls this, so a
    revoked role or "log out everywhere" takes effect on the very next request."""
    from core.tables import RoleAssignment, StaffUser

    rows = await RoleAssignment.raw(_STAFF_ACTOR_SQL, user_id)
    user = rows[0] if rows else await StaffUser.select(
        StaffUser.username, StaffUser.full_name, StaffUser.active, StaffUser.session_generation).where(StaffUser.id == user_id).first()
    if user is None or not user["active"]:
        return None
    grants = tuple(Grant(role=row["role"], unit_id=row["unit_id"], unit_path=row["unit_path"]) for row in rows)
    return Actor(user_id=user_id, label=user["full_name"] or user["username"], grants=grants), user["session_generation"]


# load_staff_actor's statement written out: every signed-in request runs it, and Piccolo's
# builder took 0.35 ms of CPU to build it, four times what running it costs (both databases).
_STAFF_ACTOR_SQL = (
    'SELECT ra.role AS role, u.id AS unit_id, u.path AS unit_path, su.username AS username, su.full_name AS full_name, '
    'su.active AS active, su.session_generation AS session_generation '
    'FROM role_assignment ra JOIN unit u ON u.id = ra.unit JOIN staff_user su ON su.id = ra."user" WHERE ra."user" = {}'
)


@functools.cache
def _conference_columns() -> tuple:
    """The conference's columns and its unit's path, joined once per process (Piccolo copies a
    column for every join it is reached through, which costs more than the statement itself)."""
    from core.tables import Conference

    return (*Conference.all_columns(), Conference.unit.path.as_alias("unit_path"))


@functools.cache
def _hosted_venue_columns() -> tuple:
    from core.tables import Venue

    return (Venue.id, Venue.host_unit.path.as_alias("host_path"))


@dataclasses.dataclass(frozen=True)
class ConferenceScope:
    """What an actor may reach of one conference.

    ``venue_ids`` is None when the actor holds the permission on the conference's own unit (the
    whole conference); otherwise the venues whose hosting unit grants it (a venue grant).
    """

    conference: dict
    unit_path: str
    venue_ids: frozenset[int] | None

    @property
    def whole(self) -> bool:
        return self.venue_ids is None

    def covers_venue(self, venue_id: int | None) -> bool:
        return self.venue_ids is None or (venue_id is not None and venue_id in self.venue_ids)


async def conference_scope(actor: Actor, conference_id: int, permission: str) -> ConferenceScope:
    """The actor's reach into a conference for ``permission``, through its unit or a venue grant.

    NotFound when the actor can see neither the conference's unit nor any venue's hosting unit;
    Forbidden when it can see it but lacks ``permission``.
    """
    from core.tables import Conference, Venue

    conference = await read_once(("conference", conference_id), lambda: Conference.select(*_conference_columns()).where(
        Conference.id == conference_id).first())
    if conference is None:
        raise NotFound("Không tìm thấy hội nghị.")
    unit_path = conference["unit_path"]
    if actor.has(permission, unit_path):
        return ConferenceScope(conference, unit_path, None)
    venues = await read_once(("hosted venues", conference_id), lambda: Venue.select(*_hosted_venue_columns()).where(
        (Venue.conference == conference_id) & Venue.host_unit.is_not_null()))
    granted = frozenset(v["id"] for v in venues if actor.has(permission, v["host_path"]))
    if granted:
        return ConferenceScope(conference, unit_path, granted)
    if actor.sees(unit_path) or any(actor.sees(v["host_path"]) for v in venues):
        raise Forbidden("Bạn không có quyền {action} hội nghị này.", action=PERMISSION_LABELS[permission])
    raise NotFound("Không tìm thấy hội nghị.")
