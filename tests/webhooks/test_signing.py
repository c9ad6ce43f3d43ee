from orders.webhooks.signing import REPLAY_TOLERANCE, signature_compute, signature_verify

SECRET = "whsec_test"
BODY = b'{"id":"e1","type":"order.placed"}'
NOW = 1_800_000_000


def _signed(timestamp=NOW, body=BODY, secret=SECRET):
    return signature_compute(secret=secret, timestamp=timestamp, body=body)


def test_a_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert _signed() == f"sha256={expected}"


def test_the_receiver_accepts_its_own_signature():
    assert signature_verify(
        secret=SECRET, body=BODY, timestamp=str(NOW), signature=_signed(), now=NOW + 5
    )


def test_a_changed_body_another_secret_or_another_timestamp_is_refused():
    signature = _signed()
    assert not signature_verify(
        secret=SECRET, body=BODY + b" ", timestamp=str(NOW), signature=signature, now=NOW
    )
    assert not signature_verify(
        secret="whsec_other", body=BODY, timestamp=str(NOW), signature=signature, now=NOW
    )
    # The timestamp is signed: moving it forward to pass the window breaks the signature.
    assert not signature_verify(
        secret=SECRET, body=BODY, timestamp=str(NOW + 1), signature=signature, now=NOW
    )
    assert not signature_verify(
        secret=SECRET, body=BODY, timestamp="soon", signature=signature, now=NOW
    )
    assert not signature_verify(secret=SECRET, body=BODY, timestamp=str(NOW), signature="", now=NOW)


def test_a_replay_outside_the_window_is_refused_inside_it_accepted():
    signature = _signed()
    inside = NOW + REPLAY_TOLERANCE
    outside = NOW + REPLAY_TOLERANCE + 1
    assert signature_verify(
        secret=SECRET, body=BODY, timestamp=str(NOW), signature=signature, now=inside
    )
    assert not signature_verify(
        secret=SECRET, body=BODY, timestamp=str(NOW), signature=signature, now=outside
    )
    # A timestamp from the future is as suspect as an old one.
    assert not signature_verify(
        secret=SECRET, body=BODY, timestamp=str(NOW), signature=signature, now=NOW - 301
    )


def test_the_readme_recipe_verifies_our_signature_and_refuses_a_replay():
    import re
    import time
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    recipe = re.search(r"```python\n(.*?def trailwise_verified.*?)```", readme, re.S).group(1)
    namespace = {}
    exec(recipe, namespace)
    verified = namespace["trailwise_verified"]
    now = int(time.time())
    assert verified(SECRET, BODY, str(now), _signed(timestamp=now))
    assert not verified(SECRET, BODY + b"x", str(now), _signed(timestamp=now))
    old = now - REPLAY_TOLERANCE - 5
    assert not verified(SECRET, BODY, str(old), _signed(timestamp=old))
