"""Unique indexes for plugin enablement and event delivery, and the generation row."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T13:34:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "plugin_state and event_delivery unique indexes; plugin_generation row"


def _raw(sql: str):
    async def run():
        from piccolo.engine import engine_finder

        await engine_finder().run_ddl(sql)

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(_raw('CREATE UNIQUE INDEX IF NOT EXISTS plugin_state_uniq ON plugin_state ("unit", "plugin")'))
    manager.add_raw(_raw('CREATE UNIQUE INDEX IF NOT EXISTS event_delivery_uniq ON event_delivery ("event", "plugin")'))
    manager.add_raw(_raw("INSERT INTO plugin_generation (generation) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM plugin_generation)"))
    return manager
