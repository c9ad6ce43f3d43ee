"""Service cases as the store and its rep see them: the account's cases, one case's
timeline with a reply box (and, for the rep, internal notes), filing a claim against a
shipment with photos, a claim's photos, and the endpoint the mail provider posts
emailed replies to. Reads are selectors; writes are orders.services.claims."""

import hashlib
import hmac
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orders.api.claims import photo_response
from orders.case_selectors import (
    case_for_user,
    case_side_of,
    case_timeline,
    cases_for_account,
    claim_detail_queryset,
    claim_photo_for_user,
)
from orders.exceptions import OrderNotAllowed
from orders.models import Claim, ClaimReason, EntrySide, Shipment
from orders.photos import MAX_PHOTO_BYTES, MAX_PHOTOS
from orders.selectors import accounts_visible_to, user_can_order
from orders.services.claims import (
    case_message_post,
    case_reply_receive,
    claim_file,
    claimable_quantities,
)
from portal.page_cache import figures_cached

PAGE_SIZE = 25
# A provider's signed post is accepted for this long, and its token only once.
INBOUND_MAX_AGE_SECONDS = 300


@login_required
@require_GET
@figures_cached
def case_list(request):
    account = request.account
    if not account:
        raise Http404("No account.")
    page = Paginator(cases_for_account(account=account), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "portal/cases/list.html", {"page": page, "account": account})


def _case_or_404(request, number):
    case = case_for_user(user=request.user, number=number)
    if case is None:
        raise Http404("No such case.")
    return case


@login_required
@require_GET
@figures_cached
def case_detail(request, number):
    case = _case_or_404(request, number)
    side = case_side_of(user=request.user, case=case)
    claim = None
    if hasattr(case, "claim"):
        claim = claim_detail_queryset(Claim.objects.filter(pk=case.claim.pk)).get()
    context = {
        "case": case,
        "claim": claim,
        "side": side,
        "is_brand": side == EntrySide.BRAND,
        "timeline": case_timeline(case=case, side=side),
    }
    return render(request, "portal/cases/detail.html", context)


@login_required
@require_POST
def case_message(request, number):
    case = _case_or_404(request, number)
    try:
        case_message_post(
            case=case,
            user=request.user,
            body=request.POST.get("body", ""),
            internal=request.POST.get("internal") == "1",
        )
    except OrderNotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except ValidationError as error:
        for field_messages in error.message_dict.values():
            for message in field_messages:
                messages.error(request, f"Your message was not sent: {message}")
        return redirect("portal:case_detail", case.number)
    messages.success(request, "Your message is on the case.")
    return redirect("portal:case_detail", case.number)


def _shipment_or_404(request, number) -> Shipment:
    shipment = (
        Shipment.objects.for_accounts(accounts_visible_to(user=request.user))
        .select_related("order__account")
        .filter(number=number)
        .first()
    )
    if shipment is None:
        raise Http404("No such shipment.")
    return shipment


def _claim_rows(shipment, posted):
    left = claimable_quantities(shipment=shipment)
    lines = shipment.lines.select_related("order_line__sku__style").order_by("pk")
    return [
        {
            "line": line,
            "sku": line.order_line.sku,
            "left": left[line.pk],
            "value": posted.get(f"qty-{line.pk}", ""),
        }
        for line in lines
    ]


def _row_errors(errors: dict, rows, requested) -> list[str]:
    """Service errors keyed "lines[i].quantity" go on the row they are about; the
    others are returned, labelled, for the top of the form."""
    by_row, others = {}, []
    for field, field_messages in errors.items():
        if field.startswith("lines[") and "]" in field:
            index = int(field[6 : field.index("]")])
            by_row.setdefault(requested[index], []).extend(field_messages)
        else:
            label = {"note": "Note", "reason": "Reason", "lines": "Pairs"}.get(field, "")
            if field.startswith("photos"):
                label = "Photo " + str(int(field[7:-1]) + 1) if "[" in field else "Photos"
            others.extend(f"{label}: {m}" if label else m for m in field_messages)
    for row in rows:
        row["errors"] = by_row.get(row["line"].pk, [])
    return others


