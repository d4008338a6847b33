"""Test data factories: small functions over the services, with a fixed seed where random."""

from __future__ import annotations

import itertools

from core.access import Actor, Grant
from core.services import units, users

SYSTEM = Actor.system_actor("tests")
_codes = itertools.count(1)


async def make_unit(name: str = "Đơn vị", *, parent: dict | None = None, kind: str = "commune", code: str | None = None) -> dict:
    """A unit under ``parent``, or a new root when parent is None."""
    return await units.create_unit(
        SYSTEM,
        name=name,
        short_code=code or f"U{next(_codes)}",
        kind=kind if parent else "province",
        parent_id=parent["id"] if parent else None,
    )


async def make_tree() -> dict[str, dict]:
    """province > (district_a > commune_a1, commune_a2), (district_b > commune_b1)."""
    province = await make_unit("Tỉnh ủy Bắc Ninh", code="TU-BN")
    district_a = await make_unit("Huyện ủy Tiên Du", parent=province, kind="district", code="HU-TD")
    district_b = await make_unit("Huyện ủy Quế Võ", parent=province, kind="district", code="HU-QV")
    commune_a1 = await make_unit("Đảng ủy xã Phật Tích", parent=district_a, code="X-PT")
    commune_a2 = await make_unit("Đảng ủy xã Lạc Vệ", parent=district_a, code="X-LV")
    commune_b1 = await make_unit("Đảng ủy xã Bằng An", parent=district_b, code="X-BA")
    return {
        "province": province,
        "district_a": district_a,
        "district_b": district_b,
        "commune_a1": commune_a1,
        "commune_a2": commune_a2,
        "commune_b1": commune_b1,
    }


async def make_actor(role: str, unit: dict, *, username: str | None = None) -> Actor:
    """A real staff user holding ``role`` on ``unit``, loaded as services see it."""
    from core.access import load_actor

    user = await users.create_user(SYSTEM, username=username or f"user{next(_codes)}", password="mat-khau-dai-du")
    await users.grant_role(SYSTEM, user_id=user["id"], unit_id=unit["id"], role=role)
    return await load_actor(user["id"])


def actor_with(role: str, unit: dict) -> Actor:
    """An in-memory actor (no user row), for pure access tests."""
    return Actor(user_id=None, label=f"{role}@{unit['short_code']}", grants=(Grant(role, unit["id"], unit["path"]),))
