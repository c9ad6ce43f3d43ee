"""Statement renders are bounded: dates within the account's history, identical requests
share one render, renders per account are capped, stored statements expire."""

import datetime as dt
import os
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders import documents, tasks
from orders.models import Account, Invoice
from orders.services.fulfilment import statement_for
from tests.orders.test_fulfilment_api import _shipped

URL = "portal:statement_pdf"


@pytest.fixture
def history(account):
    """An account opened today with an invoice from 40 days ago (as imported or seeded
    history is)."""
    invoice = _shipped(account).invoice
    first = timezone.localdate() - dt.timedelta(days=40)
    Invoice.objects.filter(pk=invoice.pk).update(issued_on=first)
    return first


@pytest.mark.parametrize("days_before", [1, 365, None])
def test_dates_before_the_accounts_history_are_refused_naming_its_first_day(
    history, buyer_client, statement_renders, days_before
):
    as_of = dt.date(1, 1, 1) if days_before is None else history - dt.timedelta(days_before)

    response = buyer_client.get(reverse(URL), {"as_of": as_of.isoformat()})

    assert response.status_code == 400
    assert response.content.decode() == (
        f"The account's history starts on {history:%b} {history.day}, {history.year}."
    )
    assert statement_renders == []
    # the statement page says the same
    page = buyer_client.get(reverse("portal:statement"), {"as_of": as_of.isoformat()})
    assert page.status_code == 400
    assert "history starts on" in page.content.decode()


def test_the_first_day_of_the_history_is_a_statement(history, buyer_client, statement_renders):
    response = buyer_client.get(reverse(URL), {"as_of": history.isoformat()})
    assert response.status_code == 202
    assert len(statement_renders) == 1


def test_an_account_without_invoices_starts_the_day_it_was_opened(
    account, buyer_client, statement_renders
):
    opened = timezone.localdate() - dt.timedelta(days=3)
    Account.objects.filter(pk=account.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    before = buyer_client.get(reverse(URL), {"as_of": (opened - dt.timedelta(1)).isoformat()})
    assert before.status_code == 400
    assert buyer_client.get(reverse(URL), {"as_of": opened.isoformat()}).status_code == 202


def test_identical_requests_at_once_share_one_render(history, account, statement_renders):
    statement = statement_for(account=account, as_of=history)
    fingerprint = documents.statement_fingerprint(statement)
    barrier = threading.Barrier(8)
    results = []

    def ask():
        barrier.wait()
        results.append(
            documents.statement_render_queue(
                account_id=account.pk, as_of=history, fingerprint=fingerprint
            )
        )

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * 7 + [True]
    assert len(statement_renders) == 1


def test_renders_per_account_are_capped_and_the_cap_is_the_accounts_own(
    history, buyer_client, other_buyer, statement_renders
):
    dates = [history + dt.timedelta(days=n) for n in range(documents.STATEMENT_RENDERS_PER_HOUR)]
    for as_of in dates:
        assert buyer_client.get(reverse(URL), {"as_of": as_of.isoformat()}).status_code == 202
    assert len(statement_renders) == documents.STATEMENT_RENDERS_PER_HOUR

    # when one more new date is asked for this hour
    over = buyer_client.get(reverse(URL), {"as_of": (dates[-1] + dt.timedelta(1)).isoformat()})

    # then 429 with Retry-After until the next hour, and nothing queued
    assert over.status_code == 429
    assert 0 < int(over["Retry-After"]) <= 3600
    assert len(statement_renders) == documents.STATEMENT_RENDERS_PER_HOUR
    # a date already queued is still "being prepared", not refused
    assert buyer_client.get(reverse(URL), {"as_of": dates[0].isoformat()}).status_code == 202
    # and another account has its own allowance
    theirs = Client()
    theirs.force_login(other_buyer)
    assert theirs.get(reverse(URL)).status_code == 202
    assert len(statement_renders) == documents.STATEMENT_RENDERS_PER_HOUR + 1


def test_stored_statements_expire_and_are_rendered_again_when_asked(
    history, account, buyer_client, statement_renders
):
    # given two stored statements, one made eight days ago
    old_date, new_date = history, history + dt.timedelta(days=1)
    names = {}
    for as_of in (old_date, new_date):
        buyer_client.get(reverse(URL), {"as_of": as_of.isoformat()})
    for args in statement_renders:
        names[args[1]] = documents.statement_file_name(
            statement=statement_for(account=account, as_of=dt.date.fromisoformat(args[1])),
            fingerprint=args[2],
        )
        default_storage.save(names[args[1]], ContentFile(b"%PDF-stored"))
    eight_days_ago = (timezone.now() - dt.timedelta(days=8)).timestamp()
    os.utime(Path(settings.MEDIA_ROOT) / names[old_date.isoformat()], (eight_days_ago,) * 2)
    assert buyer_client.get(reverse(URL), {"as_of": old_date.isoformat()}).status_code == 200

    # when the beat job runs
    assert tasks.statements_expire_task() == 1

    # then the old one is gone and the recent one kept
    assert not default_storage.exists(names[old_date.isoformat()])
    assert default_storage.exists(names[new_date.isoformat()])
    assert buyer_client.get(reverse(URL), {"as_of": new_date.isoformat()}).status_code == 200
    # and asking for the old date again renders it again (once the pending mark lapses)
    statement_renders.clear()
    documents.cache.clear()
    assert buyer_client.get(reverse(URL), {"as_of": old_date.isoformat()}).status_code == 202
    assert len(statement_renders) == 1


def test_the_expiry_runs_from_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["documents-statements-expire"]
    assert entry["task"] == tasks.statements_expire_task.name
    assert tasks.statements_expire_task() == 0  # nothing stored: nothing to do
