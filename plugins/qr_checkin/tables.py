"""The plugin's tables (prefixed ``qr_checkin_``). References to core rows are plain integers
(indexed) so the plugin's migrations stay additive and independent of the core's."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class QrSigningKey(Table, tablename="qr_checkin_signing_key"):
    """An Ed25519 key pair; ``id`` is the key id in every credential it signed. The private key is
    stored wrapped (AES-GCM under a key derived from the deployment secret). A retired key signs
    nothing new; its public key stays until no conference with a credential it signed is still
    open (``services.purge_retired_keys``)."""

    public_key = Varchar(length=64)  # raw 32 bytes, hex
    private_key = Text()  # nonce + AES-GCM ciphertext, base64
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)


class QrCredential(Table, tablename="qr_checkin_credential"):
    """The check-in credential of one invitation: which key signed it and its generation
    (re-issuing bumps it, so an older badge answers ``revoked``). ``short_hash`` is the SHA-256
    of "<conference>:<short code>", unique, for typed codes."""

    invitation = Integer(unique=True)
    conference = Integer(index=True)
    person = Integer(index=True)
    key_id = Integer()
    generation = Integer(default=0)
    short_hash = Varchar(length=64, unique=True)
    revoked_at = Timestamptz(null=True, default=None)
    issued_at = Timestamptz(default=TimestamptzNow())


class QrScan(Table, tablename="qr_checkin_scan"):
    """Every scan as answered: the log staff read, and the idempotency record of a nonce
    (``nonce_key`` = "<device token id or 0>:<nonce>", unique). ``scanned_at`` is the scan's time
    on the server clock (device time corrected by the measured offset for queued scans)."""

    conference = Integer(index=True)
    device_token = Integer(null=True, default=None, index=True)
    nonce_key = Varchar(length=160, null=True, default=None, unique=True)
    invitation = Integer(null=True, default=None)
    person = Integer(null=True, default=None)  # by person: qr_checkin_scan_first_idx (person, conference, status)
    venue = Integer(null=True, default=None)
    status = Varchar(length=24)
    method = Varchar(length=16, default="staff_scan")
    scanned_at = Timestamptz()
    received_at = Timestamptz(default=TimestamptzNow())
    device_time = Timestamptz(null=True, default=None)
    offset_ms = Integer(null=True, default=None)
    queued = Boolean(default=False)
    client = Varchar(length=64, null=True, default=None, index=True)  # self scans: hash of the browser session's device id
    flagged = Boolean(default=False)  # a self scan from a device that already checked in someone else
    answer = JSON(default="{}")


class QrConferenceSetting(Table, tablename="qr_checkin_conference_setting"):
    """Per-conference choices: ``staff_scans_only`` turns self check-in off."""

    conference = Integer(unique=True)
    staff_scans_only = Boolean(default=False)


class QrBadgeSheet(Table, tablename="qr_checkin_badge_sheet"):
    """A printable A4 sheet of badges built by a background job, with its progress."""

    conference = Integer(index=True)
    venue = Integer(null=True, default=None)
    status = Varchar(length=16, default="pending")  # pending, running, done, failed
    done = Integer(default=0)
    total = Integer(default=0)
    filename = Varchar(length=255, default="")
    error = Text(default="")
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
