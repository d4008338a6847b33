"""The ``smpp`` backend: a carrier's brandname connection over SMPP 3.4.

One persistent bound session (transceiver) per backend configuration and event loop, through
``smpp34`` (an asyncio client whose framing, sequence window and SMPP timers — enquire_link
keepalives, response timeouts — run in its Rust core). Around it this module adds what a
carrier's contract asks for:

* a **throughput window**: at most ``smpp_window`` submit_sm awaiting their submit_sm_resp,
  and at most ``rate_per_second`` submit_sm started per second (both per process);
* **reconnect with backoff**: a dropped session is noticed (``Disconnected`` on the reader, or a
  failed submit) and bound again after 0.5 s, 1 s, 2 s ... at most ``smpp_reconnect_max_seconds``;
  the reader reconnects on its own so receipts keep coming between campaigns;
* **data coding**: text that fits GSM 03.38 goes with ``smpp_data_coding`` (0 = SMSC default,
  sent as unpacked GSM 03.38 septets; 1 = IA5/ASCII; 3 = Latin-1), anything else as UCS-2 with
  ``smpp_ucs2_data_coding`` (8). "SMSC default" is not guaranteed to be GSM-7 by every carrier:
  set the coding the contract names;
* **long messages** cut into parts (153 septets / 67 UCS-2 characters) and concatenated with a
  user data header (IEI 0x00, 8-bit reference), ``esm_class`` 0x40;
* **receipts**: every part is a row of ``sms_segment`` written *before* its submit_sm (the caller
  does that, see ``services.submit_message_smpp``), so a deliver_sm receipt that overtakes its
  submit_sm_resp is kept and matched as soon as the id is known; one receipt per part.

Failure classes, as the core expects (``core.notifications``): a submit_sm_resp with a
transient status (throttled, queue full, system error by default) is retried with backoff, then
:class:`TransientSendError`; any other error status is permanent (:class:`SendError`); a session
lost while a part awaited its resp is resubmitted on the new session when
``smpp_resubmit_unacknowledged`` is on (as Kannel does: an SMSC commits a message when it
answers), else the message becomes ``unknown``. The password never appears in an error or a log.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import re
import weakref
from typing import Awaitable, Callable

from core.notifications import SendError, TransientSendError, UncertainSendError
from plugins.sms import encoding
from core.pacing import Pacer
from plugins.sms.http_gateway import MAX_BACKOFF_SECONDS, redact

log = logging.getLogger("hoinghi.sms.smpp")

# command_status values (SMPP 3.4, 5.1.3) an SMSC answers when it cannot take a message *now*
DEFAULT_TRANSIENT_STATUSES = (0x08, 0x14, 0x58, 0x64)  # RSYSERR, RMSGQFUL, RTHROTTLED, RX_T_APPN
STATUS_NAMES = {0x01: "ESME_RINVMSGLEN", 0x08: "ESME_RSYSERR", 0x0A: "ESME_RINVSRCADR", 0x0B: "ESME_RINVDSTADR",
                0x0E: "ESME_RINVPASWD", 0x14: "ESME_RMSGQFUL", 0x45: "ESME_RSUBMITFAIL", 0x58: "ESME_RTHROTTLED",
                0x64: "ESME_RX_T_APPN", 0xFF: "ESME_RUNKNOWNERR"}
GSM_CODINGS = {0: "gsm7", 1: "ascii", 3: "latin1"}

# GSM 03.38 default alphabet in code order (0x1B is the escape to the extension table)
_GSM_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
              "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_CODE = {char: index for index, char in enumerate(_GSM_BASIC) if char != "\x1b"}
_GSM_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65}


def gsm7_bytes(text: str) -> bytes:
    """Unpacked GSM 03.38: one octet per septet, extension characters as ESC + code."""
    out = bytearray()
    for char in text:
        if char in _GSM_CODE:
            out.append(_GSM_CODE[char])
        else:
            out += bytes((0x1B, _GSM_EXTENSION[char]))
    return bytes(out)


@dataclasses.dataclass(frozen=True)
class Part:
    number: int  # 1-based
    total: int
    data_coding: int
    esm_class: int
    short_message: bytes
    text: str


_references = itertools.count(1)


def encode_parts(text: str, *, gsm_coding: int = 0, ucs2_coding: int = 8, reference: int | None = None) -> list[Part]:
    """``text`` as the submit_sm bodies that carry it: one part, or several with a UDH."""
    alphabet = encoding.encoding_of(text)
    if alphabet == "gsm7" and GSM_CODINGS.get(gsm_coding) in ("ascii", "latin1"):
        try:
            text.encode(GSM_CODINGS[gsm_coding])
        except UnicodeEncodeError:
            alphabet = "ucs2"  # € and Greek capitals are GSM-7 but not Latin-1: UCS-2 carries them
    pieces = encoding.split_parts(text, alphabet) or [""]
    if alphabet == "ucs2":
        coding, encode = ucs2_coding, (lambda piece: piece.encode("utf-16-be"))
    elif GSM_CODINGS.get(gsm_coding) in ("ascii", "latin1"):
        coding, encode = gsm_coding, (lambda piece: piece.encode(GSM_CODINGS[gsm_coding]))
    else:
        coding, encode = gsm_coding, gsm7_bytes
    if len(pieces) == 1:
        return [Part(1, 1, coding, 0x00, encode(pieces[0]), pieces[0])]
    ref = (reference if reference is not None else next(_references)) % 256
    total = len(pieces)
    return [Part(number, total, coding, 0x40, bytes((0x05, 0x00, 0x03, ref, total, number)) + encode(piece), piece)
            for number, piece in enumerate(pieces, start=1)]


_RECEIPT_FIELD = re.compile(r"(id|stat|err):(\S*)", re.IGNORECASE)
DELIVERED_STATES = {"DELIVRD"}
FAILED_STATES = {"UNDELIV", "REJECTD", "EXPIRED", "DELETED", "UNKNOWN"}
MESSAGE_STATES = {2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 7: "UNKNOWN", 8: "REJECTD"}


@dataclasses.dataclass(frozen=True)
class SmppReceipt:
    provider_id: str
    delivered: bool | None  # None: an intermediate state (ENROUTE, ACCEPTD)
    state: str
    error: str


def parse_receipt(event) -> SmppReceipt | None:
    """A deliver_sm that is a delivery receipt (esm_class bit 2), read from its TLVs
    (receipted_message_id, message_state) or else the SMSC's ``id:... stat:... err:...`` text."""
    if not (event.esm_class & 0x04):
        return None  # a mobile-originated message: not ours to read
    import smpp34

    fields = {match.group(1).lower(): match.group(2) for match in _RECEIPT_FIELD.finditer(
        bytes(event.short_message).decode("latin-1"))}
    for tlv in event.tlvs:
        if tlv.tag == smpp34.TLV_RECEIPTED_MESSAGE_ID:
            fields["id"] = (tlv.as_string() or bytes(tlv.value).rstrip(b"\0").decode("latin-1"))
        elif tlv.tag == smpp34.TLV_MESSAGE_STATE and tlv.as_int() is not None:
            fields.setdefault("stat", MESSAGE_STATES.get(tlv.as_int(), str(tlv.as_int())))
    if not fields.get("id"):
        return None
    state = (fields.get("stat") or "").upper()
    delivered = True if state in DELIVERED_STATES else False if state in FAILED_STATES else None
    return SmppReceipt(provider_id=fields["id"][:255], delivered=delivered, state=state, error=fields.get("err", ""))


