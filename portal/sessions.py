"""Sessions in the database, read from the shared cache (SESSION_ENGINE): Django's
cached_db, held to two rules the frame cache keeps too (portal.frame_cache). The cache
is read only while every process shares it (Redis answering): a process's own fallback
would keep a session another process ended. And an entry lasts at most CACHED_SECONDS,
so a session ended while Redis was unreachable (its entry left there) ends in Redis too
soon after it answers again."""

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore

from portal.frame_cache import session_read, session_read_none

CACHED_SECONDS = 120


class SessionStore(CachedDBStore):
    def _shared(self) -> bool:
        return getattr(self._cache, "is_shared", lambda: False)()

    def _cached_for(self, **expiry) -> int:
        return min(self.get_expiry_age(**expiry), CACHED_SECONDS)

    def load(self):
        if not self._shared():
            session_read_none()
            return DBStore.load(self)
        # With the frame's entries of the session's user, in the same round trip.
        data = session_read(session_key=self._get_or_create_session_key(), cache_key=self.cache_key)
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        self._cache.set(self.cache_key, data, self._cached_for(expiry=stored.expire_date))
        return data

    def save(self, must_create=False):
        DBStore.save(self, must_create)
        self._cache.set(self.cache_key, self._session, self._cached_for())
