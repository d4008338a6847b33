"""The sms plugin's smpp backend against a real SMSC on 127.0.0.1 (smpp34's server behind a TCP
proxy that can cut the connection), through the core's send path."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core import clock, jobs, notifications
from core.plugins import set_plugin_setting
from core.services import conferences, people
from core.tables import Message
from plugins.sms.channel import forget_unit_options, smpp_for
from plugins.sms.services import match_pending_receipts
from plugins.sms.smpp import encode_parts, gsm7_bytes
from plugins.sms.tables import SmsReceipt, SmsSegment
from tests.core.flows import local, make_conference
from tests.factories import SYSTEM, make_tree
from tests.plugins.sms.conftest import smpp

LONG = "Kính mời đồng chí dự hội nghị báo cáo viên quý I năm 2026 tại hội trường Tỉnh uỷ, " \
       "nội dung: quán triệt nghị quyết, thông tin thời sự trong nước và quốc tế, định hướng tuyên truyền."


async def _invite(tree, count=2):
    for i in range(count):
        await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name=f"Trần Thị Đào {i}", categories=["briefer"],
                                   phone=f"09130000{i:02d}")
    conference = await make_conference(tree, start=local(2026, 3, 10, 8))
    await conferences.publish_conference(SYSTEM, conference["id"])
    clock.set_now(local(2026, 3, 9, 10))
    return conference


SHORT = "Đồng chí {name}: họp lúc 8h"


async def _queue(host, conference, text=SHORT):
    """One short message (one part in UCS-2) to every invitee."""
    return await notifications.queue_conference_messages(SYSTEM, host, kind="free_message", conference_id=conference["id"],
                                                         text=text.replace("{name}", "x"))


async def _until(predicate, timeout=60.0, smsc=None):
    """Wait for the receipts the SMSC sends on its own (an event outside our control), however
    long a loaded machine takes: the timeout only ends a test that would never get there. A
    receipt that overtook the core's ``sent`` is settled by the match job: run it as the worker
    would."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, f"not reached in time: {await _state()} {smsc and (smsc.receipts_sent, smsc.receipt_errors)}"
        await asyncio.sleep(0.02)
        await match_pending_receipts()


async def _state():
    return {"messages": await Message.select(Message.id, Message.status, Message.provider_id, Message.error),
            "segments": await SmsSegment.select(), "kept": await SmsReceipt.select()}


async def _statuses():
    return [row["status"] for row in await Message.select(Message.status).order_by(Message.id)]


# -- encoding (no server) ---------------------------------------------------------------------

def test_parts_carry_the_coding_and_a_concatenation_header():
    single = encode_parts("Hop luc 8h {phong 2}")
    assert len(single) == 1 and single[0].data_coding == 0 and single[0].esm_class == 0
    assert single[0].short_message == gsm7_bytes("Hop luc 8h {phong 2}")
    assert gsm7_bytes("@{€") == bytes((0x00, 0x1B, 0x28, 0x1B, 0x65))

    parts = encode_parts(LONG, reference=300)
    assert [part.total for part in parts] == [3, 3, 3] and {part.data_coding for part in parts} == {8}
    assert all(part.esm_class == 0x40 for part in parts)
    assert [part.short_message[:6] for part in parts] == [bytes((5, 0, 3, 300 % 256, 3, n)) for n in (1, 2, 3)]
    assert b"".join(part.short_message[6:] for part in parts).decode("utf-16-be") == LONG
    assert all(len(part.short_message) - 6 <= 134 for part in parts)

    latin = encode_parts("Gia 100€", gsm_coding=3)  # € is GSM-7 but not Latin-1: UCS-2 carries it
    assert latin[0].data_coding == 8 and latin[0].short_message.decode("utf-16-be") == "Gia 100€"
    assert encode_parts("Hop luc 8h", gsm_coding=1)[0].short_message == b"Hop luc 8h"


# -- through the core -------------------------------------------------------------------------

