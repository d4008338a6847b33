"""init, migrate, serve."""

from __future__ import annotations

import argparse
import os
import sys

from core.access import Actor
from core.tables import Unit


def register(subparsers: argparse._SubParsersAction) -> None:
    init = subparsers.add_parser("init", help="tạo và cập nhật cơ sở dữ liệu, đơn vị gốc và quản trị viên đầu tiên")
    init.add_argument("--non-interactive", action="store_true", help="không hỏi; dùng giá trị mặc định hoặc tham số")
    init.add_argument("--unit-name", default="Tỉnh ủy", help="tên đơn vị gốc")
    init.add_argument("--unit-code", default="TU", help="mã đơn vị gốc")
    init.add_argument("--unit-kind", default="province", help="loại đơn vị gốc")
    init.add_argument("--admin-username", default="admin")
    init.add_argument("--admin-password", default=os.environ.get("HOINGHI_ADMIN_PASSWORD"), help="mặc định: sinh ngẫu nhiên và in ra")
    init.set_defaults(handler=cmd_init)

    migrate = subparsers.add_parser("migrate", help="chạy các migration còn thiếu")
    migrate.add_argument("--check", action="store_true", help="chỉ kiểm tra: migration chưa chạy, bảng chưa có migration")
    migrate.set_defaults(handler=cmd_migrate)

    serve = subparsers.add_parser("serve", help="chạy máy chủ web")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-worker", action="store_true", help="không chạy bộ xử lý sự kiện trong máy chủ web (PostgreSQL)")
    serve.set_defaults(handler=cmd_serve)

    worker = subparsers.add_parser("worker", help="chạy bộ xử lý sự kiện và việc định kỳ")
    worker.add_argument("--once", action="store_true", help="chạy một lượt rồi thoát")
    worker.set_defaults(handler=cmd_worker)


def cmd_migrate(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.schema import check, migrate

    if args.check:
        problems = run_with_database(check)
        for problem in problems:
            print(problem)
        print("Lược đồ khớp với migration." if not problems else f"{len(problems)} vấn đề.")
        return 1 if problems else 0
    run_with_database(migrate)
    print("Cơ sở dữ liệu đã được cập nhật.")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.schema import migrate
    from core.services import units, users

    async def body() -> None:
        await migrate()
        if await Unit.exists().where(Unit.parent.is_null()):
            print("Cơ sở dữ liệu đã được khởi tạo trước đó; các migration đã được cập nhật.")
            return
        name, code = args.unit_name, args.unit_code
        if not args.non_interactive:
            name = input(f"Tên đơn vị gốc [{name}]: ").strip() or name
            code = input(f"Mã đơn vị gốc [{code}]: ").strip() or code
        system = Actor.system_actor("hoinghi init")
        root = await units.create_unit(system, name=name, short_code=code, kind=args.unit_kind, parent_id=None)
        password = args.admin_password or users.generate_password()
        user = await users.create_user(system, username=args.admin_username, password=password, full_name="Quản trị viên")
        await users.grant_role(system, user_id=user["id"], unit_id=root["id"], role="admin")
        print(f"Đã tạo đơn vị gốc: {root['name']} ({root['short_code']})")
        print(f"Quản trị viên: {user['username']}")
        if not args.admin_password:
            print(f"Mật khẩu (chỉ hiện một lần): {password}")

    run_with_database(body)
    return 0


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def insecure_public_url_warning(public_url: str) -> str | None:
    """The warning ``serve`` prints when people would reach the site over plain http from
    another machine (camera, offline pages and secure cookies need HTTPS); None otherwise."""
    from urllib.parse import urlsplit

    parts = urlsplit(public_url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" or host in LOOPBACK_HOSTS or host.startswith("127.") or host.endswith(".localhost"):
        return None
    return (f"Cảnh báo: địa chỉ công khai {public_url} dùng http thường. Camera quét mã, chế độ ngoại tuyến và "
            "cookie an toàn cần HTTPS: đặt máy chủ sau một reverse proxy có chứng chỉ (README, mục Vận hành) và đặt "
            "HOINGHI_PUBLIC_URL=https://…")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from core.config import get_settings

    if args.no_worker:
        os.environ["HOINGHI_NO_WORKER"] = "1"
    settings = get_settings()
    warning = insecure_public_url_warning(settings.public_url)
    if warning:
        print(warning, file=sys.stderr)
    # the line a newcomer looks for after `make demo`, in their language (uvicorn's own is English)
    host = f"[{args.host}]" if ":" in args.host else args.host
    address = settings.public_url if args.host in ("0.0.0.0", "::") else f"http://{host}:{args.port}"
    print(f"Mở {address} trong trình duyệt để bắt đầu (dừng: Ctrl+C).", flush=True)
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,  # X-Forwarded-For from these peers only
        timeout_graceful_shutdown=10,
    )
    return 0





def cmd_worker(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from core.commands.runtime import CommandError, run_with_database
    from core.config import get_settings
    from core.plugins import build_plugin_host
    from core.worker import run_worker, worker_lock

    lock = worker_lock()
    if not get_settings().is_postgres and not lock.acquire():
        raise CommandError("Đã có một bộ xử lý đang chạy trên cơ sở dữ liệu SQLite này (chỉ được một); dùng PostgreSQL để chạy nhiều.")

    async def body() -> None:
        host = build_plugin_host()
        if args.once:
            from core.jobs import all_job_handlers, ensure_periodic_jobs, run_once

            from core.worker import write_heartbeat

            await ensure_periodic_jobs()
            print(await run_once(host, all_job_handlers(host)))
            write_heartbeat()
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print("Bộ xử lý sự kiện đang chạy (Ctrl+C để dừng).", flush=True)
        await run_worker(host, stop)

    try:
        run_with_database(body)
    finally:
        lock.release()
    return 0
