"""The scan API over real HTTP: every status, idempotent nonces, the batch, venue devices, key
rotation, and the device token as the only authentication."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

from core import clock
from core.services import conferences, invitations, rollcall, tokens
from core.tables import Attendance, Invitation
from plugins.qr_checkin import credentials as creds
from plugins.qr_checkin import services
from tests.factories import SYSTEM
from tests.plugins.qr_checkin.conftest import NOW, device_key, scanner
from tests.web.clients import browser
from tests.web.test_multiprocess import REDIS_URL, needs_redis, redis_namespace


async def _credential(conference_id: int, person_id: int) -> dict:
    return await services.credential_for_person(conference_id, person_id)


def _forge(credential: str) -> str:
    """The same payload with one bit of the signature flipped."""
    body = credential[len(creds.PREFIX):]
    raw = bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))
    raw[-1] ^= 0x01
    return creds.PREFIX + base64.b32encode(bytes(raw)).decode().rstrip("=")


async def test_a_badge_checks_in_once_then_answers_already(world, served):
    conference, person = world.conference, world.people[0]
    badge = await _credential(conference["id"], person["id"])
    key = await device_key(conference_id=conference["id"], label="Cổng chính")
    with served() as base, scanner(base, key) as client:
        url = f"/api/v1/qr_checkin/conferences/{conference['id']}/scans"
        first = client.post(url, json={"credential": badge["credential"]})
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["status"] == "checked_in" and body["person"]["full_name"] == person["full_name"]
        assert body["person"]["unit_name"] == world.tree["commune_a1"]["name"]
        assert dt.datetime.fromisoformat(body["at"]) == NOW
        again = client.post(url, json={"short_code": badge["short_code"].lower()}).json()
        assert again["status"] == "already_checked_in" and again["by"] == "Cổng chính"
        assert dt.datetime.fromisoformat(again["at"]) == NOW
    records = await Attendance.select().where(Attendance.conference == conference["id"])
    assert [(r["person"], r["method"], r["status"]) for r in records] == [(person["id"], "staff_scan", "present")]


async def test_every_refusal_has_its_status(world, served):
    conference = world.conference
    good = await _credential(conference["id"], world.people[0]["id"])
    revoked = await _credential(conference["id"], world.people[1]["id"])
    await services.revoke_credential(SYSTEM, conference_id=conference["id"], invitation_id=revoked["invitation_id"])
    withdrawn = await _credential(conference["id"], world.people[2]["id"])
    await invitations.withdraw_invitation(SYSTEM, withdrawn["invitation_id"])
    other = await _credential(world.other["id"], world.outsider["id"])
    branch_person = await _credential(conference["id"], world.branch_people[0]["id"])
    hall_key = await device_key(venue_id=world.hall["id"])
    key = await device_key(conference_id=conference["id"])
    with served() as base, scanner(base, key) as client, scanner(base, hall_key) as hall:
        url = f"/api/v1/qr_checkin/conferences/{conference['id']}/scans"

        def status(payload, via=client):
            response = via.post(url, json=payload)
            assert response.status_code == 200, response.text
            return response.json()

        assert status({"credential": _forge(good["credential"])})["status"] == "forged"
        assert status({"credential": "HN1NOTACREDENTIAL"})["status"] == "forged"
        assert status({"credential": "https://example.com/x"})["status"] == "forged"
        answer = status({"credential": other["credential"]})
        assert answer["status"] == "wrong_conference" and answer["person"] is None
        assert status({"credential": revoked["credential"]})["status"] == "revoked"
        assert status({"short_code": revoked["short_code"]})["status"] == "revoked"
        assert status({"credential": withdrawn["credential"]})["status"] == "not_invited"
        assert status({"short_code": "ABCDEFGH"})["status"] == "not_invited"
        wrong = status({"credential": branch_person["credential"]}, via=hall)
        assert wrong["status"] == "wrong_venue" and wrong["expected_venue"] == world.branch["name"]
        # the hall's device cannot pretend to be elsewhere: venue_id from the body is ignored
        assert status({"credential": branch_person["credential"], "venue_id": world.branch["id"]}, via=hall)["status"] == "wrong_venue"
        assert status({"credential": good["credential"]})["status"] == "checked_in"
        bad = client.post(url, json={"credential": good["credential"], "short_code": good["short_code"]})
        assert bad.status_code == 422 and "đúng một" in bad.json()["error"]
        assert client.post(url, json={"short_code": "AB"}).status_code == 422
    assert await Attendance.count().where(Attendance.conference == conference["id"]) == 1

    await conferences.end_conference(SYSTEM, conference["id"])
    with served() as base, scanner(base, key) as client:
        url = f"/api/v1/qr_checkin/conferences/{conference['id']}/scans"
        assert client.post(url, json={"credential": good["credential"]}).json()["status"] == "expired"


async def test_a_reissued_badge_revokes_the_old_one(world, served):
    conference, person = world.conference, world.people[0]
    old = await _credential(conference["id"], person["id"])
    new = await services.reissue_credential(SYSTEM, conference_id=conference["id"], invitation_id=old["invitation_id"])
    assert new["credential"] != old["credential"] and new["short_code"] != old["short_code"]
    key = await device_key(conference_id=conference["id"])
    with served() as base, scanner(base, key) as client:
        url = f"/api/v1/qr_checkin/conferences/{conference['id']}/scans"
        assert client.post(url, json={"credential": old["credential"]}).json()["status"] == "revoked"
        assert client.post(url, json={"short_code": old["short_code"]}).json()["status"] == "not_invited"
        assert client.post(url, json={"credential": new["credential"]}).json()["status"] == "checked_in"


async def test_key_rotation_keeps_old_badges_valid(world, served):
    conference = world.conference
    before = await _credential(conference["id"], world.people[0]["id"])
    rotated = await services.rotate_key(SYSTEM)
    after = await _credential(conference["id"], world.people[1]["id"])
    assert creds.decode(before["credential"])[0].key_id != rotated["key_id"] == creds.decode(after["credential"])[0].key_id
    # re-displayed after the rotation, the old badge is the same text (signed by its own key)
    assert (await _credential(conference["id"], world.people[0]["id"]))["credential"] == before["credential"]
    assert await services.purge_retired_keys() == []  # its conference is still open
    key = await device_key(conference_id=conference["id"])
    with served() as base, scanner(base, key) as client:
        url = f"/api/v1/qr_checkin/conferences/{conference['id']}/scans"
        assert client.post(url, json={"credential": before["credential"]}).json()["status"] == "checked_in"
        assert client.post(url, json={"credential": after["credential"]}).json()["status"] == "checked_in"
        keys = client.get(f"/api/v1/qr_checkin/conferences/{conference['id']}/roster").json()["keys"]
        assert [k["retired"] for k in keys] == [True, False]
    await conferences.end_conference(SYSTEM, conference["id"])
    await conferences.end_conference(SYSTEM, world.other["id"])
    assert await services.purge_retired_keys() == [creds.decode(before["credential"])[0].key_id]


async def test_nonces_make_scans_and_batches_idempotent(world, served):
    conference = world.conference
    badges = [await _credential(conference["id"], p["id"]) for p in world.people]
    key = await device_key(conference_id=conference["id"])
    nonce = str(uuid.uuid4())
    with served() as base, scanner(base, key) as client:
        url = f"/api/v1/qr_checkin/conferences/{conference['id']}/scans"
        first = client.post(url, json={"credential": badges[0]["credential"], "nonce": nonce}).json()
        replay = client.post(url, json={"credential": badges[0]["credential"], "nonce": nonce}).json()
        assert first == replay and first["status"] == "checked_in"
        # offline queue: scanned 5 and 3 minutes ago by a device whose clock is 10 minutes slow
        offset = 10 * 60 * 1000
        queue = [
            {"credential": badges[1]["credential"], "nonce": "n-1", "device_time": (NOW - dt.timedelta(minutes=15)).isoformat(),
             "offset_ms": offset},
            {"short_code": badges[2]["short_code"], "nonce": "n-2", "device_time": (NOW - dt.timedelta(minutes=13)).isoformat(),
             "offset_ms": offset},
            {"credential": _forge(badges[2]["credential"]), "nonce": "n-3"},
        ]
        batch = client.post(url + "/batch", json={"scans": queue})
        assert batch.status_code == 200, batch.text
        results = batch.json()["results"]
        assert [r["status"] for r in results] == ["checked_in", "checked_in", "forged"]
        assert client.post(url + "/batch", json={"scans": queue}).json()["results"] == results
    records = {r["person"]: r for r in await Attendance.select().where(Attendance.conference == conference["id"])}
    assert len(records) == 3
    assert records[world.people[1]["id"]]["recorded_at"] == NOW - dt.timedelta(minutes=5)
    assert records[world.people[2]["id"]]["recorded_at"] == NOW - dt.timedelta(minutes=3)


async def test_an_earlier_queued_scan_wins(world, served):
    conference, person = world.conference, world.people[0]
    badge = await _credential(conference["id"], person["id"])
    online = await device_key(conference_id=conference["id"])
    offline = await device_key(conference_id=conference["id"])
    with served() as base, scanner(base, online) as first, scanner(base, offline) as second:
        url = f"/api/v1/qr_checkin/conferences/{conference['id']}/scans"
        assert first.post(url, json={"credential": badge["credential"]}).json()["status"] == "checked_in"
        earlier = (NOW - dt.timedelta(minutes=20)).isoformat()
        late = second.post(url + "/batch", json={"scans": [{"credential": badge["credential"], "nonce": "x", "device_time": earlier}]})
        assert late.json()["results"][0]["status"] == "checked_in"
    record = await Attendance.select().where(Attendance.person == person["id"]).first()
    assert record["recorded_at"] == NOW - dt.timedelta(minutes=20)
    from core.tables import DomainEvent

    assert await DomainEvent.count().where(DomainEvent.name == "attendance_recorded") == 1


async def test_the_device_token_is_the_only_key(world, served):
    conference = world.conference
    badge = await _credential(conference["id"], world.people[0]["id"])
    key = await device_key(conference_id=conference["id"])
    other_key = await device_key(conference_id=world.other["id"])
    with served() as base:
        url = f"{base}/api/v1/qr_checkin/conferences/{conference['id']}/scans"
        page = browser(base)  # a page's cookies (CSRF, session) neither help nor hurt
        try:
            assert page.post(url, json={"credential": badge["credential"]}).status_code == 404
            answer = page.post(url, json={"credential": badge["credential"]}, headers={"X-Device-Token": key})
            assert answer.status_code == 200 and answer.json()["status"] == "checked_in"
        finally:
            page.close()
        with scanner(base, other_key) as client:  # another conference's device does not see this one
            assert client.post(url, json={"credential": badge["credential"]}).status_code == 404
        row = (await tokens.list_tokens(SYSTEM, purpose="scanner_device"))[-1]
        await tokens.revoke_token(SYSTEM, [t for t in await tokens.list_tokens(SYSTEM) if t["conference_id"] == conference["id"]][0]["id"])
        with scanner(base, key) as client:
            assert client.post(url, json={"credential": badge["credential"]}).status_code == 404
        assert row["purpose"] == "scanner_device"


async def test_a_venue_device_downloads_only_its_venue(world, served):
    conference = world.conference
    hall_key = await device_key(venue_id=world.hall["id"])
    with served() as base, scanner(base, hall_key) as client:
        info = client.get("/api/v1/qr_checkin/device").json()
        assert info["venue"]["id"] == world.hall["id"] and [v["id"] for v in info["venues"]] == [world.hall["id"]]
        roster = client.get(f"/api/v1/qr_checkin/conferences/{conference['id']}/roster").json()
    names = sorted(entry["name"] for entry in roster["entries"])
    assert names == sorted(p["full_name"] for p in world.hall_people + world.people)  # its venue and the unassigned
    assert set(roster["entries"][0]) == {"h", "s", "name", "unit"}
    hall_badge = await _credential(conference["id"], world.hall_people[0]["id"])
    assert creds.credential_hash(hall_badge["credential"]) in {e["h"] for e in roster["entries"]}


async def test_the_rate_limit_is_per_device(world, served, plugins_toml):
    from tests.plugins.qr_checkin.conftest import write_toml

    write_toml(plugins_toml, scans_per_second=3)
    conference = world.conference
    first, second = await device_key(conference_id=conference["id"]), await device_key(conference_id=conference["id"])
    with served(now=clock.now()) as base, scanner(base, first) as a, scanner(base, second) as b:
        url = f"/api/v1/qr_checkin/conferences/{conference['id']}/scans"
        codes = [a.post(url, json={"short_code": "ABCDEFGH"}).status_code for _ in range(6)]
        assert 429 in codes and codes[:2] == [200, 200]
        assert b.post(url, json={"short_code": "ABCDEFGH"}).status_code == 200


@needs_redis
async def test_the_rate_limit_is_per_device_across_processes_with_redis(world, served, plugins_toml):
    """Counted in Redis (one round trip, rate_limit.py): two processes share each device's window."""
    from tests.plugins.qr_checkin.conftest import write_toml

    write_toml(plugins_toml, scans_per_second=3)
    conference = world.conference
    first, second = await device_key(conference_id=conference["id"]), await device_key(conference_id=conference["id"])
    url = f"/api/v1/qr_checkin/conferences/{conference['id']}/scans"
    with redis_namespace() as namespace, served(now=clock.now(), workers=2, extra_env={
            "REDIS_URL": REDIS_URL, "HOINGHI_REDIS_NAMESPACE": namespace}) as base:
        clients = [scanner(base, first) for _ in range(4)]  # four connections: both processes answer
        try:
            answers = [clients[i % 4].post(url, json={"short_code": "ABCDEFGH"}) for i in range(12)]
            other = scanner(base, second).post(url, json={"short_code": "ABCDEFGH"})
        finally:
            for client in clients:
                client.close()
    codes = [answer.status_code for answer in answers]
    assert codes[:2] == [200, 200] and 429 in codes
    # 12 quick requests span at most two windows of a second: 3 each for the device, whichever
    # process answered (counted per process, up to 12 would pass)
    assert codes.count(200) <= 6
    assert answers[0].headers["ratelimit-limit"] == "3" and answers[0].headers["ratelimit-remaining"] == "2"
    assert other.status_code == 200 and other.headers["ratelimit-remaining"] == "2"  # its own window


async def test_the_plugin_off_hides_the_api(world, served, plugins_toml):
    from tests.plugins.qr_checkin.conftest import write_toml

    write_toml(plugins_toml, default="off")
    key = await device_key(conference_id=world.conference["id"])
    with served() as base, scanner(base, key) as client:
        assert client.post(f"/api/v1/qr_checkin/conferences/{world.conference['id']}/scans", json={"short_code": "ABCDEFGH"}).status_code == 404


async def test_a_typed_code_resolves_through_the_hook(world):
    badge = await _credential(world.conference["id"], world.people[0]["id"])
    found = await services.resolve_code(world.conference, "  " + badge["short_code"][:4] + "-" + badge["short_code"][4:].lower())
    assert found["person"] == world.people[0]["id"]
    assert await services.resolve_code(world.other, badge["short_code"]) is None
    assert rollcall is not None and Invitation is not None
