"""Every portal route, by its own user, with hostile values in the query string, the
form fields and the path: NUL bytes, markup, CR/LF, overlong text, numbers that are not
numbers. Always a 4xx or a page with an error, never a 500; nothing of the account
changes unless the input was valid."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.test_isolation import METHODS, ROUTES, _portal_routes, _snapshot

pytestmark = pytest.mark.django_db

HOSTILE = [
    "\x00",
    "SO-1\x00<b>",
    "<script>alert(1)</script>",
    "line\r\nX-Injected: yes",
    "x" * 5000,
    "-1",
    "1.5",
    "99999999999999999999999",
    "1e9",
    "NaN",
    "2024-02-30",
    "0001-01-01",
    "9999-12-31",
    '=HYPERLINK("http://evil.example")',
    "\u202e\ufeffé",
]
QUERY_NAMES = [
    "q",
    "core",
    "order",
    "status",
    "page",
    "as_of",
    "style",
    "category",
    "po_number",
    "placed_after",
    "placed_before",
    "backorders",
    "cancel_date",
    "action",
    "month",
    "start",
    "warehouse",
]
FORM_NAMES = [
    "sku",
    "quantity",
    "text",
    "po_number",
    "ship_to",
    "requested_ship_date",
    "cancel_date",
    "backorders",
    "idempotency_key",
    "account",
    "next",
    "action",
    "mode",
    "window_days",
    "decision_default",
    "name",
    "token",
    "all",
    "username",
    "password",
    "email",
    "old_password",
    "new_password1",
    "new_password2",
]
# Pages that sign the caller out or in: walked last / separately so the session survives.
SESSION_CHANGING = {"logout", "login"}


def _owner_client(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _urls_for(world):
    for name, _ in _portal_routes():
        if name in SESSION_CHANGING:
            continue
        spec = ROUTES[name]
        kwargs = spec.kwargs(world)
        if name == "portal:rep_account":
            continue  # the owner is a buyer, not a rep: walked in test_isolation
        yield name, spec, reverse(name, kwargs=kwargs)


def test_hostile_query_strings_never_fail_with_a_server_error(world):
    client = _owner_client(world.alpha.buyer)
    failures = []
    for name, _spec, url in _urls_for(world):
        for value in HOSTILE:
            response = client.get(url, dict.fromkeys(QUERY_NAMES, value))
            if response.status_code >= 500:
                failures.append(f"GET {url} ({name}) with {value[:30]!r}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_hostile_form_fields_never_fail_with_a_server_error(world):
    failures = []
    for name, spec, url in _urls_for(world):
        client = _owner_client(world.alpha.buyer)
        for value in HOSTILE:
            data = {**spec.body(world), **dict.fromkeys(FORM_NAMES, value)}
            data.update(
                {f"qty-{world.stocked.pk}": value, f"cancel-{world.alpha.allocated_line.pk}": value}
            )
            response = client.post(url, data)
            if response.status_code >= 500:
                failures.append(f"POST {url} ({name}) with {value[:30]!r}: {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("value", ["\x00", "SO-1\x00", "%00", "<b>x</b>", "x" * 300])
def test_hostile_path_parameters_are_not_found(world, value):
    client = _owner_client(world.alpha.buyer)
    failures = []
    for name, _ in _portal_routes():
        spec = ROUTES[name]
        kwargs = spec.kwargs(world)
        if not kwargs or name in SESSION_CHANGING:
            continue
        for key, real in list(kwargs.items()):
            if isinstance(real, int):
                continue  # <int:> routes do not match text at all
            url = reverse(name, kwargs={**kwargs, key: "PLACEHOLDER"}).replace(
                "PLACEHOLDER", value.replace("\x00", "%00")
            )
            for method in METHODS[:2]:
                response = getattr(client, method)(url)
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {url!r} ({name}): {response.status_code}")
                elif method == "get" and not 400 <= response.status_code < 500:
                    if name == "password_reset_confirm":
                        assert b"Ask for a new one" in response.content  # the link is refused
                        continue
                    failures.append(f"GET {url!r} ({name}): {response.status_code}, not 4xx")
    assert not failures, "\n".join(failures)


def test_hostile_input_changes_nothing(world):
    """Rejected input leaves the account as it was (orders, lines, cart, settings)."""
    before = _snapshot(world)
    client = _owner_client(world.alpha.buyer)
    for name, spec, url in _urls_for(world):
        if name in (
            "portal:cart_empty",
            "portal:notifications_read_all",
            "portal:notification_read",
            "portal:api_token_new",
            "portal:stock_alert_cancel",
        ):
            continue  # take no input: they do what they say
        if name == "portal:case_message":
            continue  # its one field is free text: any of these values is a valid message
        for value in ("\x00", "-1", "x" * 5000):
            data = {**spec.body(world), **dict.fromkeys(FORM_NAMES, value)}
            data.update(
                {f"qty-{world.stocked.pk}": value, f"cancel-{world.alpha.allocated_line.pk}": value}
            )
            if name == "portal:order_cancel":
                data.pop("all")
            client.post(url, data)
    after = _snapshot(world)
    assert after == before
