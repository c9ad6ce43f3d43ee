from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from restapi.errors import not_found


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI from self-hosted assets (drf-spectacular-sidecar), its start-up script
    served as a file, so the site's CSP (script-src 'self') holds on this page too."""

    template_name = "api/swagger_ui.html"


v1 = [
    path("", include("inventory.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("backorders.api.urls")),
    path("", include("orders.webhooks.urls")),
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/", include((v1, "api"), namespace="api")),
    re_path(r"^", not_found, name="api-not-found"),
]
