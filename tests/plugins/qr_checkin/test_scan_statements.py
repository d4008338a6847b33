"""What a scan asks of the database (the hot path of issue 6's benchmark): one lookup (which also
finds a replayed nonce and reads whether the device key is revoked), the roll-call service's
arrival carrying the scan log row on PostgreSQL — counted through the query log, not timed. A
revoked key stops at once although the device is known to the process."""

from __future__ import annotations

import pytest

from bench.qr_profile import StatementCounter
from core import clock
from core.errors import NotFound
from core.services import tokens
from core.tables import DomainEvent
from plugins.qr_checkin import services
from plugins.qr_checkin.tables import QrScan
from tests.factories import SYSTEM
from tests.plugins.qr_checkin.conftest import NOW, device_key


async def _statements(counter: StatementCounter, token: str, conference_id: int, **scan) -> tuple[int, dict]:
    counter.counting(True)
    before = counter.mark()
    device = await services.device_for_token(token, conference_id, liveness_in_scan=True)
    answer = await services.scan(device, conference_id=conference_id, **scan)
    counter.counting(False)
    counter.last_transactions = counter.mark()[1] - before[1]
    alone = [str(counter.statements[index]).split()[0] for index in counter.alone if index >= before[0]]
    counter.last_alone_writes = [keyword for keyword in alone if keyword.upper() != "SELECT"]
    return counter.mark()[0] - before[0], answer


async def test_a_scan_costs_a_few_statements_and_a_revoked_device_stops_at_once(db, world):
    conference_id = world.conference["id"]
    token = await device_key(conference_id=conference_id, label="Cổng chính")
    rendered = await services.credentials_for(conference_id)
    clock.set_now(NOW)
    # a running server's state: the key's once-a-minute "last used" write done, the public keys and
    # the conference's unit in the process caches
    device = await services.device_for_token(token, conference_id)
    await services.scan(device, conference_id=conference_id, credential=rendered[2]["credential"])
    counter = StatementCounter(db)
    first, answer = await _statements(counter, token, conference_id, credential=rendered[0]["credential"], nonce="n-1")
    assert answer["status"] == "checked_in"
    # lookup (with the key's liveness), arrival (with its audit and outbox rows and, on PostgreSQL,
    # the scan log row: one statement there, one commit; on SQLite three, then the log row, in one
    # write transaction: the writer lock taken once)
    assert first == (2 if db.engine_type == "postgres" else 5)
    assert counter.last_transactions == (0 if db.engine_type == "postgres" else 1)
    assert counter.last_alone_writes == (["WITH"] if db.engine_type == "postgres" else [])
    logged = await QrScan.select(QrScan.nonce_key, QrScan.person, QrScan.status, QrScan.scanned_at, QrScan.answer).where(
        QrScan.nonce_key.like("%:n-1")).output(load_json=True)
    assert [(row["person"], row["status"], row["scanned_at"], row["answer"]) for row in logged] == [
        (answer["person"]["id"], "checked_in", NOW, answer)]
    replayed, replay = await _statements(counter, token, conference_id, credential=rendered[0]["credential"], nonce="n-1")
    assert replay == answer and replayed == 1  # the lookup (which found the nonce's answer): nothing written
    again, answer = await _statements(counter, token, conference_id, credential=rendered[0]["credential"], nonce="n-2")
    assert answer["status"] == "already_checked_in" and answer["by"] == "Cổng chính"
    assert again == 2  # lookup (it reads the record and who made it), scan log
    forged = rendered[1]["credential"][:-2] + ("AA" if not rendered[1]["credential"].endswith("AA") else "BB")
    refused, answer = await _statements(counter, token, conference_id, credential=forged)
    assert answer["status"] == "forged"
    assert refused == 2  # the key's liveness, scan log: the signature is checked before any lookup
    assert await DomainEvent.count().where(DomainEvent.name == "attendance_recorded") == 2  # the warm-up and the first scan

    row = await tokens.Token.select(tokens.Token.id).where(tokens.Token.label == "Cổng chính").first()
    await tokens.revoke_token(SYSTEM, row["id"])
    with pytest.raises(NotFound):
        await services.device_for_token(token, conference_id)
    # three requests the guard identified from memory before the revocation was seen
    pending = [await services.device_for_token(token, conference_id, liveness_in_scan=True) for _ in range(3)]
    assert all(device.liveness_pending for device in pending)
    # liveness read by the lookup; alone (no lookup); before the venue it names is looked for
    for device, scanned, venue in zip(pending, (rendered[3]["credential"], forged, rendered[3]["credential"]),
                                      (None, None, world.branch["id"])):
        with pytest.raises(NotFound):
            await services.scan(device, conference_id=conference_id, credential=scanned, venue_id=venue)
    with pytest.raises(NotFound):  # and the process forgot the key
        await services.device_for_token(token, conference_id, liveness_in_scan=True)
    assert not await QrScan.exists().where(QrScan.invitation == rendered[3]["invitation_id"])
