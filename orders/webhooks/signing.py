"""Delivery signatures: HMAC-SHA256 over "<timestamp>.<body>" with the endpoint's secret.

Headers: ``X-Trailwise-Timestamp: <unix seconds>`` and
``X-Trailwise-Signature: sha256=<hex>``. The timestamp is inside the signed string, so
a receiver that refuses old timestamps (``REPLAY_TOLERANCE``) cannot be fed a captured
request again later. ``signature_verify`` is the receiver's side, the same recipe as in
the README."""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Trailwise-Signature"
TIMESTAMP_HEADER = "X-Trailwise-Timestamp"
REPLAY_TOLERANCE = 300  # seconds


def signature_compute(*, secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_verify(
    *,
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    tolerance: int = REPLAY_TOLERANCE,
    now: float | None = None,
) -> bool:
    """True if ``signature`` is ours for this body and timestamp, and the timestamp is
    within ``tolerance`` seconds of ``now``."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance:
        return False
    expected = signature_compute(secret=secret, timestamp=sent_at, body=body)
    return hmac.compare_digest(expected, signature or "")
