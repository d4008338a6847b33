"""/api/v1/materials: uploads streamed straight to the content store, downloads with access
checks (every read of a non-public material is audited by the service)."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.response import File

from core.access import Actor
from core.services import materials


class MaterialsController(Controller):
    path = "/api/v1"
    opt = {"access": "staff"}
    # the body is the file itself: Litestar's limit is the material limit (see sized()), so an
    # oversize upload is refused with 413 from its Content-Length, or as soon as the stream passes
    # the limit; the content store enforces the same limit again while writing
    request_max_body_size = None

    @classmethod
    def sized(cls, max_bytes: int) -> type["MaterialsController"]:
        """This controller with Litestar's body limit set to ``max_bytes`` (the configured limit)."""
        return type(cls.__name__, (cls,), {"request_max_body_size": max_bytes, "__module__": cls.__module__})

    @post("/conferences/{conference_id:int}/materials")
    async def upload(self, request: Request, actor: Actor, conference_id: int, title: str, kind: str, filename: str,
                     official_number: str = "", official_date: str | None = None, access: str = "audience",
                     classification: str = "", session_id: int | None = None) -> dict:
        """The request body is the file itself (any Content-Type); metadata in the query string."""
        return await materials.add_material(
            actor, conference_id=conference_id, title=title, kind=kind, filename=filename, chunks=request.stream(),
            official_number=official_number, official_date=official_date, access=access, classification=classification,
            session_id=session_id)

    @post("/materials/{material_id:int}/versions")
    async def new_version(self, request: Request, actor: Actor, material_id: int, filename: str) -> dict:
        return await materials.add_version(actor, material_id, filename=filename, chunks=request.stream())

    @get("/conferences/{conference_id:int}/materials")
    async def list_(self, actor: Actor, conference_id: int) -> list[dict]:
        return await materials.list_materials(actor, conference_id)

    @get("/materials/{material_id:int}/download")
    async def download(self, actor: Actor, material_id: int, version: int | None = None) -> File:
        chosen, path = await materials.open_material_for_staff(actor, material_id, version=version)
        return material_file(chosen, path)


# Shown in the browser only where browsers render them safely; everything else is a download.
INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"}
# An uploaded file runs no script and reaches nothing, even if a browser decides to render it.
MATERIAL_POLICY = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; plugin-types application/pdf"


def material_file(version: dict, path) -> File:
    """A stored material version as a response: sniffed type, safe disposition, sandboxed."""
    media_type = version["mime_type"].split(";")[0]
    disposition = "inline" if media_type in INLINE_TYPES else "attachment"
    return File(path=path, media_type=media_type, content_disposition_type=disposition, filename=version["filename"],
                headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(version['filename'])}",
                         "Content-Security-Policy": MATERIAL_POLICY, "X-Content-Type-Options": "nosniff"})
