"""A real Celery worker process for integration and fault tests, on the test database."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


# Scratch brokers sit at these offsets from the suite's Redis database; worker N of
# pytest-xdist counts from database + N, and two workers' sets never meet (a third's would).
SCRATCH_OFFSETS = (3, 7, 9, 14)
XDIST_WORKERS_MAX = 2


def redis_database_shifted(url: str, offset: int) -> str:
    """The Redis URL `offset` databases further on (mod Redis's 16)."""
    base = urlsplit(url)
    database = int(base.path.strip("/") or 0)
    return f"redis://{base.netloc}/{(database + offset) % 16}"


def scratch_broker(offset: int) -> str:
    """A Redis database of a test's own for its worker and queues: the suite's broker's
    database plus `offset`, so suites run side by side on other databases do not share one.
    A suite on the filesystem broker counts from Redis database 0."""
    assert offset in SCRATCH_OFFSETS, f"add {offset} to SCRATCH_OFFSETS and check it fits"
    base = settings.CELERY_BROKER_URL
    if not base.startswith("redis://"):
        base = "redis://127.0.0.1:6379/0"
    return redis_database_shifted(base, offset)


def own_process_env(**extra: str) -> dict:
    """The environment of a process of our own (a worker, a server, another client) on the
    test database, with the suite's other settings unless `extra` says otherwise."""
    db = settings.DATABASES["default"]
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        **extra,
    }


def celery_worker_start(*, broker: str, env: dict | None = None, stderr=subprocess.DEVNULL):
    """Start `celery -A portal worker` (one solo process) against the test database and
    `broker`; the caller stops it (terminate or kill) when done."""
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
        env=own_process_env(CELERY_BROKER_URL=broker, **(env or {})),
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
