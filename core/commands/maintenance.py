"""Housekeeping that a scheduler (cron, systemd timer) may call: purge, tick."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    purge = subparsers.add_parser("purge", help="xoá dữ liệu cá nhân quá hạn lưu trữ (nhật ký, danh sách, phiên bản tài liệu cũ)")
    purge.set_defaults(handler=cmd_purge)
    tick = subparsers.add_parser("tick", help="chạy một lượt việc định kỳ: kết thúc hội nghị đã qua, sinh các kỳ của chuỗi hội nghị")
    tick.set_defaults(handler=cmd_tick)


def cmd_purge(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.services import retention

    result = run_with_database(retention.purge)
    for key, value in result.items():
        print(f"{key}: {value}")
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.services import conferences, series

    async def body() -> None:
        created = await series.materialise_all_series()
        ended = await conferences.end_due_conferences()
        print(f"Đã sinh {created} kỳ hội nghị mới; đã kết thúc {len(ended)} hội nghị.")

    run_with_database(body)
    return 0
