"""The email plugin against a real SMTP server on 127.0.0.1 (aiosmtpd), through the core's send path."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from core import clock, jobs, notifications
from core.hookspecs import hookimpl
from core.plugins import set_plugin_setting
from core.services import conferences, people
from core.tables import Message, NotificationOptOut
from plugins.email.channel import unsubscribe_path
from tests.conftest import PROJECT_ROOT
from tests.core.flows import local, make_conference
from tests.factories import SYSTEM, make_tree
from tests.plugins.email.conftest import smtp
from tests.plugins.email.mailserver import running_mailserver, self_signed
from tests.servers import running_server


async def _invite(tree, count=2):
    group = [await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name=f"Lê Văn Đạt {i}", categories=["briefer"],
                                        email=f"dat{i}@xa.example.vn") for i in range(count)]
    conference = await make_conference(tree, start=local(2026, 3, 10, 8))
    await conferences.publish_conference(SYSTEM, conference["id"])
    clock.set_now(local(2026, 3, 9, 10))
    return conference, group


async def _send(host, conference, kind="invitation"):
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind=kind, conference_id=conference["id"])
    await notifications.send_due(host)
    return counts


class CalendarPlugin:
    """A throw-away plugin standing for the calendar plugin: one .ics per message."""

    @hookimpl
    def message_attachments(self, message):
        return [{"filename": "hoi-nghi.ics", "content_type": 'text/calendar; charset="utf-8"; method=REQUEST',
                 "data": f"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nX-MESSAGE:{message['id']}\r\nEND:VCALENDAR\r\n".encode()}]


async def test_an_invitation_is_mailed_with_both_bodies_headers_and_the_units_sender(db, mailserver, configure_email):
    tree = await make_tree()
    host = configure_email(smtp(mailserver, message_id_domain="hoinghi.example.vn"))
    conference, group = await _invite(tree)
    await set_plugin_setting(host, SYSTEM, unit_id=tree["province"]["id"], plugin="email", key="unit_from_address",
                             value="bantuyengiao@tinh.example.vn")
    await set_plugin_setting(host, SYSTEM, unit_id=tree["province"]["id"], plugin="email", key="unit_from_name", value="Ban Tuyên giáo Tỉnh")
    counts = await _send(host, conference)
    assert counts["queued"] == 2 and len(mailserver.mails) == 2 and mailserver.logins == ["hoinghi", "hoinghi"]
    mail = mailserver.mails[0]
    parsed = mail["message"]
    assert mail["to"] == ["dat0@xa.example.vn"] and mail["from"] == "bantuyengiao@tinh.example.vn"
    assert parsed["From"] == "Ban Tuyên giáo Tỉnh <bantuyengiao@tinh.example.vn>"
    assert parsed["Subject"].startswith("Giấy mời: ")
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert "Lê Văn Đạt 0" in text and "Lê Văn Đạt 0" in html and '<a href="http' in html
    assert parsed["Message-ID"].endswith("@hoinghi.example.vn>")
    messages = await Message.select().order_by(Message.id)
    assert [m["status"] for m in messages] == ["sent", "sent"]  # final: mail has no receipts
    assert messages[0]["provider_id"] == parsed["Message-ID"].strip().strip("<>")
    unsubscribe = parsed["List-Unsubscribe"]
    assert unsubscribe_path(messages[0]["unit_id"], group[0]["id"]) in unsubscribe and "mailto:bantuyengiao@tinh.example.vn" in unsubscribe
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_a_one_time_code_is_no_campaign(db, mailserver, configure_email):
    tree = await make_tree()
    host = configure_email(smtp(mailserver))
    conference, group = await _invite(tree, count=1)
    # email cannot carry codes (no "one_time_codes" capability): the core refuses it
    from core.errors import Conflict

    with pytest.raises(Conflict):
        await notifications.send_one_time_code(host, person_id=group[0]["id"], code="123456", purpose="login")
    channel = notifications.channels(host)["email"]
    mail = await channel.build({"id": 9, "kind": "one_time_code", "unit_id": None, "person": group[0]["id"], "address": "a@b.vn",
                                "subject": "Mã", "body": "Mã: 123456"}, [])
    assert mail["List-Unsubscribe"] is None and mail["From"] == "Ban Tuyên giáo <thongbao@tinhuy.example.vn>"


async def test_attachments_from_the_hook_travel_with_their_method(db, mailserver, configure_email):
    tree = await make_tree()
    host = configure_email(smtp(mailserver), extra=[("calendar_stub", CalendarPlugin())])
    conference, group = await _invite(tree, count=1)
    await _send(host, conference)
    parsed = mailserver.mails[0]["message"]
    attachment = next(parsed.iter_attachments())
    assert attachment.get_filename() == "hoi-nghi.ics" and attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    message = await Message.select().first()
    assert f"X-MESSAGE:{message['id']}" in attachment.get_content()


async def test_a_busy_mailbox_is_retried_and_an_unknown_one_fails(db, mailserver, configure_email):
    tree = await make_tree()
    host = configure_email(smtp(mailserver, requeue_seconds=60))
    conference, group = await _invite(tree, count=2)
    mailserver.plan("451", "250", "550")
    await _send(host, conference)
    first, second = await Message.select().order_by(Message.id)
    assert first["status"] == "sent" and len(mailserver.mails) == 1
    assert second["status"] == "failed" and "550" in second["error"] and "No such user" in second["error"]

    mailserver.plan("451", "451", "451")
    await notifications.queue_conference_messages(SYSTEM, host, kind="reminder", conference_id=conference["id"])
    await notifications.send_due(host)
    busy = (await Message.select().where(Message.kind == "reminder").order_by(Message.id))[0]
    assert busy["status"] == "queued" and "451" in busy["error"] and "đã thử 3 lần" in busy["error"]
    clock.set_now(busy["send_after"])
    await jobs.run_due_jobs(jobs.all_job_handlers(host))
    assert (await Message.select(Message.status).where(Message.id == busy["id"]).first())["status"] == "sent"


async def test_a_refused_connection_requeues_and_the_password_stays_out_of_logs(db, configure_email, caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tree = await make_tree()
    host = configure_email({"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none", "smtp_username": "hoinghi",
                            "smtp_password": "mail-pass-4242", "from_address": "a@tinh.example.vn", "retry_base_ms": 5})
    conference, group = await _invite(tree, count=1)
    caplog.set_level(logging.DEBUG)
    await _send(host, conference)
    message = await Message.select().first()
    assert message["status"] == "queued" and "Không kết nối được máy chủ thư" in message["error"]
    assert "mail-pass-4242" not in caplog.text


async def test_wrong_credentials_fail_without_showing_them(db, mailserver, configure_email):
    tree = await make_tree()
    host = configure_email(smtp(mailserver, smtp_password="wrong-pass-1"))
    conference, group = await _invite(tree, count=1)
    await _send(host, conference)
    message = await Message.select().first()
    assert message["status"] == "failed" and "tài khoản" in message["error"] and "wrong-pass-1" not in message["error"]


async def test_starttls_with_credentials(db, configure_email, tmp_path):
    tree = await make_tree()
    with running_mailserver(auth=True, tls_context=self_signed(tmp_path)) as server:
        host = configure_email(smtp(server, smtp_security="starttls", smtp_validate_certs=False))
        conference, group = await _invite(tree, count=1)
        await _send(host, conference)
        assert len(server.mails) == 1 and server.mails[0]["tls"] is True and server.logins == ["hoinghi"]
        # without STARTTLS the server refuses to take mail
        host = configure_email(smtp(server, smtp_security="none"))
        await notifications.queue_conference_messages(SYSTEM, host, kind="reminder", conference_id=conference["id"])
        await notifications.send_due(host)
        refused = await Message.select().where(Message.kind == "reminder").first()
        assert refused["status"] in ("failed", "queued") and len(server.mails) == 1


async def test_the_unit_with_the_plugin_off_gets_no_mail(db, mailserver, configure_email):
    tree = await make_tree()
    host = configure_email(smtp(mailserver))
    conference, group = await _invite(tree, count=1)
    await host.set_state(SYSTEM, tree["province"]["id"], "email", "off")
    from core.errors import Conflict

    with pytest.raises(Conflict, match="chưa bật kênh"):
        await _send(host, conference)
    assert mailserver.mails == [] and await Message.count() == 0


async def test_one_click_unsubscribe_over_http(db, mailserver, configure_email, tmp_path):
    tree = await make_tree()
    host = configure_email(smtp(mailserver))
    conference, group = await _invite(tree, count=2)
    env = {"HOINGHI_PLUGINS_TOML": str(tmp_path / "plugins.toml"), "HOINGHI_NO_WORKER": "1"}
    if db.engine_type == "postgres":
        env["DATABASE_URL"] = db.config["dsn"]
    else:
        env.update({"HOINGHI_VAR_DIR": str(tmp_path), "DATABASE_URL": ""})
    with running_server(env, cwd=str(PROJECT_ROOT)) as base_url:
        path = unsubscribe_path(conference["unit"], group[0]["id"])
        assert httpx.post(base_url + path[:-3] + "xyz").status_code == 404
        with_cookie = httpx.post(base_url + path, cookies={"session": "x"})
        assert with_cookie.status_code == 422 and "phiên đăng nhập" in with_cookie.json()["error"]
        answer = httpx.post(base_url + path, data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 200 and answer.json() == {"status": "unsubscribed"}
        assert httpx.post(base_url + path).status_code == 200  # again: nothing changes
    assert await NotificationOptOut.count().where(NotificationOptOut.person == group[0]["id"]) == 1
    counts = await _send(host, conference)
    assert counts["queued"] == 1 and counts["opted_out"] == 1
    assert [mail["to"] for mail in mailserver.mails] == [["dat1@xa.example.vn"]]
