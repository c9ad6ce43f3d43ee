"""Resolved in one touch from the case page: credit memo, replacement, prepaid return
or no fault found; the case closes with it and the store and the rep are told with the
document linked. The case log reads as sentences; a planner's search shows no money."""

import pytest
from django.urls import reverse

from notifications.kinds import MessageKind
from notifications.models import Message
from orders.models import AuditEvent, CaseOutcome, CaseStatus, Order
from portal.roles import StaffRole
from tests.factories import RepFactory
from tests.orders.test_service_desk_helpers import open_case, shipped_order, staff_with


@pytest.fixture
def agent(db):
    return staff_with(StaffRole.CS_AGENT)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def case(account, buyer, agent):
    account.rep = RepFactory()
    account.save(update_fields=["rep"])
    order, invoice = shipped_order(account=account, price="100.00", quantity=10)
    return open_case(account=account, order=order, user=agent)


def _resolve(client, case, how, data):
    return client.post(reverse("admin:orders_case_resolve", args=[case.pk, how]), data, follow=True)


def _told(case):
    return Message.objects.filter(
        kind=MessageKind.CASE_UPDATE, key__startswith=f"case-resolved:{case.pk}:"
    )


def test_the_case_page_offers_the_four_resolutions(agent_client, case):
    response = agent_client.get(reverse("admin:orders_case_change", args=[case.pk]))
    assert [slug for slug, _ in response.context["resolutions"]] == [
        "credit",
        "replacement",
        "return",
        "no_fault",
    ]


def test_a_credit_memo_from_the_case_resolves_it_and_tells_store_and_rep(agent_client, case):
    invoice = case.order.invoices.get()
    response = _resolve(
        agent_client,
        case,
        "credit",
        {"invoice": invoice.pk, "amount": "40.00", "reason": "damaged", "note": "Scuffed"},
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.outcome == CaseOutcome.CREDIT
    memo = invoice.credit_memos.get()
    told = _told(case)
    assert {m.recipient for m in told} >= {case.account.rep}
    assert all(
        m.context["document_url"].endswith(f"/credit-memos/{memo.number}/pdf/") for m in told
    )
    assert "the store and the rep are told" in response.content.decode()


def test_a_replacement_from_the_case_places_a_no_charge_order(agent_client, case):
    line = case.order.lines.get()
    _resolve(agent_client, case, "replacement", {"note": "Crushed", f"line_{line.pk}": "1"})
    case.refresh_from_db()
    assert case.outcome == CaseOutcome.REPLACEMENT
    replacement = Order.objects.get(no_charge=True)
    assert all(m.context["document_label"].endswith(replacement.number) for m in _told(case))


def test_a_return_label_from_the_case_links_the_label(agent_client, case):
    line = case.order.lines.get()
    _resolve(agent_client, case, "return", {"reason": "defect", f"line_{line.pk}": "2"})
    case.refresh_from_db()
    authorization = case.returns.get()
    assert case.outcome == CaseOutcome.RETURN
    assert all(
        m.context["document_url"].endswith(f"/returns/{authorization.number}/label.pdf")
        for m in _told(case)
    )


def test_no_fault_found_needs_a_reason_and_tells_it(agent_client, case):
    refused = _resolve(agent_client, case, "no_fault", {"reason": ""})
    assert "reason" in refused.context["form"].errors
    _resolve(agent_client, case, "no_fault", {"reason": "Photos show wear, not a defect."})
    case.refresh_from_db()
    assert case.outcome == CaseOutcome.NO_FAULT
    assert all("Photos show wear" in m.context["body"] for m in _told(case))


def test_a_resolution_above_authority_is_an_error_and_leaves_the_case_open(agent_client, case):
    invoice = case.order.invoices.get()
    response = _resolve(
        agent_client,
        case,
        "credit",
        {"invoice": invoice.pk, "amount": "400.00", "reason": "damaged", "note": "x"},
    )
    [message] = list(response.context["messages"])
    assert message.level_tag == "error"
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert not _told(case).exists()


def test_the_case_log_reads_as_sentences(agent_client, case, agent):
    invoice = case.order.invoices.get()
    _resolve(
        agent_client,
        case,
        "credit",
        {"invoice": invoice.pk, "amount": "40.00", "reason": "damaged", "note": "Scuffed"},
    )
    memo = invoice.credit_memos.get()
    response = agent_client.get(reverse("admin:orders_case_change", args=[case.pk]))
    body = response.content.decode()
    who = agent.get_full_name() or agent.email
    assert f"{who} issued credit memo {memo.number} for $40.00 on {invoice.number}." in body
    assert '"credit_memo"' not in body
    assert AuditEvent.objects.filter(case=case, action="credit.issued").exists()


def test_a_planners_search_shows_no_prices_invoices_or_credit_status(client, case):
    planner = staff_with(StaffRole.PLANNER)
    client.force_login(planner)
    sku = case.order.lines.get().sku
    invoice = case.order.invoices.get()
    for query in (sku.code, invoice.number, case.account.name):
        response = client.get(reverse("admin:service_search"), {"q": query})
        results = response.context["results"]
        assert set(results) <= {"skus"}, query
        assert not response.context["show_prices"]
        assert str(sku.price) not in response.content.decode(), query


def test_an_agents_search_still_finds_invoices_and_prices(agent_client, case):
    invoice = case.order.invoices.get()
    response = agent_client.get(reverse("admin:service_search"), {"q": invoice.number})
    assert [i.number for i in response.context["results"]["invoices"]] == [invoice.number]
    assert response.context["show_prices"]


def _change_form(client, case, **fields):
    """The case page's form as the browser would post it: the inlines' management and
    hidden fields as rendered, with `fields` on top."""
    url = reverse("admin:orders_case_change", args=[case.pk])
    data = {}
    for inline in client.get(url).context["inline_admin_formsets"]:
        formset = inline.formset
        for form in [formset.management_form, *formset.forms]:
            for field in form.hidden_fields():
                value = field.value()
                data[field.html_name] = "" if value is None else value
    return client.post(url, {**data, "resolution": "", **fields})


def test_the_case_page_gives_the_case_an_owner_and_logs_it_as_a_sentence(agent_client, agent, case):
    from orders.audit_sentences import audit_sentence

    # when the agent takes the case on its page
    response = _change_form(agent_client, case, owner=agent.pk)
    # then it is theirs, still open, and the log says so in words
    assert response.status_code == 302, response.context and response.context["errors"]
    case.refresh_from_db()
    assert (case.owner, case.status) == (agent, CaseStatus.OPEN)
    event = AuditEvent.objects.get(action="case.assigned")
    assert audit_sentence(event).endswith(f"gave {case} to {agent.get_full_name()}.")


def test_a_case_cannot_be_given_to_a_retailer(agent_client, buyer, case):
    response = _change_form(agent_client, case, owner=buyer.pk)
    assert response.status_code == 200
    assert "owner" in response.context["adminform"].form.errors
    case.refresh_from_db()
    assert case.owner is None
