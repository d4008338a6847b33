"""The ical plugin's cache of serialised calendar items."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-25T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ical_vevent_cache"


def _params(**extra):
    return {"null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree,
            "choices": None, "db_column_name": None, "secret": False, **extra}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ical", description=DESCRIPTION)
    manager.add_table(class_name="IcalVeventCache", tablename="ical_vevent_cache", schema=None, columns=None)
    columns = [
        ("key", Varchar, _params(length=64, default="", unique=True)),
        ("stamp", Varchar, _params(length=255, default="")),
        ("body", Text, _params(default="")),
        ("updated_at", Timestamptz, _params(default=TimestamptzNow())),
    ]
    for name, column_class, params in columns:
        manager.add_column(table_class_name="IcalVeventCache", tablename="ical_vevent_cache", column_name=name,
                           db_column_name=name, column_class_name=column_class.__name__, column_class=column_class,
                           params=params, schema=None)
    return manager