async def test_invitations_go_over_one_bound_session_and_receipts_deliver_them(db, smsc, configure_sms):
    tree = await make_tree()
    host = configure_sms(smpp(smsc))
    conference = await _invite(tree, count=3)
    counts = await _queue(host, conference)
    assert counts["queued"] == 3
    await notifications.send_due(host)
    assert smsc.binds == 1 and len(smsc.submits) == 3
    first = min(smsc.submits, key=lambda submit: submit["to"])
    assert first["to"] == "84913000000" and first["sender"] == "TINH-UY" and first["data_coding"] == 8
    assert first["registered_delivery"] == 1 and first["short_message"].decode("utf-16-be") == "Đồng chí x: họp lúc 8h"
    messages = await Message.select().order_by(Message.id)
    assert sorted(m["provider_id"] for m in messages) == ["smsc-1", "smsc-2", "smsc-3"]
    await _until(lambda: _all(["delivered"] * 3))
    assert await SmsSegment.count().where(SmsSegment.status == "delivered") == 3


async def _all(expected):
    return await _statuses() == expected


async def test_a_long_message_is_concatenated_and_needs_a_receipt_per_part(db, smsc, configure_sms):
    tree = await make_tree()
    host = configure_sms(smpp(smsc))
    conference_id = (await _invite(tree, count=1))["id"]
    smsc.plan("ok", "undeliv", "ok")
    await notifications.queue_conference_messages(SYSTEM, host, kind="free_message", conference_id=conference_id, text=LONG)
    await notifications.send_due(host)
    assert len(smsc.submits) == 3 and {s["esm_class"] for s in smsc.submits} == {0x40}
    assert [s["short_message"][5] for s in smsc.submits] == [1, 2, 3]
    message = await Message.select().first()
    assert message["provider_id"] == "smsc-1"
    await _until(lambda: SmsSegment.exists().where(SmsSegment.settled == True))  # noqa: E712
    message = await Message.select().first()
    assert message["status"] == "failed" and "stat=UNDELIV" in message["error"] and "phần 2/3" in message["error"]


async def test_a_receipt_that_overtakes_its_submit_resp_is_matched(db, smsc, configure_sms):
    tree = await make_tree()
    host = configure_sms(smpp(smsc))
    conference = await _invite(tree, count=2)
    smsc.plan("receipt_first", "receipt_first")
    await _queue(host, conference)
    await notifications.send_due(host)
    # each receipt was acknowledged before its submit_sm_resp: it found its part pending, was kept,
    # and applied as soon as the resp gave the id
    await _until(lambda: _all(["delivered", "delivered"]), smsc=smsc)
    assert await SmsReceipt.count() == 0
    assert [row["status"] for row in await SmsSegment.select()] == ["delivered", "delivered"]


async def test_throttling_is_retried_and_a_refusal_is_final(db, smsc, configure_sms):
    tree = await make_tree()
    host = configure_sms(smpp(smsc, retry_base_ms=5, smpp_window=1, smpp_prepare_ahead=0))  # one at a time: the plan falls on known messages
    conference = await _invite(tree, count=2)
    smsc.plan("throttle", "throttle", "ok", "reject:0x0B")
    await _queue(host, conference)
    await notifications.send_due(host)
    assert len(smsc.refused) == 3 and len(smsc.submits) == 1
    first, second = await Message.select().order_by(Message.id)
    assert first["status"] in ("sent", "delivered") and first["provider_id"] == "smsc-1"
    assert second["status"] == "failed" and "ESME_RINVDSTADR (0x0000000B)" in second["error"]


async def test_throttled_beyond_the_retries_requeues_and_keeps_submitted_parts(db, smsc, configure_sms):
    tree = await make_tree()
    host = configure_sms(smpp(smsc, retry_base_ms=5))
    conference_id = (await _invite(tree, count=1))["id"]
    smsc.plan("ok", "throttle", "throttle", "throttle")
    await notifications.queue_conference_messages(SYSTEM, host, kind="free_message", conference_id=conference_id, text=LONG)
    await notifications.send_due(host)
    message = await Message.select().first()
    assert message["status"] == "queued" and "ESME_RTHROTTLED" in message["error"]
    clock.set_now(message["send_after"])
    await jobs.run_due_jobs(jobs.all_job_handlers(host))
    # part 1 was accepted the first time: only parts 2 and 3 are submitted again
    assert [s["short_message"][5] for s in smsc.submits] == [1, 2, 3]
    await _until(lambda: _all(["delivered"]))


