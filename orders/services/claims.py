"""The store's side of service: filing a claim against a shipment (which opens a case),
and the case's timeline: messages between the store and the brand, the rep's notes,
and the entries other flows record (actions taken, documents issued). The portal, the
API and the inbound email endpoint call these; the rules live here."""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from inventory.parsing import sku_code_normalize
from notifications.kinds import MessageKind
from notifications.services import message_enqueue
from orders import locks
from orders.case_selectors import case_side_of
from orders.exceptions import OrderInputError, OrderNotAllowed
from orders.models import (
    Case,
    CaseChannel,
    CaseEntry,
    CaseReason,
    Claim,
    ClaimLine,
    ClaimPhoto,
    ClaimReason,
    EntryChannel,
    EntryKind,
    EntrySide,
    Shipment,
)
from orders.notices import account_recipients
from orders.photos import MAX_PHOTOS, PhotoRejected, photo_clean
from orders.selectors import accounts_visible_to, user_can_order
from orders.services.fulfilment import _line_parts, _next_number, _positive_int

NOTE_MAX = 4000
MESSAGE_MAX = 10000
MAX_LINES = 200

CASE_REASON_OF = {
    ClaimReason.DAMAGED: CaseReason.DAMAGED,
    ClaimReason.DEFECTIVE: CaseReason.DEFECT,
    ClaimReason.WRONG_ITEM: CaseReason.MIS_SHIP,
    ClaimReason.WRONG_SIZE: CaseReason.WRONG_SIZE,
    ClaimReason.SHORT_SHIPPED: CaseReason.SHORT_SHIP,
    ClaimReason.OVER_SHIPPED: CaseReason.OVER_SHIP,
}
REPLY_SALT = "orders.case-reply-address"


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def case_url(case: Case) -> str:
    return _absolute(reverse("portal:case_detail", args=[case.number]))


# --- the signed reply address ------------------------------------------------------------


def _reply_signature(case_id: int) -> str:
    return salted_hmac(REPLY_SALT, str(case_id)).hexdigest()[:24]


def case_reply_address(*, case: Case) -> str:
    """case-<id>-<signature>@<reply domain>: an answer sent there lands on this case.
    Lower-case hex only, so a mail system that folds case cannot break it."""
    return f"case-{case.pk}-{_reply_signature(case.pk)}@{settings.CASE_REPLY_DOMAIN}"


def case_from_reply_address(address: str) -> Case | None:
    """The case a reply address names, or None if it is not one we signed."""
    local, _, domain = str(address or "").strip().lower().rpartition("@")
    if domain != settings.CASE_REPLY_DOMAIN.lower():
        return None
    prefix, _, rest = local.partition("-")
    case_id, _, signature = rest.partition("-")
    if prefix != "case" or not case_id.isascii() or not case_id.isdigit() or len(case_id) > 12:
        return None
    if not constant_time_compare(signature, _reply_signature(int(case_id))):
        return None
    return Case.objects.select_related("account").filter(pk=int(case_id)).first()


# --- timeline entries ----------------------------------------------------------------------


def _case_notice_enqueue(*, case, entry, headline, recipients, extra=None):
    """Tell the other side of the case about an entry: through the outbox, keyed by the
    entry, with the case's reply address so an answer by email lands on the case."""
    context = {
        "account_name": case.account.name,
        "case_number": case.number,
        "headline": headline,
        "body": entry.body,
        "case_url": case_url(case),
        "reply_to": case_reply_address(case=case),
        **(extra or {}),
    }
    message_enqueue(
        kind=MessageKind.CASE_UPDATE,
        key=f"case-entry:{entry.pk}",
        recipients=[user for user in recipients if user is not None and user.is_active],
        context=context,
    )


def _store_recipients(case, *, author):
    return [user for user in account_recipients(account=case.account) if user != author]


def _brand_recipients(case, *, author):
    users = [case.owner, case.account.rep]
    return [user for user in dict.fromkeys(users) if user is not None and user != author]


@transaction.atomic(savepoint=False)
def case_entry_record(
    *,
    case: Case,
    kind: str,
    body: str,
    side: str,
    channel: str,
    author=None,
    internal: bool = False,
    credit_memo=None,
    return_authorization=None,
    order=None,
    source_key: str | None = None,
    notify: bool = True,
    document_label: str = "",
    document_url: str = "",
) -> CaseEntry:
    """Add one entry to a case's timeline and, unless it is internal, tell the other side.
    Other flows (credits, returns, replacements) record their actions and documents here.
    An entry with a source_key already recorded is returned as it was (a retry)."""
    if source_key:
        existing = CaseEntry.objects.filter(source_key=source_key).first()
        if existing is not None:
            return existing
    entry = CaseEntry.objects.create(
        case=case,
        kind=kind,
        side=side,
        channel=channel,
        author=author if getattr(author, "is_authenticated", False) else None,
        body=body,
        internal=internal,
        credit_memo=credit_memo,
        return_authorization=return_authorization,
        order=order,
        source_key=source_key,
    )
    if notify and not internal:
        extra = {}
        if document_url:
            extra = {"document_label": document_label or "Document", "document_url": document_url}
        if side == EntrySide.BRAND:
            _case_notice_enqueue(
                case=case,
                entry=entry,
                headline=f"Trailwise: {_first_line(body)}"
                if kind != EntryKind.MESSAGE
                else f"Trailwise replied on case {case.number}",
                recipients=_store_recipients(case, author=author),
                extra=extra,
            )
        else:
            _case_notice_enqueue(
                case=case,
                entry=entry,
                headline=f"{case.account.name} wrote on case {case.number}",
                recipients=_brand_recipients(case, author=author),
                extra=extra,
            )
    return entry


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 120 else line[:119] + "…"


