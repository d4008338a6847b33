"""The qr_checkin plugin's tables: signing keys, credentials, scans, badge sheets."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "qr_checkin tables"  # signing keys, credentials, scans, badge sheets, conference settings


def _params(**extra):
    return {"null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree,
            "choices": None, "db_column_name": None, "secret": False, **extra}


TABLES = {
    ("QrSigningKey", "qr_checkin_signing_key"): [
        ("public_key", Varchar, _params(length=64, default="")),
        ("private_key", Text, _params(default="")),
        ("created_at", Timestamptz, _params(default=TimestamptzNow())),
        ("retired_at", Timestamptz, _params(null=True, default=None)),
    ],
    ("QrCredential", "qr_checkin_credential"): [
        ("invitation", Integer, _params(default=0, unique=True)),
        ("conference", Integer, _params(default=0, index=True)),
        ("person", Integer, _params(default=0, index=True)),
        ("key_id", Integer, _params(default=0)),
        ("generation", Integer, _params(default=0)),
        ("short_hash", Varchar, _params(length=64, default="", unique=True)),
        ("revoked_at", Timestamptz, _params(null=True, default=None)),
        ("issued_at", Timestamptz, _params(default=TimestamptzNow())),
    ],
    ("QrScan", "qr_checkin_scan"): [
        ("conference", Integer, _params(default=0, index=True)),
        ("device_token", Integer, _params(null=True, default=None, index=True)),
        ("nonce_key", Varchar, _params(length=160, null=True, default=None, unique=True)),
        ("invitation", Integer, _params(null=True, default=None)),
        ("person", Integer, _params(null=True, default=None, index=True)),
        ("venue", Integer, _params(null=True, default=None)),
        ("status", Varchar, _params(length=24, default="")),
        ("method", Varchar, _params(length=16, default="staff_scan")),
        ("scanned_at", Timestamptz, _params(default=TimestamptzNow())),
        ("received_at", Timestamptz, _params(default=TimestamptzNow())),
        ("device_time", Timestamptz, _params(null=True, default=None)),
        ("offset_ms", Integer, _params(null=True, default=None)),
        ("queued", Boolean, _params(default=False)),
        ("client", Varchar, _params(length=64, null=True, default=None, index=True)),
        ("flagged", Boolean, _params(default=False)),
        ("answer", JSON, _params(default="{}")),
    ],
    ("QrConferenceSetting", "qr_checkin_conference_setting"): [
        ("conference", Integer, _params(default=0, unique=True)),
        ("staff_scans_only", Boolean, _params(default=False)),
    ],
    ("QrBadgeSheet", "qr_checkin_badge_sheet"): [
        ("conference", Integer, _params(default=0, index=True)),
        ("venue", Integer, _params(null=True, default=None)),
        ("status", Varchar, _params(length=16, default="pending")),
        ("done", Integer, _params(default=0)),
        ("total", Integer, _params(default=0)),
        ("filename", Varchar, _params(length=255, default="")),
        ("error", Text, _params(default="")),
        ("created_by", Integer, _params(null=True, default=None)),
        ("created_at", Timestamptz, _params(default=TimestamptzNow())),
        ("finished_at", Timestamptz, _params(null=True, default=None)),
    ],
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="qr_checkin", description=DESCRIPTION)
    for (class_name, tablename), columns in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, params in columns:
            manager.add_column(table_class_name=class_name, tablename=tablename, column_name=name, db_column_name=name,
                               column_class_name=column_class.__name__, column_class=column_class, params=params, schema=None)
    return manager
