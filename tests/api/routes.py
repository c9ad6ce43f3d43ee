"""Every route under /api/v1/, read from the URL resolver (so a new one is covered)."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str  # "api:order-detail"
    pattern: str  # "orders/<str:number>/", relative to /api/v1/
    params: tuple[str, ...]
    view_class: type


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}", entry


def v1_routes() -> list[Route]:
    routes = []
    for pattern, name, entry in _walk(get_resolver().url_patterns):
        if not pattern.startswith("api/v1/"):
            continue
        view_class = getattr(entry.callback, "cls", None) or getattr(
            entry.callback, "view_class", None
        )
        routes.append(
            Route(
                name=name,
                pattern=pattern.removeprefix("api/v1/"),
                params=tuple(entry.pattern.converters),
                view_class=view_class,
            )
        )
    return routes


def api_view_classes() -> list[type]:
    """The view class behind every route under /api/ (v1, schema, docs, the 404)."""
    classes = []
    for pattern, _name, entry in _walk(get_resolver().url_patterns):
        if not pattern.startswith("api/"):
            continue
        view_class = getattr(entry.callback, "cls", None) or getattr(
            entry.callback, "view_class", None
        )
        classes.append(view_class)
    return classes
