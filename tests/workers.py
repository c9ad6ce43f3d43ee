"""A real Celery worker process for integration and fault tests, on the test database."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


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
