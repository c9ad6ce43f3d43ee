"""A minimal authenticated API endpoint for the token tests (the project's default DRF
authentication and permission classes apply)."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


class WhoAmI(APIView):
    def get(self, request):
        return Response({"email": request.user.email})


urlpatterns = [path("api/whoami/", WhoAmI.as_view())]
