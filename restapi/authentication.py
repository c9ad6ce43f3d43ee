from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Token <key>`; knox stores only a hash of each key."""

    def _cleanup_token(self, auth_token) -> bool:
        """Only the presented token's own expiry: knox also reads every other token of the
        user on each request to delete expired ones, a query per request that keys issued
        without an expiry (REST_KNOX TOKEN_TTL None) never need."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class TokenScheme(OpenApiAuthenticationExtension):
    """Declares the token scheme in the OpenAPI schema as "Token"."""

    target_class = TokenAuthentication
    name = "Token"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A key issued per user, sent with the prefix "Token ": '
            "`Authorization: Token <key>`. Create and revoke keys on your account page.",
        }
