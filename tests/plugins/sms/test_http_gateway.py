"""The sms plugin's http backend against a real gateway on 127.0.0.1, through the core's send path."""

from __future__ import annotations

import base64
import logging

import pytest

from core import clock, jobs, notifications
from core.tables import Job, Message
from plugins.sms.channel import receipt_path
from plugins.sms.http_gateway import GatewayConfig, GatewayConfigError, HttpGateway
from plugins.sms.presets import PRESETS
from plugins.sms.services import record_receipt
from core.services import conferences, people
from tests.core.flows import local, make_conference
from tests.factories import SYSTEM, make_tree
from tests.plugins.sms.conftest import esms, twilio
from tests.virtual_time import VirtualTime


async def _invite(tree, count=2, unit="commune_a1", phone_prefix="09120000"):
    group = [await people.create_person(SYSTEM, unit_id=tree[unit]["id"], full_name=f"Nguyễn Văn Đức {i}", categories=["briefer"],
                                        phone=f"{phone_prefix}{i:02d}") for i in range(count)]
    conference = await make_conference(tree, start=local(2026, 3, 10, 8))
    await conferences.publish_conference(SYSTEM, conference["id"])
    clock.set_now(local(2026, 3, 9, 10))
    return conference, group


async def _queue_and_send(host, conference, kind="invitation"):
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind=kind, conference_id=conference["id"])
    await notifications.send_due(host)
    return counts


async def _messages():
    return await Message.select().order_by(Message.id)


# -- configuration and requests (no database) ---------------------------------------------------

def test_a_gateway_without_url_or_with_unknown_variables_is_refused():
    with pytest.raises(GatewayConfigError, match="địa chỉ cổng SMS"):
        GatewayConfig.from_settings({"url": ""})
    with pytest.raises(GatewayConfigError, match="biến không có: phone"):
        GatewayConfig.from_settings({"url": "http://x", "body_template": '{"to": "{{phone}}"}', "rate_per_second": 1,
                                     "retry_attempts": 1, "timeout_seconds": 1})
    with pytest.raises(GatewayConfigError, match="Tên: giá trị"):
        GatewayConfig.from_settings({"url": "http://x", "headers": ["Authorization Bearer x"], "rate_per_second": 1,
                                     "retry_attempts": 1, "timeout_seconds": 1})


def test_templates_escape_values_for_json_form_url_and_headers():
    config = GatewayConfig.from_settings({
        **PRESETS["esms_json"], "url": "http://gw/send/{{to_digits}}?key={{api_key}}", "headers": ["X-Sender: {{sender}}"],
        "api_key": "k&y=1", "api_secret": "s\"e", "rate_per_second": 5, "retry_attempts": 1, "timeout_seconds": 1})
    request = HttpGateway(config).build_request(to="+84912000001", text='Họp "gấp"\nlúc 8h', sender="TINH\r\nUY", unicode=True,
                                                reference="hoinghi-7", callback_url="https://h/r?ref=7")
    import json

    body = json.loads(request["content"])
    assert body["Content"] == 'Họp "gấp"\nlúc 8h' and body["Phone"] == "0912000001" and body["IsUnicode"] == "1"
    assert body["SecretKey"] == 's"e' and body["RequestId"] == "hoinghi-7" and body["CallbackUrl"] == "https://h/r?ref=7"
    assert request["url"] == "http://gw/send/84912000001?key=k%26y%3D1"
    assert request["headers"]["X-Sender"] == "TINH  UY"  # no header injection

    form = GatewayConfig.from_settings({**PRESETS["twilio_form"], "account": "AC1", "api_secret": "tok", "rate_per_second": 5,
                                        "retry_attempts": 1, "timeout_seconds": 1})
    request = HttpGateway(form).build_request(to="+84912000001", text="A & B = 100%", sender="+1500", unicode=False,
                                              reference="r", callback_url="")
    assert request["url"] == "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    assert request["content"] == b"To=%2B84912000001&From=%2B1500&Body=A+%26+B+%3D+100%25&StatusCallback="
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"AC1:tok").decode()


# -- through the core's send path -------------------------------------------------------------

