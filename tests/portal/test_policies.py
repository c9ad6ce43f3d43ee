import datetime as dt
import re
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from orders import rules
from tests.factories import CommercialTermsFactory


def figure(page, name):
    """The text of the element marked data-figure=<name>."""
    match = re.search(rf'data-figure="{name}">(.*?)</(?:li|p)>', page, re.S)
    assert match, f"no {name} on the page"
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_policies_publish_the_terms_in_force(buyer_client, terms, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = buyer_client.get(reverse("portal:policies"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "$1,000.00" in figure(page, "opening-minimum")
    assert "6 pairs" in figure(page, "fill-in-minimum")
    assert "$500.00" in figure(page, "freight")
    assert "$15.00" in figure(page, "freight")
    assert "Net 30" in figure(page, "payment-terms")
    assert "45 days" in figure(page, "backorder-window")
    assert "5 days" in figure(page, "decision-deadline")
    assert "30 days" in figure(page, "returns-window")
    assert "365 days" in figure(page, "defect-window")
    assert "2 business days" in figure(page, "overdue-runs")
    assert "7 days" in figure(page, "overdue-runs")


def test_new_terms_change_the_page(buyer_client, terms):
    # given: a new version of the terms takes effect
    CommercialTermsFactory(
        version=2,
        effective_from=timezone.now() - dt.timedelta(minutes=1),
        opening_order_minimum=Decimal("750.00"),
        fill_in_minimum_pairs=4,
        free_freight_threshold=Decimal("350.00"),
        flat_freight=Decimal("12.50"),
        payment_terms_days=60,
        backorder_window_days=30,
        returns_window_days=14,
        restocking_fee_percent=Decimal("10.00"),
        overdue_grace_business_days=1,
        factory_delay_days=10,
    )
    # when
    page = buyer_client.get(reverse("portal:policies")).content.decode()
    # then
    assert "version 2" in page
    assert "$750.00" in figure(page, "opening-minimum")
    assert "4 pairs" in figure(page, "fill-in-minimum")
    assert "$350.00" in figure(page, "freight")
    assert "$12.50" in figure(page, "freight")
    assert "Net 60" in figure(page, "payment-terms")
    assert "30 days" in figure(page, "backorder-window")
    assert "14 days" in figure(page, "returns-window")
    assert "10% restocking fee" in figure(page, "returns-window")
    assert "1 business day." in figure(page, "overdue-runs")
    assert "10 days" in figure(page, "overdue-runs")


def test_future_terms_are_not_published_yet(buyer_client, terms):
    CommercialTermsFactory(
        version=2,
        effective_from=timezone.now() + dt.timedelta(days=3),
        free_freight_threshold=Decimal("999.00"),
    )
    page = buyer_client.get(reverse("portal:policies")).content.decode()
    assert "$999.00" not in page
    assert "$500.00" in figure(page, "freight")


def test_account_overrides_are_shown_with_the_standard(buyer_client, account, terms):
    account.free_freight_threshold = Decimal("300.00")
    account.payment_terms_days = 45
    account.backorder_window_days = 60
    account.save()
    page = buyer_client.get(reverse("portal:policies")).content.decode()
    assert "$300.00" in figure(page, "freight")
    assert "our standard is $500.00" in figure(page, "freight")
    assert "Net 45" in figure(page, "payment-terms")
    assert "60 days" in figure(page, "backorder-window")


def test_freight_sentence_comes_from_the_freight_rule(buyer_client, terms, monkeypatch):
    # given: the rule the cart and placement use says something else
    def quote(*, account, terms, subtotal):
        return rules.FreightQuote(Decimal("9.99"), Decimal("123.00"), Decimal("0.00"))

    monkeypatch.setattr(rules, "freight_quote", quote)
    # when
    page = buyer_client.get(reverse("portal:policies")).content.decode()
    # then: the page says what the rule says
    assert "$123.00" in figure(page, "freight")
    assert "$9.99" in figure(page, "freight")


def test_due_date_example_comes_from_the_invoice_rule(buyer_client, account, terms):
    account.dating_until = timezone.localdate() + dt.timedelta(days=90)
    account.save()
    page = buyer_client.get(reverse("portal:policies")).content.decode()
    due = account.dating_until
    assert f"{due:%b} {due.day}, {due.year}" in figure(page, "payment-terms")
    assert "Dating to" in figure(page, "payment-terms")


def test_account_without_backorders(buyer_client, account, terms):
    account.accepts_backorders = False
    account.save()
    page = buyer_client.get(reverse("portal:policies")).content.decode()
    assert "does not take backorders" in figure(page, "backorder-window")


def test_policies_say_how_backorder_dates_are_calibrated(buyer_client, terms):
    terms.promise_slip_percentile, terms.promise_default_buffer_days = 80, 4
    terms.save(update_fields=["promise_slip_percentile", "promise_default_buffer_days"])

    page = buyer_client.get(reverse("portal:policies")).content.decode()

    text = figure(page, "promise-calibration")
    assert "80 in 100" in text
    assert "gets 4 days" in text
    fewer = terms.promise_min_history
    assert f"no less than 4 days past its new ETA while fewer than {fewer}" in text


def test_policies_say_nothing_of_calibration_when_it_is_off(buyer_client, terms):
    terms.promise_slip_percentile = 0
    terms.save(update_fields=["promise_slip_percentile"])

    page = buyer_client.get(reverse("portal:policies")).content.decode()

    assert 'data-figure="promise-calibration"' not in page
