import pytest

from core.access import load_actor
from core.errors import Conflict, NotFound, ValidationError
from core.services import users
from core.tables import StaffUser
from tests.factories import SYSTEM, make_actor, make_tree


async def test_passwords_are_hashed_and_verified(db):
    user = await users.create_user(SYSTEM, username="Can.Bo", password="mot-mat-khau-dai", full_name="Cán  bộ")
    row = await StaffUser.select().where(StaffUser.id == user["id"]).first()
    assert row["username"] == "can.bo" and row["full_name"] == "Cán bộ"
    assert "mot-mat-khau-dai" not in row["password_hash"]
    assert await users.authenticate("can.bo", "mot-mat-khau-dai")
    assert await users.authenticate("can.bo", "sai-mat-khau-roi") is None
    assert await users.authenticate("khong-co", "mot-mat-khau-dai") is None


async def test_bad_usernames_passwords_and_duplicates(db):
    with pytest.raises(ValidationError):
        await users.create_user(SYSTEM, username="x", password="mot-mat-khau-dai")
    with pytest.raises(ValidationError):
        await users.create_user(SYSTEM, username="ngan", password="ngan")
    await users.create_user(SYSTEM, username="trung", password="mot-mat-khau-dai")
    with pytest.raises(Conflict):
        await users.create_user(SYSTEM, username="TRUNG", password="mot-mat-khau-dai")


async def test_roles_and_reset_logs_out_everywhere(db):
    tree = await make_tree()
    actor = await make_actor("organiser", tree["district_a"], username="to-chuc")
    assert actor.has("manage", tree["commune_a1"]["path"]) and not actor.has("admin", tree["commune_a1"]["path"])
    with pytest.raises(ValidationError):
        await users.grant_role(SYSTEM, user_id=actor.user_id, unit_id=tree["province"]["id"], role="king")
    with pytest.raises(NotFound):  # an organiser of one branch cannot grant roles elsewhere
        await users.grant_role(actor, user_id=actor.user_id, unit_id=tree["district_b"]["id"], role="admin")
    before = await StaffUser.select(StaffUser.session_generation).where(StaffUser.id == actor.user_id).first()
    password = await users.reset_password(SYSTEM, username="to-chuc")
    after = await StaffUser.select(StaffUser.session_generation).where(StaffUser.id == actor.user_id).first()
    assert after["session_generation"] == before["session_generation"] + 1
    assert await users.authenticate("to-chuc", password)
    await users.revoke_role(SYSTEM, user_id=actor.user_id, unit_id=tree["district_a"]["id"], role="organiser")
    assert (await load_actor(actor.user_id)).grants == ()
