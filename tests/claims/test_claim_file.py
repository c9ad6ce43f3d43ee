"""Filing a claim: by shipment line and quantity, never more than shipped less what is
already claimed, with photos; it opens a case, puts the claim on its timeline and tells
the store's people and the rep."""

import threading

import pytest
from django.db import connection

from notifications.models import Message
from orders.exceptions import OrderInputError, OrderNotAllowed
from orders.models import Case, CaseEntry, Claim, ClaimLine, ClaimPhoto, MembershipRole
from orders.services.claims import claim_file
from tests.claims.conftest import photo_bytes, shipped_create
from tests.conftest import concurrent
from tests.factories import MembershipFactory, RepFactory, UserFactory

pytestmark = pytest.mark.django_db


def _file(user, shipped, lines=None, **kw):
    return claim_file(
        user=user,
        shipment_number=shipped.shipment.number,
        reason=kw.pop("reason", "damaged"),
        note=kw.pop("note", "Two boxes crushed."),
        lines=[{"sku": shipped.sku.code, "quantity": 2}] if lines is None else lines,
        **kw,
    )


def test_a_claim_opens_a_case_with_its_lines_photos_and_first_entry(account, buyer, shipped):
    rep = RepFactory()
    account.rep = rep
    account.save(update_fields=["rep"])

    claim = _file(buyer, shipped, photos=[photo_bytes("JPEG"), photo_bytes("PNG")])

    assert claim.number.startswith("CL-")
    case = claim.case
    assert (case.account, case.order, case.reason, case.channel) == (
        account,
        shipped.shipment.order,
        "damaged",
        "portal",
    )
    assert case.status == "open"
    assert [(line.shipment_line.order_line.sku, line.quantity) for line in claim.lines.all()] == [
        (shipped.sku, 2)
    ]
    assert [p.content_type for p in claim.photos.order_by("pk")] == ["image/jpeg", "image/png"]
    assert all(p.image.storage.exists(p.image.name) for p in claim.photos.all())
    (entry,) = case.entries.all()
    assert (entry.side, entry.kind, entry.author) == ("store", "message", buyer)
    assert "2 of 6 pairs" in entry.body
    assert "Two boxes crushed." in entry.body
    told = set(Message.objects.filter(kind="case_update").values_list("recipient", flat=True))
    assert told == {buyer.pk, rep.pk}


def test_more_than_shipped_less_claimed_is_refused_naming_the_line(buyer, shipped):
    _file(buyer, shipped, lines=[{"sku": shipped.sku.code, "quantity": 5}])

    with pytest.raises(OrderInputError) as error:
        _file(
            buyer,
            shipped,
            lines=[
                {"sku": shipped.other_sku.code, "quantity": 4},
                {"sku": shipped.sku.code, "quantity": 2},
            ],
        )

    assert error.value.message_dict == {
        "lines[1].quantity": [
            f"{shipped.sku.code}: 6 shipped, 5 already claimed; at most 1 can be claimed."
        ]
    }
    assert Claim.objects.count() == 1
    assert Case.objects.count() == 1
    assert ClaimLine.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": "lost"}, "reason"),
        ({"lines": [{"sku": "NOPE-1", "quantity": 1}]}, "lines[0].sku"),
        ({"lines": [{"sku": "SKU", "quantity": 0}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "SKU", "quantity": "two"}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "SKU", "quantity": 1}, {"sku": "SKU", "quantity": 1}]}, "lines[1].sku"),
        ({"lines": []}, "lines"),
        ({"note": "x" * 4001}, "note"),
        ({"note": "nul\x00"}, "note"),
        ({"photos": [b"not a photo"]}, "photos[0]"),
        ({"photos": [photo_bytes()] * 6}, "photos"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(buyer, shipped, change, field):
    if "lines" in change:
        for line in change["lines"]:
            if line["sku"] == "SKU":
                line["sku"] = shipped.sku.code
    with pytest.raises(OrderInputError) as error:
        _file(buyer, shipped, **change)

    assert field in error.value.message_dict
    assert not Claim.objects.exists()
    assert not Case.objects.exists()
    assert not ClaimPhoto.objects.exists()
    assert not Message.objects.filter(kind="case_update").exists()


def test_another_accounts_shipment_is_no_such_shipment(other_account, buyer, warehouse):
    theirs = shipped_create(account=other_account, warehouse=warehouse, tracking="1Z9999999")

    with pytest.raises(OrderInputError) as error:
        _file(buyer, theirs)

    assert error.value.message_dict == {"shipment": ["No such shipment on your accounts."]}
    assert not Case.objects.exists()


def test_a_viewer_cannot_file_a_claim_but_the_rep_can(account, shipped):
    viewer = MembershipFactory(account=account, user=UserFactory(), role=MembershipRole.VIEWER)
    with pytest.raises(OrderNotAllowed):
        _file(viewer.user, shipped)

    rep = RepFactory()
    account.rep = rep
    account.save(update_fields=["rep"])
    assert _file(rep, shipped).created_by == rep


@concurrent
@pytest.mark.django_db(transaction=True)
def test_two_claims_at_once_cannot_both_take_the_last_pairs(account, buyer, warehouse):
    # given 6 shipped pairs, and two people claiming 4 of them at the same moment
    shipped = shipped_create(account=account, warehouse=warehouse)
    barrier = threading.Barrier(2)
    outcomes = []

    def claim():
        try:
            barrier.wait()
            _file(buyer, shipped, lines=[{"sku": shipped.sku.code, "quantity": 4}])
            outcomes.append("filed")
        except OrderInputError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then one is filed and the other told how many are left
    assert sorted(outcomes) == ["filed", "refused"]
    assert sum(ClaimLine.objects.values_list("quantity", flat=True)) == 4
    assert CaseEntry.objects.count() == 1
