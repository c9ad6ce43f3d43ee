"""POST/GET /api/v1/claims/: JSON or multipart with photos, the one error shape, the
caller's accounts only, and the case's timeline in the answer."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Claim
from tests.claims.conftest import claim_with_photo_create, photo_bytes, shipped_create
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

CLAIMS = "/api/v1/claims/"


def _body(shipped, **overrides):
    body = {
        "shipment": shipped.shipment.number,
        "reason": "wrong_size",
        "note": "Sent 9 instead of 9.5.",
        "lines": [{"sku": shipped.sku.code, "quantity": 3}],
    }
    body.update(overrides)
    return body


def test_a_json_claim_is_created_with_its_case_and_timeline(buyer_api, shipped):
    response = buyer_api.post(CLAIMS, _body(shipped), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    claim = Claim.objects.get()
    assert data["number"] == claim.number
    assert data["status"] == "open"
    assert data["case"] == claim.case.number
    assert data["shipment"] == shipped.shipment.number
    assert data["reason"] == "wrong_size"
    assert data["lines"] == [
        {
            "sku": shipped.sku.code,
            "description": data["lines"][0]["description"],
            "shipped": 6,
            "quantity": 3,
        }
    ]
    assert claim.case.channel == "api"
    (item,) = data["timeline"]
    assert item["side"] == "store"
    assert item["kind"] == "message"
    assert "Sent 9 instead of 9.5." in item["body"]


def test_a_multipart_claim_carries_photos_that_only_the_account_can_fetch(
    buyer_api, other_api, shipped
):
    body = _body(shipped)
    body["lines"] = json.dumps(body["lines"])
    body["photos"] = [
        SimpleUploadedFile("a.jpg", photo_bytes("JPEG"), "image/jpeg"),
        SimpleUploadedFile("b.png", photo_bytes("PNG"), "image/png"),
    ]

    response = buyer_api.post(CLAIMS, body, format="multipart")

    assert response.status_code == 201, response.content
    photos = response.json()["photos"]
    assert [p["content_type"] for p in photos] == ["image/jpeg", "image/png"]
    mine = buyer_api.get(photos[0]["url"])
    assert mine.status_code == 200
    assert mine["Content-Type"] == "image/jpeg"
    assert b"".join(mine.streaming_content)[:2] == b"\xff\xd8"
    theirs = other_api.get(photos[0]["url"])
    assert theirs.status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": "lost"}, "reason"),
        ({"lines": [{"sku": "X", "quantity": 99}]}, "lines[0].sku"),
        ({"lines": []}, "lines"),
        ({"shipment": "SH-NOPE"}, "shipment"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(buyer_api, shipped, overrides, field):
    response = buyer_api.post(CLAIMS, _body(shipped, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Claim.objects.exists()


def test_too_many_pairs_names_the_line(buyer_api, shipped):
    response = buyer_api.post(
        CLAIMS, _body(shipped, lines=[{"sku": shipped.sku.code, "quantity": 7}]), format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "lines[0].quantity": [
            f"{shipped.sku.code}: 6 shipped, 0 already claimed; at most 6 can be claimed."
        ]
    }


def test_a_multipart_photo_that_is_not_an_image_is_refused(buyer_api, shipped):
    body = _body(shipped)
    body["lines"] = json.dumps(body["lines"])
    body["photos"] = [SimpleUploadedFile("x.jpg", b"<svg onload=alert(1)>", "image/jpeg")]

    response = buyer_api.post(CLAIMS, body, format="multipart")

    assert response.status_code == 400
    assert "photos[0]" in response.json()["errors"]
    assert not Claim.objects.exists()


def test_multipart_lines_that_are_not_json_are_refused(buyer_api, shipped):
    body = {**_body(shipped), "lines": "SKU 3"}

    response = buyer_api.post(CLAIMS, body, format="multipart")

    assert response.status_code == 400
    assert "lines" in response.json()["errors"]


def test_the_list_and_detail_show_only_the_callers_claims(
    account, other_account, buyer, other_buyer, warehouse, shipped, django_assert_max_num_queries
):
    mine = [
        claim_with_photo_create(shipment=shipped.shipment, user=buyer, sku_code=shipped.sku.code)
        for _ in range(3)
    ]
    theirs_shipped = shipped_create(account=other_account, warehouse=warehouse, tracking="1Z88")
    theirs = claim_with_photo_create(
        shipment=theirs_shipped.shipment, user=other_buyer, sku_code=theirs_shipped.sku.code
    )
    api = api_client_for(buyer)

    with django_assert_max_num_queries(10):
        listed = api.get(CLAIMS)

    assert listed.status_code == 200
    assert {c["number"] for c in listed.json()["results"]} == {c.number for c in mine}
    detail = api.get(f"{CLAIMS}{mine[0].number}/")
    assert detail.status_code == 200
    assert detail.json()["timeline"][0]["body"].startswith(f"Claim {mine[0].number}")
    assert api.get(f"{CLAIMS}{theirs.number}/").status_code == 404


def test_the_list_does_not_grow_queries_with_claims(buyer, shipped, django_assert_max_num_queries):
    api = api_client_for(buyer)
    claim_with_photo_create(shipment=shipped.shipment, user=buyer, sku_code=shipped.sku.code)
    with CaptureQueriesContext(connection) as one:
        api.get(CLAIMS)
    for _ in range(4):
        claim_with_photo_create(shipment=shipped.shipment, user=buyer, sku_code=shipped.sku.code)
    with django_assert_max_num_queries(len(one.captured_queries)):
        api.get(CLAIMS)
