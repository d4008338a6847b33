from pathlib import Path

from piccolo.conf.apps import AppConfig

import migrations
from plugins.sms.tables import SmsReceipt, SmsSegment

APP_CONFIG = AppConfig(
    app_name="sms",
    migrations_folder_path=str(Path(migrations.__file__).parent / "sms"),
    table_classes=[SmsReceipt, SmsSegment],
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
