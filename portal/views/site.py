from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET


@require_GET
def favicon(request):
    """Browsers and feed readers ask for /favicon.ico whatever the page links."""
    return redirect(static("favicon.svg"), permanent=True)
