import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

from portal.warm import process_warm  # noqa: E402  (needs the apps loaded above)

process_warm()
