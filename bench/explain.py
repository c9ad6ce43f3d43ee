"""EXPLAIN (ANALYZE, BUFFERS) of every query the measured pages run, written to
bench/explain/<database>/<page>.txt, so each hot query's plan is on record next to the
figures. Run by bench/measure.py inside Django, after the HTTP runs."""

from pathlib import Path

from django.db import connection
from django.test import Client

from portal.middleware import SESSION_ACCOUNT_KEY

EXPLAIN_DIR = Path(__file__).resolve().parent / "explain"


def _captured(path, fixture, kind):
    client = Client()
    headers = {}
    if kind == "api":
        headers["HTTP_AUTHORIZATION"] = fixture.api_headers[0].split(": ", 1)[1]
    else:
        client.force_login(fixture.user)
        session = client.session
        session[SESSION_ACCOUNT_KEY] = fixture.account.pk
        session.save()
    client.get(path, **headers)
    queries = []

    def capture(execute, sql, params, many, context):
        queries.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        client.get(path, **headers)
    return queries


def explain_pages(fixture, *, database):
    """Write one file per page: each of its queries, then its plan with timings."""
    target = EXPLAIN_DIR / database
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, path, kind in fixture.pages:
        sections = [f"# {name}: GET {path}\n"]
        for number, (sql, params) in enumerate(_captured(path, fixture, kind), start=1):
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                statement = cursor.mogrify(sql, params).decode()
            sections.append(f"## query {number}\n\n{statement}\n\n{plan}\n")
        file = target / f"{name}.txt"
        file.write_text("\n".join(sections))
        written.append(str(file.relative_to(EXPLAIN_DIR.parent.parent)))
    return written
