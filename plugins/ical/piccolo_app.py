from pathlib import Path

from piccolo.conf.apps import AppConfig

import migrations
from plugins.ical.tables import IcalVeventCache

APP_CONFIG = AppConfig(
    app_name="ical",
    migrations_folder_path=str(Path(migrations.__file__).parent / "ical"),
    table_classes=[IcalVeventCache],
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
