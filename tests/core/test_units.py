import pytest

from core.access import Actor
from core.errors import Conflict, Forbidden, NotFound, ValidationError
from core.services import units
from core.tables import AuditEntry, DomainEvent, Unit
from tests.factories import SYSTEM, make_actor, make_tree, make_unit


async def test_subtree_is_one_prefix_query_in_tree_order(db):
    tree = await make_tree()
    rows = await units.subtree(SYSTEM, tree["district_a"]["id"])
    assert [row["short_code"] for row in rows] == ["HU-TD", "X-PT", "X-LV"]
    assert tree["commune_a1"]["path"] == f"/{tree['province']['id']}/{tree['district_a']['id']}/{tree['commune_a1']['id']}/"
    assert tree["commune_a1"]["depth"] == 2
    assert tree["commune_a1"]["timezone"] == "Asia/Ho_Chi_Minh"


async def test_move_rewrites_the_whole_subtree(db):
    tree = await make_tree()
    cell = await make_unit("Chi bộ thôn 1", parent=tree["commune_a1"], kind="cell")
    await units.move_unit(SYSTEM, tree["commune_a1"]["id"], new_parent_id=tree["district_b"]["id"])
    moved_cell = await units.get_unit(cell["id"])
    assert moved_cell["path"] == f"/{tree['province']['id']}/{tree['district_b']['id']}/{tree['commune_a1']['id']}/{cell['id']}/"
    assert moved_cell["depth"] == 3
    codes = [row["short_code"] for row in await units.subtree(SYSTEM, tree["district_b"]["id"])]
    assert set(codes) == {"HU-QV", "X-BA", "X-PT", cell["short_code"]}
    assert await DomainEvent.count().where(DomainEvent.name == "unit_moved") == 1


async def test_move_refuses_cycles(db):
    tree = await make_tree()
    with pytest.raises(Conflict, match="chính nó"):
        await units.move_unit(SYSTEM, tree["district_a"]["id"], new_parent_id=tree["commune_a1"]["id"])
    with pytest.raises(Conflict):
        await units.move_unit(SYSTEM, tree["district_a"]["id"], new_parent_id=tree["district_a"]["id"])
    assert (await units.get_unit(tree["commune_a1"]["id"]))["path"].startswith(tree["district_a"]["path"])


async def test_bad_input_is_refused_with_field_messages(db):
    tree = await make_tree()
    with pytest.raises(ValidationError) as error:
        await units.create_unit(SYSTEM, name=" ", short_code="có dấu", kind="planet", parent_id=tree["province"]["id"])
    assert set(error.value.fields) == {"name", "short_code", "kind"}
    with pytest.raises(Conflict):
        await units.create_unit(SYSTEM, name="Trùng", short_code="X-PT", kind="commune", parent_id=tree["province"]["id"])
    with pytest.raises(ValidationError, match="Múi giờ"):
        await units.create_unit(SYSTEM, name="A", short_code="A1", kind="commune", parent_id=tree["province"]["id"], timezone="Mars/Base")


async def test_roles_apply_to_the_subtree_and_hide_other_branches(db):
    tree = await make_tree()
    admin_a = await make_actor("admin", tree["district_a"])
    viewer_a = await make_actor("viewer", tree["district_a"])
    created = await units.create_unit(admin_a, name="Xã mới", short_code="X-NEW", kind="commune", parent_id=tree["commune_a2"]["id"])
    assert created["path"].startswith(tree["district_a"]["path"])
    with pytest.raises(NotFound):  # another branch: invisible
        await units.view_unit(admin_a, tree["district_b"]["id"])
    with pytest.raises(Forbidden):  # visible but not allowed
        await units.create_unit(viewer_a, name="Xã", short_code="X-NO", kind="commune", parent_id=tree["district_a"]["id"])
    with pytest.raises(NotFound):  # admin of a branch cannot move it out of their reach
        await units.move_unit(admin_a, tree["commune_a1"]["id"], new_parent_id=tree["district_b"]["id"])
    roots = await units.visible_roots(admin_a)
    assert [row["id"] for row in roots] == [tree["district_a"]["id"]]
    assert await AuditEntry.count().where(AuditEntry.action == "unit.create") == 7


async def test_only_the_system_creates_roots(db):
    tree = await make_tree()
    admin = await make_actor("admin", tree["province"])
    with pytest.raises(ValidationError):
        await units.create_unit(admin, name="Gốc khác", short_code="ROOT2", kind="province", parent_id=None)
    assert await Unit.count() == 6


async def test_audit_log_is_visible_to_admins_of_the_subtree_only(db):
    from core.services import audit

    tree = await make_tree()
    admin_a = await make_actor("admin", tree["district_a"])
    organiser_a = await make_actor("organiser", tree["district_a"])
    await units.update_unit(admin_a, tree["commune_a1"]["id"], name="Đảng ủy xã Phật Tích (mới)", timezone="Asia/Bangkok")
    entries = await audit.list_entries(admin_a, unit_path=tree["district_a"]["path"])
    assert entries[0]["action"] == "unit.update" and entries[0]["actor_id"] == admin_a.user_id
    assert {e["unit_id"] for e in entries} <= {tree["district_a"]["id"], tree["commune_a1"]["id"], tree["commune_a2"]["id"]}
    with pytest.raises(Forbidden):
        await audit.list_entries(organiser_a, unit_path=tree["district_a"]["path"])
    with pytest.raises(NotFound):
        await audit.list_entries(admin_a, unit_path=tree["district_b"]["path"])
