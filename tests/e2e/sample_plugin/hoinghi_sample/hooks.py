from litestar import get

from core.hookspecs import hookimpl


@get("/api/v1/sample/units/{unit_id:int}/notes", opt={"plugin": "sample", "unit_from": "unit_id"})
async def notes(unit_id: int) -> dict:
    from hoinghi_sample.tables import SampleNote

    rows = await SampleNote.select(SampleNote.text).where(SampleNote.unit_id == unit_id)
    return {"unit_id": unit_id, "notes": [row["text"] for row in rows]}


@hookimpl
def piccolo_apps():
    return ["hoinghi_sample.piccolo_app"]


@hookimpl
def register_routes():
    return [notes]


@hookimpl
async def conference_published(conference, event):
    from hoinghi_sample.tables import SampleNote

    await SampleNote.insert(SampleNote(unit_id=conference["unit"], text=f"published: {conference['title']}"))
