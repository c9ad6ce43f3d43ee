import pytest

from inventory.parsing import sku_code_normalize, whole_pairs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" ab-12 ", "AB-12"), ("ab -\t12", "AB-12"), ("AB-12", "AB-12"), (None, ""), ("", "")],
)
def test_sku_codes_read_the_same_whatever_the_spacing_or_case(raw, expected):
    assert sku_code_normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (6, 6),
        ("6", 6),
        (" 12 ", 12),
        (6.0, 6),
        ("-3", -3),
        ("+4", 4),
        (6.5, None),
        ("6.5", None),
        ("six", None),
        ("", None),
        (None, None),
        (True, None),
        ("1_000", None),
        ("1e3", None),
        ("9" * 13, None),
    ],
)
def test_pair_counts_are_whole_numbers_only(raw, expected):
    assert whole_pairs(raw) == expected
