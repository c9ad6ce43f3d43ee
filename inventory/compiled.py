"""Reads whose shape never changes, built by the ORM once per connection and then run
with each call's values. On the placement path, building and compiling a query with a few
subqueries costs more CPU than PostgreSQL spends running it; the SQL text is kept, never
rows, so every run reads the data fresh. On PostgreSQL they also run as prepared
statements of the database session (statement_run): planning the placement's reads cost
PostgreSQL more than running them."""

import itertools
import re
import weakref
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models.expressions import RawSQL


class _Slot:
    """Where a run's value goes in a compiled statement's parameters."""

    def __init__(self, name, output_field):
        self.name, self.output_field = name, output_field


def slot(name: str, output_field) -> RawSQL:
    """A value given on each run (``CompiledRead.rows(name=value)``), usable wherever the
    ORM takes an expression: a filter's right-hand side, an annotation."""
    return RawSQL("%s", (_Slot(name, output_field),), output_field=output_field)


class CompiledRead:
    """A queryset (``build()``, its values as ``slot``s) compiled on first use by each
    database connection (each thread's). ``rows(**values)`` runs it and returns its rows
    as tuples, with the ORM's converters applied (SQLite hands back strings for dates and
    decimals); ``sql`` gives the statement and parameters to embed in a larger one, and
    ``converted`` its part of that one's rows."""

    def __init__(self, build):
        self._build = build
        # Per connection, so per thread: the compiler and its converters are bound to it.
        self._compiled = weakref.WeakKeyDictionary()

    def _compile(self):
        wrapper = connections[DEFAULT_DB_ALIAS]
        compiled = self._compiled.get(wrapper)
        if compiled is None:
            compiler = self._build().query.get_compiler(connection=wrapper)
            sql, params = compiler.as_sql()
            converters = compiler.get_converters(
                [column for column, _, _ in compiler.select[: compiler.col_count]]
            )
            compiled = self._compiled[wrapper] = (compiler, sql, params, converters)
        return compiled

    def sql(self, **values) -> tuple[str, list]:
        _, sql, params, _ = self._compile()
        wrapper = connections[DEFAULT_DB_ALIAS]
        return sql, [_filled(param, values, wrapper) for param in params]

    def width(self) -> int:
        """How many columns its rows have."""
        return self._compile()[0].col_count

    def bound(self, **values) -> "BoundRead":
        """This read with its values, to run with others (rows_together)."""
        return BoundRead(self, values)

    def rows(self, **values) -> list[tuple]:
        sql, params = self.sql(**values)
        with connection.cursor() as cursor:
            statement_run(cursor, sql, params)
            return self.converted(cursor.fetchall())

    def converted(self, rows) -> list[tuple]:
        """Rows of this read's columns (run alone, or as part of a larger statement's
        rows) as the ORM hands them back."""
        compiler, _, _, converters = self._compile()
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [tuple(row) for row in rows]


def _filled(param, values, wrapper):
    if not isinstance(param, _Slot):
        return param
    return param.output_field.get_db_prep_value(values[param.name], wrapper)


class CompiledByCount:
    """A CompiledRead per length of the list it is given (``build(slots)``, ``slots``
    standing for the list's values, as in ``filter(code__in=slots)``): an IN list's SQL
    has a placeholder per value. At most as many statements as list lengths seen."""

    def __init__(self, build, output_field):
        self._build, self._output_field = build, output_field
        self._reads = {}

    def rows(self, values, **others) -> list[tuple]:
        return self.bound(values, **others).rows()

    def bound(self, values, **others) -> "BoundRead":
        read = self._reads.get(len(values))
        if read is None:
            slots = [slot(f"in{index}", self._output_field) for index in range(len(values))]
            read = self._reads[len(values)] = CompiledRead(lambda: self._build(slots))
        return read.bound(**{f"in{index}": value for index, value in enumerate(values)}, **others)


@dataclass(frozen=True)
class BoundRead:
    read: CompiledRead
    values: dict

    def rows(self) -> list[tuple]:
        return self.read.rows(**self.values)


