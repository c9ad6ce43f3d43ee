"""The portal's cases: the store files a claim from a shipment, sees its cases and the
timeline, and writes on a case; the rep sees the same cases and can leave notes only
the brand's people see; photos go to the account's people and the brand's staff only."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from orders.models import CaseEntry, Claim
from portal.roles import StaffRole, staff_groups_ensure
from tests.claims.conftest import claim_with_photo_create, photo_bytes
from tests.factories import CaseFactory, RepFactory, StaffFactory

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_claim_form_files_a_claim_with_photos_and_opens_the_case(
    buyer, shipped, django_assert_max_num_queries
):
    client = _client(buyer)
    url = reverse("portal:claim_new", args=[shipped.shipment.number])
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.status_code == 200
    line = shipped.shipment.lines.get(order_line__sku=shipped.sku)
    assert f'name="qty-{line.pk}"' in page.content.decode()

    response = client.post(
        url,
        {
            "reason": "damaged",
            "note": "Box crushed.",
            f"qty-{line.pk}": "2",
            "photos": [SimpleUploadedFile("p.heic.jpg", photo_bytes(), "image/jpeg")],
        },
    )

    claim = Claim.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("portal:case_detail", args=[claim.case.number])
    assert claim.photos.count() == 1
    detail = client.get(response.url).content.decode()
    assert f"Claim {claim.number}" in detail
    assert "Box crushed." in detail
    assert reverse("portal:claim_photo", args=[claim.number, claim.photos.get().pk]) in detail


def test_the_claim_form_shows_errors_on_the_line_and_keeps_what_was_typed(buyer, shipped):
    client = _client(buyer)
    line = shipped.shipment.lines.get(order_line__sku=shipped.sku)

    response = client.post(
        reverse("portal:claim_new", args=[shipped.shipment.number]),
        {"reason": "damaged", "note": "Keep me", f"qty-{line.pk}": "9"},
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "6 shipped, 0 already claimed; at most 6 can be claimed." in body
    assert "Keep me" in body
    assert not Claim.objects.exists()


def test_a_viewer_cannot_open_the_claim_form(account, shipped):
    from orders.models import MembershipRole
    from tests.factories import MembershipFactory, UserFactory

    viewer = MembershipFactory(account=account, user=UserFactory(), role=MembershipRole.VIEWER)

    response = _client(viewer.user).get(reverse("portal:claim_new", args=[shipped.shipment.number]))

    assert response.status_code == 403


def test_the_case_list_shows_claims_and_cases_staff_opened(
    account, buyer, shipped, django_assert_max_num_queries
):
    claims = [
        claim_with_photo_create(shipment=shipped.shipment, user=buyer, sku_code=shipped.sku.code)
        for _ in range(3)
    ]
    phoned = CaseFactory(account=account, summary="Asked about freight")
    client = _client(buyer)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("portal:case_list"))

    body = response.content.decode()
    for claim in claims:
        assert claim.case.number in body
        assert claim.number in body
    assert phoned.number in body


def test_the_store_writes_on_the_case_and_the_rep_is_told(account, buyer, shipped):
    rep = RepFactory()
    account.rep = rep
    account.save(update_fields=["rep"])
    claim = claim_with_photo_create(
        shipment=shipped.shipment, user=buyer, sku_code=shipped.sku.code
    )
    client = _client(buyer)

    response = client.post(
        reverse("portal:case_message", args=[claim.case.number]), {"body": "Any news?"}
    )

    assert response.status_code == 302
    entry = CaseEntry.objects.order_by("pk").last()
    assert (entry.side, entry.kind, entry.body, entry.internal) == (
        "store",
        "message",
        "Any news?",
        False,
    )
    assert rep.messages.filter(kind="case_update", key=f"case-entry:{entry.pk}:{rep.pk}").exists()


def test_the_store_cannot_leave_internal_notes(buyer, shipped):
    claim = claim_with_photo_create(
        shipment=shipped.shipment, user=buyer, sku_code=shipped.sku.code
    )

    _client(buyer).post(
        reverse("portal:case_message", args=[claim.case.number]),
        {"body": "psst", "internal": "1"},
    )

    assert not CaseEntry.objects.filter(body="psst").exists()


def test_the_reps_internal_note_is_not_shown_to_the_store(
    account, buyer, shipped, django_assert_max_num_queries
):
    rep = RepFactory()
    account.rep = rep
    account.save(update_fields=["rep"])
    claim = claim_with_photo_create(
        shipment=shipped.shipment, user=buyer, sku_code=shipped.sku.code
    )
    rep_client = _client(rep)
    url = reverse("portal:case_detail", args=[claim.case.number])

    rep_client.post(
        reverse("portal:case_message", args=[claim.case.number]),
        {"body": "Good account: be generous.", "internal": "1"},
    )
    rep_client.post(
        reverse("portal:case_message", args=[claim.case.number]),
        {"body": "I have asked the warehouse.", "internal": ""},
    )

    assert "Good account: be generous." in rep_client.get(url).content.decode()
    store = _client(buyer)
    with django_assert_max_num_queries(14):
        store_view = store.get(url).content.decode()
    assert "Good account: be generous." not in store_view
    assert "I have asked the warehouse." in store_view
    note = CaseEntry.objects.get(body="Good account: be generous.")
    assert (note.side, note.kind, note.internal) == ("brand", "note", True)
    assert not buyer.messages.filter(key__startswith=f"case-entry:{note.pk}:").exists()
    reply = CaseEntry.objects.get(body="I have asked the warehouse.")
    assert buyer.messages.filter(key=f"case-entry:{reply.pk}:{buyer.pk}").exists()


def test_photos_are_served_to_the_account_and_staff_only(buyer, other_buyer, shipped):
    claim = claim_with_photo_create(
        shipment=shipped.shipment, user=buyer, sku_code=shipped.sku.code
    )
    url = reverse("portal:claim_photo", args=[claim.number, claim.photos.get().pk])
    staff_groups_ensure()
    agent = StaffFactory()
    agent.groups.add(Group.objects.get(name=StaffRole.CS_AGENT.value))
    planner = StaffFactory()
    planner.groups.add(Group.objects.get(name=StaffRole.PLANNER.value))

    mine = _client(buyer).get(url)
    assert mine.status_code == 200
    assert mine["Content-Type"] == "image/png"
    assert mine["Cache-Control"].startswith("private")
    assert _client(agent).get(url).status_code == 200
    assert _client(other_buyer).get(url).status_code == 404
    assert _client(planner).get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_the_admin_case_page_shows_the_claim_photos_and_timeline(
    buyer, shipped, django_assert_max_num_queries
):
    claim = claim_with_photo_create(
        shipment=shipped.shipment, user=buyer, sku_code=shipped.sku.code
    )
    staff_groups_ensure()
    agent = StaffFactory()
    agent.groups.add(Group.objects.get(name=StaffRole.CS_AGENT.value))
    client = _client(agent)
    url = reverse("admin:orders_case_change", args=[claim.case.pk])

    with django_assert_max_num_queries(40):
        page = client.get(url)

    body = page.content.decode()
    assert page.status_code == 200
    assert claim.number in body
    assert f"{shipped.sku.code}: 1 of 6 shipped" in body
    assert reverse("portal:claim_photo", args=[claim.number, claim.photos.get().pk]) in body
    assert "Crushed carton, two boxes torn." in body
