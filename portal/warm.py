"""What a server process loads before its first request rather than during it.

Django imports the URLconf (and with it every view, WeasyPrint and openpyxl included),
builds the URL reversal tables and compiles templates on first use: seconds on this
machine, paid by the first request each new worker (a deploy, a restart) answers, while
its other connections wait behind it. Nothing here touches the database or the cache, so
a server that loads the application before forking its workers shares no connection."""

from django.template.loader import get_template
from django.urls import get_resolver

# The frame every signed-in page extends, and what its header includes.
FRAME_TEMPLATES = ("base.html", "portal/_header.html", "portal/_nav.html")


def _reversal_tables_build(resolver) -> None:
    resolver.reverse_dict  # noqa: B018  (built on first access)
    for _prefix, included in resolver.namespace_dict.values():
        _reversal_tables_build(included)


def process_warm() -> None:
    _reversal_tables_build(get_resolver())  # imports every view on the way
    for name in FRAME_TEMPLATES:
        get_template(name)
