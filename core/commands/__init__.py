"""Subcommands of ``hoinghi``: every module here exposing ``register(subparsers)``, by name."""

import importlib
import pkgutil


def _command_modules() -> list:
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            modules.append(module)
    return modules


COMMAND_MODULES = _command_modules()
