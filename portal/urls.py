from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portal.views import health, passwords

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    # Ahead of django.contrib.auth's own view of the same name and path.
    path("accounts/password_reset/", passwords.password_reset, name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("healthz", health.healthz, name="healthz"),
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