def rows_together(*reads: BoundRead) -> list[list[tuple]]:
    """The rows of several reads in one round trip, each read's apart (a read's own
    ORDER BY is not kept, its LIMIT is). On PostgreSQL
    one statement: the reads FULL JOINed ON false, so that each row is one read's,
    padded with NULLs for the others' columns and told apart by a leading column that
    is NULL only in the others' rows; elsewhere one statement each."""
    if connection.vendor != "postgresql":
        return [read.rows() for read in reads]
    parts, params = [], []
    for index, bound in enumerate(reads):
        sql, part_params = bound.read.sql(**bound.values)
        parts.append(f"(SELECT 1 AS present, * FROM ({sql}) AS inner_{index}) AS read_{index}")
        params.extend(part_params)
    with connection.cursor() as cursor:
        statement_run(
            cursor,
            "SELECT * FROM "
            + " FULL JOIN ".join(parts[:1] + [f"{part} ON false" for part in parts[1:]]),
            params,
        )
        rows = cursor.fetchall()
    together, start = [], 0
    for bound in reads:
        width = bound.read.width()
        together.append(
            bound.read.converted(
                [row[start + 1 : start + 1 + width] for row in rows if row[start] is not None]
            )
        )
        start += 1 + width
    return together


# Per session (the driver's connection): {"names": {sql: statement name}, "next": counter}.
_prepared = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"%%|%s")
_preparing = {"on": True}


def statement_run(cursor, sql: str, params) -> None:
    """Run ``sql`` (Django's placeholders) on ``cursor``. On PostgreSQL as a prepared
    statement of the database session: prepared with its first run, in the same round
    trip, then executed by name, so PostgreSQL parses it once and may keep its plan.
    Meant for fixed statements, a few per session."""
    text, arguments, prepared = statement_prepared(sql, params)
    cursor.execute(text, arguments)
    prepared()


def statement_prepared(sql: str, params) -> tuple[str, list, Callable[[], None]]:
    """What runs ``sql`` as a prepared statement (see statement_run), to send alone or
    last in a round trip of several: the text, its parameters, and what to call once
    that round trip succeeded. A statement is taken as prepared only then; one that
    failed is prepared again under a new name (PREPARE outlives a rollback, so a name is
    never reused). Elsewhere than on PostgreSQL, or without parameters, ``sql`` itself."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    if wrapper.vendor != "postgresql" or not _preparing["on"] or not params:
        return sql, params, _nothing
    raw = wrapper.connection
    state = _prepared.get(raw)
    if state is None:
        state = _prepared[raw] = {"names": {}, "next": itertools.count()}
    arguments = f" ({', '.join(['%s'] * len(params))})"
    name = state["names"].get(sql)
    if name is not None:
        return f"EXECUTE {name}{arguments}", params, _nothing
    name = f"compiled_{next(state['next'])}"
    numbers = itertools.count(1)
    body = _PLACEHOLDER.sub(lambda m: m.group() if m.group() == "%%" else f"${next(numbers)}", sql)

    def prepared():
        state["names"][sql] = name

    return f"PREPARE {name} AS {body}; EXECUTE {name}{arguments}", params, prepared


def _nothing():
    pass


@contextmanager
def statements_unprepared():
    """Run statement_run's statements as plain ones while inside (the bench's plan
    recorder explains each statement as it is sent)."""
    before, _preparing["on"] = _preparing["on"], False
    try:
        yield
    finally:
        _preparing["on"] = before


def model_columns(model, related: str = "") -> list[str]:
    """Lookups of every concrete column of ``model`` in field order, then (``related``:
    a foreign key's name) of the model it refers to: the columns ``models_built`` takes."""
    columns = [field.attname for field in model._meta.concrete_fields]
    if related:
        target = model._meta.get_field(related).related_model
        columns += [f"{related}__{field.attname}" for field in target._meta.concrete_fields]
    return columns


def models_built(model, rows, related: str = "") -> list:
    """Instances of ``model`` from rows that begin with ``model_columns(model, related)``,
    as the ORM builds them (with ``related``, its instance set on each, as
    select_related does). Columns after those are left to the caller."""
    width = len(model._meta.concrete_fields)
    target = model._meta.get_field(related).related_model if related else None
    end = width + len(target._meta.concrete_fields) if target else width
    alias, built = connection.alias, []
    for row in rows:
        instance = model.from_db(alias, None, row[:width])
        if target is not None:
            setattr(instance, related, target.from_db(alias, None, row[width:end]))
        built.append(instance)
    return built
