"""Vietnamese text: NFC normalisation, diacritics-insensitive search keys, collation keys.

Computed in Python so that both databases index and compare the same strings, with no
database extension.
"""

from __future__ import annotations

import re
import unicodedata

# The Vietnamese alphabet: ă, â, đ, ê, ô, ơ, ư are letters of their own, sorted after their base.
_ALPHABET = "a ă â b c d đ e ê f g h i j k l m n o ô ơ p q r s t u ư v w x y z".split()
_LETTER_RANK = {letter: index for index, letter in enumerate(_ALPHABET)}
# Tone marks (combining characters after NFD); the order of the Vietnamese dictionary.
_TONES = {"\u0300": 2, "\u0309": 3, "\u0303": 4, "\u0301": 5, "\u0323": 6}  # huyền hỏi ngã sắc nặng
_SHAPE_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve (ă), circumflex (â ê ô), horn (ơ ư)
_SPACE = re.compile(r"\s+")


def clean(value: str | None) -> str:
    """NFC, with runs of whitespace collapsed and the ends trimmed."""
    if value is None:
        return ""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()


def fold(value: str) -> str:
    """Lower case without diacritics, đ -> d: "Đặng Thị Ánh" -> "dang thi anh"."""
    decomposed = unicodedata.normalize("NFD", clean(value).lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d")


def search_key(value: str) -> str:
    """The stored search column: folded words, with a space on each side for word-prefix LIKE."""
    words = re.findall(r"[0-9a-z]+", fold(value))
    return f" {' '.join(words)} "


def search_pattern(query: str) -> list[str]:
    """LIKE patterns, one per word of the query, each matching the start of a word."""
    return [f"% {word}%" for word in re.findall(r"[0-9a-z]+", fold(query))]


def _letters_and_tones(word: str) -> tuple[list[int], list[int]]:
    letters: list[int] = []
    tones: list[int] = []
    for base_with_marks in _graphemes(unicodedata.normalize("NFD", word.lower())):
        base, marks = base_with_marks[0], set(base_with_marks[1:])
        letter = base
        if base == "a" and "\u0306" in marks:
            letter = "ă"
        elif base in "aeo" and "\u0302" in marks:
            letter = {"a": "â", "e": "ê", "o": "ô"}[base]
        elif base in "ou" and "\u031b" in marks:
            letter = {"o": "ơ", "u": "ư"}[base]
        elif base == "đ":
            letter = "đ"
        letters.append(_LETTER_RANK.get(letter, 40 + ord(letter) % 1000))
        tones.append(max((_TONES.get(mark, 0) for mark in marks), default=1))
    return letters, tones


def _graphemes(decomposed: str) -> list[str]:
    clusters: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch) and clusters:
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def _encode(ranks: list[int]) -> str:
    # two base-36 digits per rank keep byte order equal to rank order on both databases
    return "".join(f"{rank:02d}" if rank < 100 else "99" for rank in ranks)


def sort_key(full_name: str) -> str:
    """Collation key: given name, then middle names, then family name; letters, then tones.

    "Nguyễn Văn An" sorts by "An", then "Văn", then "Nguyễn". The primary part compares letters
    (with ă, â, đ, ê, ô, ơ, ư as letters of their own); tones break ties afterwards.
    """
    words = clean(full_name).split(" ")
    ordered = [words[-1], *words[1:-1], words[0]] if len(words) > 1 else words
    primary, secondary = [], []
    for word in ordered:
        letters, tones = _letters_and_tones(word)
        primary.append(_encode(letters))
        secondary.append(_encode(tones))
    # "00" separates words and sorts before any letter, so "An" < "Anh"
    return "00".join(primary) + "|" + "00".join(secondary)
