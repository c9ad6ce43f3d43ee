"""The signed-in frame's reads kept in the shared cache: the user row (the session's
user) and the accounts the header's menu lists (portal.middleware). Each entry carries
the access version it was read under. Any write to users, memberships, accounts, groups
or permissions raises the version (portal.apps connects the signals), at once and again
after the commit, so an entry read before a change is never served after it: nothing
cached outlives a permission change. Keys are scoped to the database, so two databases
behind one Redis never share an entry. Left to itself an entry lasts ENTRY_SECONDS: the
bound on staleness should Redis miss a raised version (unreachable at that moment)."""

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

ENTRY_SECONDS = 120


def _key(name: str) -> str:
    return f"frame:{settings.DATABASES['default']['NAME']}:{name}"


def access_version_bump(**_signal) -> None:
    """Raise the access version now and once more after the transaction commits (a
    request that read the rows before the commit stored them under the first)."""
    _bump()
    transaction.on_commit(_bump, robust=True)


def _bump() -> None:
    cache.set(_key("version"), uuid.uuid4().hex, None)


def cache_is_shared() -> bool:
    """Only a cache every process shares keeps what depends on a version (Redis, while
    it answers): a process's own cache would not see another's version raised."""
    return getattr(cache, "is_shared", lambda: False)()


def access_version_key() -> str:
    return _key("version")


def cached_read(*, version_keys, entry_keys) -> tuple[list, list]:
    """The versions under `version_keys` (one missing from the cache is set) and the
    entries under `entry_keys`, in one round trip when they are there."""
    found = cache.get_many([*version_keys, *entry_keys])
    versions = []
    for key in version_keys:
        if found.get(key) is None:
            cache.add(key, uuid.uuid4().hex, None)
            found[key] = cache.get(key)
        versions.append(found[key])
    return versions, [found.get(key) for key in entry_keys]


def access_read(names: list[str]) -> tuple[str, dict] | None:
    """The access version and the entries of `names`, in one round trip (None when the
    cache is not shared): for access_cached to take up, so a request asking for several
    entries reads them together."""
    if not cache_is_shared():
        return None
    (version,), entries = cached_read(
        version_keys=[_key("version")], entry_keys=[_key(name) for name in names]
    )
    return version, dict(zip(names, entries, strict=True))


def access_cached(name: str, load, *, read: tuple[str, dict] | None = None):
    """`load()`, or what it returned under the current access version: one cache round
    trip when it is there, none when `read` (from access_read, in this request) has it."""
    if read is None or name not in read[1]:
        read = access_read([name])
    if read is None:
        return load()
    version, entry = read[0], read[1][name]
    if entry is not None and entry[0] == version:
        return entry[1]
    value = load()
    cache.set(_key(name), (version, value), ENTRY_SECONDS)
    return value
