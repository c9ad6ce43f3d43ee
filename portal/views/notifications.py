"""The in-portal notification feed, its unread badge, and email preferences.

Every view works on the signed-in user's own messages only: a message id that is
not theirs is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from notifications.kinds import configurable_kinds
from notifications.models import DeliveryMode
from notifications.selectors import (
    feed_for_user,
    message_link,
    preferences_for_user,
    unread_count,
)
from notifications.services import (
    PreferenceChoice,
    message_mark_read,
    messages_mark_all_read,
    preferences_update,
)

FEED_LIMIT = 100


@login_required
@require_GET
def notification_feed(request):
    feed = feed_for_user(user=request.user, limit=FEED_LIMIT)
    items = [{"message": m, "url": message_link(m)} for m in feed]
    return render(
        request,
        "notifications/feed.html",
        {
            "items": items,
            "unread_total": unread_count(user=request.user),
        },
    )


@login_required
@require_GET
def notification_unread_badge(request):
    """A small fragment for htmx to poll: the unread count next to the nav link."""
    return render(
        request,
        "notifications/_unread_badge.html",
        {"unread_total": unread_count(user=request.user)},
    )


@login_required
@require_POST
def notification_mark_read(request, message_id: int):
    if not message_mark_read(user=request.user, message_id=message_id):
        raise Http404("No such notification.")
    return redirect("portal:notifications")


@login_required
@require_POST
def notification_mark_all_read(request):
    messages_mark_all_read(user=request.user)
    return redirect("portal:notifications")


@login_required
def notification_preferences(request):
    if request.method == "POST":
        choices = []
        for kind in configurable_kinds():
            mode = request.POST.get(f"mode-{kind.value}", DeliveryMode.IMMEDIATE)
            if mode not in DeliveryMode.values:
                mode = DeliveryMode.IMMEDIATE
            choices.append(
                PreferenceChoice(
                    kind=kind.value,
                    enabled=request.POST.get(f"enabled-{kind.value}") == "on",
                    mode=mode,
                )
            )
        preferences_update(user=request.user, choices=choices)
        messages.success(request, "Your email preferences are saved.")
        return redirect("portal:notification_preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"rows": preferences_for_user(user=request.user), "modes": DeliveryMode.choices},
    )
