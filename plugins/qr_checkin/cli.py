"""``hoinghi qr-checkin rotate-key`` and ``hoinghi qr-checkin purge-keys``."""

from __future__ import annotations

import argparse


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("qr-checkin", help="điểm danh bằng mã QR: khoá ký")
    commands = parser.add_subparsers(dest="qr_command", required=True)
    rotate = commands.add_parser("rotate-key", help="tạo khoá ký mới; thẻ đã in vẫn dùng được")
    rotate.set_defaults(handler=_rotate)
    purge = commands.add_parser("purge-keys", help="xoá khoá cũ khi mọi hội nghị dùng chúng đã kết thúc")
    purge.set_defaults(handler=_purge)


def _rotate(args: argparse.Namespace) -> int:
    from core.access import Actor
    from core.commands.runtime import run_with_database
    from plugins.qr_checkin.services import rotate_key

    result = run_with_database(lambda: rotate_key(Actor.system_actor("dòng lệnh")))
    print(f"Khoá ký mới: {result['key_id']}")
    return 0


def _purge(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from plugins.qr_checkin.services import purge_retired_keys

    purged = run_with_database(purge_retired_keys)
    print(f"Đã xoá {len(purged)} khoá cũ.")
    return 0
