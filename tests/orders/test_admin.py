"""The service-desk admin: who may open it, the order page and change lists within a
query budget at 10k orders, find-anything, the action forms and CSV exports."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.admin.exports import csv_cell
from orders.exports import FORMULA_PREFIXES
from orders.models import (
    AuditEvent,
    Case,
    CaseStatus,
    CommercialTerms,
    CreditApproval,
    CreditApprovalStatus,
    CreditMemo,
    Invoice,
    Order,
)
from portal.roles import StaffRole
from tests.factories import RepFactory
from tests.orders.test_service_desk_helpers import open_case, shipped_order, staff_with


@pytest.fixture
def agent(db):
    return staff_with(StaffRole.CS_AGENT)


@pytest.fixture
def lead(db):
    return staff_with(StaffRole.CS_LEAD)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def story(buyer, account, agent):
    """A shipped, invoiced order with an open case: what a service call is about."""
    order, invoice = shipped_order(account=account, price="100.00", quantity=10)
    case = open_case(account=account, order=order, user=agent)
    return order, invoice, case


def _order_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def _action_url(order, action):
    return reverse("admin:orders_order_service", args=[order.pk, action])


# --- who may open the admin --------------------------------------------------------------


@pytest.mark.parametrize("who", ["buyer", "rep"])
def test_retailers_and_reps_are_sent_to_the_admin_login(client, buyer, who):
    user = buyer if who == "buyer" else RepFactory()
    client.force_login(user)
    for url in (reverse("admin:index"), reverse("admin:service_search")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_a_planner_cannot_open_the_order_actions(client, story):
    order, _, _ = story
    client.force_login(staff_with(StaffRole.PLANNER))
    response = client.post(
        _action_url(order, "credit"), {"amount": "10.00", "reason": "damaged", "note": "x"}
    )
    assert response.status_code == 403
    assert CreditApproval.objects.count() == 0


# --- query budgets with 10k orders ---------------------------------------------------------


def _ten_thousand_orders(account, terms):
    Order.objects.bulk_create(
        [
            Order(account=account, terms=terms, number=f"SO-9{i:05d}", po_number=f"BULK-{i}")
            for i in range(10_000)
        ],
        batch_size=2000,
    )


@pytest.mark.slow
def test_pages_stay_within_their_query_budget_with_10k_orders(
    agent_client, story, account, terms, django_assert_max_num_queries
):
    # given 10,000 orders besides the one the retailer is calling about
    _ten_thousand_orders(account, terms)
    order, invoice, _ = story
    sku = order.lines.get().sku
    pages = {
        "order page": (_order_url(order), 30),
        "orders": (reverse("admin:orders_order_changelist"), 10),
        "orders searched by PO": (reverse("admin:orders_order_changelist") + "?q=BULK-77", 10),
        "orders filtered": (reverse("admin:orders_order_changelist") + "?status__exact=open", 10),
        "invoices": (reverse("admin:orders_invoice_changelist"), 10),
        "accounts": (reverse("admin:orders_account_changelist"), 10),
        "cases": (reverse("admin:orders_case_changelist"), 10),
        "audit trail": (reverse("admin:orders_auditevent_changelist"), 10),
        "find by SKU": (reverse("admin:service_search") + f"?q={sku.code}", 16),
        "find by PO": (reverse("admin:service_search") + "?q=BULK-9999", 16),
    }
    for name, (url, budget) in pages.items():
        with django_assert_max_num_queries(budget):
            response = agent_client.get(url)
        assert response.status_code == 200, name


def test_the_order_page_tells_the_whole_story(agent_client, story, lead):
    # given a credit issued, a pending request and a resolution on the order
    from orders.services import service_desk

    order, invoice, case = story
    service_desk.credit_issue(
        case=case, invoice=invoice, amount="40.00", reason="damaged", note="Crushed", user=lead
    )
    response = agent_client.get(_order_url(order))
    html = response.content.decode()
    assert response.status_code == 200
    memo = CreditMemo.objects.get()
    for expected in (
        order.number,
        order.lines.get().sku.code,
        order.shipments.get().tracking,
        invoice.number,
        memo.number,
        f"Case {case.pk}",
        "Shipment",
        # the staff actions, as sentences
        f"issued credit memo {memo.number} for $40.00 on {invoice.number}",
        f"opened {case}",
    ):
        assert expected in html, expected
    # and the agent sees the buttons their role allows, not the lead-only ones
    assert _action_url(order, "credit") in html
    assert "Approve or reject" not in html


# --- find anything ------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["number", "po", "account", "sku", "upc", "invoice", "tracking"])
def test_find_anything_finds_the_order(agent_client, story, what):
    order, invoice, _ = story
    sku = order.lines.get().sku
    query = {
        "number": order.number,
        "po": order.po_number,
        "account": order.account.name,
        "sku": sku.code,
        "upc": sku.upc,
        "invoice": invoice.number,
        "tracking": order.shipments.get().tracking,
    }[what]
    response = agent_client.get(reverse("admin:service_search"), {"q": query})
    assert response.status_code == 200
    assert _order_url(order) in response.content.decode() or (
        what == "account"
        and reverse("admin:orders_account_change", args=[order.account_id])
        in response.content.decode()
    )


def test_find_anything_with_nothing_found_says_so(agent_client, story):
    response = agent_client.get(reverse("admin:service_search"), {"q": "no-such-thing-42"})
    assert response.status_code == 200
    assert "Nothing matches" in response.content.decode()


# --- the action forms ----------------------------------------------------------------------


def test_the_credit_form_issues_within_authority(agent_client, story):
    order, invoice, case = story
    response = agent_client.post(
        _action_url(order, "credit"),
        {
            "case": case.pk,
            "invoice": invoice.pk,
            "amount": "25.00",
            "reason": "damaged",
            "note": "Two crushed boxes",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == _order_url(order)
    assert Invoice.objects.get(pk=invoice.pk).credited_amount == Decimal("25.00")
    assert AuditEvent.objects.filter(action="credit.issued", case=case).count() == 1


def test_the_credit_form_over_authority_only_asks_and_says_so_as_an_error(agent_client, story):
    order, invoice, case = story
    response = agent_client.post(
        _action_url(order, "credit"),
        {"case": case.pk, "invoice": invoice.pk, "amount": "400", "reason": "defect", "note": "x"},
        follow=True,
    )
    assert CreditApproval.objects.get().status == CreditApprovalStatus.PENDING
    assert Invoice.objects.get(pk=invoice.pk).credited_amount == Decimal("0.00")
    [message] = list(response.context["messages"])
    assert message.level_tag == "error"
    assert "Not given: $400.00 is above your authority" in message.message
    assert "of your $250.00 in the last 30 days" in message.message


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "abc"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "5000.00"}, "amount"),  # more than the open balance
        ({"reason": "bogus"}, "reason"),
        ({"note": ""}, "note"),
        ({"case": ""}, "case"),
    ],
)
def test_bad_credit_form_input_is_shown_on_its_field_and_changes_nothing(
    agent_client, story, data, field
):
    order, invoice, case = story
    payload = {
        "case": case.pk,
        "invoice": invoice.pk,
        "amount": "25.00",
        "reason": "damaged",
        "note": "x",
    } | data
    response = agent_client.post(_action_url(order, "credit"), payload)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert CreditApproval.objects.count() == 0
    assert Invoice.objects.get(pk=invoice.pk).credited_amount == Decimal("0.00")


def test_the_cancel_form_names_the_row_with_too_many_pairs(agent_client, account, agent):
    from tests.factories import SKUFactory, allocated_order_create

    order = allocated_order_create(account=account, lines=[(SKUFactory(), 6)])
    case = open_case(account=account, order=order, user=agent)
    line = order.lines.get()
    response = agent_client.post(
        _action_url(order, "cancel"),
        {"case": case.pk, "reason": "Store asked", f"line_{line.pk}": "7"},
    )
    assert response.status_code == 200
    assert f"line_{line.pk}" in response.context["form"].errors
    line.refresh_from_db()
    assert line.cancelled == 0
    response = agent_client.post(
        _action_url(order, "cancel"),
        {"case": case.pk, "reason": "Store asked", f"line_{line.pk}": "2"},
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.allocated, line.cancelled) == (4, 2)


def test_the_replacement_form_places_a_no_charge_order(agent_client, story):
    order, _, case = story
    line = order.lines.get()
    response = agent_client.post(
        _action_url(order, "replacement"),
        {"case": case.pk, "note": "Damaged pair", f"line_{line.pk}": "1"},
    )
    assert response.status_code == 302
    replacement = Order.objects.get(no_charge=True)
    assert replacement.lines.get().allocated == 1
    assert case.actions.filter(action="replacement.sent").exists()


def test_the_return_form_authorizes_a_return(agent_client, story):
    order, _, case = story
    line = order.lines.get()
    response = agent_client.post(
        _action_url(order, "return"),
        {"case": case.pk, "reason": "defect", "note": "", f"line_{line.pk}": "2"},
    )
    assert response.status_code == 302
    assert order.returns.get().lines.get().quantity == 2


def test_the_case_form_opens_a_case(agent_client, story):
    order, _, _ = story
    response = agent_client.post(
        _action_url(order, "case"),
        {"reason": "late", "channel": "email", "summary": "Where is my order?"},
    )
    assert response.status_code == 302
    assert Case.objects.filter(order=order, channel="email").exists()


# --- approvals --------------------------------------------------------------------------


def test_a_lead_approves_from_the_admin_and_the_requester_cannot(client, story, agent, lead):
    from orders.services import service_desk

    _, invoice, case = story
    pending = service_desk.credit_issue(
        case=case, invoice=invoice, amount="600.00", reason="defect", note="x", user=agent
    )
    url = reverse("admin:orders_creditapproval_decide", args=[pending.pk])
    client.force_login(agent)
    response = client.post(url, {"_approve": "1", "note": ""})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    client.force_login(lead)
    response = client.post(url, {"_approve": "1", "note": "Photos checked"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == CreditApprovalStatus.APPROVED
    assert pending.credit_memo.approved_by == lead


# --- cases in the admin ------------------------------------------------------------------


def test_a_case_is_resolved_from_its_admin_page(agent_client, story):
    _, _, case = story
    url = reverse("admin:orders_case_change", args=[case.pk])
    assert agent_client.get(url).status_code == 200
    page = agent_client.get(url)
    data = {"resolution": "Credited and apologised."}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data |= {management.add_prefix(k): v for k, v in management.initial.items()}
    response = agent_client.post(url, data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.actions.filter(action="case.resolved").exists()


# --- CSV exports ------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_csv_cells_that_would_start_a_formula_are_quoted(prefix):
    assert csv_cell(f"{prefix}1+1") == f"'{prefix}1+1"


@pytest.mark.parametrize("value", ["PO 1=2", "Shoes+More", "a-b", "x@y", "", None, 12])
def test_csv_cells_that_are_plain_text_are_left_alone(value):
    assert csv_cell(value) == ("" if value is None else str(value))


def test_the_order_export_escapes_formulas(agent_client, story):
    order, _, _ = story
    Order.objects.filter(pk=order.pk).update(po_number='=HYPERLINK("http://evil")')
    response = agent_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "export_csv", "_selected_action": [order.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Number", "Account", "Account number", "PO number"]
    assert rows[1][3] == '\'=HYPERLINK("http://evil")'


def test_the_invoice_and_account_exports_escape_formulas(agent_client, story):
    order, invoice, _ = story
    order.account.name = "@SUM(A1:A9)"
    order.account.save(update_fields=["name"])
    for changelist, pk in (
        ("admin:orders_invoice_changelist", invoice.pk),
        ("admin:orders_account_changelist", order.account_id),
    ):
        response = agent_client.post(
            reverse(changelist), {"action": "export_csv", "_selected_action": [pk]}
        )
        body = response.content.decode()
        assert "'@SUM(A1:A9)" in body, changelist


# --- commercial terms in the admin ----------------------------------------------------------


def test_saving_terms_in_the_admin_publishes_a_new_version(client, terms, lead):
    client.force_login(lead)
    url = reverse("admin:orders_commercialterms_change", args=[terms.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data |= {"flat_freight": "17.50", "note": "Freight up"}
    response = client.post(url, data)
    assert response.status_code == 302
    newest = CommercialTerms.objects.order_by("-version").first()
    assert newest.version == terms.version + 1
    assert newest.flat_freight == Decimal("17.50")
    assert response["Location"] == reverse("admin:orders_commercialterms_change", args=[newest.pk])
    terms.refresh_from_db()
    assert terms.flat_freight == Decimal("15.00")
    assert AuditEvent.objects.filter(action="terms.published", actor=lead).exists()


def test_an_agent_reads_the_terms_and_their_history_but_cannot_publish(agent_client, terms, lead):
    # given a version published by the lead
    from orders.services import service_desk

    newest = service_desk.commercial_terms_revise(
        values={"flat_freight": Decimal("16.00")}, user=lead, note="Freight up"
    )
    url = reverse("admin:orders_commercialterms_change", args=[newest.pk])
    # when an agent (view only) opens it
    response = agent_client.get(url)
    # then the page shows the terms read-only with their audit trail, and saving is refused
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert "Freight up" in response.content.decode()
    assert [event.action for event in response.context["audit_events"]] == ["terms.published"]
    assert agent_client.post(url, {"note": "x"}).status_code == 403
    assert CommercialTerms.objects.count() == 2
