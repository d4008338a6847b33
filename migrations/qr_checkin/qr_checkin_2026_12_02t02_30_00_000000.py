"""An index for the scan's lookup of who first checked a person in.

The lookup (``services._LOOKUP``) reads the person's first ``checked_in`` scan of the
conference. With only the single-column indexes, PostgreSQL's planner, working from statistics
taken while the scan log was small, combined the person index with the conference one — every
scan of the conference, read again for each lookup. One index on (person, conference, status)
answers it directly whatever the statistics say.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "qr_checkin scan lookup index"


def _raw(sql: str):
    async def run():
        from piccolo.engine import engine_finder

        await engine_finder().run_ddl(sql)

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="qr_checkin", description=DESCRIPTION)
    manager.add_raw(_raw('CREATE INDEX IF NOT EXISTS qr_checkin_scan_first_idx ON qr_checkin_scan ("person", "conference", "status")'))
    return manager
