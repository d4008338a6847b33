"""Migrating the database: every installed Piccolo app, in dependency order."""

from __future__ import annotations

import io
import os
from contextlib import nullcontext, redirect_stdout

PICCOLO_CONF = "core.piccolo_conf"


def use_core_piccolo_conf() -> None:
    """Select the Piccolo configuration that lives in ``core`` (works from an installed wheel)."""
    os.environ.setdefault("PICCOLO_CONF", PICCOLO_CONF)


async def migrate(*, quiet: bool = True) -> str:
    """Run every pending migration; returns Piccolo's report. Raises on failure."""
    use_core_piccolo_conf()
    from piccolo.apps.migrations.commands.forwards import run_forwards

    report = io.StringIO()
    with redirect_stdout(report) if quiet else nullcontext():
        response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"Migration failed: {response.message}\n{report.getvalue()}")
    return report.getvalue()



async def check() -> list[str]:
    """Problems with the schema: migrations not yet run, or table changes without a migration.

    What ``piccolo migrations check`` reports, plus the auto-migration diff, in-process so that
    the database connections are closed afterwards.
    """
    use_core_piccolo_conf()
    from itertools import chain

    from piccolo.apps.migrations.commands.check import CheckMigrationManager
    from piccolo.apps.migrations.commands.new import AutoMigrationManager
    from piccolo.conf.apps import Finder

    problems: list[str] = []
    for status in await CheckMigrationManager(app_name="all").get_migration_statuses():
        if not status.has_ran:
            problems.append(f"migration {status.app_name}:{status.migration_id} has not run")
    for app_config in Finder().get_app_registry().app_configs.values():
        with redirect_stdout(io.StringIO()):
            diffs = await AutoMigrationManager().get_alter_statements(app_config=app_config)
        statements = list(chain(*[diff.statements for diff in diffs]))
        if statements:
            problems.append(f"app {app_config.app_name}: tables differ from migrations: {statements[:3]}")
    return problems
