"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records every mail and refuses on demand:
``plan("451")`` answers a recipient with 451 (try later), ``plan("550")`` with 550 (no such
user); optionally AUTH (any TLS state) and STARTTLS with a throw-away self-signed certificate."""

from __future__ import annotations

import collections
import contextlib
import email
import email.policy
import ssl
import subprocess

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Recorder:
    def __init__(self):
        self.mails: list[dict] = []
        self.planned: collections.deque[str] = collections.deque()
        self.logins: list[str] = []

    def plan(self, *codes: str) -> None:
        self.planned.extend(codes)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self.planned.popleft() if self.planned else "250"
        if code == "451":
            return "451 4.3.0 Mailbox busy, try again later"
        if code == "550":
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": parsed,
                           "tls": session.ssl is not None})
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
        password = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
        self.logins.append(login)
        ok = login == "hoinghi" and password == "mail-pass-4242"
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 235 or 535 itself


def self_signed(tmp_path) -> ssl.SSLContext:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@contextlib.contextmanager
def running_mailserver(*, auth: bool = False, tls_context: ssl.SSLContext | None = None):
    recorder = Recorder()
    options = {}
    if auth:
        options.update(authenticator=recorder.authenticate, auth_require_tls=tls_context is not None)
    if tls_context is not None:
        options.update(tls_context=tls_context, require_starttls=True)
    from tests.servers import free_port

    recorder.port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=recorder.port, **options)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()
