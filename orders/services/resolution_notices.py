"""Telling the store (its people) and the account's rep about a resolution at once,
through the outbox, with the document linked; and the entry on the case's timeline."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from notifications.kinds import MessageKind
from notifications.services import message_enqueue
from orders.models import Case, CaseEntry, EntryChannel, EntryKind, EntrySide
from orders.notices import account_recipients


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def case_page_url(case: Case) -> str:
    """The store's page of the case; the portal's home until the case pages exist."""
    try:
        return absolute(reverse("portal:case_detail", args=[case.number]))
    except NoReverseMatch:
        return absolute(reverse("portal:dashboard"))


def resolution_tell(
    *,
    case: Case,
    key: str,
    headline: str,
    body: str,
    user,
    document_label: str = "",
    document_url: str = "",
    entry_links: dict | None = None,
) -> None:
    """One timeline entry (a document when there is one, else an action) and one
    message to the store's people and the rep, keyed so a retry tells nobody twice.
    ``entry_links`` names what the entry points at (credit_memo, return_authorization
    or order). Call it inside the resolution's transaction."""
    CaseEntry.objects.get_or_create(
        source_key=key,
        defaults={
            "case": case,
            "kind": EntryKind.DOCUMENT if document_url else EntryKind.ACTION,
            "side": EntrySide.BRAND,
            "channel": EntryChannel.ADMIN,
            "author": user if getattr(user, "is_authenticated", False) else None,
            "body": f"{headline}\n\n{body}" if body else headline,
            **(entry_links or {}),
        },
    )
    context = {
        "account_name": case.account.name,
        "case_number": case.number,
        "headline": headline,
        "body": body or headline,
        "case_url": case_page_url(case),
    }
    if document_url:
        context |= {"document_label": document_label or "Document", "document_url": document_url}
    message_enqueue(
        kind=MessageKind.CASE_UPDATE,
        key=key,
        recipients=account_recipients(account=case.account, extra=[case.account.rep]),
        context=context,
    )