@dataclasses.dataclass(frozen=True)
class SmppConfig:
    host: str
    port: int
    system_id: str
    password: str = ""
    system_type: str = ""
    window: int = 10
    rate_per_second: int = 20
    source_ton: int = 5  # alphanumeric: a brandname
    source_npi: int = 0
    dest_ton: int = 1  # international
    dest_npi: int = 1  # E.164
    data_coding: int = 0
    ucs2_data_coding: int = 8
    transient_statuses: frozenset[int] = frozenset(DEFAULT_TRANSIENT_STATUSES)
    retry_attempts: int = 3
    retry_base_ms: int = 500
    requeue_seconds: int = 300
    timeout_seconds: int = 15
    reconnect_max_seconds: int = 60
    resubmit_unacknowledged: bool = True

    @classmethod
    def from_settings(cls, values: dict) -> "SmppConfig":
        from plugins.sms.http_gateway import GatewayConfigError

        if not values.get("smpp_host") or not values.get("smpp_system_id"):
            raise GatewayConfigError("Chưa khai báo kết nối SMPP (plugins.sms.settings.smpp_host, smpp_system_id).")
        if int(values.get("smpp_data_coding") or 0) not in GSM_CODINGS:
            raise GatewayConfigError("plugins.sms.settings.smpp_data_coding phải là 0 (mặc định của SMSC), 1 (ASCII) hoặc 3 (Latin-1).")
        # SMPP 3.4 C-Octet-String limits (5.2.1): the library refuses longer ones
        for key, most in (("smpp_system_id", 15), ("smpp_password", 8), ("smpp_system_type", 12)):
            if len(str(values.get(key) or "").encode()) > most:
                raise GatewayConfigError(f"plugins.sms.settings.{key} dài quá {most} ký tự (giới hạn của SMPP 3.4).")
        for key in ("smpp_window", "rate_per_second", "retry_attempts", "timeout_seconds"):
            if int(values.get(key) or 0) < 1:
                raise GatewayConfigError(f"plugins.sms.settings.{key} phải lớn hơn 0.")
        statuses = values.get("smpp_transient_statuses") or [hex(code) for code in DEFAULT_TRANSIENT_STATUSES]
        return cls(
            host=values["smpp_host"], port=int(values.get("smpp_port") or 2775), system_id=values["smpp_system_id"],
            password=values.get("smpp_password") or "", system_type=values.get("smpp_system_type") or "",
            window=int(values["smpp_window"]), rate_per_second=int(values["rate_per_second"]),
            source_ton=int(values.get("smpp_source_ton", 5)), source_npi=int(values.get("smpp_source_npi", 0)),
            dest_ton=int(values.get("smpp_dest_ton", 1)), dest_npi=int(values.get("smpp_dest_npi", 1)),
            data_coding=int(values.get("smpp_data_coding") or 0), ucs2_data_coding=int(values.get("smpp_ucs2_data_coding") or 8),
            transient_statuses=frozenset(int(str(code), 0) for code in statuses),
            retry_attempts=int(values["retry_attempts"]), retry_base_ms=int(values.get("retry_base_ms") or 500),
            requeue_seconds=int(values.get("requeue_seconds") or 300), timeout_seconds=int(values["timeout_seconds"]),
            reconnect_max_seconds=int(values.get("smpp_reconnect_max_seconds") or 60),
            resubmit_unacknowledged=bool(values.get("smpp_resubmit_unacknowledged", True)),
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.password,) if len(self.password) >= 4 else ()


