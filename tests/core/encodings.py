"""Test helper: bytes as Windows-1258 tools write them."""

import unicodedata
TONES = "\u0300\u0301\u0303\u0309\u0323"
def to_cp1258(text: str) -> bytes:
    """What Windows-1258 tools write: precomposed base letters, tones as combining marks."""
    out = ""
    for ch in unicodedata.normalize("NFC", text):
        try:
            ch.encode("cp1258"); out += ch
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            out += unicodedata.normalize("NFC", "".join(c for c in d if c not in TONES)) + "".join(c for c in d if c in TONES)
    return out.encode("cp1258")
