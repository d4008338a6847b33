"""/api/v1/units: the tree the user can see, create, move."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, post

from core.access import Actor
from core.services import units


class UnitCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    short_code: str
    kind: str
    parent_id: int
    timezone: str | None = None


class UnitMove(msgspec.Struct, forbid_unknown_fields=True):
    new_parent_id: int


class UnitsController(Controller):
    path = "/api/v1/units"
    opt = {"access": "staff"}

    @get("/")
    async def roots(self, actor: Actor) -> list[dict]:
        """The topmost units the user has a role on."""
        return await units.visible_roots(actor)

    @get("/{unit_id:int}/tree")
    async def tree(self, actor: Actor, unit_id: int) -> list[dict]:
        """A unit and everything below it, in tree order."""
        return await units.subtree(actor, unit_id)

    @post("/")
    async def create(self, actor: Actor, data: UnitCreate) -> dict:
        return await units.create_unit(actor, **msgspec.structs.asdict(data))

    @post("/{unit_id:int}/move", status_code=200)
    async def move(self, actor: Actor, unit_id: int, data: UnitMove) -> dict:
        return await units.move_unit(actor, unit_id, new_parent_id=data.new_parent_id)
