"""Staff users and their roles on units."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core import clock
from core.access import ROLES, Actor, require
from core.db import transaction
from core.errors import Conflict, Forbidden, Label, NotFound, ValidationError
from core.limits import fit
from core.services import audit
from core.services.units import get_unit
from core.tables import RoleAssignment, StaffUser
from core.text import clean

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,149}$")
MIN_PASSWORD_LENGTH = 10
# argon2id with the library's RFC 9106 low-memory profile (64 MiB, 3 passes): safe on a small server
_HASHER = PasswordHasher()
_TIMING_EQUALISER = _HASHER.hash("timing-equaliser")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _verify_legacy_scrypt(password: str, stored: str) -> bool:
    """Hashes written before argon2 (``scrypt$n$salt$digest``); rehashed at the next sign-in."""
    try:
        _, n, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=8, p=1)
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def verify_password(password: str, stored: str) -> bool:
    if stored.startswith("scrypt$"):
        return _verify_legacy_scrypt(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return stored.startswith("scrypt$") or _HASHER.check_needs_rehash(stored)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


async def create_user(
    actor: Actor, *, username: str, password: str, full_name: str = "", email: str | None = None
) -> dict:
    username = clean(username).lower()
    if not _USERNAME.match(username):
        raise ValidationError(
            "Tên đăng nhập gồm 3–150 ký tự: chữ thường không dấu, số, dấu chấm, gạch dưới, gạch ngang.", field="username"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("Mật khẩu phải có ít nhất {min_password_length} ký tự.", field="password",
                              min_password_length=MIN_PASSWORD_LENGTH)
    if not actor.system and not actor.paths_with("admin"):
        raise Forbidden("Chỉ quản trị viên mới tạo được tài khoản cán bộ.")
    full_name = fit(clean(full_name), StaffUser.full_name, field="full_name")
    email = fit(clean(email) or None, StaffUser.email, field="email")
    async with transaction():
        if await StaffUser.exists().where(StaffUser.username == username):
            raise Conflict("Tên đăng nhập {username!r} đã tồn tại.", field="username", username=username)
        row = (
            await StaffUser.insert(
                StaffUser(
                    username=username,
                    full_name=full_name,
                    email=email,
                    password_hash=hash_password(password),
                    created_at=clock.now(),
                )
            ).returning(StaffUser.id)
        )[0]
        await audit.record(actor, "user.create", object_type="staff_user", object_id=row["id"], unit_id=None, username=username)
    return await StaffUser.select(StaffUser.id, StaffUser.username, StaffUser.full_name).where(StaffUser.id == row["id"]).first()


async def _check_role_change(actor: Actor, *, user_id: int, unit_id: int, role: str) -> None:
    """A known role, an admin of the unit, an existing user."""
    if role not in ROLES:
        raise ValidationError("Vai trò không hợp lệ: {role!r}. Chọn một trong: {choices}.", field="role", role=role,
                              choices=ROLES)
    unit = await get_unit(unit_id)
    require(actor, "admin", unit["path"], what=Label("đơn vị"))
    if not await StaffUser.exists().where(StaffUser.id == user_id):
        raise NotFound("Không tìm thấy người dùng.")


async def grant_role(actor: Actor, *, user_id: int, unit_id: int, role: str) -> None:
    """Give ``role`` on ``unit_id`` (and its subtree). Needs admin on that unit."""
    await _check_role_change(actor, user_id=user_id, unit_id=unit_id, role=role)
    async with transaction():
        if await RoleAssignment.exists().where(
            (RoleAssignment.user == user_id) & (RoleAssignment.unit == unit_id) & (RoleAssignment.role == role)
        ):
            return
        await RoleAssignment.insert(RoleAssignment(user=user_id, unit=unit_id, role=role))
        await audit.record(actor, "role.grant", object_type="staff_user", object_id=user_id, unit_id=unit_id, role=role)


async def revoke_role(actor: Actor, *, user_id: int, unit_id: int, role: str) -> None:
    """Take ``role`` on ``unit_id`` away (idempotent). Needs admin on that unit."""
    await _check_role_change(actor, user_id=user_id, unit_id=unit_id, role=role)
    async with transaction():
        await RoleAssignment.delete().where(
            (RoleAssignment.user == user_id) & (RoleAssignment.unit == unit_id) & (RoleAssignment.role == role)
        )
        await audit.record(actor, "role.revoke", object_type="staff_user", object_id=user_id, unit_id=unit_id, role=role)


async def authenticate(username: str, password: str) -> dict | None:
    """The active user with these credentials, or None (same cost whether the user exists or not)."""
    user = await StaffUser.select().where(StaffUser.username == clean(username).lower()).first()
    if user is None or not user["active"]:
        verify_password(password, _TIMING_EQUALISER)
        return None
    if not verify_password(password, user["password_hash"]):
        return None
    if needs_rehash(user["password_hash"]):
        await StaffUser.update({StaffUser.password_hash: hash_password(password)}).where(StaffUser.id == user["id"])
    return user


async def reset_password(actor: Actor, *, username: str, new_password: str | None = None) -> str:
    """Set a new password (random unless given) and log the user out everywhere; returns it."""
    if not actor.system:
        raise NotFound("Không tìm thấy trang này.")
    password = new_password or generate_password()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("Mật khẩu phải có ít nhất {min_password_length} ký tự.", field="password",
                              min_password_length=MIN_PASSWORD_LENGTH)
    user = await StaffUser.select(StaffUser.id).where(StaffUser.username == clean(username).lower()).first()
    if user is None:
        raise NotFound("Không có người dùng {username!r}.", username=username)
    async with transaction():
        await StaffUser.update(
            {StaffUser.password_hash: hash_password(password), StaffUser.session_generation: StaffUser.session_generation + 1}
        ).where(StaffUser.id == user["id"])
        await audit.record(actor, "user.password_reset", object_type="staff_user", object_id=user["id"], unit_id=None)
    return password


async def list_staff(actor: Actor, *, unit_id: int) -> list[dict]:
    """Staff users holding a role in the unit's subtree, each with those roles (unit and role),
    by username. Needs 'read' on the unit."""
    unit = await get_unit(unit_id)
    require(actor, "read", unit["path"], what=Label("đơn vị"))
    rows = await RoleAssignment.select(
        RoleAssignment.user, RoleAssignment.role, RoleAssignment.unit.as_alias("unit_id"),
        RoleAssignment.unit.name.as_alias("unit_name"), RoleAssignment.unit.path.as_alias("unit_path"),
    ).where(RoleAssignment.unit.path.like(f"{unit['path']}%")).order_by(RoleAssignment.unit.path)
    if not rows:
        return []
    people = await StaffUser.select(StaffUser.id, StaffUser.username, StaffUser.full_name, StaffUser.active).where(
        StaffUser.id.is_in(sorted({row["user"] for row in rows}))).order_by(StaffUser.username)
    roles: dict[int, list[dict]] = {}
    for row in rows:
        roles.setdefault(row["user"], []).append(
            {"unit_id": row["unit_id"], "unit_name": row["unit_name"], "unit_path": row["unit_path"], "role": row["role"]})
    return [{**person, "roles": roles[person["id"]]} for person in people]


async def _visible_user(actor: Actor, user_id: int) -> list[dict]:
    """The user's roles (unit and path); NotFound unless the actor sees one of their units."""
    if not await StaffUser.exists().where(StaffUser.id == user_id):
        raise NotFound("Không tìm thấy người dùng.")
    roles = await RoleAssignment.select(
        RoleAssignment.role, RoleAssignment.unit.as_alias("unit_id"), RoleAssignment.unit.name.as_alias("unit_name"),
        RoleAssignment.unit.path.as_alias("unit_path"),
    ).where(RoleAssignment.user == user_id).order_by(RoleAssignment.unit.path)
    if not actor.system and actor.user_id != user_id and not any(actor.sees(role["unit_path"]) for role in roles):
        raise NotFound("Không tìm thấy người dùng.")
    return roles


