"""Unique indexes for message templates, opt-outs and unit settings."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T13:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notification unique indexes"


def _raw(sql: str):
    async def run():
        from piccolo.engine import engine_finder

        await engine_finder().run_ddl(sql)

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(_raw('CREATE UNIQUE INDEX IF NOT EXISTS message_template_uniq ON message_template ("unit", "kind", "channel")'))
    manager.add_raw(_raw('CREATE UNIQUE INDEX IF NOT EXISTS notification_opt_out_uniq ON notification_opt_out ("person", "channel")'))
    manager.add_raw(_raw('CREATE UNIQUE INDEX IF NOT EXISTS unit_setting_uniq ON unit_setting ("unit", "key")'))
    return manager
