from pathlib import Path

from piccolo.conf.apps import AppConfig

import migrations
from plugins.evaluation.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="evaluation",
    migrations_folder_path=str(Path(migrations.__file__).parent / "evaluation"),
    table_classes=list(TABLES),
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