async def get_staff_user(actor: Actor, user_id: int) -> dict:
    """A staff user with the roles the actor may see (its own units' subtrees)."""
    roles = await _visible_user(actor, user_id)
    user = await StaffUser.select(StaffUser.id, StaffUser.username, StaffUser.full_name, StaffUser.email, StaffUser.active,
                                  StaffUser.created_at).where(StaffUser.id == user_id).first()
    visible = [role for role in roles if actor.system or actor.user_id == user_id or actor.sees(role["unit_path"])]
    return {**user, "roles": visible}


async def venue_grants(actor: Actor, *, user_id: int) -> list[dict]:
    """The venues that reach the user through a role on the venue's hosting unit, in conferences
    of units outside that role's subtree (a higher unit's conference held at the user's unit):
    the reach ``core.access.conference_scope`` gives, made visible. Upcoming and recent first."""
    from core.tables import Venue

    roles = await _visible_user(actor, user_id)
    if not roles:
        return []
    condition = None
    for role in roles:
        clause = Venue.host_unit.path.like(f"{role['unit_path']}%")
        condition = clause if condition is None else condition | clause
    venues = await Venue.select(
        Venue.id, Venue.name, Venue.host_unit.as_alias("host_unit_id"), Venue.host_unit.name.as_alias("host_unit_name"),
        Venue.host_unit.path.as_alias("host_path"), Venue.conference.as_alias("conference_id"),
        Venue.conference.title.as_alias("conference_title"), Venue.conference.starts_at.as_alias("starts_at"),
        Venue.conference.timezone.as_alias("timezone"), Venue.conference.status.as_alias("conference_status"),
        Venue.conference.unit.path.as_alias("conference_path"), Venue.conference.unit.name.as_alias("conference_unit_name"),
    ).where(condition & Venue.conference.status.is_in(["draft", "published", "ended"])).order_by(
        Venue.conference.starts_at, ascending=False).limit(200)
    grants = []
    for venue in venues:
        through = [role for role in roles if venue["host_path"].startswith(role["unit_path"])
                   and not venue["conference_path"].startswith(role["unit_path"])]
        if through:
            grants.append({**{k: v for k, v in venue.items() if k not in ("host_path", "conference_path")},
                           "roles": sorted({role["role"] for role in through})})
    return grants


