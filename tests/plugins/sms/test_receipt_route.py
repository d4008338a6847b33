"""Delivery receipts over real HTTP: the gateway calls back the served app, which settles the message."""

from __future__ import annotations

import httpx
import pytest

from core.tables import Message
from plugins.sms.channel import receipt_path
from tests.conftest import PROJECT_ROOT
from tests.factories import SYSTEM, make_tree
from tests.plugins.sms.conftest import esms, twilio, write_plugins_toml
from tests.plugins.sms.test_http_gateway import _invite, _messages, _queue_and_send
from tests.servers import running_server


@pytest.fixture
def served(db, tmp_path, gateway):
    """The app served over the test's own database, with the sms plugin configured for ``gateway``."""

    def serve(settings: dict):
        toml = tmp_path / "served-plugins.toml"
        write_plugins_toml(toml, settings)
        env = {"HOINGHI_PLUGINS_TOML": str(toml), "HOINGHI_NO_WORKER": "1"}
        if db.engine_type == "postgres":
            env["DATABASE_URL"] = db.config["dsn"]
        else:
            env.update({"HOINGHI_VAR_DIR": str(tmp_path), "DATABASE_URL": ""})
        return running_server(env, cwd=str(PROJECT_ROOT))

    return serve


async def test_the_gateway_calls_back_and_the_message_is_delivered(db, gateway, configure_sms, served):
    tree = await make_tree()
    with served(esms(gateway)) as base_url:
        host = configure_sms(esms(gateway, public_url=base_url))
        conference, group = await _invite(tree, count=2)
        await _queue_and_send(host, conference)
        delivered, refused = gateway.requests
        assert delivered["json"]["CallbackUrl"].startswith(f"{base_url}/api/v1/sms/units/")
        answer = gateway.deliver(delivered)
        assert answer.status_code == 200 and answer.json() == {"status": "applied"}
        assert gateway.deliver(refused, delivered=False).json() == {"status": "applied"}
        first, second = await _messages()
        assert first["status"] == "delivered" and first["delivered_at"] is not None
        assert second["status"] == "failed" and "không gửi được" in second["error"]

        wrong = delivered["json"]["CallbackUrl"].replace("/receipts/", "/receipts/x")
        assert httpx.get(wrong, params={"SMSID": "gw-1", "SendSuccess": "1"}).status_code == 404
        other_unit = base_url + receipt_path(tree["commune_b1"]["id"]).replace("/receipts/", "/receipts/0")
        assert httpx.get(other_unit, params={"SMSID": "gw-1"}).status_code == 404
        missing_id = httpx.get(delivered["json"]["CallbackUrl"], params={"SendSuccess": "1"})
        assert missing_id.status_code == 422 and "thiếu mã tin nhắn" in missing_id.json()["error"]

        # a session cookie is refused (the route is CSRF-exempt: only the URL's secret counts)
        with_cookie = httpx.get(delivered["json"]["CallbackUrl"], params={"SMSID": "gw-1", "SendSuccess": "1"},
                                cookies={"session": "x"})
        assert with_cookie.status_code == 422 and "phiên đăng nhập" in with_cookie.json()["error"]

        # switched off for the unit: its receipt URL answers as if it did not exist
        await host.set_state(SYSTEM, first["unit_id"], "sms", "off")
        assert gateway.deliver(delivered).status_code == 404


async def test_a_form_posted_receipt_needs_no_csrf_token(db, gateway, configure_sms, served):
    tree = await make_tree()
    with served(twilio(gateway)) as base_url:
        host = configure_sms(twilio(gateway, public_url=base_url))
        conference, group = await _invite(tree, count=1)
        await _queue_and_send(host, conference)
        answer = gateway.deliver(gateway.requests[0], delivered=False)
        assert answer.status_code == 200, answer.text
        message = (await _messages())[0]
        assert message["status"] == "failed" and "MessageStatus=undelivered" in message["error"] and "ErrorCode=30003" in message["error"]
        assert await Message.count() == 1
