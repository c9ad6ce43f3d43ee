"""Authority without loopholes: limits per person and per account over the rolling
period of the commercial terms, whatever the case; replacements (goods and the freight
waived) count against the same limits; concurrent requests cannot both fit the room."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from orders.exceptions import OrderInputError
from orders.models import CreditApproval, CreditApprovalStatus, CreditReason, Order
from orders.services import service_desk
from orders.services.authority import authority_for
from orders.services.ordering import LineRequest
from portal.roles import StaffRole
from tests.conftest import concurrent
from tests.factories import AccountFactory, CommercialTermsFactory, ShipToFactory
from tests.orders.test_service_desk_helpers import open_case, shipped_order, staff_with


@pytest.fixture
def agent(db):
    return staff_with(StaffRole.CS_AGENT)


@pytest.fixture
def lead(db):
    return staff_with(StaffRole.CS_LEAD)


def _store(account=None):
    """An account with a shipped order of 20 pairs at 100.00 and an open case on it."""
    if account is None:
        account = AccountFactory()
        ShipToFactory(account=account)
    order, invoice = shipped_order(account=account, price="100.00", quantity=20)
    return order, invoice


def _credit(*, order, invoice, amount, user):
    case = open_case(account=order.account, order=order, user=user)
    return service_desk.credit_issue(
        case=case,
        invoice=invoice,
        amount=amount,
        reason=CreditReason.DAMAGED,
        note="Crushed boxes",
        user=user,
    )


def _replace(*, order, quantity, user):
    case = open_case(account=order.account, order=order, user=user)
    return service_desk.replacement_send(
        case=case,
        order=order,
        lines=[LineRequest(sku=order.lines.get().sku.code, quantity=quantity)],
        note="Damaged pairs",
        user=user,
    )


def test_a_person_limit_spans_accounts(terms, agent):
    # given 200.00 given by an agent to one store
    first, first_invoice = _store()
    second, second_invoice = _store()
    _credit(order=first, invoice=first_invoice, amount="200.00", user=agent)
    # when they give another store 100.00 (300.00 of their 250.00)
    approval = _credit(order=second, invoice=second_invoice, amount="100.00", user=agent)
    # then it waits for a second person, and nothing was credited
    assert approval.status == CreditApprovalStatus.PENDING
    assert second_invoice.credit_memos.count() == 0


def test_an_account_limit_spans_people(terms, lead):
    # given an account limit of 400.00 and 250.00 given to the store by one agent
    service_desk.commercial_terms_revise(
        values={"account_concession_limit": Decimal("400.00")}, user=lead, note="Account cap"
    )
    order, invoice = _store()
    _credit(order=order, invoice=invoice, amount="250.00", user=staff_with(StaffRole.CS_AGENT))
    # when a second agent, with their own room untouched, gives it 200.00
    approval = _credit(
        order=order, invoice=invoice, amount="200.00", user=staff_with(StaffRole.CS_AGENT)
    )
    # then it waits: the account has had 250.00 of its 400.00
    assert approval.status == CreditApprovalStatus.PENDING
    assert "the account has been given $250.00 of its $400.00" in approval.authority.explain(
        approval.amount
    )


def test_what_was_given_before_the_period_no_longer_counts(terms, agent):
    # given the agent's whole 250.00 given 31 days ago (the period is 30 days)
    order, invoice = _store()
    old = _credit(order=order, invoice=invoice, amount="250.00", user=agent)
    CreditApproval.objects.filter(pk=old.pk).update(
        requested_at=timezone.now() - dt.timedelta(days=31)
    )
    # when they give 250.00 again today
    approval = _credit(order=order, invoice=invoice, amount="250.00", user=agent)
    # then it is within their authority
    assert approval.status == CreditApprovalStatus.APPROVED


def test_a_replacement_is_valued_with_its_freight_and_counts(terms, agent):
    # given a replacement of 2 pairs at 100.00 (below the 500.00 free-freight threshold)
    order, invoice = _store()
    replacement = _replace(order=order, quantity=2, user=agent)
    # then it is worth the goods and the 15.00 freight waived, and was sent at once
    assert (replacement.amount, replacement.freight_value) == (Decimal("215.00"), Decimal("15.00"))
    assert replacement.status == CreditApprovalStatus.APPROVED
    assert replacement.replacement_order.no_charge
    # and a 50.00 credit afterwards goes past the agent's 250.00
    approval = _credit(order=order, invoice=invoice, amount="50.00", user=agent)
    assert approval.status == CreditApprovalStatus.PENDING
    authority = authority_for(user=agent, account=order.account, terms=terms)
    assert authority.person_given == Decimal("215.00")


def test_a_replacement_above_authority_waits_and_approval_sends_it(terms, agent, lead):
    # given a replacement worth 315.00 asked for by an agent
    order, _ = _store()
    orders_before = Order.objects.count()
    pending = _replace(order=order, quantity=3, user=agent)
    # then nothing is placed until a lead approves
    assert pending.status == CreditApprovalStatus.PENDING
    assert Order.objects.count() == orders_before
    approved = service_desk.credit_approval_decide(approval=pending, user=lead, approve=True)
    assert approved.status == CreditApprovalStatus.APPROVED
    assert approved.replacement_order.no_charge
    assert approved.replacement_order.lines.get().allocated == 3


def test_a_replacement_of_an_unknown_sku_is_refused_by_row(terms, agent):
    order, _ = _store()
    case = open_case(account=order.account, order=order, user=agent)
    with pytest.raises(OrderInputError) as error:
        service_desk.replacement_send(
            case=case,
            order=order,
            lines=[LineRequest(sku="NOPE-1", quantity=1)],
            note="x",
            user=agent,
        )
    assert "lines[0].sku" in error.value.message_dict
    assert CreditApproval.objects.count() == 0


@concurrent
@pytest.mark.django_db(transaction=True)
def test_two_agents_at_once_cannot_both_fit_under_the_account_limit():
    # given an account limit of 400.00 and two agents with 250.00 each
    CommercialTermsFactory(account_concession_limit=Decimal("400.00"))
    order, invoice = _store()
    agents = [staff_with(StaffRole.CS_AGENT) for _ in range(2)]
    cases = [open_case(account=order.account, order=order, user=agent) for agent in agents]
    results = [None, None]
    barrier = threading.Barrier(2)

    def credit(index):
        try:
            barrier.wait()
            results[index] = service_desk.credit_issue(
                case=cases[index],
                invoice=invoice,
                amount="250.00",
                reason=CreditReason.DAMAGED,
                note="x",
                user=agents[index],
            )
        except Exception as exc:  # recorded for the assertion below
            results[index] = exc
        finally:
            connection.close()

    # when both give the store 250.00 at the same moment
    threads = [threading.Thread(target=credit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then one is given and the other waits for approval
    assert sorted(result.status for result in results) == [
        CreditApprovalStatus.APPROVED,
        CreditApprovalStatus.PENDING,
    ], results
