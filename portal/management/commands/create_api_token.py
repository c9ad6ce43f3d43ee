from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.tokens import TokenRefused, api_token_create


class Command(BaseCommand):
    help = (
        "Print a new API token for the user with this email. Only a hash is stored: "
        "copy the key now. Use it as `Authorization: Token <key>`."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        User = get_user_model()
        try:
            user = User.objects.get(email__iexact=email.strip())
        except User.DoesNotExist:
            raise CommandError(f"No user with the email {email!r}.") from None
        try:
            _, key = api_token_create(user=user)
        except TokenRefused as exc:
            raise CommandError(f"Cannot issue a token: {exc}") from None
        self.stdout.write(key)
