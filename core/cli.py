"""The ``hoinghi`` command. Each area's subcommands live in ``core/commands/<area>.py``."""

from __future__ import annotations

import argparse
import sys

from core.commands import COMMAND_MODULES
from core.commands.runtime import CommandError
from core.errors import DomainError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hoinghi", description="Quản lý hội nghị báo cáo viên")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    from core.plugins import build_plugin_host

    build_plugin_host().pm.hook.cli_commands(subparsers=subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from core.plugins import PluginConfigError

    try:
        parser = build_parser()
    except PluginConfigError as error:
        print(f"Lỗi cấu hình plugin: {error}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        return args.handler(args) or 0
    except (CommandError, DomainError) as error:
        message = getattr(error, "message", str(error))
        fields = getattr(error, "fields", {})
        print(f"Lỗi: {message}", file=sys.stderr)
        for field, text in fields.items():
            if text != message:
                print(f"  - {field}: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
