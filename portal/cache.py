"""The cache: API throttles, password-reset rate limits, statement-render de-duplication
and the catalogue's count all count in it, so every process must share it.

With Redis configured it is Redis (Django's RedisCache), shared by every gunicorn and
Celery process. Redis being down must not fail requests (an order is never blocked by
it): while it does not answer, each process falls back to a cache of its own for
FALLBACK_SECONDS, as the embedded default always does, and tries Redis again after."""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

FALLBACK_SECONDS = 30.0
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def caches_for(url: str) -> dict:
    """settings.CACHES for a cache URL: a Redis URL, or anything else for a local cache."""
    if not url.startswith(REDIS_SCHEMES):
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "portal.cache.SharedRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "portal",
            # A request waits at most this long for a Redis that does not answer.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


class SharedRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._fallback = LocMemCache(f"redis-fallback:{server}", params)
        self._down_until = 0.0

    def is_shared(self) -> bool:
        """Whether this process reaches Redis now (not its own fallback): what every
        process must see alike, such as the access version, is kept only then."""
        return time.monotonic() >= self._down_until


def _shared_or_local(name):
    def method(self, *args, **kwargs):
        if time.monotonic() >= self._down_until:
            try:
                return getattr(RedisCache, name)(self, *args, **kwargs)
            except _UNREACHABLE:
                self._down_until = time.monotonic() + FALLBACK_SECONDS
                logger.warning(
                    "Redis cache unreachable; this process counts locally for %.0f s.",
                    FALLBACK_SECONDS,
                    exc_info=True,
                )
        return getattr(self._fallback, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
):
    setattr(SharedRedisCache, _name, _shared_or_local(_name))
