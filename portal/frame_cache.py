"""The signed-in frame's reads kept in the shared cache: the user row (the session's
user) and the accounts the header's menu lists (portal.middleware). Each entry carries
the access version it was read under. Any write to users, memberships, accounts, groups
or permissions raises the version (portal.apps connects the signals), at once and again
after the commit, so an entry read before a change is never served after it: nothing
cached outlives a permission change. Keys are scoped to the database, so two databases
behind one Redis never share an entry. Left to itself an entry lasts ENTRY_SECONDS: the
bound on staleness should Redis miss a raised version (unreachable at that moment).

A signed-in request reads the cache once: the session (portal.sessions) with the access
version and the user's and their accounts' entries, for the user this process last saw
on that session (session_read); the user's id in the session is checked before any of
them is taken up (ahead_read)."""

import contextvars
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

ENTRY_SECONDS = 120
SESSIONS_REMEMBERED = 10_000
# This process's memory of each session's user (a guess, checked: see ahead_read).
_session_users: dict[str, int] = {}
# What this request's session read brought (set again by every session load).
_ahead: contextvars.ContextVar = contextvars.ContextVar("frame_ahead", default=None)


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


def frame_names(user_id) -> list[str]:
    """The frame's entries of a user: the user row and the header's accounts."""
    return [f"user:{user_id}", f"accounts:{user_id}"]


def session_read(*, session_key: str, cache_key: str):
    """The session's data kept under `cache_key` (None if not there), read in one round
    trip with the access version and the frame entries of the session's user as this
    process remembers them, which are kept for ahead_read."""
    user_id = _session_users.get(session_key)
    names = frame_names(user_id) if user_id is not None else []
    found = cache.get_many([cache_key, _key("version"), *[_key(name) for name in names]])
    version = found.get(_key("version"))
    entries = {name: found.get(_key(name)) for name in names} if version else {}
    _ahead.set((session_key, user_id, version, entries))
    return found.get(cache_key)


def session_read_none() -> None:
    """A session loaded without session_read (not from the shared cache): nothing read
    ahead for this request."""
    _ahead.set(None)


def ahead_read(user_id) -> tuple[str, dict] | None:
    """What this request's session read brought for `user_id`, as access_read gives it,
    once; None if it read nothing for that user (the process learns the session's user
    for the next request)."""
    ahead = _ahead.get()
    _ahead.set(None)
    if ahead is None:
        return None
    session_key, remembered, version, entries = ahead
    if remembered != user_id:
        if len(_session_users) >= SESSIONS_REMEMBERED:
            _session_users.clear()
        _session_users[session_key] = user_id
        return None
    return version, entries