async def grant_role_by_username(actor: Actor, *, username: str, unit_id: int, role: str) -> dict:
    """Give an existing user (named by username) ``role`` on ``unit_id`` (admin of the unit);
    returns the user's id and username."""
    unit = await get_unit(unit_id)
    require(actor, "admin", unit["path"], what=Label("đơn vị"))
    user = await StaffUser.select(StaffUser.id, StaffUser.username).where(StaffUser.username == clean(username).lower()).first()
    if user is None:
        raise ValidationError("Không có người dùng tên đăng nhập {username!r}.", field="username", username=clean(username))
    await grant_role(actor, user_id=user["id"], unit_id=unit_id, role=role)
    return user


async def create_staff_member(
    actor: Actor, *, username: str, password: str, full_name: str = "", email: str | None = None, unit_id: int, role: str
) -> dict:
    """A new staff user with a first role on a unit, in one transaction (admin of the unit), so
    no user is left without a role that nobody can see."""
    if role not in ROLES:
        raise ValidationError("Vai trò không hợp lệ: {role!r}. Chọn một trong: {choices}.", field="role", role=role,
                              choices=ROLES)
    unit = await get_unit(unit_id)
    require(actor, "admin", unit["path"], what=Label("đơn vị"))
    async with transaction():
        user = await create_user(actor, username=username, password=password, full_name=full_name, email=email)
        await grant_role(actor, user_id=user["id"], unit_id=unit_id, role=role)
    return user


async def log_out_everywhere(actor: Actor, *, user_id: int) -> None:
    """End every session of a user (bumps the session generation). Allowed for oneself, or for an
    admin of every unit where the user holds a role."""
    user = await StaffUser.select(StaffUser.id).where(StaffUser.id == user_id).first()
    if user is None:
        raise NotFound("Không tìm thấy người dùng.")
    if actor.user_id != user_id and not actor.system:
        paths = [row["path"] for row in await RoleAssignment.select(RoleAssignment.unit.path.as_alias("path")).where(
            RoleAssignment.user == user_id)]
        if not paths or not any(actor.sees(path) for path in paths):
            raise NotFound("Không tìm thấy người dùng.")
        for path in paths:
            require(actor, "admin", path, what=Label("người dùng này"))
    async with transaction():
        await StaffUser.update({StaffUser.session_generation: StaffUser.session_generation + 1}).where(StaffUser.id == user_id)
        await audit.record(actor, "user.logout_everywhere", object_type="staff_user", object_id=user_id, unit_id=None)
