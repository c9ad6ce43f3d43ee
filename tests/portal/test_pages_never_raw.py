"""Pages a user should never see raw: branded error pages with a way back, a favicon,
notification pages without inline styles that name the store, and no order forms or
Settings link for someone who cannot use them."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults

from notifications.models import MessageKind
from notifications.rendering import render_subject
from notifications.services import message_enqueue
from orders.models import MembershipRole
from tests.factories import MembershipFactory, OrderFactory, OrderLineFactory, UserFactory


def _has_way_back(html: str) -> bool:
    return '<a class="button primary" href="/">Back to the portal</a>' in html


def test_an_unknown_page_is_the_branded_404_with_a_way_back(buyer_client):
    response = buyer_client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We can’t find that page" in html
    assert _has_way_back(html)
    assert '<nav aria-label="Main">' in html  # the portal's own frame, signed in


def test_a_forbidden_page_is_the_branded_403(client, account):
    viewer = MembershipFactory(account=account, role=MembershipRole.VIEWER).user
    client.force_login(viewer)
    response = client.get(reverse("portal:account_settings"))
    assert response.status_code == 403
    assert "You can’t open this page" in response.content.decode()
    assert _has_way_back(response.content.decode())


def test_a_server_error_is_the_branded_500_without_a_request_context(db):
    # Django renders 500.html without context processors or a signed-in user.
    response = defaults.server_error(RequestFactory().get("/orders/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html
    assert _has_way_back(html)
    assert '<a class="button" href="/">Try again</a>' in html


def test_every_page_links_the_favicon_and_favicon_ico_finds_it(buyer_client):
    html = buyer_client.get(reverse("portal:dashboard")).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    response = buyer_client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (301, "/static/favicon.svg")
    assert finders.find("favicon.svg")


@pytest.mark.parametrize("page", ["portal:notifications", "portal:notification_preferences"])
def test_notification_pages_have_no_inline_styles(buyer_client, page):
    html = buyer_client.get(reverse(page)).content.decode()
    assert not re.search(r"\sstyle=", html)


def test_notifications_name_the_store_they_are_about(buyer_client, buyer, account):
    context = {
        "account_name": account.name,
        "order_number": "SO-10042",
        "po_number": "PO-7781",
        "lines": [],
        "freight": "0.00",
        "total": "0.00",
        "order_url": "https://portal.example/orders/SO-10042/",
    }
    message_enqueue(
        kind=MessageKind.ORDER_CONFIRMATION, key="store-named", recipients=[buyer], context=context
    )
    # the subject, in the feed and the email
    subject = render_subject(kind=MessageKind.ORDER_CONFIRMATION, context=context)
    assert subject == f"{account.name}: Order SO-10042 confirmed (PO PO-7781)"
    html = buyer_client.get(reverse("portal:notifications")).content.decode()
    assert "<th>Store</th>" in html
    assert f"<td>{account.name}</td>" in html


def test_a_subject_that_names_the_store_already_is_not_prefixed(account):
    context = {"account_name": account.name, "lines": [{}, {}], "reason": "window"}
    subject = render_subject(kind=MessageKind.AUTO_CANCEL, context=context)
    assert subject == f"Backorder cancelled: 2 lines for {account.name}"


@pytest.fixture
def order(account):
    order = OrderFactory(account=account)
    OrderLineFactory(order=order)
    return order


def _pages(order):
    return {
        "dashboard": reverse("portal:dashboard"),
        "catalogue": reverse("portal:catalogue"),
        "orders": reverse("portal:order_list"),
        "order": reverse("portal:order_detail", args=[order.number]),
        "backorders": reverse("portal:backorders"),
    }


def test_a_viewer_is_shown_no_ordering_links_forms_or_settings(client, account, order):
    viewer = MembershipFactory(account=account, role=MembershipRole.VIEWER, user=UserFactory())
    client.force_login(viewer.user)
    for name, url in _pages(order).items():
        html = client.get(url).content.decode()
        assert reverse("portal:account_settings") not in html, name
        assert f'href="{reverse("portal:cart")}"' not in html, name
        assert reverse("portal:paste_upload") not in html, name
        assert f'href="{reverse("portal:reorder", args=[order.number])}"' not in html, name
        assert 'action="/cart/' not in html, name
    # and the reorder page itself has no form to post
    reorder = client.get(reverse("portal:reorder", args=[order.number])).content.decode()
    assert reverse("portal:cart_add") not in reorder


def test_the_buyer_is_shown_them(buyer_client, order):
    pages = _pages(order)
    nav = buyer_client.get(pages["dashboard"]).content.decode()
    assert reverse("portal:account_settings") in nav
    assert f'href="{reverse("portal:cart")}"' in nav
    assert reverse("portal:paste_upload") in buyer_client.get(pages["catalogue"]).content.decode()
    reorder = f'href="{reverse("portal:reorder", args=[order.number])}"'
    assert reorder in buyer_client.get(pages["order"]).content.decode()
    assert reorder in buyer_client.get(pages["orders"]).content.decode()
    assert reverse("portal:account_settings") in buyer_client.get(pages["backorders"]).text
