"""Isolation: every HTML route of the portal, requested by someone who is not account
Alderbrook's (a buyer of Birchwood, a rep of Birchwood, a rep with no accounts, nobody
signed in), with Alderbrook's ids in the URL and in the form, by every method, with a
real CSRF token. Never Alderbrook's data in the body, never a change to it.

The table below must name every route: a new route whose parameters the walk cannot
fill fails `test_every_route_is_in_the_walk`, so the coverage cannot silently rot.
The /api/ routes are walked by tests/api; the admin is checked at the end of this file.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from knox.models import AuthToken

from backorders.models import DecisionRequest
from notifications.models import Message
from orders.models import Account, CartLine, CaseEntry, ClaimLine, Order, OrderLine, StockAlert
from portal.views.documents import invoice_download_url
from tests.security.conftest import World

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
DENIED = {403, 404, 405}


@dataclass(frozen=True)
class Route:
    """How to call one route with Alderbrook's ids.

    owned: the URL names one of Alderbrook's objects, so anyone else gets 403/404
    (or 405 for a method the route does not take). Otherwise the route works on the
    caller's own current account: any non-5xx answer is fine, as long as nothing of
    Alderbrook's is shown or changed.
    public: reachable without signing in (anonymous gets no redirect to the login)."""

    kwargs: Callable[[World], dict] = lambda w: {}
    body: Callable[[World], dict] = lambda w: {}
    owned: bool = False
    public: bool = False
    notes: str = ""
    extra: dict = field(default_factory=dict)
    owner_answers: tuple = (200, 202, 302)  # what Alderbrook's own people get


# Signed-link routes: the token in the URL is the credential.
SIGNED_LINKS = {"portal:decision_link", "portal:decisions_link"}


def _alpha_order(w):
    return {"number": w.alpha.order.number}


ROUTES: dict[str, Route] = {
    # Django's auth pages: no object ids except the reset link (checked with a bad token).
    "login": Route(public=True, body=lambda w: {"username": w.alpha.buyer.email, "password": "x"}),
    "logout": Route(public=True),
    "password_change": Route(),
    "password_change_done": Route(),
    "password_reset": Route(public=True, body=lambda w: {"email": w.alpha.buyer.email}),
    "password_reset_done": Route(public=True),
    "password_reset_confirm": Route(
        public=True,
        kwargs=lambda w: {"uidb64": _uid(w.alpha.buyer), "token": "set-password"},
        body=lambda w: {"new_password1": "taken-over-42-x", "new_password2": "taken-over-42-x"},
    ),
    "password_reset_complete": Route(public=True),
    "healthz": Route(public=True),
    "favicon": Route(public=True),
    # Catalogue pictures: public (emails show them), the catalogue folder only.
    "picture": Route(public=True, kwargs=lambda w: {"path": "no-such-picture.jpg"}),
    # The caller's own account.
    "portal:dashboard": Route(),
    "portal:account_switch": Route(body=lambda w: {"account": w.alpha.account.pk, "next": "/"}),
    "portal:notifications": Route(),
    "portal:notifications_unread": Route(),
    "portal:notifications_read_all": Route(),
    "portal:notification_read": Route(
        kwargs=lambda w: {"message_id": w.alpha.message.pk}, owned=True
    ),
    "portal:notification_preferences": Route(),
    "portal:profile": Route(),
    "portal:api_token_new": Route(body=lambda w: {"name": "mine"}),
    "portal:api_token_revoke": Route(body=lambda w: {"token": w.alpha_token_digest}),
    "portal:core_reorder": Route(body=lambda w: {"sku": w.alpha.cart_sku.code, "quantity": "1"}),
    "portal:calendar": Route(),
    "portal:style_availability": Route(
        kwargs=lambda w: {"style_number": w.stocked.style.number},
        notes="The catalogue is the brand's, shared by every account.",
    ),
    "portal:scorecard": Route(),
    "portal:policies": Route(),
    "portal:rep_accounts": Route(),
    "portal:rep_account": Route(kwargs=lambda w: {"account_id": w.alpha.account.pk}, owned=True),
    "portal:shipment_list": Route(extra={"order": "alpha_order"}),
    "portal:packing_list_pdf": Route(
        kwargs=lambda w: {"number": w.alpha.shipment.number}, owned=True
    ),
    "portal:invoice_list": Route(),
    "portal:invoice_pdf": Route(kwargs=lambda w: {"number": w.alpha.invoice.number}, owned=True),
    "portal:invoice_download": Route(
        kwargs=lambda w: _alpha_invoice_link(w, session_key="alderbrook-browser"),
        owned=True,
        public=True,
        notes="A genuine signed link, issued to a session of Alderbrook's buyer: any other "
        "browser, signed in or not, gets 404.",
    ),
    "portal:credit_memo_pdf": Route(
        kwargs=lambda w: {"number": w.alpha.credit_memo.number}, owned=True
    ),
    "portal:claim_new": Route(
        kwargs=lambda w: {"number": w.alpha.shipment.number},
        owned=True,
        notes="The form is a GET; a stranger's POST with a valid body is refused too.",
    ),
    "portal:claim_photo": Route(
        kwargs=lambda w: {
            "number": w.alpha.claim.number,
            "photo_id": w.alpha.claim.photos.get().pk,
        },
        owned=True,
    ),
    "portal:case_list": Route(),
    "portal:stock_alerts": Route(),
    "portal:stock_alert_new": Route(
        body=lambda w: {"sku": w.backorderable.code, "next": "/"},
        notes="Always for the caller's own current account.",
    ),
    "portal:stock_alert_cancel": Route(
        kwargs=lambda w: {"alert_id": w.alpha.alert.pk}, owned=True, body=lambda w: {"x": "1"}
    ),
    "portal:case_detail": Route(kwargs=lambda w: {"number": w.alpha.claim.case.number}, owned=True),
    "portal:case_message": Route(
        kwargs=lambda w: {"number": w.alpha.claim.case.number},
        owned=True,
        body=lambda w: {"body": "A stranger's message"},
    ),
    "portal:inbound_email": Route(
        public=True,
        body=lambda w: {"recipient": "x", "sender": w.alpha.buyer.email, "stripped-text": "hi"},
        notes="The mail provider's endpoint: unsigned posts are refused (403) by everyone.",
    ),
    "portal:credit_memo_list": Route(),
    "portal:invoice_detail": Route(kwargs=lambda w: {"number": w.alpha.invoice.number}, owned=True),
    "portal:return_label_pdf": Route(
        kwargs=lambda w: {"number": w.alpha.return_authorization.number}, owned=True
    ),
    "portal:statement": Route(),
    "portal:statement_pdf": Route(
        notes="The caller's own statement: 202 while a worker renders it, then the file."
    ),
    "portal:catalogue": Route(),
    "portal:line_sheet": Route(notes="The brand's catalogue at the caller's own prices."),
    "portal:style_detail": Route(
        kwargs=lambda w: {"style_number": w.stocked.style.number},
        body=lambda w: {f"qty-{w.alpha.cart_sku.pk}": "0"},
        notes="Shared catalogue; the grid writes the caller's own cart.",
    ),
    "portal:quick_list": Route(kwargs=lambda w: {"kind": "core"}),
    "portal:cart": Route(),
    "portal:cart_add": Route(body=lambda w: {"sku": w.alpha.cart_sku.code, "quantity": "1"}),
    "portal:cart_line_update": Route(
        kwargs=lambda w: {"sku_id": w.alpha.cart_sku.pk},
        body=lambda w: {"quantity": "0"},
        notes="A SKU is the brand's; the line written is in the caller's own cart.",
    ),
    "portal:cart_empty": Route(),
    "portal:paste_upload": Route(body=lambda w: {"text": f"{w.alpha.cart_sku.code} 2"}),
    "portal:review": Route(),
    "portal:submit": Route(
        body=lambda w: {
            "po_number": "PO-STRANGER",
            "ship_to": w.alpha.account.ship_tos.get().pk,
            "backorders": "allow",
            "idempotency_key": w.alpha.order.idempotency_key or "k-1",
        }
    ),
    "portal:order_list": Route(extra={"number": "alpha_order"}),
    "portal:order_detail": Route(kwargs=_alpha_order, owned=True),
    "portal:order_cancel": Route(kwargs=_alpha_order, owned=True, body=lambda w: {"all": "1"}),
    "portal:order_edit": Route(
        kwargs=_alpha_order,
        owned=True,
        body=lambda w: {"add-sku-0": w.alpha.cart_sku.code, "add-qty-0": "6"},
        owner_answers=(400,),
        notes="Alderbrook's order has shipped: its buyer is told it can no longer change.",
    ),
    "portal:export": Route(
        kwargs=lambda w: {"name": "orders", "file_format": "csv"},
        extra={"number": "alpha_order"},
        notes="The caller's own current account's rows only.",
    ),
    "portal:reorder": Route(kwargs=_alpha_order, owned=True),
    "portal:backorders": Route(),
    "portal:backorder_decide": Route(
        kwargs=lambda w: {"line_id": w.alpha.backordered_line.pk},
        owned=True,
        body=lambda w: {"action": "cancel"},
    ),
    "portal:decision_link": Route(
        kwargs=lambda w: {"token": w.alpha.token},
        owned=True,
        public=True,
        body=lambda w: {"action": "cancel"},
        notes="The signed token is the capability: only its addressee (or nobody signed "
        "in, as from the email) may use it; any other signed-in user gets 404.",
    ),
    "portal:decisions": Route(body=lambda w: {"all": "cancel"}),
    "portal:decisions_link": Route(
        kwargs=lambda w: {"token": w.alpha.event_token},
        owned=True,
        public=True,
        body=lambda w: {"all": "cancel"},
        notes="As decision_link: the signed token (one ETA change, one account, one "
        "addressee) is the capability.",
    ),
    "portal:account_settings": Route(body=lambda w: {"mode": "none", "decision_default": "cancel"}),
}


def _alpha_invoice_link(w, *, session_key):
    url = invoice_download_url(
        invoice=w.alpha.invoice, user_id=w.alpha.buyer.pk, session_key=session_key
    )
    return resolve(url).kwargs


def _uid(user):
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return urlsafe_base64_encode(force_bytes(user.pk))


def _portal_routes():
    """(name, route) of every URL pattern outside /api/ and the admin."""
    found = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace
                full_ns = f"{namespace}:{ns}" if namespace and ns else ns or namespace
                walk(pattern.url_patterns, route, full_ns)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found.append((name or route, route))

    walk(get_resolver().url_patterns, "", None)
    return [
        (name, route)
        for name, route in found
        if not route.startswith(("api/", settings.ADMIN_URL))
        and not (settings.BENCH_VIEWS and route.startswith("bench/"))
    ]


def test_every_route_is_in_the_walk():
    routes = dict(_portal_routes())
    unknown = sorted(name for name in routes if name not in ROUTES)
    assert not unknown, f"Routes the isolation walk cannot fill yet, add them to ROUTES: {unknown}"
    gone = sorted(name for name in ROUTES if name not in routes)
    assert not gone, f"ROUTES names routes that no longer exist: {gone}"
    assert len(routes) >= 50


# --- The walk ----------------------------------------------------------------------------


def _snapshot(w: World) -> dict:
    """Everything of Alderbrook's that a stranger's request could change."""
    account = Account.objects.get(pk=w.alpha.account.pk)
    return {
        "orders": sorted(Order.objects.filter(account=account).values_list("pk", "status")),
        "lines": sorted(
            OrderLine.objects.filter(order__account=account).values_list(
                "pk", "quantity", "allocated", "backordered", "shipped", "cancelled"
            )
        ),
        "cart": sorted(
            CartLine.objects.filter(cart__account=account).values_list("sku_id", "quantity")
        ),
        "decisions": sorted(
            DecisionRequest.objects.filter(line__order__account=account).values_list("pk", "status")
        ),
        "unread": sorted(
            Message.objects.filter(recipient=w.alpha.buyer, read_at__isnull=True).values_list(
                "pk", flat=True
            )
        ),
        "tokens": AuthToken.objects.filter(user=w.alpha.buyer).count(),
        "settings": (
            account.accepts_backorders,
            account.backorder_window_days,
            account.decision_default,
        ),
        "password": w.alpha.buyer.__class__.objects.get(pk=w.alpha.buyer.pk).password,
        "claims": sorted(
            ClaimLine.objects.filter(claim__account=account).values_list("pk", "quantity")
        ),
        "case_entries": CaseEntry.objects.filter(case__account=account).count(),
        "alerts": sorted(
            StockAlert.objects.filter(account=account).values_list("pk", "user_id", "status")
        ),
    }


def _csrf_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.get(reverse("login"))  # sets the CSRF cookie, as a browser would get it
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    return client, token


def _call(client, token, method, url, data):
    headers = {"HTTP_X_CSRFTOKEN": token}
    if method == "get":
        return client.get(url, **headers)
    if method == "post":
        return client.post(url, {**data, "csrfmiddlewaretoken": token}, **headers)
    return getattr(client, method)(url, **headers)


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _walk(w: World, user, *, anonymous=False):
    """Request every route by every method as `user`; return the problems found."""
    problems, requests = [], 0
    routes = dict(_portal_routes())
    before = _snapshot(w)
    own_order_numbers = {w.beta.order.number}
    for name in routes:
        spec = ROUTES[name]
        kwargs = spec.kwargs(w)
        if anonymous and name in SIGNED_LINKS:
            # Signed out, the link itself is the credential (it comes from the email):
            # a stranger without it can only forge one.
            kwargs = {"token": kwargs["token"][:-6] + "forged"}
        url = reverse(name, kwargs=kwargs)
        if spec.extra:
            values = {"alpha_order": w.alpha.order.number}
            url += "?" + "&".join(f"{k}={values[v]}" for k, v in spec.extra.items())
        client, token = _csrf_client(user)
        for method in METHODS:
            response = _call(client, token, method, url, spec.body(w))
            requests += 1
            status, body = response.status_code, _text(response)
            label = f"{method.upper()} {url} ({name}) -> {status}"
            if status >= 500:
                problems.append(f"{label}: server error")
            # What the caller sent may come back (a filter box, the login form): not a leak.
            sent = url + " " + " ".join(str(v) for v in spec.body(w).values())
            leaked = [
                s
                for s in w.alpha.secrets
                if s in body and s not in own_order_numbers and s not in sent
            ]
            if leaked:
                problems.append(f"{label}: shows {leaked}")
            if anonymous and name in SIGNED_LINKS and status not in (400, 405):
                problems.append(f"{label}: a forged link was not refused")
            if anonymous and not spec.public:
                login = reverse("login")
                if not (status == 302 and response.url.startswith(login)) and status != 405:
                    problems.append(f"{label}: not sent to the login page")
            elif spec.owned and not anonymous and status not in DENIED:
                problems.append(f"{label}: expected 403/404/405")
            if status == 403 and "CSRF verification failed" in body:
                problems.append(f"{label}: refused by the CSRF check, not by the view")
    after = _snapshot(w)
    if after != before:
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        problems.append(f"Alderbrook's data changed: {changed}")
    return problems, requests


def test_the_owner_reaches_every_owned_route(world):
    """The control: the ids the walk uses are real, so a 404 for a stranger means
    something."""
    w = world
    reachable = []
    for name, spec in ROUTES.items():
        if not spec.owned or name in SIGNED_LINKS:
            continue
        url = reverse(name, kwargs=spec.kwargs(w))
        user = w.alpha.buyer
        if name == "portal:rep_account":
            Account.objects.filter(pk=w.alpha.account.pk).update(rep=w.rep_of_beta)
            user = w.rep_of_beta
        client = Client()
        client.force_login(user)
        if name == "portal:invoice_download":
            # the link as the invoice list issues it to this browser
            link = _alpha_invoice_link(w, session_key=client.session.session_key)
            url = reverse(name, kwargs=link)
        method = "get" if spec.body(w) == {} and "read" not in name else "post"
        response = getattr(client, method)(url, spec.body(w))
        reachable.append((name, response.status_code, spec.owner_answers))
    assert all(status in answers for _, status, answers in reachable), reachable
    # and the link's addressee, not signed in, gets the confirmation page
    anonymous = Client().get(reverse("portal:decision_link", args=[w.alpha.token]))
    assert anonymous.status_code == 200
    assert w.alpha.backordered_line.sku.code in anonymous.content.decode()
    anonymous = Client().get(reverse("portal:decisions_link", args=[w.alpha.event_token]))
    assert anonymous.status_code == 200
    assert w.alpha.backordered_line.sku.code in anonymous.content.decode()


@pytest.mark.parametrize("who", ["other_buyer", "their_rep", "rep_without_accounts"])
def test_a_stranger_never_sees_or_changes_another_accounts_data(world, who):
    w = world
    user = {
        "other_buyer": w.beta.buyer,
        "their_rep": w.rep_of_beta,
        "rep_without_accounts": w.rep_of_none,
    }[who]

    problems, requests = _walk(w, user)

    assert requests == len(ROUTES) * len(METHODS)
    assert not problems, "\n".join(problems)
    # and the requests went through as that user: their own data is still there
    if who == "other_buyer":
        assert Order.objects.filter(account=w.beta.account).exists()


def test_nobody_signed_in_is_sent_to_the_login_page(world):
    problems, requests = _walk(world, None, anonymous=True)

    assert requests == len(ROUTES) * len(METHODS)
    assert not problems, "\n".join(problems)


def test_switching_to_an_account_one_does_not_belong_to_is_refused(world):
    w = world
    client, token = _csrf_client(w.beta.buyer)

    response = _call(
        client, token, "post", reverse("portal:account_switch"), {"account": w.alpha.account.pk}
    )

    assert response.status_code == 404
    dashboard = client.get(reverse("portal:dashboard"))
    assert w.beta.account.name in dashboard.content.decode()
    assert w.alpha.account.name not in dashboard.content.decode()


def test_the_walk_notices_a_leak(world, monkeypatch):
    """The walk can fail: with the order lookup scoped to nobody, Birchwood's buyer sees
    Alderbrook's order and the walk reports it."""
    from orders import selectors
    from orders.models import Order as OrderModel

    w = world
    monkeypatch.setattr(
        "portal.views.orders.order_for_user",
        lambda *, user, number: OrderModel.objects.filter(number=number).first(),
    )
    assert selectors.order_for_user(user=w.beta.buyer, number=w.alpha.order.number) is None

    problems, _ = _walk(w, w.beta.buyer)

    assert any("order_detail" in p and w.alpha.order.po_number in p for p in problems), problems


