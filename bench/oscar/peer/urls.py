from django.apps import apps
from django.urls import include, path

from peer import views

urlpatterns = [
    path("bench/bare/", views.bare),
    path("place/", views.PlaceOrderView.as_view()),
    # Oscar's own routes: its checkout reverses the thank-you and order-status pages.
    path("", include(apps.get_app_config("oscar").urls[0])),
]
