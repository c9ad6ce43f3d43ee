"""Service-desk actions: authority limits enforced in the services, second-person
approval, open balances, permissions and the audit trail (the rolling limits per person
and per account are in test_authority.py)."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from notifications.kinds import MessageKind
from notifications.models import Message
from orders.exceptions import OrderInputError
from orders.models import (
    AuditEvent,
    Case,
    CaseStatus,
    CommercialTerms,
    CreditApproval,
    CreditApprovalStatus,
    CreditMemo,
    CreditReason,
    Invoice,
    Order,
    OrderSource,
    ReturnAuthorization,
)
from orders.services import service_desk
from orders.services.authority import staff_role
from orders.services.ordering import CancelRequest, LineRequest
from orders.services.service_desk import StaffNotAllowed
from portal.roles import StaffRole
from tests.conftest import concurrent
from tests.factories import AccountFactory, ShipToFactory, UserFactory
from tests.orders.test_service_desk_helpers import open_case, shipped_order, staff_with


@pytest.fixture
def agent(db):
    return staff_with(StaffRole.CS_AGENT)


@pytest.fixture
def lead(db):
    return staff_with(StaffRole.CS_LEAD)


@pytest.fixture
def other_lead(db):
    return staff_with(StaffRole.CS_LEAD)


@pytest.fixture
def shipped(account):
    return shipped_order(account=account, price="100.00", quantity=20)  # invoice 2000.00


@pytest.fixture
def case(account, shipped, agent):
    order, _ = shipped
    return open_case(account=account, order=order, user=agent)


def _credit(*, case, invoice, amount, user, **kwargs):
    return service_desk.credit_issue(
        case=case,
        invoice=invoice,
        amount=amount,
        reason=kwargs.pop("reason", CreditReason.DAMAGED),
        note=kwargs.pop("note", "Crushed boxes"),
        user=user,
        **kwargs,
    )


def _credited(invoice):
    return Invoice.objects.get(pk=invoice.pk).credited_amount


# --- limits per role ---------------------------------------------------------------------


def test_an_agent_credits_up_to_the_agent_limit_at_once(case, shipped, agent, terms):
    # given an agent and the terms' agent limit of 250.00
    _, invoice = shipped
    # when they credit exactly the limit
    approval = _credit(case=case, invoice=invoice, amount=terms.agent_credit_limit, user=agent)
    # then the memo is issued now, without a second person
    assert approval.status == CreditApprovalStatus.APPROVED
    assert not approval.needed_approval
    assert approval.credit_memo.amount == Decimal("250.00")
    assert approval.credit_memo.created_by == agent
    assert _credited(invoice) == Decimal("250.00")


def test_an_agent_over_the_limit_only_asks_and_nothing_is_credited(case, shipped, agent):
    _, invoice = shipped
    approval = _credit(case=case, invoice=invoice, amount="250.01", user=agent)
    assert approval.status == CreditApprovalStatus.PENDING
    assert approval.needed_approval
    assert approval.credit_memo is None
    assert CreditMemo.objects.count() == 0
    assert _credited(invoice) == Decimal("0.00")


def test_a_lead_credits_up_to_the_lead_limit_at_once(account, shipped, lead):
    order, invoice = shipped
    case = open_case(account=account, order=order, user=lead)
    approval = _credit(case=case, invoice=invoice, amount="1000.00", user=lead)
    assert approval.status == CreditApprovalStatus.APPROVED
    assert _credited(invoice) == Decimal("1000.00")


def test_a_lead_over_the_lead_limit_needs_a_second_person(account, shipped, lead):
    order, invoice = shipped
    case = open_case(account=account, order=order, user=lead)
    approval = _credit(case=case, invoice=invoice, amount="1000.01", user=lead)
    assert approval.status == CreditApprovalStatus.PENDING
    assert _credited(invoice) == Decimal("0.00")


def test_limits_come_from_the_commercial_terms_in_force(case, shipped, agent, lead):
    # given a new terms version raising the agent limit
    service_desk.commercial_terms_revise(
        values={"agent_credit_limit": Decimal("400.00")}, user=lead, note="Raise agent limit"
    )
    _, invoice = shipped
    # then an agent credits 400.00 without approval
    approval = _credit(case=case, invoice=invoice, amount="400.00", user=agent)
    assert approval.status == CreditApprovalStatus.APPROVED


def test_limits_are_cumulative(case, shipped, agent):
    # given 200.00 already credited on the case
    _, invoice = shipped
    _credit(case=case, invoice=invoice, amount="200.00", user=agent)
    # when the agent credits 60.00 more on the same case (260.00 in all)
    second = _credit(case=case, invoice=invoice, amount="60.00", user=agent)
    # then the second one waits for approval
    assert second.status == CreditApprovalStatus.PENDING
    assert _credited(invoice) == Decimal("200.00")


def test_a_second_case_does_not_reset_the_limit(account, case, shipped, agent):
    # given the agent's whole 250.00 given on one case
    order, invoice = shipped
    _credit(case=case, invoice=invoice, amount="250.00", user=agent)
    # when they credit the same account again on a new case
    another = open_case(account=account, order=order, user=agent)
    approval = _credit(case=another, invoice=invoice, amount="250.00", user=agent)
    # then it waits for a second person
    assert approval.status == CreditApprovalStatus.PENDING
    assert _credited(invoice) == Decimal("250.00")


def test_authority_follows_the_permissions_a_role_grants(account, shipped):
    # given staff granted only the agents' credit permission, directly
    from django.contrib.auth.models import Permission

    user = staff_with(None)
    user.user_permissions.add(
        Permission.objects.get(codename="add_creditmemo"),
        Permission.objects.get(codename="add_case"),
    )
    user = type(user).objects.get(pk=user.pk)
    order, invoice = shipped
    case = open_case(account=account, order=order, user=user)
    # then they hold an agent's authority, no more
    assert staff_role(user=user) == "agent"
    over = _credit(case=case, invoice=invoice, amount="250.01", user=user)
    assert over.status == CreditApprovalStatus.PENDING


# --- second-person approval ---------------------------------------------------------------


def test_a_lead_approves_and_the_memo_is_issued(case, shipped, agent, lead):
    _, invoice = shipped
    pending = _credit(case=case, invoice=invoice, amount="600.00", user=agent)
    approved = service_desk.credit_approval_decide(approval=pending, user=lead, approve=True)
    assert approved.status == CreditApprovalStatus.APPROVED
    assert approved.decided_by == lead
    assert approved.credit_memo.amount == Decimal("600.00")
    assert approved.credit_memo.approved_by == lead
    assert approved.credit_memo.created_by == agent
    assert _credited(invoice) == Decimal("600.00")


def test_a_lead_may_approve_above_their_own_limit(case, shipped, agent, lead):
    _, invoice = shipped
    pending = _credit(case=case, invoice=invoice, amount="1500.00", user=agent)
    approved = service_desk.credit_approval_decide(approval=pending, user=lead, approve=True)
    assert approved.credit_memo.amount == Decimal("1500.00")


def test_a_rejection_needs_a_note_and_credits_nothing(case, shipped, agent, lead):
    _, invoice = shipped
    pending = _credit(case=case, invoice=invoice, amount="600.00", user=agent)
    with pytest.raises(OrderInputError) as error:
        service_desk.credit_approval_decide(approval=pending, user=lead, approve=False)
    assert "note" in error.value.message_dict
    rejected = service_desk.credit_approval_decide(
        approval=pending, user=lead, approve=False, note="Photos show no damage."
    )
    assert rejected.status == CreditApprovalStatus.REJECTED
    assert _credited(invoice) == Decimal("0.00")
    # and a rejected request no longer counts towards the case
    assert service_desk.case_credit_total(case=case) == Decimal("0.00")


def test_nobody_approves_their_own_request(account, shipped, lead):
    order, invoice = shipped
    case = open_case(account=account, order=order, user=lead)
    pending = _credit(case=case, invoice=invoice, amount="1200.00", user=lead)
    with pytest.raises(StaffNotAllowed):
        service_desk.credit_approval_decide(approval=pending, user=lead, approve=True)
    pending.refresh_from_db()
    assert pending.status == CreditApprovalStatus.PENDING
    assert _credited(invoice) == Decimal("0.00")


def test_a_superuser_requesting_also_needs_someone_else(account, shipped, lead):
    boss = staff_with(None, is_superuser=True)
    order, invoice = shipped
    case = open_case(account=account, order=order, user=boss)
    pending = _credit(case=case, invoice=invoice, amount="1200.00", user=boss)
    assert pending.status == CreditApprovalStatus.PENDING
    with pytest.raises(StaffNotAllowed):
        service_desk.credit_approval_decide(approval=pending, user=boss, approve=True)
    approved = service_desk.credit_approval_decide(approval=pending, user=lead, approve=True)
    assert approved.status == CreditApprovalStatus.APPROVED


def test_an_agent_cannot_approve(case, shipped, agent):
    _, invoice = shipped
    colleague = staff_with(StaffRole.CS_AGENT)
    pending = _credit(case=case, invoice=invoice, amount="600.00", user=agent)
    with pytest.raises(StaffNotAllowed):
        service_desk.credit_approval_decide(approval=pending, user=colleague, approve=True)
    assert _credited(invoice) == Decimal("0.00")


def test_a_request_is_decided_once(case, shipped, agent, lead, other_lead):
    _, invoice = shipped
    pending = _credit(case=case, invoice=invoice, amount="600.00", user=agent)
    service_desk.credit_approval_decide(approval=pending, user=lead, approve=True)
    with pytest.raises(OrderInputError) as error:
        service_desk.credit_approval_decide(approval=pending, user=other_lead, approve=True)
    assert "status" in error.value.message_dict
    assert _credited(invoice) == Decimal("600.00")


def test_approval_still_respects_the_open_balance(case, shipped, agent, lead):
    # given a pending request for 1500.00, then 600.00 paid in the meantime
    from orders.services.fulfilment import payment_record

    _, invoice = shipped
    pending = _credit(case=case, invoice=invoice, amount="1500.00", user=agent)
    payment_record(invoice=invoice, amount="600.00")
    # when a lead approves, the memo would exceed what is open (1400.00)
    with pytest.raises(OrderInputError) as error:
        service_desk.credit_approval_decide(approval=pending, user=lead, approve=True)
    assert "amount" in error.value.message_dict
    pending.refresh_from_db()
    assert pending.status == CreditApprovalStatus.PENDING
    assert _credited(invoice) == Decimal("0.00")


# --- open balance, input, permission ----------------------------------------------------


def test_a_credit_never_exceeds_the_open_balance(account, agent, lead):
    order, invoice = shipped_order(account=account, price="50.00", quantity=4)  # 200.00
    case = open_case(account=account, order=order, user=lead)
    with pytest.raises(OrderInputError) as error:
        _credit(case=case, invoice=invoice, amount="200.01", user=lead)
    assert "amount" in error.value.message_dict
    _credit(case=case, invoice=invoice, amount="150.00", user=lead)
    with pytest.raises(OrderInputError):
        _credit(case=case, invoice=invoice, amount="50.01", user=lead)
    assert _credited(invoice) == Decimal("150.00")
    assert CreditApproval.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "reason", "note", "field"),
    [
        ("-5", CreditReason.DAMAGED, "x", "amount"),
        ("0", CreditReason.DAMAGED, "x", "amount"),
        ("abc", CreditReason.DAMAGED, "x", "amount"),
        ("1.001", CreditReason.DAMAGED, "x", "amount"),
        ("NaN", CreditReason.DAMAGED, "x", "amount"),
        ("10", "bribe", "x", "reason"),
        ("10", CreditReason.DAMAGED, "", "note"),
        ("10", CreditReason.DAMAGED, "x" * 501, "note"),
    ],
)
def test_bad_credit_input_names_the_field_and_changes_nothing(
    case, shipped, agent, amount, reason, note, field
):
    _, invoice = shipped
    with pytest.raises(OrderInputError) as error:
        _credit(case=case, invoice=invoice, amount=amount, reason=reason, note=note, user=agent)
    assert field in error.value.message_dict
    assert CreditApproval.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="credit").exists()


def test_a_credit_on_another_accounts_invoice_is_refused(case, agent, other_account):
    _, foreign_invoice = shipped_order(account=other_account)
    with pytest.raises(OrderInputError) as error:
        _credit(case=case, invoice=foreign_invoice, amount="10.00", user=agent)
    assert "invoice" in error.value.message_dict
    assert _credited(foreign_invoice) == Decimal("0.00")


def test_a_resolved_case_takes_no_more_credit(case, shipped, agent):
    _, invoice = shipped
    service_desk.case_resolve(case=case, resolution="Credited the freight.", user=agent)
    with pytest.raises(OrderInputError) as error:
        _credit(case=case, invoice=invoice, amount="10.00", user=agent)
    assert "case" in error.value.message_dict


def test_staff_without_the_credit_permission_are_refused(case, shipped):
    planner = staff_with(StaffRole.PLANNER)
    _, invoice = shipped
    with pytest.raises(StaffNotAllowed):
        _credit(case=case, invoice=invoice, amount="10.00", user=planner)
    assert CreditApproval.objects.count() == 0


def test_retailers_and_reps_cannot_use_the_service_desk(case, shipped, buyer):
    rep = UserFactory(is_sales_rep=True)
    _, invoice = shipped
    for user in (buyer, rep):
        with pytest.raises(StaffNotAllowed):
            _credit(case=case, invoice=invoice, amount="10.00", user=user)
        with pytest.raises(StaffNotAllowed):
            open_case(account=case.account, user=user)
    assert CreditApproval.objects.count() == 0


# --- cases ------------------------------------------------------------------------------


def test_a_case_logs_its_actions_and_time_to_resolve(case, shipped, agent):
    _, invoice = shipped
    _credit(case=case, invoice=invoice, amount="20.00", user=agent)
    resolved = service_desk.case_resolve(case=case, resolution="Credited 20.00", user=agent)
    assert resolved.status == CaseStatus.RESOLVED
    assert resolved.time_to_resolve is not None
    assert resolved.time_to_resolve >= dt.timedelta(0)
    actions = list(case.actions.order_by("pk").values_list("action", flat=True))
    assert actions == ["case.opened", "credit.issued", "case.resolved"]


def test_a_case_for_another_accounts_order_is_refused(account, other_account, agent):
    foreign_order, _ = shipped_order(account=other_account)
    with pytest.raises(OrderInputError) as error:
        open_case(account=account, order=foreign_order, user=agent)
    assert "order" in error.value.message_dict
    assert Case.objects.count() == 0


# --- other resolutions ------------------------------------------------------------------


def test_a_return_is_authorized_with_its_expected_items_and_recorded(case, shipped, agent):
    order, _ = shipped
    sku = order.lines.get().sku
    authorization = service_desk.return_create(
        case=case,
        order=order,
        lines=[{"sku": sku.code, "quantity": 2}],
        reason=CreditReason.DEFECT,
        note="Sole separating",
        user=agent,
    )
    assert authorization.lines.get().quantity == 2
    event = case.actions.get(action="return.authorized")
    assert event.changes["items"] == [None, {sku.code: 2}]
    assert event.object_id == str(order.pk)


def test_a_return_of_more_than_shipped_names_the_row(case, shipped, agent):
    order, _ = shipped
    sku = order.lines.get().sku
    with pytest.raises(OrderInputError) as error:
        service_desk.return_create(
            case=case,
            order=order,
            lines=[{"sku": sku.code, "quantity": 21}],
            reason=CreditReason.DEFECT,
            user=agent,
        )
    assert "lines[0].quantity" in error.value.message_dict
    assert ReturnAuthorization.objects.count() == 0
    assert not case.actions.filter(action="return.authorized").exists()


def test_a_replacement_is_a_no_charge_order_allocated_now(case, shipped, agent):
    order, _ = shipped
    sku = order.lines.get().sku
    approval = service_desk.replacement_send(
        case=case,
        order=order,
        lines=[LineRequest(sku=sku.code, quantity=2)],
        note="Two damaged pairs",
        user=agent,
    )
    replacement = approval.replacement_order
    assert replacement.no_charge
    assert replacement.source == OrderSource.SERVICE
    assert replacement.total == Decimal("0.00")
    line = replacement.lines.get()
    assert (line.allocated, line.unit_price) == (2, Decimal("0.00"))
    # the retailer is told by the same outbox
    assert Message.objects.filter(
        kind=MessageKind.ORDER_CONFIRMATION, context__order_number=replacement.number
    ).exists()
    # a double click places one order and logs one action
    again = service_desk.replacement_send(
        case=case,
        order=order,
        lines=[LineRequest(sku=sku.code, quantity=2)],
        note="Two damaged pairs",
        user=agent,
    )
    assert again.pk == approval.pk
    assert Order.objects.filter(no_charge=True).count() == 1
    assert case.actions.filter(action="replacement.sent").count() == 1


def test_an_agent_without_the_replacement_permission_is_refused(case, shipped):
    planner = staff_with(StaffRole.PLANNER)
    order, _ = shipped
    orders_before = Order.objects.count()
    with pytest.raises(StaffNotAllowed):
        service_desk.replacement_send(
            case=case,
            order=order,
            lines=[LineRequest(sku=order.lines.get().sku.code, quantity=1)],
            note="x",
            user=planner,
        )
    assert Order.objects.count() == orders_before


def test_staff_cancel_lines_and_the_change_is_recorded(account, agent):
    from tests.factories import SKUFactory, allocated_order_create

    sku = SKUFactory()
    order = allocated_order_create(account=account, lines=[(sku, 10)])
    case = open_case(account=account, order=order, user=agent)
    line = order.lines.get()
    service_desk.order_lines_cancel(
        case=case,
        order=order,
        lines=[CancelRequest(line_id=line.pk, quantity=4)],
        reason="Store asked to reduce",
        user=agent,
    )
    line.refresh_from_db()
    assert (line.allocated, line.cancelled) == (6, 4)
    event = case.actions.get(action="order.lines_cancelled")
    assert event.changes[f"{sku.code}.cancelled"] == [0, 4]
    assert event.changes[f"{sku.code}.allocated"] == [10, 6]
    assert event.reason == "Store asked to reduce"


def test_staff_cancel_needs_a_reason(account, agent):
    from tests.factories import SKUFactory, allocated_order_create

    order = allocated_order_create(account=account, lines=[(SKUFactory(), 10)])
    case = open_case(account=account, order=order, user=agent)
    with pytest.raises(OrderInputError) as error:
        service_desk.order_lines_cancel(case=case, order=order, reason="  ", user=agent)
    assert "reason" in error.value.message_dict
    assert order.lines.get().cancelled == 0


def test_resending_a_message_is_recorded_on_the_case(buyer, case, shipped, agent):
    order, _ = shipped
    message = Message.objects.filter(context__order_number=order.number).first()
    assert message is not None
    resend = service_desk.message_resend_staff(message=message, case=case, user=agent)
    assert resend.resent_from == message
    assert resend.resent_by == agent
    event = case.actions.get(action="message.resent")
    assert event.content_type == ContentType.objects.get_for_model(Message)


# --- commercial terms -------------------------------------------------------------------


def test_terms_are_versioned_and_orders_keep_theirs(terms, lead, account):
    order, _ = shipped_order(account=account)
    published = service_desk.commercial_terms_revise(
        values={"flat_freight": Decimal("19.00")}, user=lead, note="Carrier rates up"
    )
    assert published.version == terms.version + 1
    assert published.flat_freight == Decimal("19.00")
    assert published.lead_credit_limit == terms.lead_credit_limit
    assert CommercialTerms.objects.current() == published
    terms.refresh_from_db()
    assert terms.flat_freight == Decimal("15.00")
    order.refresh_from_db()
    assert order.terms_id == terms.pk
    event = AuditEvent.objects.get(action="terms.published")
    assert event.changes == {"flat_freight": ["15.00", "19.00"]}


def test_only_leads_publish_terms(terms, agent):
    with pytest.raises(StaffNotAllowed):
        service_desk.commercial_terms_revise(
            values={"flat_freight": Decimal("1.00")}, user=agent, note="x"
        )
    assert CommercialTerms.objects.count() == 1


# --- concurrency ------------------------------------------------------------------------


@concurrent
@pytest.mark.django_db(transaction=True)
def test_concurrent_credits_on_one_case_stay_within_the_agent_limit():
    # given an agent case on a large invoice
    from tests.factories import CommercialTermsFactory

    CommercialTermsFactory()
    account = AccountFactory()
    ShipToFactory(account=account)
    agent = staff_with(StaffRole.CS_AGENT)
    order, invoice = shipped_order(account=account, price="100.00", quantity=20)
    case = open_case(account=account, order=order, user=agent)
    results = [None] * 4
    barrier = threading.Barrier(4)

    def credit(index):
        try:
            barrier.wait()
            results[index] = _credit(case=case, invoice=invoice, amount="100.00", user=agent)
        except Exception as exc:  # recorded for the assertion below
            results[index] = exc
        finally:
            connection.close()

    # when four agents' clicks credit 100.00 each at the same moment
    threads = [threading.Thread(target=credit, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then at most 250.00 was issued at once; the rest waits for approval
    assert all(isinstance(result, CreditApproval) for result in results), results
    statuses = sorted(result.status for result in results)
    assert statuses == ["approved", "approved", "pending", "pending"]
    assert Invoice.objects.get(pk=invoice.pk).credited_amount == Decimal("200.00")
