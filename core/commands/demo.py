"""`hoinghi demo`: load the demo data set once."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser("demo", help="nạp dữ liệu mẫu (một tỉnh, 2 huyện, 6 xã, khoảng 300 người)")
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.demo import already_loaded, load_demo

    from core.plugins import build_plugin_host, call_each

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    async def body() -> tuple[dict | None, dict[str, str]]:
        loaded = None if await already_loaded() else await load_demo(progress=progress)
        # plugins' demo data is idempotent: a plugin installed after the first run still adds its own
        return loaded, await call_each(build_plugin_host(), "demo_data", progress=progress)

    result, failures = run_with_database(body)
    for plugin, error in sorted(failures.items()):
        print(f"Plugin {plugin}: không nạp được dữ liệu mẫu ({error}).", file=sys.stderr)
    if result is None:
        print("Dữ liệu mẫu đã được nạp trước đó.")
        return 1 if failures else 0
    print(f"Đã nạp dữ liệu mẫu: {result['units']} đơn vị, {result['people']} người.")
    print("Tài khoản mẫu (mật khẩu chỉ hiện một lần):")
    for username, password, what in result["accounts"]:
        print(f"  {username:<22} {password}   ({what})")
    print("Tài khoản quản trị: admin (mật khẩu in khi chạy `hoinghi init`; đặt lại bằng `hoinghi user password admin`).")
    return 1 if failures else 0
