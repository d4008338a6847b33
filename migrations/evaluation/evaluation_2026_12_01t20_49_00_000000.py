"""Composite indexes of the evaluation plugin (Piccolo's composite Unique fails on SQLite, and raw
statements run before the tables of their own migration, so they come in a migration of their
own): one participation and one named response per (form, person); the tally index that makes a
form's results one GROUP BY over an index."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T20:49:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "evaluation composite indexes"

INDEXES = [
    ("evaluation_participation_uniq", "evaluation_participation", ("form_id", "person_id"), True),
    ("evaluation_response_person_uniq", "evaluation_response", ("form_id", "person_id"), True),
    ("evaluation_template_version_uniq", "evaluation_template_version", ("template_id", "number"), True),
    ("evaluation_answer_tally_idx", "evaluation_answer", ("form_id", "question", "value", "group_unit_id"), False),
]


def _raw(sql: str):
    async def run():
        from piccolo.engine import engine_finder

        await engine_finder().run_ddl(sql)

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evaluation", description=DESCRIPTION)
    for name, table, columns, unique in INDEXES:
        quoted = ", ".join(f'"{column}"' for column in columns)
        manager.add_raw(_raw(f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {name} ON {table} ({quoted})"))
    return manager
