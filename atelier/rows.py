"""One row read by key, with its SQL built once: for the reads every job-card poll makes.

Each open card asks once a second, and each ask reads three rows by key: the session, the
person and the job. Through the ORM, building such a query costs far more CPU than answering
it (in-process: the job's 0.73 ms against ~0.02 ms in SQLite), so here the statement and the
columns' converters are made once per database and reused. What comes back is the same model
instance the ORM would give (`Model.from_db`, every field converted as the ORM does).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model

M = TypeVar("M", bound=Model)
_OPERATORS = {"": "=", "gt": ">"}


class RowQuery(Generic[M]):
    """`model` rows WHERE each condition holds: `"field"` (equals) or `"field__gt"`."""

    def __init__(self, model: type[M], *conditions: str) -> None:
        self.model = model
        self.fields, self.operators = [], []
        for condition in conditions:
            name, _, operator = condition.partition("__")
            self.fields.append(model._meta.get_field(name))
            self.operators.append(_OPERATORS[operator])
        self._prepared: dict[str, tuple[str, list[str], dict]] = {}  # database alias -> statement

    def get(self, *values: Any) -> M | None:
        """The row whose conditions hold for `values` (in the order given), or None."""
        using = router.db_for_read(self.model)
        connection = connections[using]
        sql, names, converters = self._prepared.get(using) or self._prepare(using)
        params = [field.get_db_prep_value(value, connection) for field, value in zip(self.fields, values, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        for position, (functions, expression) in converters.items():
            for function in functions:
                row[position] = function(row[position], expression, connection)
        return self.model.from_db(using, names, row)

    def _prepare(self, using: str) -> tuple[str, list[str], dict]:
        connection = connections[using]
        quote = connection.ops.quote_name
        options = self.model._meta
        columns = options.concrete_fields
        where = " AND ".join(f"{quote(field.column)} {operator} %s"
                             for field, operator in zip(self.fields, self.operators))
        sql = (f"SELECT {', '.join(quote(field.column) for field in columns)} "
               f"FROM {quote(options.db_table)} WHERE {where}")
        compiler = connection.ops.compiler("SQLCompiler")(self.model._base_manager.none().query, connection, using)
        converters = compiler.get_converters([field.get_col(options.db_table) for field in columns])
        prepared = (sql, [field.attname for field in columns], converters)
        self._prepared[using] = prepared
        return prepared
