"""A real Celery worker process for integration and fault tests, on the test database."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def scratch_broker(offset: int) -> str:
    """A Redis database of a test's own for its worker and queues: the suite's broker's
    database plus `offset` (mod 16), so suites run side by side on other databases do not
    share one. A suite on the filesystem broker counts from Redis database 0."""
    base = urlsplit(settings.CELERY_BROKER_URL)
    if base.scheme != "redis":
        base = urlsplit("redis://127.0.0.1:6379/0")
    database = int(base.path.strip("/") or 0)
    return f"redis://{base.netloc}/{(database + offset) % 16}"


def celery_worker_start(*, broker: str, env: dict | None = None, stderr=subprocess.DEVNULL):
    """Start `celery -A portal worker` (one solo process) against the test database and
    `broker`; the caller stops it (terminate or kill) when done."""
    db = settings.DATABASES["default"]
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": broker,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            **(env or {}),
        },
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
