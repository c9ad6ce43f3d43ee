import datetime as dt

import pytest

from notifications.kinds import SPECS, MessageKind
from notifications.rendering import clean_subject, render_body, render_subject
from notifications.samples import SAMPLE_CONTEXTS
from notifications.templatetags.notification_tags import isodate

CALLER_KINDS = [k for k in MessageKind if k != MessageKind.DIGEST]


def test_every_kind_has_a_sample_that_satisfies_its_schema():
    assert set(SAMPLE_CONTEXTS) == set(CALLER_KINDS)
    for kind in CALLER_KINDS:
        missing = [key for key in SPECS[kind].required if key not in SAMPLE_CONTEXTS[kind]]
        assert missing == [], kind


@pytest.mark.parametrize("kind", CALLER_KINDS)
def test_every_kind_renders_subject_text_and_branded_html(kind):
    context = SAMPLE_CONTEXTS[kind]
    subject = render_subject(kind=kind, context=context)
    text, html = render_body(kind=kind, context=context, recipient_name="Dana")

    assert subject
    assert "\n" not in subject
    assert text.startswith("Hello Dana,")
    assert "{{" not in text
    assert "{{" not in html
    assert "Trailwise" in html
    assert "#7a3b12" in html  # brand
    assert "#1f6f5c" in html  # accent
    assert "/notifications/preferences/" in text
    url_key = SPECS[kind].url_key
    if url_key and context.get(url_key):
        assert context[url_key] in text
        assert context[url_key] in html


def test_decision_request_lists_every_line_with_its_options_and_one_page_to_answer():
    context = SAMPLE_CONTEXTS[MessageKind.DECISION_REQUEST]
    text, html = render_body(kind=MessageKind.DECISION_REQUEST, context=context)
    for body in (text, html):
        for line in [*context["lines"], *context["moved_lines"]]:
            assert line["sku"] in body
        assert "STR-BLK-090M" in body  # the first line's alternative
        assert "Also moved, still inside your window" in body
    assert "options: keep, cancel, switch to STR-BLK-090M Stroll, Black, 9 M" in text
    for key in ("decide_url", "keep_all_url", "cancel_all_url"):
        assert context[key] in text
        assert context[key].replace("&", "&amp;") in html
    assert "Please answer by" in html


def test_eta_moved_tells_viewers_which_lines_their_buyers_were_asked_about():
    context = {
        **SAMPLE_CONTEXTS[MessageKind.ETA_MOVED],
        "asked_lines": SAMPLE_CONTEXTS[MessageKind.DECISION_REQUEST]["lines"],
    }
    text, html = render_body(kind=MessageKind.ETA_MOVED, context=context)
    for body in (text, html):
        assert "WLK-BLK-095M" in body
        assert "buyers have been asked" in body
    assert "keep_all_url" not in context


def test_auto_cancel_shows_the_reason_and_shipment_the_tracking_links():
    text, html = render_body(kind=MessageKind.AUTO_CANCEL, context=SAMPLE_CONTEXTS["auto_cancel"])
    assert "45-day backorder window" in text
    assert "45-day backorder window" in html
    for body in (text, html):
        assert "RDG-NVY-100M" in body  # the alternative offered for the cancelled line
        assert "Ships sooner instead" in body or "ships sooner instead" in body
    text, html = render_body(kind=MessageKind.SHIPMENT, context=SAMPLE_CONTEXTS["shipment"])
    assert 'href="https://www.ups.com/track?tracknum=1Z999AA10123456795"' in html


def test_html_is_escaped_and_text_is_not():
    context = {**SAMPLE_CONTEXTS[MessageKind.GENERIC], "headline": "<script>x</script> & co"}
    text, html = render_body(kind=MessageKind.GENERIC, context=context)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<script>x</script> & co" in text
    assert render_subject(kind=MessageKind.GENERIC, context=context) == "<script>x</script> & co"


def test_clean_subject_flattens_control_characters_and_caps_length():
    assert clean_subject("a\r\nb\tc\x00d\u2028e") == "a b c d e"
    long = clean_subject("x" * 500)
    assert len(long) == 200
    assert long.endswith("…")


def test_isodate_formats_iso_dates_and_shows_anything_else_as_is():
    assert isodate("2026-04-02") == "Apr 2, 2026"
    assert isodate("2026-04-02T10:00:00+00:00") == "Apr 2, 2026"
    assert isodate("2026-04-02", "F j") == "April 2"  # each format kept apart
    assert isodate(dt.date(2026, 4, 2)) == "Apr 2, 2026"
    assert isodate("As agreed") == "As agreed"
    assert isodate("As agreed") == "As agreed"  # a second time, from the cache
    assert isodate("") == ""
    assert isodate(None) == ""
