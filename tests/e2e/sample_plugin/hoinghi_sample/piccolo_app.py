from pathlib import Path

from piccolo.conf.apps import AppConfig

from hoinghi_sample.tables import SampleNote

APP_CONFIG = AppConfig(
    app_name="sample",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[SampleNote],
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
