"""Every page a buyer needs is at most two clicks from the dashboard."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve, reverse

from tests.factories import OrderFactory, OrderLineFactory, RepFactory

SKIP_PREFIXES = ("/admin", "/api", "/accounts/logout", "/static", "/media")


class LinkParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and not href.startswith(("#", "mailto:")):
            self.links.append(href)


def links_of(html):
    parser = LinkParser()
    parser.feed(html)
    return parser.links


def crawl(client, start, depth):
    """Breadth-first over same-site GET links: {url_name: clicks from start}."""
    reached, frontier, seen = {}, [start], {start}
    for clicks in range(1, depth + 1):
        next_frontier = []
        for url in frontier:
            response = client.get(url)
            assert response.status_code == 200, url
            if "html" not in response.get("Content-Type", ""):
                continue
            for href in links_of(response.content.decode()):
                parts = urlsplit(href)
                if (
                    parts.netloc
                    or parts.path.startswith(SKIP_PREFIXES)
                    or parts.path.endswith(".pdf")
                ):
                    continue
                try:
                    match = resolve(parts.path)
                except Resolver404:
                    continue
                reached.setdefault(match.view_name, clicks)
                if parts.path not in seen and not parts.path.endswith("/pdf/"):
                    seen.add(parts.path)
                    next_frontier.append(parts.path)
        frontier = next_frontier
    return reached


def test_orders_backorders_shipments_invoices_within_two_clicks(buyer_client, account):
    # given: an open order with a backordered line
    order = OrderFactory(account=account)
    OrderLineFactory(order=order, quantity=4, allocated=0, backordered=4)
    # when
    reached = crawl(buyer_client, reverse("portal:dashboard"), depth=2)
    # then
    wanted = {
        "portal:order_list",
        "portal:order_detail",
        "portal:shipment_list",
        "portal:invoice_list",
        "portal:calendar",
        "portal:scorecard",
        "portal:policies",
    }
    assert wanted <= reached.keys(), wanted - reached.keys()
    assert reached.keys() & {"portal:backorder_list", "portal:backorders"}
    assert all(reached[name] <= 2 for name in wanted)
    assert reached["portal:order_list"] == 1
    assert reached["portal:order_detail"] == 1


def test_reps_link_only_for_reps(buyer_client, client, account):
    assert "portal:rep_accounts" not in crawl(buyer_client, reverse("portal:dashboard"), depth=1)
    rep = RepFactory()
    account.rep = rep
    account.save()
    client.force_login(rep)
    assert crawl(client, reverse("portal:dashboard"), depth=1)["portal:rep_accounts"] == 1
