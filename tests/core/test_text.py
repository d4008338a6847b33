import unicodedata

from core.text import clean, fold, search_key, search_pattern, sort_key


def test_fold_ignores_case_diacritics_and_d_stroke():
    assert fold("Đặng Thị Ánh") == "dang thi anh"
    assert fold(unicodedata.normalize("NFD", "Nguyễn Văn Đức")) == "nguyen van duc"
    assert search_key("  Lê   Thị  Hồng ") == " le thi hong "


def test_clean_normalises_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Trần  Hưng Đạo ")
    assert clean(decomposed) == "Trần Hưng Đạo"
    assert unicodedata.is_normalized("NFC", clean(decomposed))


def test_search_patterns_match_word_prefixes():
    assert search_pattern("nguyen VAN") == ["% nguyen%", "% van%"]
    assert search_pattern("Đặng") == ["% dang%"]


def test_vietnamese_order_given_name_first_letters_then_tones():
    names = ["Lê An", "Nguyễn Văn Bình", "Trần Thị Ánh", "Lê Văn An", "Phạm Ân", "Hoàng Ăn", "Đỗ Đức", "Vũ Dũng", "Lê Anh", "Lê Án"]
    ordered = sorted(names, key=sort_key)
    assert ordered == [
        "Lê An",
        "Lê Án",  # "Án Lê" < "An Văn Lê": words compare before tones
        "Lê Văn An",
        "Lê Anh",
        "Trần Thị Ánh",
        "Hoàng Ăn",
        "Phạm Ân",
        "Nguyễn Văn Bình",
        "Vũ Dũng",
        "Đỗ Đức",
    ]


def test_same_given_name_sorts_by_middle_then_family_name():
    names = ["Trần Văn Minh", "Nguyễn Văn Minh", "Lê Đức Minh", "Lê Minh"]
    assert sorted(names, key=sort_key) == ["Lê Đức Minh", "Lê Minh", "Nguyễn Văn Minh", "Trần Văn Minh"]
