"""`hoinghi people import | erase | export`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.access import Actor
from core.commands.runtime import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    people = subparsers.add_parser("people", help="danh sách người").add_subparsers(dest="people_command", required=True)
    load = people.add_parser("import", help="nhập người từ tệp CSV hoặc XLSX (tất cả hoặc không)")
    load.add_argument("file", type=Path)
    load.add_argument("--unit", required=True, help="mã đơn vị nhận (và mặc định cho các dòng không ghi đơn vị)")
    load.add_argument("--dry-run", action="store_true", help="chỉ kiểm tra, không ghi")
    load.set_defaults(handler=cmd_import)
    erase = people.add_parser("erase", help="xoá dữ liệu cá nhân của một người (giữ số liệu điểm danh)")
    erase.add_argument("person_id", type=int)
    erase.add_argument("--yes", action="store_true", help="xác nhận")
    erase.set_defaults(handler=cmd_erase)
    export = people.add_parser("export", help="in mọi dữ liệu về một người (JSON)")
    export.add_argument("person_id", type=int)
    export.set_defaults(handler=cmd_export)


def _progress(done: int, total: int) -> None:
    if total < 1000 and not sys.stderr.isatty():
        return
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, file=sys.stderr, flush=True)


def cmd_import(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.services.people_import import ImportFailed, import_people
    from core.tables import Unit

    if not args.file.exists():
        raise CommandError(f"Không thấy tệp {args.file}.")

    async def body() -> dict:
        unit = await Unit.select().where(Unit.short_code == args.unit).first()
        if unit is None:
            raise CommandError(f"Không có đơn vị mã {args.unit!r}.")
        return await import_people(Actor.system_actor("hoinghi people import"), unit_id=unit["id"], path=args.file,
                                   dry_run=args.dry_run, progress=_progress)

    try:
        report = run_with_database(body)
    except ImportFailed as failure:
        for error in failure.errors:
            print(f"{args.file}:{error.row}: cột \"{error.column}\": {error.problem}", file=sys.stderr)
        raise CommandError(failure.message) from None
    verb = "Hợp lệ, sẽ nhập" if report["dry_run"] else "Đã nhập"
    print(f"{verb} {report['rows']} người từ {report['file']}.")
    for category, count in sorted(report["by_category"].items()):
        print(f"  {category}: {count}")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.services import people

    if not args.yes:
        raise CommandError("Xoá dữ liệu cá nhân không hoàn tác được; chạy lại với --yes để xác nhận.")
    run_with_database(lambda: people.erase_person(Actor.system_actor("hoinghi people erase"), args.person_id))
    print(f"Đã xoá dữ liệu cá nhân của người #{args.person_id}; số liệu điểm danh được giữ.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.services import people

    data = run_with_database(lambda: people.export_person_data(Actor.system_actor("hoinghi people export"), args.person_id))
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return 0
