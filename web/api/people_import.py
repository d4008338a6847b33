"""POST /api/v1/people/import: a CSV or XLSX upload checked row by row, imported all or nothing
(core/services/people_import.py). A refused file answers 422 with every problem: its row as the
spreadsheet numbers it, its column as the file names it, and what is wrong."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePath
from typing import Annotated

import msgspec
from litestar import Controller, Response, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from core.access import Actor
from core.services import people_import
from web.api.docs import answers
from web.i18n import error_messages, gettext

# 100,000 people make a CSV of about 10 MB; a larger file is refused (413) before it is read
IMPORT_MAX_BYTES = 32 * 1024 * 1024


class ImportForm(msgspec.Struct, forbid_unknown_fields=True):
    """multipart/form-data: ``file`` (.csv or .xlsx), ``unit_id`` (people without a unit code go
    there; codes must lie in its subtree) and ``dry_run`` (check only, write nothing)."""

    file: UploadFile
    unit_id: int
    dry_run: bool = False


class RowProblem(msgspec.Struct):
    row: int
    column: str
    message: str


class ImportReport(msgspec.Struct):
    """``rows`` data rows were read; ``created`` people were written (0 on a dry run)."""

    file: str
    dry_run: bool
    rows: int
    created: int
    by_category: dict[str, int]
    errors: list[RowProblem] = []


class ImportRefused(msgspec.Struct):
    """Nothing was written; ``errors`` lists every problem, in file order."""

    error: str
    fields: dict[str, str]
    file: str
    errors: list[RowProblem]


REPORT_EXAMPLE = {"file": "bao-cao-vien.xlsx", "dry_run": False, "rows": 2, "created": 2, "by_category": {"briefer": 2}, "errors": []}
REFUSED_EXAMPLE = {"error": "Tệp bao-cao-vien.csv: 2 lỗi; chưa nhập người nào.", "fields": {}, "file": "bao-cao-vien.csv",
                   "errors": [{"row": 3, "column": "Số điện thoại", "message": "Số điện thoại không hợp lệ: '0912'"},
                              {"row": 5, "column": "Mã đơn vị", "message": "không có đơn vị mã 'XYZ' trong đơn vị của bạn"}]}


def _safe_name(filename: str | None) -> str:
    # the user's own file name appears in the messages; never a path of theirs on our disk
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    return name if name and not name.startswith(".") else "tep-nhap.csv"


class PeopleImportController(Controller):
    path = "/api/v1/people/import"
    opt = {"access": "staff"}
    request_max_body_size = IMPORT_MAX_BYTES

    @post("/", status_code=200, responses={
        **answers(200, ImportReport, REPORT_EXAMPLE, errors=(400, 403, 404, 413)),
        **answers(422, ImportRefused, REFUSED_EXAMPLE, description="Tệp bị từ chối; chưa nhập người nào"),
    })
    async def upload(self, actor: Actor, data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)]) -> Response:
        """Import people from a spreadsheet into a unit; with dry_run=true only check it."""
        name = _safe_name(data.file.filename)
        with tempfile.TemporaryDirectory(prefix="hoinghi-import-") as folder:
            path = Path(folder) / name
            path.write_bytes(await data.file.read())
            try:
                report = await people_import.import_people(actor, unit_id=data.unit_id, path=path, dry_run=data.dry_run)
            except people_import.ImportFailed as failed:
                refused = ImportRefused(error=error_messages(failed)[0], fields={}, file=name, errors=[
                    RowProblem(row=problem.row, column=problem.column, message=gettext(problem.problem)) for problem in failed.errors])
                return Response(refused, status_code=422)
        return Response(ImportReport(file=report["file"], dry_run=report["dry_run"], rows=report["rows"], created=report["created"],
                                     by_category=report["by_category"]), status_code=200)
