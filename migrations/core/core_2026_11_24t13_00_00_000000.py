"""Subtree prefix queries (``path LIKE '/1/5/%'``) use an index on PostgreSQL too.

A btree index under a linguistic collation cannot serve LIKE prefixes; ``varchar_pattern_ops``
can. SQLite gets the same effect from ``PRAGMA case_sensitive_like`` on each connection.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "pattern index on unit.path for PostgreSQL"


async def run():
    from piccolo.engine import engine_finder

    engine = engine_finder()
    if engine.engine_type == "postgres":
        await engine.run_ddl("CREATE INDEX IF NOT EXISTS unit_path_pattern_idx ON unit (path varchar_pattern_ops)")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(run)
    return manager