def _text(value, field, errors, *, max_length, required=False) -> str:
    text = str(value or "").replace("\r\n", "\n").strip()
    if "\x00" in text:
        errors[field] = ["Text may not contain NUL characters."]
    elif required and not text:
        errors[field] = ["This field is required."]
    elif len(text) > max_length:
        errors[field] = [f"At most {max_length} characters."]
    return text


def case_message_post(
    *, case: Case, user, body, internal: bool = False, channel: str = EntryChannel.PORTAL
) -> CaseEntry:
    """A message on the case from someone who may see it: the store's people write to the
    brand; the rep (or staff) writes to the store, or, with internal, leaves a note only
    the brand's people see."""
    side = case_side_of(user=user, case=case)
    if side is None:
        raise OrderNotAllowed("You cannot write on this case.")
    errors = {}
    body = _text(body, "body", errors, max_length=MESSAGE_MAX, required=True)
    if internal and side != EntrySide.BRAND:
        errors["internal"] = ["Only Trailwise's people can leave internal notes."]
    if errors:
        raise OrderInputError(errors)
    return _entry_write(
        case=case,
        kind=EntryKind.NOTE if internal else EntryKind.MESSAGE,
        body=body,
        side=side,
        channel=channel,
        author=user,
        internal=internal,
    )


@transaction.atomic(durable=True)
def _entry_write(**fields) -> CaseEntry:
    return case_entry_record(**fields)


def case_reply_receive(*, recipient: str, sender: str, body: str, token: str) -> CaseEntry:
    """An emailed answer, posted by the mail provider (its signature already checked):
    the recipient must be a reply address we signed, and the sender someone who may see
    the case. The provider's token for the post keys the entry: a retry or a replay of
    the same post adds nothing."""
    from django.contrib.auth import get_user_model

    errors = {}
    case = case_from_reply_address(recipient)
    if case is None:
        errors["recipient"] = ["Not a case reply address."]
    address = str(sender or "").strip()
    if "<" in address and address.endswith(">"):
        address = address[address.rindex("<") + 1 : -1]
    user = get_user_model().objects.filter(email__iexact=address).first() if address else None
    body = _text(body, "body", errors, max_length=MESSAGE_MAX, required=True)
    if errors:
        raise OrderInputError(errors)
    side = case_side_of(user=user, case=case) if user is not None else None
    if side is None:
        raise OrderNotAllowed("The sender may not write on this case.")
    key = "email:" + hashlib.sha256(str(token).encode()).hexdigest()
    return _entry_write(
        case=case,
        kind=EntryKind.MESSAGE,
        body=body,
        side=side,
        channel=EntryChannel.EMAIL,
        author=user,
        source_key=key,
    )


# --- claims --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimLineRequest:
    sku: str
    quantity: object


