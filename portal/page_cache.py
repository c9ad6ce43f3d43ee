"""Whole portal pages kept in the shared cache while nothing they could show has changed.

An entry is keyed by the request (path and query, the session, its CSRF cookie, its
chosen account, htmx headers) and stored with the versions it was rendered under: the
access version (portal.frame_cache: users, memberships, accounts, permissions) and the
data version, raised after the commit of every write to the database through Django
(ORM or SQL, the ledger's set-based statements included, in any process) but for
sessions, tokens and sign-in records. So a cached page is served only while no stock
counter, allocation, ETA, invoice, payment, price or any other row has changed since it
was rendered, and only on the day it was rendered: its ATS, balances and dates are
exactly what a fresh render shows. An entry lasts at most PAGE_SECONDS besides (pages
carry signed links that expire after ten minutes, and "n minutes ago" labels).

A form that needs a key of its own on every view (an order's edit form: its idempotency
key, so a second edit is never taken for a retry of the first) renders FRESH_KEY in its
place; the page is kept with the placeholder and every answer gets new keys."""

import functools
import hashlib
import re
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.utils import timezone

from portal.frame_cache import access_version_key, cache_is_shared, cached_read

PAGE_SECONDS = 60
FRESH_KEY = "fresh-key-8d1c0e57"  # nothing a page shows could be; see fresh_keys_fill
_FRESH_KEY = FRESH_KEY.encode()
# Writes that change nothing a page shows: sessions, API tokens, sign-in records.
_QUIET_TABLES = ("django_session", "knox_authtoken", "axes_")
_WRITE = re.compile(
    r"^\s*(?:WITH\b.*?\b)?(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE)\s+\"?(\w+)",
    re.IGNORECASE | re.DOTALL,
)
# What the catalogue's facet counts read besides stock (inventory.facets.CountKeys):
# styles (and their pictures and alternatives), SKUs, seasons, price lists and their
# items. A statement writing any of them anywhere in its text, or truncating anything,
# raises the catalogue version too.
CATALOGUE_TABLES = ("inventory_style", "inventory_sku", "inventory_season", "inventory_pricelist")
_CATALOGUE_WRITE = re.compile(
    r"\b(?:(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(?:"
    + "|".join(CATALOGUE_TABLES)
    + r")|TRUNCATE\b)",
    re.IGNORECASE,
)


def _key(name: str) -> str:
    return f"pages:{settings.DATABASES['default']['NAME']}:{name}"


def data_version_bump() -> None:
    cache.set(_key("version"), uuid.uuid4().hex, None)


def catalogue_version_bump() -> None:
    cache.set(_key("catalogue-version"), uuid.uuid4().hex, None)


def writes_watch(execute, sql, params, many, context):
    """A database execute wrapper (every connection: portal.apps): a write raises the data
    version once its transaction commits (a page rendered from rows read before the
    commit was stored under the version before), and counts on its connection, so a page
    rendered inside that still open transaction is not the one cached before it."""
    match = _WRITE.match(sql)
    if match and not match.group(1).startswith(_QUIET_TABLES):
        db = context["connection"]
        db.figures_writes = getattr(db, "figures_writes", 0) + 1
        for bump in (data_version_bump, catalogue_version_bump):
            if bump is catalogue_version_bump and not _CATALOGUE_WRITE.search(sql):
                continue
            if not any(func is bump for _, func, _ in db.run_on_commit):
                transaction.on_commit(bump, using=db.alias, robust=True)
    return execute(sql, params, many, context)


def _uncommitted_writes() -> int:
    """This connection's writes not yet committed (0 outside a transaction): a render in
    an open transaction (a test's) sees them, and no other render does."""
    return getattr(connection, "figures_writes", 0) if connection.in_atomic_block else 0


def fresh_keys_fill(content: bytes) -> bytes:
    """`content` with each FRESH_KEY placeholder replaced by a new random key."""
    if _FRESH_KEY not in content:
        return content
    first, *rest = content.split(_FRESH_KEY)
    return first + b"".join(uuid.uuid4().hex.encode() + part for part in rest)


def fresh_keys_filled(response):
    """The response of a page rendered with FRESH_KEY placeholders, each given its key."""
    if not response.streaming:
        response.content = fresh_keys_fill(response.content)
    return response


def _request_key(request) -> str:
    parts = [
        request.get_full_path(),
        request.session.session_key or "",
        request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
        str(request.session.get("current_account_id", "")),
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
    ]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _stamped_read(entry_key: str) -> tuple[tuple, object]:
    """The stamp an entry must carry to be served now (access and data versions, the day,
    this connection's uncommitted writes), and the entry under `entry_key`: one round trip."""
    (access, data), (entry,) = cached_read(
        version_keys=[access_version_key(), _key("version")], entry_keys=[entry_key]
    )
    return (access, data, timezone.localdate().isoformat(), _uncommitted_writes()), entry


def count_stamps() -> tuple[tuple, tuple] | None:
    """What the catalogue's facet counts are kept under (None: not kept, the cache is not
    shared): counts over the catalogue alone under the catalogue version, counts over
    stock or the production calendar under the data version and the day; both with this
    connection's uncommitted writes. One round trip."""
    if not cache_is_shared():
        return None
    found = cache.get_many([_key("catalogue-version"), _key("version")])
    writes = _uncommitted_writes()
    return (
        (found.get(_key("catalogue-version")), writes),
        (found.get(_key("version")), timezone.localdate().isoformat(), writes),
    )


def figures_read(name: str, load, *, keep=lambda value: True):
    """`load()`, or what it returned for `name` while nothing it could show has changed:
    kept and served as pages are (for answers that are not whole pages, such as a page
    of the API or a download) when `keep(value)`. `name` must say everything the value
    depends on but the database."""
    if not cache_is_shared():
        return load()
    entry_key = _key(f"figures:{hashlib.sha256(name.encode()).hexdigest()}")
    stamp, entry = _stamped_read(entry_key)
    if entry is not None and entry[0] == stamp:
        return entry[1]
    value = load()
    if keep(value):
        cache.set(entry_key, (stamp, value), PAGE_SECONDS)
    return value


def figures_cached(view):
    """Serve a signed-in GET page from the cache while the access and data versions and
    the day are those it was rendered under; else render it and keep it. Either way its
    FRESH_KEY placeholders are filled for this answer alone."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if (
            request.method != "GET"
            or not request.user.is_authenticated
            or not cache_is_shared()
            or len(messages.get_messages(request))
        ):
            return fresh_keys_filled(view(request, *args, **kwargs))
        page_key = _key(f"{view.__module__}.{view.__name__}:{_request_key(request)}")
        stamp, entry = _stamped_read(page_key)
        if entry is not None and entry[0] == stamp:
            return HttpResponse(fresh_keys_fill(entry[1]), content_type=entry[2])
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming and not response.cookies:
            cache.set(page_key, (stamp, response.content, response["Content-Type"]), PAGE_SECONDS)
        return fresh_keys_filled(response)

    return wrapper


def connection_watch(sender, connection, **kwargs):
    """connection_created: watch this connection's writes."""
    if writes_watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(writes_watch)
