from pathlib import Path

from piccolo.conf.apps import AppConfig

import migrations
from plugins.qr_checkin.tables import QrBadgeSheet, QrConferenceSetting, QrCredential, QrScan, QrSigningKey

APP_CONFIG = AppConfig(
    app_name="qr_checkin",
    migrations_folder_path=str(Path(migrations.__file__).parent / "qr_checkin"),
    table_classes=[QrSigningKey, QrCredential, QrScan, QrBadgeSheet, QrConferenceSetting],
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
