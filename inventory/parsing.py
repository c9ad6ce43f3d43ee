"""How every door reads the two things retailers and feeds send most: SKU codes and
pair counts. One reading everywhere, so " ab-12 " and "AB-12" are the same SKU in an
order, a receipt and a stock count, and 6.5 pairs is refused the same way."""

import re

# ASCII digits only: str.isdigit() (and re's \d) also accept characters such as "²" or
# "٣" that nobody types as a count, and int() refuses "²" with a ValueError.
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,12}")
# An id or index: at most 18 digits, so it always fits PostgreSQL's bigint.
_NATURAL_NUMBER = re.compile(r"[0-9]{1,18}")


def sku_code_normalize(raw) -> str:
    """The canonical form of a SKU code: no whitespace anywhere, upper case; "" if none."""
    if raw is None:
        return ""
    return "".join(str(raw).split()).upper()


def whole_pairs(raw) -> int | None:
    """A pair count as an int, or None when it is not a whole number (booleans, blanks,
    fractions, text). Integral floats (6.0) count; range checks are the caller's."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    text = str(raw).strip()
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def natural_number(raw) -> int | None:
    """An id, a row index or a field suffix ("qty-<id>", "lines[<index>]") as an int, or
    None unless `raw` is plain ASCII digits. Every door that reads a number out of text it
    was sent uses this rather than isdigit() and int()."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return raw if raw >= 0 else None
    text = str(raw)
    return int(text) if _NATURAL_NUMBER.fullmatch(text) else None
