from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portal.views import health, site

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", site.favicon, name="favicon"),
    path("api/", include("portal.api.urls")),
    path("", include(("portal.views.urls", "portal"))),
]

if settings.BENCH_VIEWS:
    from portal import bench_views

    urlpatterns += [
        path("bench/bare/", bench_views.bare_django),
        path("bench/bare-drf/", bench_views.BareDRFView.as_view()),
        path("bench/signed-in/", bench_views.signed_in_frame),
    ]
