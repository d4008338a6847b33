"""Check-in credentials: a compact payload signed with Ed25519, and short codes.

Wire format (all of it in the QR code's alphanumeric mode, the densest one for this text)::

    "HN1" + base32( version:u8 | conference:u32 | invitation:u32 | generation:u16 | key_id:u16 | signature:64 )

77 bytes -> 124 characters -> a version 7 QR code at level M. The signature covers
``DOMAIN + the 13 payload bytes``, so a credential grants nothing anywhere else. A credential
opens no page and no session: it only identifies an invitation to a scanner.

Short codes (8 characters of the core's unambiguous alphabet: no 0/O, 1/I/L) are an HMAC of the
deployment key, the invitation and the credential's generation, for people with feature phones;
typed by staff, looked up by their hash.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from core.config import get_settings
from core.services.tokens import SHORT_CODE_ALPHABET

PREFIX = "HN1"
VERSION = 1
DOMAIN = b"hoinghi/qr_checkin/credential/v1\x00"
_LAYOUT = struct.Struct(">BIIHH")
PAYLOAD_BYTES = _LAYOUT.size  # 13
SIGNATURE_BYTES = 64
SHORT_CODE_LENGTH = 8


@dataclasses.dataclass(frozen=True)
class Payload:
    conference_id: int
    invitation_id: int
    generation: int
    key_id: int

    def pack(self) -> bytes:
        return _LAYOUT.pack(VERSION, self.conference_id, self.invitation_id, self.generation & 0xFFFF, self.key_id)


class Malformed(ValueError):
    """Not a credential of ours at all (answered as ``forged``)."""


def encode(payload: Payload, signature: bytes) -> str:
    return PREFIX + base64.b32encode(payload.pack() + signature).decode().rstrip("=")


def decode(text: str) -> tuple[Payload, bytes, bytes]:
    """(payload, signed message, signature) of a credential string; Malformed when it is none."""
    text = (text or "").strip().upper()
    if not text.startswith(PREFIX) or len(text) > 200:
        raise Malformed("not a credential")
    body = text[len(PREFIX):]
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (ValueError, TypeError) as error:
        raise Malformed("bad base32") from error
    if len(raw) != PAYLOAD_BYTES + SIGNATURE_BYTES:
        raise Malformed("bad length")
    version, conference_id, invitation_id, generation, key_id = _LAYOUT.unpack(raw[:PAYLOAD_BYTES])
    if version != VERSION:
        raise Malformed("unknown version")
    return Payload(conference_id, invitation_id, generation, key_id), DOMAIN + raw[:PAYLOAD_BYTES], raw[PAYLOAD_BYTES:]


def sign(private_key: Ed25519PrivateKey, payload: Payload) -> str:
    return encode(payload, private_key.sign(DOMAIN + payload.pack()))


def verify(public_key: Ed25519PublicKey, message: bytes, signature: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


# -- key material -------------------------------------------------------------------------------

def new_key_pair() -> tuple[Ed25519PrivateKey, str]:
    """A fresh private key and its raw public key as hex."""
    private = Ed25519PrivateKey.generate()
    return private, public_hex(private.public_key())


def public_hex(public: Ed25519PublicKey) -> str:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def load_public(hex_key: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))


def _wrapping_key() -> bytes:
    return hmac.new(get_settings().secret_key, b"qr_checkin:signing-key-wrap", hashlib.sha256).digest()


def wrap(private: Ed25519PrivateKey, key_id_hint: str = "") -> str:
    """The private key sealed with AES-GCM under a key derived from the deployment secret."""
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(_wrapping_key()).encrypt(nonce, raw, b"qr_checkin" + key_id_hint.encode())).decode()


def unwrap(sealed: str, key_id_hint: str = "") -> Ed25519PrivateKey:
    data = base64.b64decode(sealed)
    raw = AESGCM(_wrapping_key()).decrypt(data[:12], data[12:], b"qr_checkin" + key_id_hint.encode())
    return Ed25519PrivateKey.from_private_bytes(raw)


# -- short codes --------------------------------------------------------------------------------

def short_code(invitation_id: int, generation: int, *, length: int = SHORT_CODE_LENGTH) -> str:
    digest = hmac.new(get_settings().secret_key, f"qr_checkin:short:{invitation_id}:{generation}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(SHORT_CODE_ALPHABET))
        chars.append(SHORT_CODE_ALPHABET[index])
    return "".join(chars)


def normalise_short_code(typed: str) -> str:
    """What staff typed, as stored: upper case, spaces and dashes dropped."""
    folded = (typed or "").upper()
    return "".join(ch for ch in folded if ch.isalnum())


def short_hash(conference_id: int, code: str) -> str:
    return hashlib.sha256(f"{conference_id}:{code}".encode()).hexdigest()


def credential_hash(credential: str) -> str:
    """What the offline roster carries instead of a credential: SHA-256 of its text."""
    return hashlib.sha256(credential.strip().upper().encode()).hexdigest()
