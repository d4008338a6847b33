"""SMS text encoding: which alphabet a text needs, how many segments it takes, what it costs,
and Vietnamese without diacritics. Pure functions (no I/O), used by the channel, the campaign
preview and the SMPP backend.

GSM 03.38 (3GPP TS 23.038): the default 7-bit alphabet carries 160 characters in one message,
153 per part of a concatenated one (the user data header takes 7 septets); characters of the
extension table take two septets (escape + character) and a part never splits that pair. Any
character outside the alphabet forces UCS-2: 70 characters in one message, 67 per part, and a
character outside the Basic Multilingual Plane takes two code units that are never split. Every
Vietnamese letter with a diacritic but a handful lies outside GSM-7, so a message with diacritics
costs about 2.3 times as many segments as the same message without.
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE = {"gsm7": 160, "ucs2": 70}
PART = {"gsm7": 153, "ucs2": 67}

# Typography a word processor puts into a template; folded to what GSM-7 carries.
_PUNCTUATION = str.maketrans({
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'", "\u201a": "'",
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    "\u00ab": '"', "\u00bb": '"', "\u2022": "-", "\t": " ",
})


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def encoding_of(text: str) -> str:
    """``"gsm7"`` when every character is in the GSM 03.38 alphabet, else ``"ucs2"``."""
    return "gsm7" if is_gsm7(text) else "ucs2"


def _units(text: str, encoding: str) -> list[int]:
    """The size of each character in its encoding's units (septets or UTF-16 code units)."""
    if encoding == "gsm7":
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def split_parts(text: str, encoding: str | None = None) -> list[str]:
    """The text cut into the parts a handset receives (one part when it fits a single message).

    A part is filled greedily and never ends inside a two-unit character."""
    encoding = encoding or encoding_of(text)
    units = _units(text, encoding)
    if sum(units) <= SINGLE[encoding]:
        return [text] if text else []
    parts, start, used = [], 0, 0
    for index, size in enumerate(units):
        if used + size > PART[encoding]:
            parts.append(text[start:index])
            start, used = index, 0
        used += size
    parts.append(text[start:])
    return parts


def length_in_units(text: str, encoding: str | None = None) -> int:
    return sum(_units(text, encoding or encoding_of(text)))


def segment_count(text: str) -> int:
    """How many SMS a text takes (an empty text still costs one message if sent)."""
    return max(len(split_parts(text)), 1)


def fold_vietnamese(text: str) -> str:
    """Vietnamese without diacritics: "Đồng chí Nguyễn Văn Bình" -> "Dong chi Nguyen Van Binh".

    đ/Đ are letters of their own (no decomposition), so they are mapped first; the tone and
    vowel marks are stripped after canonical decomposition; typographic quotes and dashes become
    their ASCII forms. The result is GSM-7 unless the text holds other scripts or emoji."""
    text = text.replace("đ", "d").replace("Đ", "D").translate(_PUNCTUATION)
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    return unicodedata.normalize("NFC", stripped)


@dataclasses.dataclass(frozen=True)
class TextFigures:
    encoding: str
    characters: int
    segments: int


def figures(text: str) -> TextFigures:
    return TextFigures(encoding=encoding_of(text), characters=len(text), segments=segment_count(text))


def campaign_preview(text: str, *, recipients: int, cost_per_segment: float, fold: bool = False) -> dict:
    """The figures a campaign preview shows for one text sent to ``recipients`` people.

    ``as_written`` is the text as the template renders it, ``without_diacritics`` the folded
    text; ``sent`` is what the unit's setting ``fold`` makes the channel send, and ``saving``
    what folding saves (segments and cost) over sending with diacritics."""

    def block(body: str) -> dict:
        found = figures(body)
        total = found.segments * recipients
        return {"encoding": found.encoding, "characters": found.characters, "segments_per_message": found.segments,
                "total_segments": total, "cost": round(total * cost_per_segment, 2)}

    as_written = block(text)
    folded = block(fold_vietnamese(text))
    saved_segments = as_written["total_segments"] - folded["total_segments"]
    sent = folded if fold else as_written
    return {
        "recipients": recipients,
        "cost": sent["cost"],  # what the core shows as the estimate (channel_preview hook)
        "cost_per_segment": cost_per_segment,
        "as_written": as_written,
        "without_diacritics": folded,
        "sent": folded if fold else as_written,
        "fold": fold,
        "saving": {"segments": saved_segments, "cost": round(saved_segments * cost_per_segment, 2),
                   "percent": math.floor(100 * saved_segments / as_written["total_segments"]) if as_written["total_segments"] else 0},
    }
