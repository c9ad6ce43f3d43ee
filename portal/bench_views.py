"""Baseline views for `make bench`: the cost of the bare stack, measured in the same run
as the real pages so results are ratios. Routed only when settings.BENCH_VIEWS is on."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from rest_framework.response import Response
from rest_framework.views import APIView


def bare_django(request):
    return HttpResponse("ok", content_type="text/plain")


@login_required
def signed_in_frame(request):
    """The floor every signed-in portal page stands on: the session and user lookups, the
    current account, and base.html (header, account menu, navigation) with no content."""
    return render(request, "base.html", {})


class BareDRFView(APIView):
    """The project's default API stack (token auth, permission, throttling, JSON) and no work."""

    def get(self, request):
        return Response({"ok": True})
