"""How every door reads the two things retailers and feeds send most: SKU codes and
pair counts. One reading everywhere, so " ab-12 " and "AB-12" are the same SKU in an
order, a receipt and a stock count, and 6.5 pairs is refused the same way."""

import re

_WHOLE_NUMBER = re.compile(r"[+-]?\d{1,12}")


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