def status_name(status: int) -> str:
    return f"{STATUS_NAMES.get(status, 'ESME')} (0x{status:08X})"


class _SessionLost(Exception):
    """The session ended while a part awaited its submit_sm_resp."""


ReceiptHandler = Callable[[SmppReceipt], Awaitable[None]]


class _Link:
    """The bound session of one backend in one event loop, and its reader."""

    def __init__(self, backend: "SmppBackend"):
        self.backend = backend
        self.client = None
        self.smsc = None
        self.reader: asyncio.Task | None = None
        self.connecting = asyncio.Lock()
        self.window = asyncio.Semaphore(backend.config.window)
        self.generation = 0
        self.closed = False
        self.binds = 0

    async def session(self):
        """The bound session, binding (again) with backoff when there is none."""
        if self.smsc is not None:
            return self.smsc
        async with self.connecting:
            if self.smsc is not None:
                return self.smsc
            config = self.backend.config
            reason = ""
            for attempt in range(1, config.retry_attempts + 1):
                try:
                    await self._bind()
                    return self.smsc
                except Exception as error:  # refused, timed out, bind rejected
                    reason = redact(str(error) or type(error).__name__, config.secrets)
                    log.warning("SMPP bind to %s:%s failed (%s/%s): %s", config.host, config.port, attempt, config.retry_attempts, reason)
                    if attempt < config.retry_attempts:
                        await asyncio.sleep(self.backend.backoff(attempt))
            raise TransientSendError(f"Không kết nối được SMSC ({reason}); sẽ gửi lại sau", retry_after=config.requeue_seconds)

    async def _bind(self) -> None:
        import smpp34

        config = self.backend.config
        client = smpp34.Client(host=config.host, port=config.port, system_id=config.system_id, password=config.password,
                               bind_type="TRX", system_type=config.system_type, window_size=config.window + 1,
                               connect_timeout_ms=config.timeout_seconds * 1000)
        smsc = await asyncio.wait_for(client.connect(), config.timeout_seconds)
        self.client, self.smsc = client, smsc
        self.generation += 1
        self.binds += 1
        log.info("SMPP session bound to %s:%s as %s", config.host, config.port, config.system_id)
        self.reader = asyncio.get_running_loop().create_task(self._read(smsc, self.generation))

    def lost(self, generation: int) -> None:
        if generation == self.generation and self.smsc is not None:
            log.warning("SMPP session to %s:%s lost", self.backend.config.host, self.backend.config.port)
            self.smsc = None
            client, self.client = self.client, None
            if client is not None:
                asyncio.get_running_loop().create_task(_quietly(client.stop()))

    async def _read(self, smsc, generation: int) -> None:
        """Receipts from the SMSC; on a drop, bind again (with backoff) so receipts keep coming."""
        import smpp34

        while True:
            try:
                event = await smsc.next()
            except Exception:
                event = smpp34.Disconnected
            if isinstance(event, smpp34.Disconnected) or event is smpp34.Disconnected:
                self.lost(generation)
                if not self.closed:
                    asyncio.get_running_loop().create_task(self._rebind())
                return
            receipt = parse_receipt(event)
            if receipt is not None and self.backend.on_receipt is not None:
                try:
                    await self.backend.on_receipt(receipt)
                except Exception:  # a receipt we cannot store now; the SMSC has its ack
                    log.exception("SMPP receipt for %s not recorded", receipt.provider_id)

    async def _rebind(self) -> None:
        attempt = 0
        while not self.closed and self.smsc is None:
            attempt += 1
            await asyncio.sleep(self.backend.backoff(attempt))
            if self.closed or self.smsc is not None:
                return
            try:
                async with self.connecting:
                    if self.smsc is None and not self.closed:
                        await self._bind()
            except Exception as error:
                log.warning("SMPP rebind failed (%s): %s", attempt, redact(str(error), self.backend.config.secrets))

    async def submit(self, part: Part, *, to: str, sender: str) -> str:
        """One submit_sm in the window; returns the SMSC's message id."""
        config = self.backend.config
        async with self.window:
            await self.backend.pacer.wait()
            smsc = await self.session()
            generation = self.generation
            try:
                response = await asyncio.wait_for(smsc.submit_sm(
                    to.lstrip("+"), part.short_message, source_addr=sender, source_addr_ton=config.source_ton,
                    source_addr_npi=config.source_npi, dest_addr_ton=config.dest_ton, dest_addr_npi=config.dest_npi,
                    esm_class=part.esm_class, data_coding=part.data_coding, registered_delivery=1), config.timeout_seconds)
            except Exception as error:  # no submit_sm_resp: the session broke or timed out
                self.lost(generation)
                raise _SessionLost(redact(str(error) or type(error).__name__, config.secrets)) from None
        if not response.is_success:
            raise _Refused(response.command_status)
        return response.message_id or ""

    async def close(self) -> None:
        self.closed = True
        client, self.client, self.smsc = self.client, None, None
        if self.reader is not None:
            self.reader.cancel()
        if client is not None:
            await _quietly(client.stop())


