"""Building blocks for the engine's hand-written set-based statements, in the SQL that
both PostgreSQL and the embedded SQLite default accept."""


def values_table(name: str, columns: list[str], rows: list[tuple]) -> tuple[str, list]:
    """`WITH name (columns) AS (VALUES (...), ...) ` for one statement to read many rows
    from, and its parameters. The one form both databases take: SQLite has no unnest of
    arrays and no column list on a VALUES alias. Name the columns apart from the target
    table's so that RETURNING stays unambiguous. `rows` must not be empty."""
    row = f"({placeholders(columns)})"
    sql = f"WITH {name} ({', '.join(columns)}) AS (VALUES {', '.join([row] * len(rows))}) "
    return sql, [value for values in rows for value in values]


def placeholders(values) -> str:
    """`%s, %s, ...` for an IN list of these values (not empty)."""
    return ", ".join(["%s"] * len(values))
