"""Drop the single-column index on attendance.conference: the unique index (conference, person)
answers every query by conference as well, and each arrival paid for both."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "attendance without its redundant conference index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.alter_column(table_class_name="Attendance", tablename="attendance", column_name="conference",
                         db_column_name="conference", params={"index": False}, old_params={"index": True})
    return manager
