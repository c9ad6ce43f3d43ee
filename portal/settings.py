"""Settings for the wholesale portal, read from the environment (12-factor).

With nothing set, an embedded default that needs no server: SQLite in WAL mode and
kombu's filesystem broker under ./var. With DATABASE_URL and CELERY_BROKER_URL set,
the same code runs on PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from kombu import Queue

from portal.cache import REDIS_SCHEMES, caches_for

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-change-me-0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
ADMIN_URL = env("ADMIN_URL", default="admin/")
# Replies to a case's emails go to case-<id>-<signature>@CASE_REPLY_DOMAIN; the mail
# provider posts them to /inbound/email/, signed with INBOUND_EMAIL_SIGNING_KEY
# (HMAC-SHA256 of timestamp + token). Without a key every inbound post is refused.
CASE_REPLY_DOMAIN = env("CASE_REPLY_DOMAIN", default="reply.trailwise.example")
INBOUND_EMAIL_SIGNING_KEY = env("INBOUND_EMAIL_SIGNING_KEY", default="")
BENCH_VIEWS = env.bool("BENCH_VIEWS", default=False)
# Safety buffer held back on every new stock level unless a planner sets its own.
INVENTORY_DEFAULT_HOLDBACK = env.int("INVENTORY_DEFAULT_HOLDBACK", default=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "portal",
    "inventory",
    "orders",
    "backorders",
    "notifications",
    "orders.webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "restapi.middleware.ApiBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "portal.validators.RejectUnstorableTextMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.CurrentAccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.current_account",
            ],
        },
    },
]

# Database: PostgreSQL in real use; SQLite tuned for concurrent writers by default.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The session's prepared statements (inventory.compiled: the placement's reads, the
    # credit position) keep one generic plan: PostgreSQL otherwise plans each run anew
    # when the custom plan looks cheaper, and that planning cost more than the run.
    connect_options = DATABASES["default"].setdefault("OPTIONS", {})
    connect_options["options"] = (
        f"{connect_options.get('options', '')} -c plan_cache_mode=force_generic_plan"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's model backend, the session's user read from the shared cache.
    "portal.auth.CachedModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A reset link works for an hour; asking for one is limited per client address and per
# email address (portal.ratelimits, counted in the shared cache).
PASSWORD_RESET_TIMEOUT = 3600
PASSWORD_RESET_RATES = {
    "ip": env("PASSWORD_RESET_RATE_IP", default="20/hour"),
    "email": env("PASSWORD_RESET_RATE_EMAIL", default="5/hour"),
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Failed-login lockout by username and IP together, so nobody can lock a retailer
# out by guessing from elsewhere.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
# Counted under the name sign-in resolves to, so letter case cannot dodge the lockout.
AXES_USERNAME_CALLABLE = "portal.auth.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind the reverse proxy every request comes from the proxy's address: read the
# client's from the header the proxy overwrites (set only when the proxy is the one way in).
CLIENT_IP_HEADER = env("CLIENT_IP_HEADER", default="")
if CLIENT_IP_HEADER:
    AXES_IPWARE_META_PRECEDENCE_ORDER = (CLIENT_IP_HEADER, "REMOTE_ADDR")

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The embedded default serves static files straight from static/; production collects them.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Email: SMTP from EMAIL_URL (e.g. smtp://user:pass@host:587/?tls=True); console locally.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL", default="Trailwise Wholesale <orders@trailwise.example>"
)
EMAIL_TIMEOUT = 10

# Celery: Redis in real use; kombu's filesystem transport needs no server.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # A publish must never hang a request: fail fast, the outbox carries the message.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
    CELERY_BROKER_CONNECTION_TIMEOUT = 2
    CELERY_REDIS_SOCKET_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Every worker takes from both queues in turn: a PDF someone asked for (default queue)
# never waits behind the document backlog (orders.documents.BACKLOG_QUEUE).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (
    Queue("celery", routing_key="celery"),
    Queue("documents_backlog", routing_key="documents_backlog"),
)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "notifications-deliver-pending": {
        "task": "notifications.tasks.outbox_sweep_task",
        "schedule": 60.0,
    },
    "notifications-daily-digest": {
        "task": "notifications.tasks.digest_send_task",
        "schedule": crontab(hour=7, minute=0),
    },
    "documents-render-pending": {
        "task": "orders.tasks.documents_render_pending_task",
        "schedule": 300.0,
    },
    "documents-statements-expire": {
        "task": "orders.tasks.statements_expire_task",
        "schedule": crontab(hour=4, minute=10),
    },
    "orders-back-in-stock-alerts": {
        "task": "orders.tasks.stock_alerts_notify_task",
        "schedule": 600.0,
    },
    "backorders-daily-sweep": {
        "task": "backorders.tasks.backorder_sweep_task",
        "schedule": crontab(hour=2, minute=0),
    },
    "backorders-decision-deadlines": {
        "task": "backorders.tasks.decision_expire_task",
        "schedule": crontab(minute=15),
    },
    "backorders-promise-day": {
        "task": "backorders.tasks.promise_day_record_task",
        "schedule": crontab(hour=23, minute=45),
    },
    "backorders-overdue-runs": {
        "task": "backorders.tasks.overdue_runs_check_task",
        "schedule": crontab(hour=6, minute=0),
    },
    "webhooks-deliver-due": {
        "task": "orders.webhooks.tasks.webhook_sweep_task",
        "schedule": 60.0,
    },
    "backorders-nightly-reconcile": {
        "task": "backorders.tasks.reconcile_task",
        "schedule": crontab(hour=3, minute=30),
    },
}

# Webhooks go to public internet addresses only (orders/webhooks/addresses.py); a
# receiver on this machine or the office network is allowed in development only.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=DEBUG)

# REST API: locked down by default.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "restapi.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["restapi.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env("API_THROTTLE_RATE", default="1200/minute")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "restapi.errors.exception_handler",
    # OPTIONS would describe every serializer to anyone signed in; nothing here needs it.
    "DEFAULT_METADATA_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
REST_KNOX = {
    "TOKEN_TTL": None,
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Trailwise Wholesale API",
    "DESCRIPTION": "Catalogue, availability, orders, backorders and documents for retailers; "
    "stock, inbound and shipment feeds for the brand's systems.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "restapi.schema.add_error_responses",
    ],
}

# One cache shared by every process when Redis is configured (CACHE_URL, else the broker
# when that is Redis): throttles, rate limits and de-duplication count across processes.
# The embedded default keeps a cache in each process.
CACHE_URL = env(
    "CACHE_URL",
    default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(REDIS_SCHEMES) else "locmem://",
)
CACHES = caches_for(CACHE_URL)

# Content Security Policy (django-csp 4): everything from our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # htmx clears a swapped element's style attribute (an empty style); only that
        # exact empty value is allowed inline, by its hash.
        "style-src": [
            "'self'",
            "'unsafe-hashes'",
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        ],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
# Sessions in the database, read from the shared cache while Redis answers.
SESSION_ENGINE = "portal.sessions"
# Answers kept while nothing they show can have changed (the catalogue API's pages).
FIGURES_READ = "portal.page_cache.figures_read"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs every font and image it loads at INFO.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
