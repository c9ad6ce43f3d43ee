"""Replies by email: the mail provider posts each email sent to a case's signed reply
address; a signed post from someone who may see the case lands on it as a message, and
everything else is refused with a clear 4xx and changes nothing."""

import hashlib
import hmac
import time

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import CaseEntry
from orders.services.claims import case_reply_address
from tests.claims.conftest import claim_with_photo_create
from tests.factories import RepFactory, UserFactory

pytestmark = pytest.mark.django_db

KEY = "provider-signing-key-for-tests"
URL = "/inbound/email/"


@pytest.fixture
def case(settings, buyer, shipped):
    settings.INBOUND_EMAIL_SIGNING_KEY = KEY
    claim = claim_with_photo_create(
        shipment=shipped.shipment, user=buyer, sku_code=shipped.sku.code
    )
    return claim.case


def _post(*, recipient, sender, text="Thanks, the replacements arrived.", token="tok-1", **kw):
    timestamp = str(kw.pop("timestamp", int(time.time())))
    key = kw.pop("key", KEY)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {
        "recipient": recipient,
        "sender": sender,
        "subject": "Re: case",
        "body-plain": f"{text}\n\n> On Monday Trailwise wrote:\n> quoted",
        "stripped-text": text,
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
        **kw,
    }
    return Client(enforce_csrf_checks=True).post(URL, data)


def test_the_url_is_the_inbound_route():
    assert reverse("portal:inbound_email") == URL


def test_a_signed_reply_from_the_store_lands_on_its_case(case, buyer):
    response = _post(recipient=case_reply_address(case=case), sender=f"Dana <{buyer.email}>")

    assert response.status_code == 200
    entry = CaseEntry.objects.get(pk=response.json()["entry"])
    assert response.json()["case"] == case.number
    assert (entry.case, entry.side, entry.channel, entry.author) == (case, "store", "email", buyer)
    assert entry.body == "Thanks, the replacements arrived."


def test_the_reps_reply_is_on_the_brand_side(case, account):
    rep = RepFactory()
    account.rep = rep
    account.save(update_fields=["rep"])

    response = _post(recipient=case_reply_address(case=case), sender=rep.email.upper())

    assert response.status_code == 200
    assert CaseEntry.objects.get(pk=response.json()["entry"]).side == "brand"


def test_the_same_post_twice_adds_one_entry_even_with_another_body(case, buyer):
    address = case_reply_address(case=case)
    first = _post(recipient=address, sender=buyer.email)
    replay = _post(recipient=address, sender=buyer.email, text="Send me a refund instead")

    assert first.json()["entry"] == replay.json()["entry"]
    assert not CaseEntry.objects.filter(body__contains="refund").exists()


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"key": "not-the-providers-key"}, 403, "signature"),
        ({"timestamp": int(time.time()) - 3600}, 403, "signature"),
        ({"signature": ""}, 403, "signature"),
        ({"recipient": "case-1-0000000000000000000000@reply.trailwise.example"}, 400, "recipient"),
        ({"recipient": "someone@elsewhere.example"}, 400, "recipient"),
        ({"sender": "stranger@example.com"}, 403, "sender"),
        ({"text": "   "}, 400, "body"),
    ],
)
def test_anything_else_is_refused_and_changes_nothing(case, buyer, change, status, field):
    before = CaseEntry.objects.count()
    values = {"recipient": case_reply_address(case=case), "sender": buyer.email, **change}
    if change.get("text", "x").strip() == "":
        values["body-plain"] = ""
    if "signature" in change:
        # a post whose signature field is blank
        response = Client().post(URL, {"recipient": values["recipient"], "token": "t"})
    else:
        response = _post(**values)

    assert response.status_code == status
    assert field in response.json()["errors"]
    assert CaseEntry.objects.count() == before


def test_a_member_of_another_account_cannot_write_on_the_case(case, other_buyer):
    response = _post(recipient=case_reply_address(case=case), sender=other_buyer.email)

    assert response.status_code == 403


def test_without_a_signing_key_every_post_is_refused(case, buyer, settings):
    settings.INBOUND_EMAIL_SIGNING_KEY = ""

    response = _post(recipient=case_reply_address(case=case), sender=buyer.email)

    assert response.status_code == 403
    assert response.json()["detail"] == "Inbound email is not configured."


def test_an_unknown_user_address_is_refused(case):
    response = _post(recipient=case_reply_address(case=case), sender=UserFactory.build().email)

    assert response.status_code == 403
