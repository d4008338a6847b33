"""Subcommands of ``hoinghi``; each module exposes ``register(subparsers)``."""

from core.commands import admin, setup

COMMAND_MODULES = [setup, admin]