async def test_invitations_reach_the_gateway_with_the_units_sender_and_folding(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _invite(tree)
    counts = await _queue_and_send(host, conference)
    assert counts["queued"] == 2
    assert [request["json"]["Phone"] for request in gateway.requests] == ["0912000000", "0912000001"]
    first = gateway.requests[0]["json"]
    assert first["ApiKey"] == "KEY-123456" and first["Brandname"] == "TINH-UY" and first["IsUnicode"] == "1"
    assert "Nguyễn Văn Đức 0" in first["Content"]
    messages = await _messages()
    assert [(m["status"], m["provider_id"]) for m in messages] == [("sent", "gw-1"), ("sent", "gw-2")]
    assert first["CallbackUrl"] == f"http://hoinghi.test{receipt_path(messages[0]['unit_id'])}?ref={messages[0]['id']}"

    # the province asks for its own brandname and no diacritics; the commune inherits both
    from core.plugins import set_plugin_setting
    from plugins.sms.channel import forget_unit_options

    await set_plugin_setting(host, SYSTEM, unit_id=tree["province"]["id"], plugin="sms", key="unit_sender_id", value="BAN-TG")
    await set_plugin_setting(host, SYSTEM, unit_id=tree["province"]["id"], plugin="sms", key="without_diacritics", value=True)
    forget_unit_options()
    await notifications.queue_conference_messages(SYSTEM, host, kind="reminder", conference_id=conference["id"])
    await notifications.send_due(host)
    folded = gateway.requests[-1]["json"]
    assert folded["Brandname"] == "BAN-TG" and folded["IsUnicode"] == "0"
    assert "Nguyen Van Duc" in folded["Content"] and "đ" not in folded["Content"].lower()


async def test_twilio_shaped_gateway_with_basic_credentials(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(twilio(gateway))
    conference, group = await _invite(tree, count=1)
    await _queue_and_send(host, conference)
    request = gateway.requests[0]
    assert request["path"] == "/twilio/AC42/Messages.json"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"AC42:tw-token-987654").decode()
    assert request["form"]["To"] == "+84912000000" and request["form"]["From"] == "+15005550006"
    assert request["form"]["StatusCallback"].startswith("http://hoinghi.test/api/v1/sms/units/")
    assert (await _messages())[0]["provider_id"] == "gw-1"


async def test_transient_failures_are_retried_with_backoff_then_sent(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _invite(tree, count=1)
    gateway.plan("503", "429")
    await _queue_and_send(host, conference)
    assert [request["outcome"] for request in gateway.requests] == ["503", "429", "ok"]
    assert (await _messages())[0]["status"] == "sent"


async def test_an_unlisted_provider_code_is_retried_and_a_gateway_down_requeues(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _invite(tree, count=1)
    gateway.plan("code:999", "503", "503")
    await _queue_and_send(host, conference)
    assert len(gateway.requests) == 3  # three attempts, then back to the queue
    message = (await _messages())[0]
    assert message["status"] == "queued" and "tạm thời" in message["error"] and "đã thử 3 lần" in message["error"]
    assert message["send_after"] == clock.now() + __import__("datetime").timedelta(seconds=120)
    retry_job = await Job.select().where((Job.kind == "send_messages") & (Job.run_at == message["send_after"])).first()
    assert retry_job is not None and retry_job["status"] == "pending"
    clock.set_now(message["send_after"])
    await jobs.run_due_jobs(jobs.all_job_handlers(host))
    assert (await _messages())[0]["status"] == "sent" and len(gateway.requests) == 4


async def test_a_refused_connection_is_transient(db, configure_sms):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tree = await make_tree()
    host = configure_sms({"preset": "esms_json", "url": f"http://127.0.0.1:{port}/esms", "api_key": "KEY-123456",
                          "rate_per_second": 1000})
    conference, group = await _invite(tree, count=1)
    await _queue_and_send(host, conference)
    message = (await _messages())[0]
    assert message["status"] == "queued" and "Không kết nối được cổng SMS" in message["error"]


async def test_permanent_codes_fail_at_once(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _invite(tree, count=2)
    gateway.plan("code:101")
    await _queue_and_send(host, conference)
    assert len(gateway.requests) == 2  # no retry of the refused one
    refused, sent = await _messages()
    assert refused["status"] == "failed" and refused["error"] == "Cổng SMS từ chối tin (mã 101): Sai ApiKey hoặc SecretKey"
    assert sent["status"] == "sent"


async def test_a_twilio_4xx_with_a_listed_code_fails(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(twilio(gateway))
    conference, group = await _invite(tree, count=1)
    gateway.plan("code:21211")
    await _queue_and_send(host, conference)
    message = (await _messages())[0]
    assert message["status"] == "failed" and "mã 21211" in message["error"] and len(gateway.requests) == 1


@pytest.mark.parametrize("outcome", ["hang", "500", "drop"])
async def test_no_answer_after_the_request_leaves_the_message_unknown(db, gateway, configure_sms, outcome):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    gateway.hang_seconds = 1.5
    conference, group = await _invite(tree, count=1)
    gateway.plan(outcome)
    await _queue_and_send(host, conference)
    message = (await _messages())[0]
    assert message["status"] == "unknown" and "chưa rõ" in message["error"]
    assert len(gateway.requests) == 1  # never resent blindly


async def test_a_get_gateway_dropping_a_reused_connection_is_never_sent_twice(db, gateway, configure_sms):
    """HTTP clients may resend an idempotent request (GET) when a kept-alive connection breaks;
    for an SMS gateway that would be a second message."""
    tree = await make_tree()
    host = configure_sms(esms(gateway, method="GET", url=f"{gateway.url}/esms?Phone={{{{to}}}}&Content={{{{text}}}}"))
    conference, group = await _invite(tree, count=2)
    gateway.plan("ok", "drop")  # the second request goes on the connection the first one opened
    await _queue_and_send(host, conference)
    assert [request["method"] for request in gateway.requests] == ["GET", "GET"]
    assert [m["status"] for m in await _messages()] == ["sent", "unknown"]


async def test_credentials_never_reach_logs_or_errors(db, gateway, configure_sms, caplog):
    tree = await make_tree()
    host = configure_sms(esms(gateway, url=f"{gateway.url}/esms?key={{{{api_key}}}}"))
    conference, group = await _invite(tree, count=2)
    gateway.plan("code:101", "503", "503", "503")
    with caplog.at_level(logging.DEBUG):
        await _queue_and_send(host, conference)
    assert gateway.requests[0]["query"]["key"] == "KEY-123456"  # it did go to the gateway
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "SMS gateway request POST http://127.0.0.1" in logged  # the request line was logged...
    assert "KEY-123456" not in logged and "SECRET-abcdef" not in logged  # ...without the key
    errors = " ".join(m["error"] for m in await _messages())
    assert "KEY-123456" not in errors and "SECRET-abcdef" not in errors


async def test_the_rate_limit_paces_requests(db, gateway, configure_sms):
    """On virtual time (it moves only while the gateway's pacer sleeps), so what reaches the
    gateway is held to the configured rate exactly, however loaded the machine is."""
    from plugins.sms.channel import gateway_for, settings_values

    tree = await make_tree()
    host = configure_sms(esms(gateway, rate_per_second=100))
    conference, group = await _invite(tree, count=30)
    pacer = gateway_for(settings_values()).pacer
    assert pacer.interval == 1 / 100
    virtual = VirtualTime()
    pacer.monotonic, pacer.sleep = virtual.monotonic, virtual.sleep
    gateway.clock = virtual.monotonic
    first = virtual.monotonic()
    await _queue_and_send(host, conference)
    arrivals = [request["at"] for request in gateway.requests]
    assert len(arrivals) == 30 and arrivals[0] == first  # the first at once: nothing to wait for
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:])]
    assert all(gap == pytest.approx(1 / 100) for gap in gaps)  # never two closer than 10 ms, none slower
    assert arrivals[-1] - first == pytest.approx(29 / 100)


async def test_a_campaign_larger_than_a_round_goes_on_in_further_rounds_of_the_job(db, gateway, configure_sms, monkeypatch):
    tree = await make_tree()
    host = configure_sms(esms(gateway, concurrency=2))
    conference, group = await _invite(tree, count=5)
    monkeypatch.setattr(notifications, "SEND_PER_JOB", 2)  # rounds of two instead of 2,000
    monkeypatch.setattr(notifications, "SEND_CHUNK", 1)  # chunks of one: each read while the previous sends
    await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    handlers = jobs.all_job_handlers(host)
    rounds = [await jobs.run_due_jobs(handlers) for _ in range(3)]
    assert [(r["done"], r["rescheduled"]) for r in rounds] == [(0, 1), (0, 1), (1, 0)]  # 2 + 2 + 1
    phones = sorted(request["json"]["Phone"] for request in gateway.requests)
    assert phones == [f"09120000{i:02d}" for i in range(5)]  # each once
    assert {m["status"] for m in await _messages()} == {"sent"}
    assert (await jobs.run_due_jobs(handlers))["done"] == 0  # nothing left to run


async def test_the_channel_is_offered_only_where_the_plugin_is_on(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway), default="off")
    conference, group = await _invite(tree, count=1)
    from core.errors import Conflict

    with pytest.raises(Conflict, match="chưa bật kênh"):
        await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    assert gateway.requests == []


# -- receipts ---------------------------------------------------------------------------------

async def test_receipts_settle_messages_and_wrong_secrets_are_not_found(db, gateway, configure_sms):
    from core.errors import NotFound
    from plugins.sms.channel import receipt_secret

    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _invite(tree, count=2)
    await _queue_and_send(host, conference)
    first, second = await _messages()
    unit = first["unit_id"]
    secret = receipt_secret(unit)
    assert await record_receipt(unit_id=unit, secret=secret, fields={"SMSID": "gw-1", "SendSuccess": "1", "SendFailed": "0"}) == {
        "status": "applied"}
    assert await record_receipt(unit_id=unit, secret=secret, fields={"SMSID": "gw-2", "SendStatus": "4", "SendFailed": "1"}) == {
        "status": "applied"}
    assert await record_receipt(unit_id=unit, secret=secret, fields={"SMSID": "gw-2", "SendStatus": "7"}) == {"status": "ignored"}
    assert await record_receipt(unit_id=unit, secret=secret, fields={"SMSID": "gw-1", "SendSuccess": "1"}) == {"status": "duplicate"}
    with pytest.raises(NotFound):
        await record_receipt(unit_id=unit, secret=receipt_secret(unit + 1), fields={"SMSID": "gw-1", "SendSuccess": "1"})
    first, second = await _messages()
    assert first["status"] == "delivered"
    assert second["status"] == "failed" and "không gửi được" in second["error"] and "SendStatus=4" in second["error"]


async def test_a_receipt_before_the_provider_id_is_kept_and_matched_by_the_job(db, gateway, configure_sms):
    from plugins.sms.channel import receipt_secret
    from plugins.sms.tables import SmsReceipt

    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _invite(tree, count=1)
    await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    message = (await _messages())[0]
    # the gateway took the message and called back before the core wrote "sent"
    await Message.update({Message.status: "sending", Message.sending_at: clock.now()}).where(Message.id == message["id"])
    fields = {"SMSID": "gw-77", "SendSuccess": "1", "ref": str(message["id"])}
    assert (await record_receipt(unit_id=message["unit_id"], secret=receipt_secret(message["unit_id"]), fields=fields))["status"] == "pending"
    assert await SmsReceipt.count() == 1
    await Message.update({Message.status: "sent", Message.provider_id: "gw-77"}).where(Message.id == message["id"])
    clock.set_now(clock.now() + __import__("datetime").timedelta(minutes=1))
    outcome = await jobs.run_due_jobs(jobs.all_job_handlers(host))
    assert outcome["done"] >= 1
    assert (await _messages())[0]["status"] == "delivered" and await SmsReceipt.count() == 0


async def test_an_unknown_message_adopts_the_provider_id_from_its_receipt(db, gateway, configure_sms):
    from plugins.sms.channel import receipt_secret

    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _invite(tree, count=1)
    await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    message = (await _messages())[0]
    # the worker died after the gateway took it: reconciliation marked it unknown, without an id
    await Message.update({Message.status: "unknown"}).where(Message.id == message["id"])
    fields = {"SMSID": "gw-5", "SendSuccess": "1", "ref": str(message["id"])}
    assert (await record_receipt(unit_id=message["unit_id"], secret=receipt_secret(message["unit_id"]), fields=fields))["status"] == "applied"
    settled = (await _messages())[0]
    assert settled["status"] == "delivered" and settled["provider_id"] == "gw-5"


# -- the campaign preview -----------------------------------------------------------------------

async def test_the_core_preview_carries_segments_cost_and_the_saving_without_diacritics(db, gateway, configure_sms):
    from core.plugins import set_plugin_setting
    from plugins.sms.channel import forget_unit_options

    tree = await make_tree()
    host = configure_sms(esms(gateway, cost_per_segment=800))
    conference, group = await _invite(tree, count=3)
    preview = await notifications.preview(SYSTEM, host, kind="invitation", conference_id=conference["id"], channel="sms")
    figures = preview["channel_figures"]
    assert preview["recipients"] == 3 and figures["recipients"] == 3
    assert figures["as_written"]["encoding"] == "ucs2" and figures["without_diacritics"]["encoding"] == "gsm7"
    per_message = figures["as_written"]["segments_per_message"]
    assert per_message >= 2 and figures["without_diacritics"]["segments_per_message"] < per_message
    assert preview["estimated_cost"] == figures["as_written"]["cost"] == 3 * per_message * 800
    assert figures["saving"]["segments"] > 0 and figures["saving"]["cost"] == figures["saving"]["segments"] * 800

    await set_plugin_setting(host, SYSTEM, unit_id=tree["province"]["id"], plugin="sms", key="without_diacritics", value=True)
    forget_unit_options()
    folded = await notifications.preview(SYSTEM, host, kind="invitation", conference_id=conference["id"], channel="sms")
    assert folded["channel_figures"]["fold"] is True and folded["estimated_cost"] == figures["without_diacritics"]["cost"]


async def test_the_pages_preview_lines_show_the_same_segments_and_saving(db, gateway, configure_sms):
    """notification_preview_parts: what the notification pages print beside a preview."""
    from web.hook_parts import preview_parts

    tree = await make_tree()
    host = configure_sms(esms(gateway, cost_per_segment=800))
    body = "Kính mời đồng chí Nguyễn Văn An dự Hội nghị báo cáo viên tháng 3 lúc 08:00 ngày 12/03/2030 tại Hội trường Tỉnh ủy."
    parts = {part["label"]: part["value"] for part in await preview_parts(host, tree["province"], channel="sms", subject="",
                                                                         body=body, recipients=1000)}
    assert parts["Số tin mỗi người (mã hoá ucs2)"] == "2" and parts["Tổng số tin"] == "2.000"
    assert parts["Chi phí ước tính"] == "1.600.000" and parts["Gửi không dấu sẽ tiết kiệm"] == "1.000 tin (50%)"
    assert await preview_parts(host, tree["province"], channel="email", subject="", body=body, recipients=1) == []


async def test_a_slow_channel_ends_its_round_within_the_time_budget_and_goes_on_in_the_next(db, gateway, configure_sms,
                                                                                              monkeypatch):
    """On virtual time: a gateway paced at 8/s and rounds of 1 s (instead of half the 5-minute
    lease) send 9 messages a round (t = 0 .. 1.0) and leave the rest queued, never claimed."""
    from plugins.sms.channel import gateway_for, settings_values

    tree = await make_tree()
    host = configure_sms(esms(gateway, rate_per_second=8))
    conference, group = await _invite(tree, count=20)
    virtual = VirtualTime()
    pacer = gateway_for(settings_values()).pacer
    pacer.monotonic, pacer.sleep = virtual.monotonic, virtual.sleep
    monkeypatch.setattr(notifications, "ROUND_CLOCK", virtual.monotonic)
    monkeypatch.setattr(jobs, "SEND_ROUND_SECONDS", 1.0)
    await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    handlers = jobs.all_job_handlers(host)
    first = await jobs.run_due_jobs(handlers)
    assert first["rescheduled"] == 1 and len(gateway.requests) == 9  # starts at 0, 0.125, ..., 1.0: then out of time
    statuses = [m["status"] for m in await _messages()]
    assert statuses.count("sent") == 9 and statuses.count("queued") == 11  # the rest untouched, none left sending
    second = await jobs.run_due_jobs(handlers)
    assert second["rescheduled"] == 1 and len(gateway.requests) == 17  # 1.125 .. 2.0 s
    assert (await jobs.run_due_jobs(handlers))["done"] == 1 and len(gateway.requests) == 20  # the last 3, in time: done
    phones = sorted(request["json"]["Phone"] for request in gateway.requests)
    assert phones == sorted(f"09120000{i:02d}" for i in range(20))  # each once
    assert {m["status"] for m in await _messages()} == {"sent"}
