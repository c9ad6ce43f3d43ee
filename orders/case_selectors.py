"""Reads for service cases and claims: which a user may see, and a case's timeline as
each side sees it (the store never sees the brand's internal notes)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Prefetch, QuerySet
from django.urls import reverse

from orders.models import (
    Case,
    CaseEntry,
    Claim,
    ClaimLine,
    ClaimPhoto,
    EntryKind,
    EntrySide,
    StockAlert,
    StockAlertStatus,
)
from orders.selectors import accounts_visible_to


def claim_photo_viewer(*, user) -> bool:
    """The brand's staff who may see any claim's photos."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("orders.view_claim")
    )


def case_side_of(*, user, case: Case) -> str | None:
    """ "brand" for the account's rep and the brand's staff, "store" for the account's
    people, None for anyone else."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    if user.is_staff and user.has_perm("orders.view_case"):
        return EntrySide.BRAND
    if user.is_sales_rep and case.account.rep_id == user.pk:
        return EntrySide.BRAND
    if accounts_visible_to(user=user).filter(pk=case.account_id).exists():
        return EntrySide.STORE
    return None


def cases_for_account(*, account) -> QuerySet[Case]:
    """The account's cases, newest activity first, with their claim and last entry."""
    return (
        Case.objects.filter(account=account)
        .select_related("claim__shipment", "owner")
        .annotate(entry_count=Count("entries"), last_entry_at=Max("entries__created_at"))
        .order_by("status", "-opened_at", "-pk")
    )


def case_for_user(*, user, number) -> Case | None:
    """The case with this number if it is of an account the user may see."""
    return (
        Case.objects.for_accounts(accounts_visible_to(user=user))
        .with_number(number)
        .select_related("account__rep", "owner", "order", "claim__shipment__order")
        .first()
    )


def claims_visible_to(*, user) -> QuerySet[Claim]:
    return Claim.objects.for_accounts(accounts_visible_to(user=user))


def claim_detail_queryset(queryset: QuerySet[Claim]) -> QuerySet[Claim]:
    """Everything a claim's page or API answer shows, in a fixed number of queries."""
    return queryset.select_related(
        "account", "case__account__rep", "case__owner", "shipment__order"
    ).prefetch_related(
        Prefetch(
            "lines",
            queryset=ClaimLine.objects.select_related(
                "shipment_line__order_line__sku__style"
            ).order_by("pk"),
        ),
        Prefetch("photos", queryset=ClaimPhoto.objects.select_related("claim").order_by("pk")),
    )


def claim_for_user(*, user, number) -> Claim | None:
    number = str(number or "").strip()
    if not number or len(number) > 20:
        return None
    return claim_detail_queryset(claims_visible_to(user=user)).filter(number=number).first()


def claim_photo_for_user(*, user, number, photo_id) -> ClaimPhoto | None:
    """A claim's photo, for the account's people and the brand's staff only."""
    photos = ClaimPhoto.objects.filter(pk=photo_id, claim__number=number)
    if not claim_photo_viewer(user=user):
        photos = photos.filter(claim__account__in=accounts_visible_to(user=user))
    return photos.first()


@dataclass(frozen=True)
class TimelineItem:
    at: dt.datetime
    kind: str
    side: str
    author: str
    body: str
    internal: bool = False
    document_label: str = ""
    document_url: str = ""


def _author(user, side) -> str:
    if user is None:
        return "Trailwise" if side == EntrySide.BRAND else "The store"
    name = user.get_full_name()
    return f"{name} (Trailwise)" if side == EntrySide.BRAND else name


def _document(entry: CaseEntry) -> tuple[str, str]:
    if entry.credit_memo_id:
        memo = entry.credit_memo
        return f"Credit memo {memo.number}", reverse("portal:credit_memo_pdf", args=[memo.number])
    if entry.order_id:
        return f"Order {entry.order.number}", reverse(
            "portal:order_detail", args=[entry.order.number]
        )
    if entry.return_authorization_id:
        return f"Return authorization {entry.return_authorization.number}", ""
    return "", ""


def case_timeline(*, case: Case, side: str) -> list[TimelineItem]:
    """The case from opening to now: how it was opened (for a case staff logged, from
    its summary), every entry the side may see, and its resolution."""
    entries = case.entries.select_related(
        "author", "credit_memo", "order", "return_authorization"
    ).order_by("created_at", "pk")
    if side != EntrySide.BRAND:
        entries = entries.visible_to_store()
    items = []
    if not hasattr(case, "claim"):
        items.append(
            TimelineItem(
                at=case.opened_at,
                kind=EntryKind.ACTION,
                side=EntrySide.BRAND,
                author=_author(None, EntrySide.BRAND),
                body=f"Case opened ({case.get_channel_display().lower()}): "
                f"{case.get_reason_display()}." + (f"\n\n{case.summary}" if case.summary else ""),
            )
        )
    for entry in entries:
        label, url = _document(entry)
        items.append(
            TimelineItem(
                at=entry.created_at,
                kind=entry.kind,
                side=entry.side,
                author=_author(entry.author, entry.side),
                body=entry.body,
                internal=entry.internal,
                document_label=label,
                document_url=url,
            )
        )
    if case.resolved_at is not None:
        items.append(
            TimelineItem(
                at=case.resolved_at,
                kind=EntryKind.ACTION,
                side=EntrySide.BRAND,
                author="Trailwise",
                body=f"Case resolved: {case.resolution}" if case.resolution else "Case resolved.",
            )
        )
    return items


def waiting_alert_sku_ids(*, user, account) -> set[int]:
    """The SKUs this user already waits for on this account (one query)."""
    if account is None or not user.is_authenticated:
        return set()
    return set(
        StockAlert.objects.filter(
            user=user, account=account, status=StockAlertStatus.WAITING
        ).values_list("sku_id", flat=True)
    )


def stock_alerts_for(*, user, account) -> QuerySet[StockAlert]:
    """The user's alerts on this account: waiting ones first, then the latest ended."""
    return (
        StockAlert.objects.filter(user=user, account=account)
        .select_related("sku__style")
        .order_by("-status", "-created_at", "-pk")
    )
