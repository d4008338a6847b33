from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

import migrations

CORE_MIGRATIONS = Path(migrations.__file__).parent / "core"

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=str(CORE_MIGRATIONS),
    table_classes=table_finder(modules=["core.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
