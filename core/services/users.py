"""Staff users and their roles on units."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from core import clock
from core.access import ROLES, Actor, require
from core.db import transaction
from core.errors import Conflict, NotFound, ValidationError
from core.services import audit
from core.services.units import get_unit
from core.tables import RoleAssignment, StaffUser
from core.text import clean

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,149}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=8, p=1)
    return hmac.compare_digest(candidate.hex(), digest)


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
        raise ValidationError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.", field="password")
    if not actor.system and not actor.paths_with("admin"):
        raise NotFound("Không tìm thấy trang này.")
    async with transaction():
        if await StaffUser.exists().where(StaffUser.username == username):
            raise Conflict(f"Tên đăng nhập {username!r} đã tồn tại.", field="username")
        row = (
            await StaffUser.insert(
                StaffUser(
                    username=username,
                    full_name=clean(full_name),
                    email=clean(email) or None,
                    password_hash=hash_password(password),
                    created_at=clock.now(),
                )
            ).returning(StaffUser.id)
        )[0]
        await audit.record(actor, "user.create", object_type="staff_user", object_id=row["id"], unit_id=None, username=username)
    return await StaffUser.select(StaffUser.id, StaffUser.username, StaffUser.full_name).where(StaffUser.id == row["id"]).first()


async def grant_role(actor: Actor, *, user_id: int, unit_id: int, role: str) -> None:
    """Give ``role`` on ``unit_id`` (and its subtree). Needs admin on that unit."""
    if role not in ROLES:
        raise ValidationError(f"Vai trò không hợp lệ: {role!r}. Chọn một trong: {', '.join(ROLES)}.", field="role")
    unit = await get_unit(unit_id)
    require(actor, "admin", unit["path"], what="đơn vị")
    if not await StaffUser.exists().where(StaffUser.id == user_id):
        raise NotFound("Không tìm thấy người dùng.")
    async with transaction():
        if await RoleAssignment.exists().where(
            (RoleAssignment.user == user_id) & (RoleAssignment.unit == unit_id) & (RoleAssignment.role == role)
        ):
            return
        await RoleAssignment.insert(RoleAssignment(user=user_id, unit=unit_id, role=role))
        await audit.record(actor, "role.grant", object_type="staff_user", object_id=user_id, unit_id=unit_id, role=role)


async def revoke_role(actor: Actor, *, user_id: int, unit_id: int, role: str) -> None:
    unit = await get_unit(unit_id)
    require(actor, "admin", unit["path"], what="đơn vị")
    async with transaction():
        await RoleAssignment.delete().where(
            (RoleAssignment.user == user_id) & (RoleAssignment.unit == unit_id) & (RoleAssignment.role == role)
        )
        await audit.record(actor, "role.revoke", object_type="staff_user", object_id=user_id, unit_id=unit_id, role=role)


async def authenticate(username: str, password: str) -> dict | None:
    """The active user with these credentials, or None (same cost whether the user exists or not)."""
    user = await StaffUser.select().where(StaffUser.username == clean(username).lower()).first()
    if user is None or not user["active"]:
        verify_password(password, hash_password("timing-equaliser"))
        return None
    return user if verify_password(password, user["password_hash"]) else None


async def reset_password(actor: Actor, *, username: str, new_password: str | None = None) -> str:
    """Set a new password (random unless given) and log the user out everywhere; returns it."""
    if not actor.system:
        raise NotFound("Không tìm thấy trang này.")
    password = new_password or generate_password()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.", field="password")
    user = await StaffUser.select(StaffUser.id).where(StaffUser.username == clean(username).lower()).first()
    if user is None:
        raise NotFound(f"Không có người dùng {username!r}.")
    async with transaction():
        await StaffUser.update(
            {StaffUser.password_hash: hash_password(password), StaffUser.session_generation: StaffUser.session_generation + 1}
        ).where(StaffUser.id == user["id"])
        await audit.record(actor, "user.password_reset", object_type="staff_user", object_id=user["id"], unit_id=None)
    return password