def claimable_quantities(*, shipment: Shipment) -> dict[int, int]:
    """Pairs of each shipment line that may still be claimed: shipped less claimed."""
    claimed = dict(
        ClaimLine.objects.filter(shipment_line__shipment=shipment)
        .values("shipment_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("shipment_line_id", "total")
    )
    return {
        line.pk: line.quantity - claimed.get(line.pk, 0)
        for line in shipment.lines.all().order_by("pk")
    }


def _shipment_for(*, user, number) -> Shipment | None:
    number = str(number or "").strip()
    if not number or len(number) > 20:
        return None
    return (
        Shipment.objects.for_accounts(accounts_visible_to(user=user))
        .select_related("order__account")
        .filter(number=number)
        .first()
    )


def _claim_input_validate(*, reason, note, lines, photos):
    errors = {}
    if reason not in ClaimReason.values:
        errors["reason"] = [f"Choose one of: {', '.join(ClaimReason.values)}."]
    note = _text(note, "note", errors, max_length=NOTE_MAX)
    requested = []
    if not isinstance(lines, list | tuple) or not lines:
        errors["lines"] = ["Add at least one line: the SKU and how many pairs."]
        lines = []
    elif len(lines) > MAX_LINES:
        errors["lines"] = [f"At most {MAX_LINES} lines."]
        lines = []
    seen = set()
    for index, line in enumerate(lines):
        raw_sku, raw_quantity = _line_parts(line)
        code = sku_code_normalize(raw_sku) if isinstance(raw_sku, str) else ""
        if not code:
            errors[f"lines[{index}].sku"] = ["Enter a SKU."]
        elif code in seen:
            errors[f"lines[{index}].sku"] = [f"SKU {code} is listed twice."]
        seen.add(code)
        quantity = _positive_int(raw_quantity, errors, f"lines[{index}].quantity")
        requested.append((index, code, quantity))
    photos = list(photos or [])
    cleaned = []
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [f"At most {MAX_PHOTOS} photos."]
    else:
        for index, data in enumerate(photos):
            try:
                cleaned.append(photo_clean(data))
            except PhotoRejected as error:
                errors[f"photos[{index}]"] = [str(error)]
    return errors, note, requested, cleaned


def claim_file(
    *,
    user,
    shipment_number,
    reason,
    note="",
    lines,
    photos=(),
    channel: str = CaseChannel.PORTAL,
) -> Claim:
    """File a claim on a shipment of the user's accounts, by line and quantity (never
    more pairs than shipped less what earlier claims cover), with up to five photos
    (bytes; re-encoded before anything is stored). Opens the claim's case, puts the
    claim on its timeline and tells the store's people and the rep."""
    shipment = _shipment_for(user=user, number=shipment_number)
    errors, note, requested, cleaned = _claim_input_validate(
        reason=reason, note=note, lines=lines, photos=photos
    )
    if shipment is None:
        errors["shipment"] = ["No such shipment on your accounts."]
    if errors:
        raise OrderInputError(errors)
    if not user_can_order(user=user, account=shipment.order.account):
        raise OrderNotAllowed("Only the account's buyers and its rep can file a claim.")
    return _claim_write(
        user=user,
        shipment=shipment,
        reason=reason,
        note=note,
        requested=requested,
        photos=cleaned,
        channel=channel,
    )


@transaction.atomic(durable=True)
def _claim_write(*, user, shipment, reason, note, requested, photos, channel) -> Claim:
    # The order's lock serialises claims on its shipments: two claims at once cannot both
    # take the last claimable pairs.
    order = locks.order_lock(order_id=shipment.order_id)
    account = shipment.order.account
    shipment_lines = {
        line.order_line.sku.code.upper(): line
        for line in shipment.lines.select_related("order_line__sku__style")
    }
    left = claimable_quantities(shipment=shipment)
    errors, wanted = {}, []
    for index, code, quantity in requested:
        line = shipment_lines.get(code)
        if line is None:
            errors[f"lines[{index}].sku"] = [f"SKU {code} is not on shipment {shipment.number}."]
            continue
        if quantity > left[line.pk]:
            errors[f"lines[{index}].quantity"] = [
                f"{code}: {line.quantity} shipped, {line.quantity - left[line.pk]} already "
                f"claimed; at most {left[line.pk]} can be claimed."
            ]
            continue
        wanted.append((line, quantity))
    if errors:
        raise OrderInputError(errors)
    now = timezone.now()
    case = Case.objects.create(
        account=account,
        order=order,
        reason=CASE_REASON_OF[reason],
        channel=channel,
        summary=note,
        opened_by=user,
        opened_at=now,
    )
    claim = Claim.objects.create(
        number=_next_number(sequence="claim", prefix="CL"),
        case=case,
        account=account,
        shipment=shipment,
        reason=reason,
        note=note,
        created_by=user,
        created_at=now,
    )
    ClaimLine.objects.bulk_create(
        [ClaimLine(claim=claim, shipment_line=line, quantity=qty) for line, qty in wanted]
    )
    for photo in photos:
        stored = ClaimPhoto(
            claim=claim,
            content_type=photo.content_type,
            width=photo.width,
            height=photo.height,
            size=photo.content.size,
            uploaded_at=now,
        )
        stored.image.save(photo.content.name, photo.content, save=False)
        stored.save()
    entry = case_entry_record(
        case=case,
        kind=EntryKind.MESSAGE,
        side=EntrySide.STORE,
        channel=EntryChannel.API if channel == CaseChannel.API else EntryChannel.PORTAL,
        author=user,
        body=claim_summary(claim=claim, lines=wanted, photo_count=len(photos)),
        notify=False,
    )
    _claim_received_enqueue(claim=claim, entry=entry, user=user)
    return claim


def claim_summary(*, claim: Claim, lines, photo_count: int) -> str:
    pairs = "\n".join(
        f"- {line.order_line.sku.code}: {qty} of {line.quantity} pair"
        f"{'s' if line.quantity != 1 else ''}"
        for line, qty in lines
    )
    text = (
        f"Claim {claim.number} on shipment {claim.shipment.number}: "
        f"{claim.get_reason_display()}.\n{pairs}"
    )
    if photo_count:
        text += f"\n{photo_count} photo{'s' if photo_count != 1 else ''} attached."
    if claim.note:
        text += f"\n\n{claim.note}"
    return text


def _claim_received_enqueue(*, claim, entry, user):
    case = claim.case
    store = account_recipients(account=claim.account, extra=[user])
    brand = _brand_recipients(case, author=None)
    _case_notice_enqueue(
        case=case,
        entry=entry,
        headline=f"Claim {claim.number} received: case {case.number} is open",
        recipients=list(dict.fromkeys([*store, *brand])),
    )
