"""Bulk fixtures for benchmarks, inserted straight through the driver (core.db.bulk_insert)."""

from __future__ import annotations

from core import clock
from core.db import bulk_insert, transaction
from core.demo_names import vietnamese_mobile_numbers, vietnamese_names
from core.tables import Person, PersonCategory, Unit
from core.text import search_key, sort_key

CATEGORIES = ["briefer", "propagandist", "opinion_collaborator", "cadre", "member"]


async def unit_tree(total: int, *, fan_out: int = 10) -> list[dict]:
    """A breadth-first tree of ``total`` units with ``fan_out`` children each; returns id/path rows."""
    now = clock.now()
    rows, paths = [], {}
    for unit_id in range(1, total + 1):
        parent = None if unit_id == 1 else (unit_id - 2) // fan_out + 1
        path = f"{paths[parent] if parent else '/'}{unit_id}/"
        paths[unit_id] = path
        rows.append((unit_id, f"Đơn vị {unit_id}", f"B{unit_id}", "commune", parent, path, path.count("/") - 2, "Asia/Ho_Chi_Minh", now))
    async with transaction():
        await bulk_insert(Unit, ["id", "name", "short_code", "kind", "parent", "path", "depth", "timezone", "created_at"], rows)
    await _reset_sequence("unit", total)
    return [{"id": unit_id, "path": path} for unit_id, path in paths.items()]


async def people(total: int, unit_ids: list[int], *, first_id: int = 1) -> None:
    """``total`` people spread over ``unit_ids``, each with one or two categories."""
    now = clock.now()
    names = vietnamese_names(total)
    phones = vietnamese_mobile_numbers(total)
    person_rows, category_rows = [], []
    for offset, (name, phone) in enumerate(zip(names, phones)):
        person_id = first_id + offset
        person_rows.append(
            (person_id, name, search_key(name), sort_key(name), phone, False, unit_ids[offset % len(unit_ids)], False, True, now, now)
        )
        category_rows.append((person_id, CATEGORIES[offset % len(CATEGORIES)]))
        if offset % 3 == 0:
            category_rows.append((person_id, CATEGORIES[(offset + 1) % len(CATEGORIES)]))
    async with transaction():
        await bulk_insert(
            Person,
            ["id", "full_name", "search_folded", "sort_key", "phone", "phone_shared", "unit", "is_head", "active", "created_at", "updated_at"],
            person_rows,
        )
        await bulk_insert(PersonCategory, ["person", "category"], category_rows)
    await _reset_sequence("person", first_id + total - 1)
    # A production database has statistics and, on PostgreSQL, a visibility map kept by autovacuum
    # (index-only scans rely on it); a freshly bulk-loaded one has neither until they run.
    await Person.raw("VACUUM ANALYZE" if Person._meta.db.engine_type == "postgres" else "ANALYZE")


async def _reset_sequence(table: str, last_id: int) -> None:
    """Rows inserted with explicit ids: move PostgreSQL's serial past them."""
    if Unit._meta.db.engine_type == "postgres":
        await Unit.raw(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last_id})")
