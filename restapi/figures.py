"""API answers kept while nothing they show can have changed (settings.FIGURES_READ:
portal.page_cache.figures_read, keyed by the data and access versions and the day)."""

import functools

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework.response import Response


@functools.cache
def figures_read():
    """settings.FIGURES_READ, the site's keeper of answers while nothing they show can
    have changed (name, load, keep=...) -> value; without it every answer is read afresh."""
    path = getattr(settings, "FIGURES_READ", "")
    return import_string(path) if path else lambda name, load, **_: load()


class FiguresKeptListMixin:
    """Put before ListAPIView: each JSON page of the list as the caller's user sees it at
    its URL, kept while nothing it shows can have changed. Set `figures_name`."""

    figures_name: str

    def list(self, request, *args, **kwargs):
        name = f"{self.figures_name}:{request.user.pk}:{request.build_absolute_uri()}"
        return Response(
            figures_read()(name, lambda: super(FiguresKeptListMixin, self).list(request).data)
        )
