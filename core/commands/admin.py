"""Admin commands for units and staff users."""

from __future__ import annotations

import argparse

from core.access import Actor
from core.commands.runtime import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    unit = subparsers.add_parser("unit", help="quản lý đơn vị").add_subparsers(dest="unit_command", required=True)
    add = unit.add_parser("add", help="thêm đơn vị")
    add.add_argument("--name", required=True)
    add.add_argument("--code", required=True)
    add.add_argument("--kind", required=True)
    add.add_argument("--parent", required=True, help="mã đơn vị cấp trên")
    add.set_defaults(handler=cmd_unit_add)
    tree = unit.add_parser("tree", help="in cây đơn vị")
    tree.set_defaults(handler=cmd_unit_tree)

    user = subparsers.add_parser("user", help="quản lý người dùng").add_subparsers(dest="user_command", required=True)
    uadd = user.add_parser("add", help="thêm người dùng")
    uadd.add_argument("username")
    uadd.add_argument("--password", required=True)
    uadd.add_argument("--full-name", default="")
    uadd.set_defaults(handler=cmd_user_add)
    password = user.add_parser("password", help="đặt lại mật khẩu (in mật khẩu mới một lần)")
    password.add_argument("username")
    password.set_defaults(handler=cmd_user_password)
    grant = user.add_parser("grant", help="giao vai trò trên một đơn vị")
    grant.add_argument("username")
    grant.add_argument("role", choices=["admin", "organiser", "checkin_staff", "viewer"])
    grant.add_argument("unit_code")
    grant.set_defaults(handler=cmd_user_grant)
    _register_plugin_commands(subparsers)


async def _unit_by_code(code: str) -> dict:
    from core.tables import Unit

    unit = await Unit.select().where(Unit.short_code == code).first()
    if unit is None:
        raise CommandError(f"Không có đơn vị mã {code!r}.")
    return unit


def cmd_unit_add(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.services import units

    async def body() -> None:
        parent = await _unit_by_code(args.parent)
        unit = await units.create_unit(
            Actor.system_actor("hoinghi unit add"), name=args.name, short_code=args.code, kind=args.kind, parent_id=parent["id"]
        )
        print(f"Đã thêm đơn vị {unit['name']} (mã {unit['short_code']}, id {unit['id']}).")

    run_with_database(body)
    return 0


def cmd_unit_tree(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.tables import Unit

    async def body() -> None:
        for unit in await Unit.select().order_by(Unit.path):
            print(f"{'  ' * unit['depth']}{unit['name']} [{unit['short_code']}]")

    run_with_database(body)
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.services import users

    async def body() -> None:
        user = await users.create_user(
            Actor.system_actor("hoinghi user add"), username=args.username, password=args.password, full_name=args.full_name
        )
        print(f"Đã thêm người dùng {user['username']}.")

    run_with_database(body)
    return 0


def cmd_user_grant(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.services import users
    from core.tables import StaffUser

    async def body() -> None:
        user = await StaffUser.select().where(StaffUser.username == args.username).first()
        if user is None:
            raise CommandError(f"Không có người dùng {args.username!r}.")
        unit = await _unit_by_code(args.unit_code)
        await users.grant_role(Actor.system_actor("hoinghi user grant"), user_id=user["id"], unit_id=unit["id"], role=args.role)
        print(f"Đã giao vai trò {args.role} trên {unit['name']} cho {user['username']}.")

    run_with_database(body)
    return 0


def cmd_user_password(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.services import users

    async def body() -> str:
        return await users.reset_password(Actor.system_actor("hoinghi user password"), username=args.username)

    password = run_with_database(body)
    print(f"Mật khẩu mới của {args.username} (chỉ hiện một lần): {password}")
    return 0


def _register_plugin_commands(subparsers: argparse._SubParsersAction) -> None:
    plugin = subparsers.add_parser("plugin", help="bật/tắt plugin theo đơn vị").add_subparsers(dest="plugin_command", required=True)
    listing = plugin.add_parser("list", help="các plugin và trạng thái ở một đơn vị")
    listing.add_argument("unit_code")
    listing.set_defaults(handler=cmd_plugin_list)
    switch = plugin.add_parser("set", help="đặt on, off hoặc inherit cho một đơn vị")
    switch.add_argument("unit_code")
    switch.add_argument("plugin")
    switch.add_argument("state", choices=["on", "off", "inherit"])
    switch.set_defaults(handler=cmd_plugin_set)


def cmd_plugin_list(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.plugins import build_plugin_host

    async def body() -> list[dict]:
        unit = await _unit_by_code(args.unit_code)
        return await build_plugin_host().states(Actor.system_actor("hoinghi plugin list"), unit["id"])

    for row in run_with_database(body):
        print(f"{row['plugin']:<20} {'BẬT' if row['enabled'] else 'tắt':<4} (thiết lập: {row['setting']}{', khoá' if row['locked'] else ''})")
    return 0


def cmd_plugin_set(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database
    from core.plugins import build_plugin_host

    async def body() -> None:
        unit = await _unit_by_code(args.unit_code)
        await build_plugin_host().set_state(Actor.system_actor("hoinghi plugin set"), unit["id"], args.plugin, args.state)

    run_with_database(body)
    print(f"Đã đặt {args.plugin} = {args.state} cho {args.unit_code}.")
    return 0
