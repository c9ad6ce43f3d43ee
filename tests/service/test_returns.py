"""A prepaid return's whole lifecycle: authorized -> label issued (the worker renders
the label) -> received at the warehouse (API and admin) -> credited -> closed; each step
recorded, and the store and the rep told."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from notifications.kinds import MessageKind
from notifications.models import Message
from orders import tasks
from orders.exceptions import OrderInputError
from orders.models import CreditApprovalStatus, CreditReason, ReturnAuthorization
from orders.services import returns, service_desk
from portal.roles import StaffRole
from tests.conftest import api_client_for
from tests.factories import RepFactory, UserFactory
from tests.orders.test_service_desk_helpers import open_case, shipped_order, staff_with

Status = ReturnAuthorization.Status


@pytest.fixture
def agent(db):
    return staff_with(StaffRole.CS_AGENT)


@pytest.fixture
def authorized(account, buyer, agent):
    """4 of 10 shipped pairs at 50.00 authorized back as defective, on an open case."""
    account.rep = RepFactory()
    account.save(update_fields=["rep"])
    order, invoice = shipped_order(account=account, price="50.00", quantity=10)
    case = open_case(account=account, order=order, user=agent)
    authorization = service_desk.return_create(
        case=case,
        order=order,
        lines=[{"sku": order.lines.get().sku.code, "quantity": 4}],
        reason=CreditReason.DEFECT,
        user=agent,
    )
    return authorization, invoice


def test_the_label_rendered_by_the_worker_issues_it_with_carrier_fields(authorized):
    authorization, _ = authorized
    assert authorization.status == Status.AUTHORIZED
    # when the worker renders the label
    tasks.document_render_task("return_label", authorization.pk)
    # then the return moves to "label issued", and the PDF carries the carrier fields
    authorization.refresh_from_db()
    assert authorization.status == Status.LABEL_ISSUED
    assert authorization.label_issued_at is not None
    assert authorization.label_pdf.open("rb").read(4) == b"%PDF"
    # and rendering again changes nothing
    assert tasks.document_render_task("return_label", authorization.pk) == ""


def test_the_warehouse_receives_through_the_api_and_store_and_rep_are_told(authorized):
    authorization, _ = authorized
    integration = staff_with(StaffRole.INTEGRATION)
    api = api_client_for(integration)
    url = f"/api/v1/returns/{authorization.number}/receive/"
    sku = authorization.lines.get().order_line.sku.code
    # when the warehouse reports 3 of the 4 pairs
    response = api.post(url, {"lines": [{"sku": sku, "quantity": 3}]}, format="json")
    # then the return is received, per line
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "received"
    assert response.json()["lines"] == [{"sku": sku, "quantity": 4, "received": 3}]
    # and the store's people and the rep get one message each
    told = Message.objects.filter(
        kind=MessageKind.CASE_UPDATE, key__startswith=f"return-received:{authorization.pk}"
    )
    assert {m.recipient for m in told} >= {authorization.account.rep}
    assert told.count() == 2
    # and the same report again is the same answer, nothing new
    again = api.post(url, {"lines": [{"sku": sku, "quantity": 3}]}, format="json")
    assert again.status_code == 200
    assert told.count() == 2


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([{"sku": "NOPE", "quantity": 1}], "lines[0].sku"),
        ([{"sku": "SKU", "quantity": 5}], "lines[0].quantity"),
        ([{"sku": "SKU", "quantity": -1}], "lines[0].quantity"),
    ],
)
def test_a_bad_receipt_names_the_row_and_changes_nothing(authorized, lines, field):
    authorization, _ = authorized
    sku = authorization.lines.get().order_line.sku.code
    lines = [{**row, "sku": sku if row["sku"] == "SKU" else row["sku"]} for row in lines]
    api = api_client_for(staff_with(StaffRole.INTEGRATION))
    response = api.post(
        f"/api/v1/returns/{authorization.number}/receive/", {"lines": lines}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    authorization.refresh_from_db()
    assert authorization.status == Status.AUTHORIZED


def test_a_retailer_cannot_receive_a_return(authorized, buyer_api):
    authorization, _ = authorized
    response = buyer_api.post(f"/api/v1/returns/{authorization.number}/receive/", {})
    assert response.status_code == 403


def test_crediting_the_pairs_received_then_closing(authorized, agent):
    # given 3 of the 4 pairs received
    authorization, invoice = authorized
    returns.return_receive(
        authorization=authorization,
        user=agent,
        lines=[{"sku": authorization.lines.get().order_line.sku.code, "quantity": 3}],
    )
    # when the agent credits the return
    [request] = returns.return_credit(authorization=authorization, user=agent)
    # then the 3 pairs are credited at the invoiced price, and the return is credited
    assert request.status == CreditApprovalStatus.APPROVED
    assert request.credit_memo.amount == Decimal("150.00")
    assert request.credit_memo.invoice == invoice
    authorization.refresh_from_db()
    assert authorization.status == Status.CREDITED
    assert Message.objects.filter(key__startswith=f"return-credited:{authorization.pk}").exists()
    # and it is not credited twice
    with pytest.raises(OrderInputError):
        returns.return_credit(authorization=authorization, user=agent)
    # when it closes, then it is closed
    closed = returns.return_close(authorization=authorization, user=agent)
    assert closed.status == Status.CLOSED


def test_a_return_is_not_credited_before_it_is_received(authorized, agent):
    authorization, _ = authorized
    with pytest.raises(OrderInputError) as error:
        returns.return_credit(authorization=authorization, user=agent)
    assert "status" in error.value.message_dict


def test_a_return_credit_above_authority_waits_and_approval_moves_it_on(account, agent):
    # given 10 pairs at 50.00 received back (500.00, above the agent's 250.00)
    order, _ = shipped_order(account=account, price="50.00", quantity=10)
    case = open_case(account=account, order=order, user=agent)
    authorization = service_desk.return_create(
        case=case,
        order=order,
        lines=[{"sku": order.lines.get().sku.code, "quantity": 10}],
        reason=CreditReason.DEFECT,
        user=agent,
    )
    returns.return_receive(authorization=authorization, user=agent)
    [pending] = returns.return_credit(authorization=authorization, user=agent)
    assert pending.status == CreditApprovalStatus.PENDING
    authorization.refresh_from_db()
    assert authorization.status == Status.RECEIVED
    # when a lead approves, then the return is credited
    service_desk.credit_approval_decide(
        approval=pending, user=staff_with(StaffRole.CS_LEAD), approve=True
    )
    authorization.refresh_from_db()
    assert authorization.status == Status.CREDITED


def test_the_admin_actions_move_a_return_along(client, authorized, agent):
    authorization, _ = authorized
    client.force_login(agent)
    url = reverse("admin:orders_returnauthorization_changelist")
    for action, status in [
        ("mark_received", Status.RECEIVED),
        ("credit_received", Status.CREDITED),
        ("close_returns", Status.CLOSED),
    ]:
        response = client.post(
            url, {"action": action, ACTION_CHECKBOX_NAME: [authorization.pk]}, follow=True
        )
        authorization.refresh_from_db()
        assert authorization.status == status, [m.message for m in response.context["messages"]]


def test_a_refused_step_in_the_admin_is_an_error(client, authorized, agent):
    authorization, _ = authorized
    client.force_login(agent)
    response = client.post(
        reverse("admin:orders_returnauthorization_changelist"),
        {"action": "close_returns", ACTION_CHECKBOX_NAME: [authorization.pk]},
        follow=True,
    )
    [message] = list(response.context["messages"])
    assert message.level_tag == "error"
    assert authorization.number in message.message


def test_a_viewer_without_rights_is_offered_no_return_actions(client, authorized):
    viewer = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_returnauthorization"))
    client.force_login(viewer)
    response = client.get(reverse("admin:orders_returnauthorization_changelist"))
    assert response.status_code == 200
    assert "mark_received" not in response.content.decode()
