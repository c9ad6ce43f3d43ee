from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Token <key>`; knox stores only a hash of each key."""


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
