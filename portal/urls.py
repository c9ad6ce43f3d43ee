from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portal.views import health, media, passwords, site

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    # Ahead of django.contrib.auth's own views of the same names and paths.
    path("accounts/password_reset/", passwords.password_reset, name="password_reset"),
    path(
        "accounts/password_change/",
        passwords.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        passwords.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", site.favicon, name="favicon"),
    path("api/", include("portal.api.urls")),
    path(
        f"{settings.MEDIA_URL.lstrip('/')}catalogue/<path:path>",
        media.catalogue_picture,
        name="picture",
    ),
    path("", include(("portal.views.urls", "portal"))),
]

if settings.BENCH_VIEWS:
    from portal import bench_views

    urlpatterns += [
        path("bench/bare/", bench_views.bare_django),
        path("bench/bare-drf/", bench_views.BareDRFView.as_view()),
        path("bench/signed-in/", bench_views.signed_in_frame),
    ]
