"""Drop the single-column index on qr_checkin_scan.person: the index (person, conference, status)
answers every query by person as well, and each logged scan paid for both."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "qr_checkin scan log without its redundant person index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="qr_checkin", description=DESCRIPTION)
    manager.alter_column(table_class_name="QrScan", tablename="qr_checkin_scan", column_name="person", db_column_name="person",
                         params={"index": False}, old_params={"index": True})
    return manager
