"""New rows written in one round trip."""

from django.db import connection
from django.db.models.sql import InsertQuery


def rows_insert(*, parents, children, then=None) -> list[tuple] | None:
    """Insert new rows: ``parents`` (lists of one model's instances each, in the order
    they refer to each other) then ``children`` (rows nothing refers to yet). On
    PostgreSQL, when every parent already has its pk (drawn from its sequence: a
    placement's order and lines), every INSERT goes in one round trip, the children's
    pks not read back; otherwise one bulk_create per list, which reads the pks.
    ``then``: a statement and its parameters run after the inserts (in the same round
    trip when there is one); what it returns is returned."""
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
        model = type(group[0])
        fields = [
            field
            for field in model._meta.concrete_fields
            if not (field.primary_key and group[0].pk is None)
        ]
        query = InsertQuery(model)
        query.insert_values(fields, group)
        for sql, values in query.get_compiler(connection=connection).as_sql():
            statements.append(sql)
            params.extend(values)
    if then is not None:
        statements.append(then[0])
        params.extend(then[1])
    with connection.cursor() as cursor:
        cursor.execute("; ".join(statements), params)
        returned = cursor.fetchall() if then is not None else None
    for group in groups:
        for row in group:
            row._state.adding, row._state.db = False, connection.alias
    return returned