# --- The admin ---------------------------------------------------------------------------

ADMIN_SIGN_IN = (None, "login", "logout")


def test_the_admin_is_closed_to_retailers_and_reps(world):
    """Every admin page, with Alderbrook's order id where one is taken, sends a
    non-staff user to the admin's sign-in page and shows nothing."""
    w = world
    admin_patterns = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith(settings.ADMIN_URL) and pattern.name not in ADMIN_SIGN_IN:
                admin_patterns.append((pattern.name, pattern.pattern.converters))

    walk(get_resolver().url_patterns, "")
    checked = 0
    for user in (w.beta.buyer, w.rep_of_beta):
        client = Client()
        client.force_login(user)
        for name, converters in admin_patterns:
            kwargs = {}
            for param in converters:
                kwargs[param] = {
                    "object_id": str(w.alpha.order.pk),
                    "app_label": "orders",
                    "content_type_id": "1",
                    "url": "orders/order/",
                }.get(param, "1")
            try:
                url = reverse(f"admin:{name}", kwargs=kwargs)
            except Exception:  # noqa: BLE001 - a pattern the generic kwargs don't fit
                continue
            response = client.get(url)
            checked += 1
            assert response.status_code in (302, 404), (url, response.status_code)
            if response.status_code == 302:
                assert reverse("admin:login") in response.url, url
            assert w.alpha.order.po_number not in response.content.decode(), url
    assert checked > 40
