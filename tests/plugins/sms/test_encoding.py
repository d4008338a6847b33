"""SMS encoding: alphabets, segments, folding and the preview figures (pure functions)."""

import pytest

from plugins.sms.encoding import (
    GSM7_BASIC, GSM7_EXTENSION, campaign_preview, encoding_of, fold_vietnamese, length_in_units, segment_count, split_parts,
)

VIETNAMESE = "Kính mời đồng chí Nguyễn Văn Bình dự Hội nghị báo cáo viên tháng 3 lúc 08:00 ngày 10/03/2026 tại Hội trường Tỉnh ủy."


def test_the_alphabets_have_their_standard_sizes():
    assert len(GSM7_BASIC) == 127  # 128 code points minus the escape
    assert len(GSM7_EXTENSION) == 10


@pytest.mark.parametrize(("text", "encoding"), [
    ("Hop luc 8h", "gsm7"),
    ("Giá: 10€ [phòng 2]", "ucs2"),
    ("Cafe {10€} ^_^ ~ | \\", "gsm7"),
    ("èéùìòà ÄÖÑÜ äöñü", "gsm7"),  # Latin letters with accents that GSM-7 does carry
    ("Họp", "ucs2"),
    ("đ", "ucs2"),
    ("ê", "ucs2"),
    ("Hẹn gặp 👋", "ucs2"),
    ("", "gsm7"),
])
def test_encoding_detection(text, encoding):
    assert encoding_of(text) == encoding


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)])
def test_gsm7_segments_are_160_then_153(length, segments):
    assert segment_count("a" * length) == segments


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)])
def test_ucs2_segments_are_70_then_67(length, segments):
    assert segment_count("ệ" * length) == segments


def test_extension_characters_count_two_septets_and_are_never_split():
    assert length_in_units("€" * 80) == 160
    assert segment_count("€" * 80) == 1
    assert segment_count("a" * 159 + "€") == 2  # 161 septets
    parts = split_parts("a" * 152 + "€" + "b" * 10)
    assert parts[0] == "a" * 152  # the escape pair does not straddle parts: 152 septets in the first
    assert parts[1] == "€" + "b" * 10
    assert "".join(parts) == "a" * 152 + "€" + "b" * 10


def test_a_surrogate_pair_takes_two_units_and_stays_whole():
    text = "ạ" * 66 + "👋" + "ạ" * 10
    assert length_in_units(text) == 78
    parts = split_parts(text)
    assert parts[0] == "ạ" * 66 and parts[1].startswith("👋")


def test_parts_join_back_to_the_text():
    for text in (VIETNAMESE * 3, fold_vietnamese(VIETNAMESE) * 3, "x"):
        assert "".join(split_parts(text)) == text
        assert all(length_in_units(part) <= 153 for part in split_parts(text)) or len(split_parts(text)) == 1


@pytest.mark.parametrize(("text", "folded"), [
    ("Đồng chí Nguyễn Văn Bình", "Dong chi Nguyen Van Binh"),
    ("đường Điện Biên Phủ", "duong Dien Bien Phu"),
    ("ĐẶNG THỊ HƯƠNG", "DANG THI HUONG"),
    ("Hội trường Tỉnh ủy, ấp Ông Ích Khiêm", "Hoi truong Tinh uy, ap Ong Ich Khiem"),
    ("“Quan trọng” – đọc kỹ…", '"Quan trong" - doc ky...'),
    ("Họp lúc 08:00", "Hop luc 08:00"),
])
def test_vietnamese_folding(text, folded):
    assert fold_vietnamese(text) == folded
    assert encoding_of(fold_vietnamese(text)) == "gsm7"


def test_folding_decomposed_input_gives_the_same_result():
    import unicodedata

    assert fold_vietnamese(unicodedata.normalize("NFD", "Nguyễn Đức Thắng")) == "Nguyen Duc Thang"


def test_every_vietnamese_letter_folds_into_gsm7():
    vowels = "aăâeêioôơuưy"
    tones = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
    import unicodedata

    letters = {unicodedata.normalize("NFC", vowel + tone) for vowel in vowels + vowels.upper() for tone in tones} | {"đ", "Đ"}
    assert len(letters) == 2 * 12 * 6 + 2
    assert all(len(fold_vietnamese(letter)) == 1 and encoding_of(fold_vietnamese(letter)) == "gsm7" for letter in letters)


def test_campaign_preview_counts_recipients_segments_cost_and_saving():
    assert len(VIETNAMESE) == 116
    preview = campaign_preview(VIETNAMESE, recipients=1000, cost_per_segment=800)
    assert preview["as_written"] == {"encoding": "ucs2", "characters": 116, "segments_per_message": 2, "total_segments": 2000,
                                     "cost": 1_600_000}
    assert preview["without_diacritics"]["encoding"] == "gsm7"
    assert preview["without_diacritics"]["segments_per_message"] == 1
    assert preview["sent"] == preview["as_written"]
    assert preview["saving"] == {"segments": 1000, "cost": 800_000, "percent": 50}
    folded = campaign_preview(VIETNAMESE, recipients=1000, cost_per_segment=800, fold=True)
    assert folded["sent"]["total_segments"] == 1000 and folded["sent"]["cost"] == 800_000


def test_campaign_preview_of_nobody_and_of_plain_text():
    assert campaign_preview("Hop luc 8h", recipients=0, cost_per_segment=800)["saving"] == {"segments": 0, "cost": 0, "percent": 0}
    plain = campaign_preview("Hop luc 8h", recipients=10, cost_per_segment=500.5)
    assert plain["as_written"]["cost"] == 5005.0 and plain["saving"]["segments"] == 0
