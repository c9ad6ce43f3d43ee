"""EXPLAIN (ANALYZE, BUFFERS) of every distinct statement the measured work runs (each
page, one 10-line order placed over the API, one ETA change and the sweep), written to
bench/explain/<database>/<name>.txt so each hot query's plan is on record next to the
figures. Run by bench/measure.py and bench/scenarios.py inside Django."""

import re
import time
from pathlib import Path

from django.db import connection
from django.test import Client

from inventory.compiled import statements_unprepared
from portal.middleware import SESSION_ACCOUNT_KEY

EXPLAIN_DIR = Path(__file__).resolve().parent / "explain"
EXPLAINED = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
SHOWN_STATEMENT_CHARS = 3000


def _shape(sql: str) -> str:
    """A statement without the length of its IN and VALUES lists: a batch of 1,000 lines
    and one of 999 run the same query."""
    sql = re.sub(r"%s(, %s)*", "%s...", sql)
    return re.sub(r"\(%s\.\.\.\)(, \(%s\.\.\.\))*", "(%s...)...", sql)


class PlanRecorder:
    """A database execute wrapper that records the plan of the first statement of each
    shape as it runs. Inside a transaction the statement is analysed (run for real, with
    timings) in a savepoint that is rolled back, so writes happen once; outside one only
    reads are analysed, and a write gets its plan without running."""

    def __init__(self, title: str):
        self.sections = [f"# {title}\n"]
        self._seen = set()
        self.seconds = 0.0  # spent explaining: a timed caller takes it off its figure

    def __call__(self, execute, sql, params, many, context):
        shape = _shape(sql)
        if not many and sql.lstrip().upper().startswith(EXPLAINED) and shape not in self._seen:
            self._seen.add(shape)
            started = time.perf_counter()
            self._explain(sql, params)
            self.seconds += time.perf_counter() - started
        return execute(sql, params, many, context)

    def _explain(self, sql, params):
        # Several statements sent in one round trip (the ledger's inserts) are explained
        # one by one: EXPLAIN takes one statement. Their SQL holds no literals, only %s.
        if "; " in sql:
            for part in sql.split("; "):
                count = part.count("%s")
                self._explain(part, params[:count])
                params = params[count:]
            return
        # The driver's own cursor: Django's would run this wrapper again.
        with connection.connection.cursor() as cursor:
            statement = cursor.mogrify(sql, params).decode()
            if connection.in_atomic_block:
                cursor.execute("SAVEPOINT bench_explain")
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
                plan = cursor.fetchall()
                cursor.execute("ROLLBACK TO SAVEPOINT bench_explain")
            elif statement.lstrip().upper().startswith("SELECT"):
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
                plan = cursor.fetchall()
            else:
                cursor.execute("EXPLAIN " + statement)
                plan = cursor.fetchall()
        if len(statement) > SHOWN_STATEMENT_CHARS:
            statement = statement[:SHOWN_STATEMENT_CHARS] + " ... (shortened)"
        plan_text = "\n".join(row[0] for row in plan)
        self.sections.append(f"## query {len(self.sections)}\n\n{statement}\n\n{plan_text}\n")

    def write(self, *, database, name) -> str:
        target = EXPLAIN_DIR / database
        target.mkdir(parents=True, exist_ok=True)
        file = target / f"{name}.txt"
        file.write_text("\n".join(self.sections))
        return str(file.relative_to(EXPLAIN_DIR.parent.parent))


def _client(fixture, kind):
    """A client signed in as the page user (html), or with the API token of `kind`."""
    if kind == "api":
        return Client(HTTP_AUTHORIZATION=fixture.api_headers[0].split(": ", 1)[1])
    if kind == "placement":
        return Client(HTTP_AUTHORIZATION=f"Token {fixture.placement_token}")
    client = Client()
    client.force_login(fixture.user)
    session = client.session
    session[SESSION_ACCOUNT_KEY] = fixture.account.pk
    session.save()
    return client


def explain_pages(fixture, *, database):
    """One file per page, then one for a 10-line order placed over the API. Statements
    the application prepares are sent plain here, so each is explained as it is sent."""
    with statements_unprepared():
        return _explain_pages(fixture, database=database)


def _explain_pages(fixture, *, database):
    written = []
    for name, path, kind in fixture.pages:
        client = _client(fixture, kind)
        client.get(path)  # warm caches (content types, sessions) as gunicorn would be
        recorder = PlanRecorder(f"{name}: GET {path}")
        with connection.execute_wrapper(recorder):
            client.get(path)
        written.append(recorder.write(database=database, name=name))
    body = {
        "account": fixture.placement_account.number,
        "po_number": "EXPLAIN",
        "lines": [{"sku": code, "quantity": 1} for code in fixture.sku_codes[:10]],
    }
    recorder = PlanRecorder("placement: POST /api/v1/orders/ (10 lines)")
    with connection.execute_wrapper(recorder):
        response = _client(fixture, "placement").post(
            "/api/v1/orders/", body, content_type="application/json"
        )
    assert response.status_code == 201, response.content
    written.append(recorder.write(database=database, name="placement"))
    return written
