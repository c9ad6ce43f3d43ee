"""Documents are there when asked: a PDF not rendered yet is queued at once when someone
asks for it (once, ahead of the backlog) and answers 202 with Retry-After; the portal's
"being prepared" page polls until it is there; the backlog is rendered by the workers,
with progress. Never a render on the request path."""

import io

import pytest
import redis
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from orders import documents, tasks
from orders.models import Invoice
from tests.notifications.conftest import celery_broker
from tests.orders.test_fulfilment_api import INVOICES, _shipped
from tests.workers import celery_worker_start, scratch_broker

BROKER = scratch_broker(9)


@pytest.fixture
def no_render_here(monkeypatch):
    def refuse(template, context):
        raise AssertionError(f"{template} rendered on the request path")

    monkeypatch.setattr(documents, "pdf_from_template", refuse)


def test_the_api_queues_an_unrendered_invoice_once_and_answers_202(
    account, buyer_api, other_api, document_renders, no_render_here
):
    invoice = _shipped(account).invoice
    url = f"{INVOICES}{invoice.number}/pdf/"

    # when the PDF is asked for before it is rendered
    response = buyer_api.get(url, HTTP_ACCEPT="application/pdf")

    # then 202 Accepted with Retry-After, and its render is queued on the default queue
    assert response.status_code == 202
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The PDF is being prepared; retry after Retry-After seconds.",
        "retry_after": 5,
    }
    assert document_renders == [(("invoice", invoice.pk), "celery")]
    # and asking again while it renders queues nothing more
    assert buyer_api.get(url).status_code == 202
    assert len(document_renders) == 1
    # another account's caller gets 404 and queues nothing
    assert other_api.get(url).status_code == 404
    assert len(document_renders) == 1


def test_the_portal_queues_each_kind_of_document_when_asked(
    account, buyer_client, document_renders, no_render_here
):
    shipped = _shipped(account)

    for name, number in [
        ("portal:invoice_pdf", shipped.invoice.number),
        ("portal:packing_list_pdf", shipped.shipment.number),
    ]:
        assert buyer_client.get(reverse(name, args=[number])).status_code == 202

    assert document_renders == [
        (("invoice", shipped.invoice.pk), "celery"),
        (("packing_list", shipped.shipment.pk), "celery"),
    ]


def test_the_being_prepared_page_polls_and_then_downloads(
    account, buyer_client, document_renders, django_assert_max_num_queries
):
    invoice = _shipped(account).invoice
    url = reverse("portal:invoice_pdf", args=[invoice.number])

    # the page polls its own URL with htmx: no meta refresh, no inline script
    page = buyer_client.get(url)
    assert page.status_code == 202
    html = page.content.decode()
    assert f'hx-get="{url}"' in html
    assert 'hx-trigger="every 5s"' in html
    assert "http-equiv" not in html
    assert "<script>" not in html
    # a poll before the PDF is there gets the status fragment again, not a whole page
    with django_assert_max_num_queries(6):
        poll = buyer_client.get(url, HTTP_HX_REQUEST="true")
    assert poll.status_code == 202
    assert poll["Retry-After"] == "5"
    assert "being prepared" in poll.content.decode()
    assert "<html" not in poll.content.decode()

    # once the worker has rendered it, the poll sends the browser to the download
    tasks.document_render_task(*document_renders[0][0])
    poll = buyer_client.get(url, HTTP_HX_REQUEST="true")
    assert poll.status_code == 200
    assert poll["HX-Redirect"] == url
    download = buyer_client.get(url)
    assert download["Content-Type"] == "application/pdf"


def test_the_statement_page_polls_too(account, buyer_client, statement_renders):
    _shipped(account)
    url = reverse("portal:statement_pdf")
    poll = buyer_client.get(url, HTTP_HX_REQUEST="true")
    assert poll.status_code == 202
    assert f'hx-get="{url}"' in poll.content.decode()
    assert len(statement_renders) == 1


@pytest.mark.django_db(transaction=True)
def test_workers_render_an_asked_document_ahead_of_the_backlog(account, monkeypatch, tmp_path):
    """A real worker (one process) with a backlog of six PDFs queued before it starts
    and one invoice asked for after: it renders the asked one first or second (it takes
    from both queues in turn), where the backlog alone would have it third, then the
    rest; the command's progress follows it to the end."""
    with monkeypatch.context() as patch:
        # issued as seed_demo leaves them: without their after-commit renders
        patch.setattr(tasks.document_render_task, "delay", lambda *args: None)
        shipments = [_shipped(account, tracking=f"1ZBACK{n}") for n in range(3)]
    # the backlog is queued newest first, so the oldest invoice is third in it
    asked = shipments[0].invoice
    cache.clear()
    redis.Redis.from_url(BROKER).flushdb()
    with celery_broker(BROKER):
        assert documents.documents_backlog_queue(older_than=documents.dt.timedelta(0)) == 6
        assert documents.document_render_asked(kind="invoice", pk=asked.pk)
        worker = celery_worker_start(broker=BROKER, env={"MEDIA_ROOT": str(tmp_path)})
        try:
            out = io.StringIO()
            call_command("render_documents", "--wait", "--interval", "0.5", stdout=out)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    cache.clear()

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Documents without a PDF:")
    assert lines[0].endswith("Queued 0 for the workers.")  # queued already, not again
    assert any(line.startswith("Rendered ") and " of " in line for line in lines)
    assert lines[-1] == "Every document has its PDF."
    assert documents.documents_unrendered_count() == dict.fromkeys(
        ["invoices", "packing lists", "credit memos", "return labels"], 0
    )
    # each PDF's file was written when it was rendered: their order is the workers' order
    rendered = sorted(tmp_path.rglob("*.pdf"), key=lambda path: path.stat().st_mtime_ns)
    assert len(rendered) == 6
    asked_file = tmp_path / Invoice.objects.get(pk=asked.pk).pdf.name
    assert asked_file in rendered[:2]


def test_render_documents_queues_the_backlog_and_says_how_to_follow_it(account, document_renders):
    _shipped(account)

    out = io.StringIO()
    call_command("render_documents", stdout=out)

    assert out.getvalue().splitlines() == [
        "Documents without a PDF: invoices 1, packing lists 1. Queued 2 for the workers.",
        "Follow them with: python manage.py render_documents --wait",
    ]
    assert {queue for _, queue in document_renders} == {documents.BACKLOG_QUEUE}
