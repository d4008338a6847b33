"""The email channel: one message of the core's notification service as one mail over SMTP.

The text body is the template the core rendered; the HTML body is that text in the plugin's
template (escaped, links made clickable, line breaks kept). Attachments come from the
``message_attachments`` hook (the calendar plugin's .ics travels as ``text/calendar`` with its
``method``). Headers a bulk sender needs: a Message-ID of our domain, and for campaigns (every
kind but one-time codes) List-Unsubscribe with a signed one-click link (RFC 8058) and the
deployment's mailbox.

How SMTP failures reach the core (see ``core.notifications``): nothing was accepted and the
server said try later (4xx, refused connection, timeout while connecting) -> retried here with
backoff, then :class:`TransientSendError`; a 5xx refusal -> :class:`SendError`; the connection
broke after the data was sent, before the server's answer -> :class:`UncertainSendError`. Mail
has no delivery receipt: ``sent`` is final. The password never appears in an error or a log.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import html
import logging
import re
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

import jinja2

from core.config import get_settings
from core.errors import Label
from core.notifications import SendError, TransientSendError, UncertainSendError
from core.pacing import Pacer
from plugins.email.settings import PLUGIN, sender_for

log = logging.getLogger("hoinghi.email")
MAX_BACKOFF_SECONDS = 30.0
BULK_EXEMPT_KINDS = frozenset({"one_time_code"})  # a code the person asked for is not a campaign
_LINK = re.compile(r"(https?://[^\s<>\"]+)")
_templates = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                                autoescape=jinja2.select_autoescape(["html"]), keep_trailing_newline=True)


def unsubscribe_token(person_id: int) -> str:
    """The secret of a person's one-click unsubscribe link: an HMAC of the deployment key."""
    digest = hmac.new(get_settings().secret_key, f"email_unsubscribe:person:{person_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def unsubscribe_path(unit_id: int, person_id: int) -> str:
    return f"/api/v1/email/units/{unit_id}/unsubscribe/{person_id}/{unsubscribe_token(person_id)}"


def html_body(text: str, subject: str) -> str:
    """The text as HTML: escaped, each link clickable, line breaks kept."""
    paragraphs = []
    for block in text.split("\n\n"):
        escaped = html.escape(block)
        linked = _LINK.sub(lambda match: f'<a href="{match.group(1)}">{match.group(1)}</a>', escaped)
        paragraphs.append(linked.replace("\n", "<br>\n"))
    return _templates.get_template("email/message.html").render(subject=subject, paragraphs=paragraphs)


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


_pacers: dict[tuple, Pacer] = {}  # one per SMTP server and process


class _Later(Exception):
    """Nothing was accepted and the server may take it later: retried with backoff."""


@dataclasses.dataclass
class EmailChannel:
    """Channel ``email``: email addresses, attachments; no receipts."""

    values: dict
    name: str = "email"
    label: str = Label("Thư điện tử")
    capabilities: frozenset[str] = frozenset({"attachments"})
    cost_per_message: float = 0.0
    plugin: str | None = PLUGIN

    def address_for(self, person: dict) -> str | None:
        return person.get("email") or None

    @property
    def secrets(self) -> tuple[str, ...]:
        password = self.values.get("smtp_password") or ""
        return (password,) if len(password) >= 4 else ()

    async def build(self, message: dict, attachments: list[dict]) -> EmailMessage:
        unit_path = None
        if message.get("unit_id"):
            from core.services.units import get_unit

            unit_path = (await get_unit(message["unit_id"]))["path"]
        sender = await sender_for(unit_path, self.values)
        mail = EmailMessage()
        mail["From"] = formataddr((sender.name, sender.address)) if sender.name else sender.address
        mail["To"] = message["address"]
        if sender.reply_to:
            mail["Reply-To"] = sender.reply_to
        mail["Subject"] = message["subject"] or message["kind"]
        domain = self.values.get("message_id_domain") or sender.address.rpartition("@")[2] or "hoinghi.invalid"
        mail["Message-ID"] = make_msgid(idstring=f"hoinghi.{message['id']}", domain=domain)
        mail["X-Hoinghi-Message"] = str(message["id"])
        if message["kind"] not in BULK_EXEMPT_KINDS:
            targets = []
            if message.get("person") and message.get("unit_id"):
                targets.append(f"<{get_settings().public_url}{unsubscribe_path(message['unit_id'], message['person'])}>")
            mailbox = self.values.get("unsubscribe_mailto") or sender.address
            targets.append(f"<mailto:{mailbox}?subject=unsubscribe>")
            mail["List-Unsubscribe"] = ", ".join(targets)
            if len(targets) == 2:
                mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            mail["Precedence"] = "bulk"
            mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message["body"])
        mail.add_alternative(html_body(message["body"], message["subject"]), subtype="html")
        for attachment in attachments:
            maintype, _, subtype = (attachment.get("content_type") or "application/octet-stream").partition(";")[0].partition("/")
            params = {}
            method = re.search(r"method=([A-Za-z]+)", attachment.get("content_type") or "")
            if method:
                params["method"] = method.group(1)
            mail.add_attachment(attachment["data"], maintype=maintype.strip(), subtype=subtype.strip(),
                                filename=attachment.get("filename") or "attachment", params=params)
        return mail

    async def _deliver(self, mail: EmailMessage, options: dict) -> str:
        """One SMTP session. Before DATA nothing can have been accepted, so a failure there is
        transient (:class:`_Later`) or permanent; after it, the answer decides or it is uncertain."""
        import aiosmtplib

        credentials = (options.pop("username", None), options.pop("password", None))
        smtp = aiosmtplib.SMTP(**options)
        try:
            try:
                await smtp.connect()
                if credentials[0]:
                    await smtp.login(*credentials)
            except aiosmtplib.SMTPAuthenticationError as error:
                raise SendError(f"Máy chủ thư không chấp nhận tài khoản ({error.code})") from None
            except aiosmtplib.SMTPResponseException as error:
                if 400 <= error.code < 500:
                    raise _Later(f"Máy chủ thư tạm thời không nhận thư ({error.code})") from None
                raise SendError(f"Máy chủ thư từ chối kết nối ({error.code}: {_redact(error.message, self.secrets)[:200]})") from None
            except (aiosmtplib.SMTPException, OSError) as error:
                raise _Later(f"Không kết nối được máy chủ thư ({type(error).__name__})") from None
            try:
                await smtp.send_message(mail)
            except aiosmtplib.SMTPRecipientsRefused as error:
                refusal = next(iter(error.recipients), None)
                if refusal is not None and 400 <= refusal.code < 500:
                    raise _Later(f"Máy chủ thư tạm thời không nhận người nhận ({refusal.code})") from None
                raise SendError(f"Máy chủ thư từ chối địa chỉ nhận ({refusal.code if refusal else '?'}: "
                                f"{_redact(refusal.message if refusal else '', self.secrets)[:200]})") from None
            except aiosmtplib.SMTPResponseException as error:
                if 400 <= error.code < 500:
                    raise _Later(f"Máy chủ thư tạm thời không nhận thư ({error.code})") from None
                raise SendError(f"Máy chủ thư từ chối thư ({error.code}: {_redact(error.message, self.secrets)[:200]})") from None
            except (aiosmtplib.SMTPException, OSError) as error:
                raise UncertainSendError(f"Mất kết nối máy chủ thư khi đang gửi ({type(error).__name__}): "
                                         "chưa rõ thư đã được nhận hay chưa") from None
            return mail["Message-ID"].strip().strip("<>")
        finally:
            smtp.close()

    def _smtp_options(self) -> dict:
        values = self.values
        security = (values.get("smtp_security") or "starttls").lower()
        context = ssl.create_default_context()
        if not values.get("smtp_validate_certs", True):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        options = {"hostname": values["smtp_host"], "port": int(values.get("smtp_port") or 587),
                   "timeout": int(values.get("timeout_seconds") or 30), "use_tls": security == "tls",
                   "start_tls": True if security == "starttls" else False, "tls_context": context if security != "none" else None,
                   "validate_certs": bool(values.get("smtp_validate_certs", True))}
        if values.get("smtp_username"):
            options["username"] = values["smtp_username"]
            options["password"] = values.get("smtp_password") or ""
        return options

    async def send(self, message: dict, attachments: list[dict]) -> str | None:
        mail = await self.build(message, attachments)
        options = self._smtp_options()
        key = (options["hostname"], options["port"])
        pacer = _pacers.setdefault(key, Pacer(max(float(self.values.get("rate_per_second") or 10), 0.001)))
        attempts = max(int(self.values.get("retry_attempts") or 3), 1)
        reason = ""
        for attempt in range(1, attempts + 1):
            await pacer.wait()
            try:
                return await self._deliver(mail, dict(options))
            except _Later as later:
                reason = str(later)
            if attempt < attempts:
                await asyncio.sleep(min(int(self.values.get("retry_base_ms") or 1000) / 1000 * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS))
        raise TransientSendError(f"{reason} (đã thử {attempts} lần, sẽ gửi lại sau)",
                                 retry_after=float(self.values.get("requeue_seconds") or 600))
