"""Real-looking Vietnamese names for the demo data set and the benchmarks (seeded, repeatable)."""

from __future__ import annotations

import random

FAMILY_NAMES = [
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4), ("Phan", 4),
    ("Vũ", 4), ("Võ", 3), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 2), ("Ngô", 2), ("Dương", 1),
    ("Lý", 1), ("Đinh", 1), ("Trương", 1), ("Đoàn", 1), ("Lương", 1),
]
MALE_MIDDLE = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thanh", "Công", "Xuân", "Ngọc", "Anh", "Tiến", "Đình"]
FEMALE_MIDDLE = ["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Kim", "Thùy", "Phương", "Mai"]
MALE_GIVEN = [
    "An", "Bình", "Cường", "Dũng", "Đạt", "Đức", "Giang", "Hải", "Hiếu", "Hùng", "Huy", "Khánh", "Kiên",
    "Long", "Mạnh", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài", "Thắng",
    "Thành", "Toàn", "Trung", "Tuấn", "Việt", "Vinh",
]
FEMALE_GIVEN = [
    "Anh", "Ánh", "Châu", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hương", "Lan",
    "Liên", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quyên", "Thảo",
    "Thu", "Thủy", "Trang", "Vân", "Yến",
]
_FAMILY = [name for name, weight in FAMILY_NAMES for _ in range(weight)]


def vietnamese_names(count: int, *, seed: int = 2026) -> list[str]:
    rng = random.Random(seed)
    names = []
    for _ in range(count):
        female = rng.random() < 0.45
        middle = rng.choice(FEMALE_MIDDLE if female else MALE_MIDDLE)
        given = rng.choice(FEMALE_GIVEN if female else MALE_GIVEN)
        names.append(f"{rng.choice(_FAMILY)} {middle} {given}")
    return names


def vietnamese_mobile_numbers(count: int, *, seed: int = 2026) -> list[str]:
    """Distinct numbers on real Vietnamese mobile prefixes, in E.164."""
    rng = random.Random(seed)
    prefixes = ["90", "91", "93", "94", "96", "97", "98", "86", "88", "32", "33", "34", "35", "36", "37", "38", "39", "70", "76", "77", "78", "79", "81", "82", "83", "84", "85"]
    seen: set[str] = set()
    numbers = []
    while len(numbers) < count:
        number = f"+84{rng.choice(prefixes)}{rng.randrange(10**7):07d}"
        if number not in seen:
            seen.add(number)
            numbers.append(number)
    return numbers