@login_required
@require_http_methods(["GET", "POST"])
def claim_new(request, number):
    shipment = _shipment_or_404(request, number)
    if not user_can_order(user=request.user, account=shipment.order.account):
        raise PermissionDenied("Only the account's buyers and its rep can file a claim.")
    posted = request.POST if request.method == "POST" else {}
    rows = _claim_rows(shipment, posted)
    errors, failed = [], False
    if request.method == "POST":
        requested = [row["line"].pk for row in rows if row["value"].strip() not in ("", "0")]
        lines = [
            {"sku": row["sku"].code, "quantity": row["value"]}
            for row in rows
            if row["value"].strip() not in ("", "0")
        ]
        try:
            claim = claim_file(
                user=request.user,
                shipment_number=shipment.number,
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", ""),
                lines=lines,
                photos=request.FILES.getlist("photos"),
            )
        except ValidationError as error:
            failed = True
            errors = _row_errors(error.message_dict, rows, requested)
        else:
            messages.success(
                request,
                f"Claim {claim.number} is filed. We will answer on case {claim.case.number}.",
            )
            return redirect("portal:case_detail", claim.case.number)
    context = {
        "shipment": shipment,
        "rows": rows,
        "errors": errors,
        "reasons": ClaimReason.choices,
        "chosen_reason": posted.get("reason", ""),
        "note": posted.get("note", ""),
        "max_photos": MAX_PHOTOS,
        "max_photo_mb": MAX_PHOTO_BYTES // (1024 * 1024),
        "claimable": any(row["left"] for row in rows),
    }
    return render(request, "portal/cases/claim_new.html", context, status=400 if failed else 200)


@login_required
@require_GET
def claim_photo(request, number, photo_id):
    photo = claim_photo_for_user(user=request.user, number=number, photo_id=photo_id)
    if photo is None:
        raise Http404("No such photo.")
    return photo_response(photo)


# --- Replies by email -----------------------------------------------------------------


def _refused(status, detail, field=None):
    errors = {field: [detail]} if field else {}
    return JsonResponse({"detail": detail, "errors": errors}, status=status)


def _signature_valid(post) -> str | None:
    """None if the provider's signature holds, else why not. The provider signs
    timestamp + token with the shared key (HMAC-SHA256, hex); a post is accepted for
    five minutes, and its token keys the entry it makes, so a captured post replayed
    (even with another body) adds nothing."""
    key = settings.INBOUND_EMAIL_SIGNING_KEY
    if not key:
        return "Inbound email is not configured."
    timestamp, token, signature = (post.get(k, "") for k in ("timestamp", "token", "signature"))
    if not (timestamp.isdigit() and token and signature):
        return "Missing timestamp, token or signature."
    expected = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        return "The signature does not match."
    if abs(time.time() - int(timestamp)) > INBOUND_MAX_AGE_SECONDS:
        return "The signature has expired."
    return None


@csrf_exempt
@require_POST
def inbound_email(request):
    """The mail provider posts each email sent to a case's reply address here (form
    fields: recipient, sender, subject, body-plain, stripped-text,
    timestamp, token, signature). A reply lands on its case as a message; anything
    unsigned, forged or from a stranger is refused with a 4xx and changes nothing."""
    problem = _signature_valid(request.POST)
    if problem:
        return _refused(403, problem, "signature")
    body = request.POST.get("stripped-text") or request.POST.get("body-plain", "")
    try:
        entry = case_reply_receive(
            recipient=request.POST.get("recipient", ""),
            sender=request.POST.get("sender", ""),
            body=body,
            token=request.POST["token"],
        )
    except OrderNotAllowed as error:
        return _refused(403, str(error), "sender")
    except ValidationError as error:
        return JsonResponse({"detail": "Invalid input.", "errors": error.message_dict}, status=400)
    return JsonResponse({"case": entry.case.number, "entry": entry.pk}, status=200)
