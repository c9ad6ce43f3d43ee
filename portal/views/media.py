"""Catalogue pictures from the default storage's folder. Their names change with their
content (inventory.images), so a browser may keep each one for a year. Only the
catalogue folder is served: documents (invoices, statements) stay behind their views.
No sign-in: emails show these pictures, and mail clients have no session."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404
from django.views.decorators.http import require_GET
from django.views.static import serve

YEAR = 365 * 24 * 60 * 60


@require_GET
def catalogue_picture(request, path):
    try:
        response = serve(request, path, document_root=Path(settings.MEDIA_ROOT) / "catalogue")
    except SuspiciousFileOperation:  # a path that climbs out of the folder
        raise Http404 from None
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
