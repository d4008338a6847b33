"""/api/v1/people: search in Vietnamese, create, edit, deactivate."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, patch, post

from core.access import Actor
from core.services import people
from web.api.docs import given_fields


class PersonCreate(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: int
    full_name: str
    phone: str | None = None
    email: str | None = None
    categories: list[str] = []
    briefer_level: str | None = None
    position: str | None = None
    is_head: bool = False
    allow_shared_phone: bool = False


class PersonUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    full_name: str | msgspec.UnsetType = msgspec.UNSET
    phone: str | None | msgspec.UnsetType = msgspec.UNSET
    email: str | None | msgspec.UnsetType = msgspec.UNSET
    categories: list[str] | msgspec.UnsetType = msgspec.UNSET
    briefer_level: str | None | msgspec.UnsetType = msgspec.UNSET
    position: str | None | msgspec.UnsetType = msgspec.UNSET
    is_head: bool | msgspec.UnsetType = msgspec.UNSET
    unit_id: int | msgspec.UnsetType = msgspec.UNSET
    allow_shared_phone: bool = False


class PeopleController(Controller):
    path = "/api/v1/people"
    opt = {"access": "staff"}

    @get("/")
    async def search(self, actor: Actor, unit_id: int, q: str = "", category: list[str] | None = None, active: bool = True,
                     limit: int = 50, offset: int = 0) -> dict:
        """Word-prefix search without diacritics ("nguyen van a"), in Vietnamese order. ``total``
        counts the matches up to 100 past this page; ``total_exact`` is false when there are at
        least that many (narrow the search, or page on)."""
        return await people.search_page(actor, unit_id=unit_id, query=q, categories=category, active=active, limit=limit,
                                        offset=offset)

    @get("/{person_id:int}")
    async def detail(self, actor: Actor, person_id: int) -> dict:
        return await people.get_person(actor, person_id)

    @post("/")
    async def create(self, actor: Actor, data: PersonCreate) -> dict:
        return await people.create_person(actor, **msgspec.structs.asdict(data))

    @patch("/{person_id:int}")
    async def update(self, actor: Actor, person_id: int, data: PersonUpdate) -> dict:
        changes = given_fields(data, leave_out=("allow_shared_phone",))
        return await people.update_person(actor, person_id, allow_shared_phone=data.allow_shared_phone, **changes)

    @post("/{person_id:int}/deactivate", status_code=200)
    async def deactivate(self, actor: Actor, person_id: int) -> dict:
        return await people.set_active(actor, person_id, False)