async def test_a_dropped_connection_is_bound_again_without_loss(db, smsc, configure_sms):
    tree = await make_tree()
    host = configure_sms(smpp(smsc, retry_base_ms=20, smpp_window=1, smpp_prepare_ahead=0))
    conference = await _invite(tree, count=6)
    smsc.drop_after(2)
    await _queue(host, conference)
    await notifications.send_due(host)
    assert smsc.binds == 2
    assert sorted(s["to"] for s in smsc.submits) == [f"849130000{i:02d}" for i in range(6)]  # each once
    await _until(lambda: _all(["delivered"] * 6))
    # the session is kept: later messages go over the same bind
    smsc.drop()
    await _until(lambda: _bound_twice_more(smsc))


async def test_a_drop_with_a_full_window_loses_nothing(db, smsc, configure_sms):
    """Parts in flight when the session drops are resubmitted: nobody is missed; a part whose
    submit_sm_resp was lost in the drop may reach the SMSC twice (at most the window's size)."""
    tree = await make_tree()
    host = configure_sms(smpp(smsc, retry_base_ms=20, smpp_window=4))
    conference = await _invite(tree, count=12)
    smsc.drop_after(5)
    await _queue(host, conference)
    await notifications.send_due(host)
    phones = [submit["to"] for submit in smsc.submits]
    assert set(phones) == {f"849130000{i:02d}" for i in range(12)} and len(phones) - 12 <= 4
    assert set(await _statuses()) <= {"sent", "delivered"}


async def _bound_twice_more(smsc):
    return smsc.binds == 3  # the reader noticed the drop and bound again by itself (receipts keep coming)


async def test_a_drop_with_resubmission_off_leaves_the_message_unknown(db, smsc, configure_sms):
    tree = await make_tree()
    host = configure_sms(smpp(smsc, retry_base_ms=20, smpp_resubmit_unacknowledged=False, smpp_window=1, smpp_prepare_ahead=0))
    conference = await _invite(tree, count=2)
    smsc.drop_after(1)
    await _queue(host, conference)
    await notifications.send_due(host)
    statuses = await _statuses()
    assert statuses[1] == "unknown" and len(smsc.submits) == 1


async def test_without_diacritics_goes_as_gsm7(db, smsc, configure_sms):
    tree = await make_tree()
    host = configure_sms(smpp(smsc))
    conference = await _invite(tree, count=1)
    await set_plugin_setting(host, SYSTEM, unit_id=tree["province"]["id"], plugin="sms", key="without_diacritics", value=True)
    forget_unit_options()
    await _queue(host, conference)
    await notifications.send_due(host)
    submit = smsc.submits[0]
    assert submit["data_coding"] == 0 and submit["short_message"] == b"Dong chi x: hop luc 8h"


async def test_an_unreachable_smsc_requeues_and_the_password_stays_out_of_logs(db, configure_sms, caplog):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tree = await make_tree()
    host = configure_sms({"backend": "smpp", "smpp_host": "127.0.0.1", "smpp_port": port, "smpp_system_id": "hoinghi",
                          "smpp_password": "pw771sec", "retry_base_ms": 5, "timeout_seconds": 2})
    conference = await _invite(tree, count=1)
    caplog.set_level(logging.DEBUG)
    await _queue(host, conference)
    await notifications.send_due(host)
    message = await Message.select().first()
    assert message["status"] == "queued" and "Không kết nối được SMSC" in message["error"]
    assert "pw771sec" not in caplog.text and "pw771sec" not in message["error"]


async def test_one_session_per_backend(db, smsc, configure_sms):
    configure_sms(smpp(smsc))
    from plugins.sms.channel import settings_values

    backend = smpp_for(settings_values())
    assert smpp_for(settings_values()) is backend
    await backend.connect()
    await backend.connect()
    await _until(_bound(smsc))
    assert smsc.binds == 1 and backend.binds == 1


def _bound(smsc):
    async def check():
        return smsc.binds >= 1

    return check


def test_the_core_prepares_messages_ahead_of_a_full_window():
    """The core admits the window and ``smpp_prepare_ahead`` more (their claim and pending rows
    are written while the window is full); the session's window alone bounds the submit_sm in
    flight (see the full-window drop test: duplicates stay within the window)."""
    from plugins.sms.channel import SmsChannel

    assert SmsChannel({"backend": "smpp", "smpp_window": 4, "smpp_prepare_ahead": 6}).concurrency == 10
    assert SmsChannel({"backend": "smpp", "smpp_window": 1, "smpp_prepare_ahead": 0}).concurrency == 1
    assert SmsChannel({"backend": "http", "concurrency": 3, "smpp_window": 4, "smpp_prepare_ahead": 6}).concurrency == 3