class _Refused(Exception):
    def __init__(self, status: int):
        super().__init__(status_name(status))
        self.status = status


async def _quietly(awaitable) -> None:
    try:
        await awaitable
    except Exception:
        pass


class SmppBackend:
    """One configured SMSC connection: pacing shared by every send, one session per event loop."""

    def __init__(self, config: SmppConfig, on_receipt: ReceiptHandler | None = None):
        self.config = config
        self.on_receipt = on_receipt
        self.pacer = Pacer(config.rate_per_second)
        self._links: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def backoff(self, attempt: int) -> float:
        return min(self.config.retry_base_ms / 1000 * 2 ** (attempt - 1), self.config.reconnect_max_seconds, MAX_BACKOFF_SECONDS)

    def link(self) -> _Link:
        loop = asyncio.get_running_loop()
        link = self._links.get(loop)
        if link is None or link.closed:
            link = self._links[loop] = _Link(self)
        return link

    async def connect(self) -> None:
        await self.link().session()

    async def submit_part(self, part: Part, *, to: str, sender: str) -> str:
        """Submit one part: transient refusals retried with backoff, a lost session bound again."""
        config = self.config
        reason = ""
        for attempt in range(1, config.retry_attempts + 1):
            try:
                return await self.link().submit(part, to=to, sender=sender)
            except _Refused as refused:
                if refused.status not in config.transient_statuses:
                    raise SendError(f"SMSC từ chối tin ({status_name(refused.status)})") from None
                reason = f"SMSC tạm thời không nhận tin ({status_name(refused.status)})"
            except _SessionLost as lost:
                if not config.resubmit_unacknowledged:
                    raise UncertainSendError(f"Mất kết nối SMSC trước khi có trả lời ({lost}): chưa rõ tin đã được gửi hay chưa") from None
                reason = f"Mất kết nối SMSC ({lost})"
            if attempt < config.retry_attempts:
                await asyncio.sleep(self.backoff(attempt))
        raise TransientSendError(f"{reason} (đã thử {config.retry_attempts} lần, sẽ gửi lại sau)", retry_after=config.requeue_seconds)

    @property
    def binds(self) -> int:
        link = self._links.get(asyncio.get_running_loop())
        return link.binds if link else 0

    async def aclose(self) -> None:
        link = self._links.pop(asyncio.get_running_loop(), None)
        if link is not None:
            await link.close()
