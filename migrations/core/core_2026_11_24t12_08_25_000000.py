"""Composite indexes of the core.

Piccolo's composite ``Unique()`` constraint fails on SQLite, and raw statements run before the
tables of their own migration, so the indexes come in a migration of their own.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T12:08:25:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes"


def _raw(sql: str):
    async def run():
        from piccolo.engine import engine_finder

        await engine_finder().run_ddl(sql)

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(_raw("CREATE UNIQUE INDEX IF NOT EXISTS person_category_uniq ON person_category (\"person\", \"category\")"))
    manager.add_raw(_raw("CREATE UNIQUE INDEX IF NOT EXISTS audience_member_uniq ON audience_member (\"audience\", \"person\")"))
    manager.add_raw(_raw("CREATE UNIQUE INDEX IF NOT EXISTS conference_audience_uniq ON conference_audience (\"conference\", \"audience\")"))
    manager.add_raw(_raw("CREATE UNIQUE INDEX IF NOT EXISTS session_speaker_uniq ON session_speaker (\"session\", \"speaker\")"))
    manager.add_raw(_raw("CREATE UNIQUE INDEX IF NOT EXISTS invitation_uniq ON invitation (\"conference\", \"person\")"))
    manager.add_raw(_raw("CREATE UNIQUE INDEX IF NOT EXISTS attendance_uniq ON attendance (\"conference\", \"person\")"))
    manager.add_raw(_raw("CREATE UNIQUE INDEX IF NOT EXISTS role_assignment_uniq ON role_assignment (\"user\", \"unit\", \"role\")"))
    manager.add_raw(_raw("CREATE UNIQUE INDEX IF NOT EXISTS material_version_uniq ON material_version (\"material\", \"number\")"))
    manager.add_raw(_raw("CREATE UNIQUE INDEX IF NOT EXISTS material_staff_uniq ON material_staff (\"material\", \"user_id\")"))
    manager.add_raw(_raw("CREATE UNIQUE INDEX IF NOT EXISTS conference_occurrence_uniq ON conference (\"series\", \"occurrence_key\")"))
    manager.add_raw(_raw("CREATE INDEX IF NOT EXISTS token_subject_idx ON token (\"subject_type\", \"subject_id\", \"purpose\")"))
    manager.add_raw(_raw("CREATE INDEX IF NOT EXISTS person_search_order_idx ON person (\"sort_key\", \"search_folded\", \"active\", \"unit\")"))

    return manager
