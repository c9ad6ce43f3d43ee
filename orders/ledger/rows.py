"""New rows written in one round trip."""

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models.sql import InsertQuery

from inventory.compiled import statement_prepared


def rows_insert(*, parents, children, then=None) -> list[tuple] | None:
    """Insert new rows: ``parents`` (lists of one model's instances each, in the order
    they refer to each other) then ``children`` (rows nothing refers to yet). On
    PostgreSQL, when every parent already has its pk (drawn from its sequence: a
    placement's order and lines), every INSERT goes in one round trip, the children's
    pks not read back; otherwise one bulk_create per list, which reads the pks.
    ``then``: a statement and its parameters run after the inserts (in the same round
    trip when there is one, as a prepared statement); what it returns is returned."""
    groups = [group for group in [*parents, *children] if group]
    if connection.vendor != "postgresql" or any(
        row.pk is None for group in parents for row in group
    ):
        for group in groups:
            type(group[0]).objects.bulk_create(group)
        if then is None:
            return None
        with connection.cursor() as cursor:
            cursor.execute(*then)
            return cursor.fetchall()
    statements, params = [], []
    for group in groups:
        sql, values = _insert(group)
        statements.append(sql)
        params.extend(values)
    prepared = None
    if then is not None:
        text, values, prepared = statement_prepared(*then)
        statements.append(text)
        params.extend(values)
    with connection.cursor() as cursor:
        cursor.execute("; ".join(statements), params)
        returned = cursor.fetchall() if then is not None else None
    if prepared is not None:
        prepared()
    alias = connection.alias
    for group in groups:
        for row in group:
            row._state.adding, row._state.db = False, alias
    return returned


# {(model, whether the pk is written): (fields, "INSERT INTO table (columns) VALUES ")}
_PREFIXES = {}


def _insert(group) -> tuple[str, list]:
    """One INSERT of a list of new rows of one model and its parameters, as the ORM's
    insert compiler would write it (each field's pre_save and get_db_prep_save), with
    the statement's text kept per model: compiling it every time cost more than the
    rest of the placement's writing. A model or value the ORM treats specially (a
    field with its own placeholder, an expression) goes through the compiler."""
    model, with_pk = type(group[0]), group[0].pk is not None
    prefix = _PREFIXES.get((model, with_pk))
    if prefix is None:
        fields = [
            field for field in model._meta.concrete_fields if with_pk or not field.primary_key
        ]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        plain = not any(hasattr(field, "get_placeholder") for field in fields)
        prefix = _PREFIXES[(model, with_pk)] = (
            fields,
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES " if plain else None,
        )
    fields, start = prefix
    # The connection itself, not django.db.connection: each of the fields reads it, and
    # every attribute read through that proxy looks the connection up again.
    wrapper, params = connections[DEFAULT_DB_ALIAS], []
    if start is not None:
        for row in group:
            for field in fields:
                value = field.pre_save(row, add=True)
                if hasattr(value, "resolve_expression"):
                    start = None
                    break
                params.append(field.get_db_prep_save(value, connection=wrapper))
            if start is None:
                break
    if start is None:
        query = InsertQuery(model)
        query.insert_values(fields, group)
        ((sql, values),) = query.get_compiler(connection=connection).as_sql()
        return sql, list(values)
    row = f"({', '.join(['%s'] * len(fields))})"
    return start + ", ".join([row] * len(group)), params
