"""SQL tables derived from `plein.schema`: one MetaData for the whole application.

Nothing here re-types a column: every table and column comes from `plein.schema.TABLES`, so
the importer, the ORM, the migrations and the documentation cannot drift apart. The mapping
from schema kinds to SQL types is the only knowledge this module adds:

- ``str`` and ``enum`` -> TEXT (enums are validated by the importer, not by the database, so a
  new enum value needs no migration of stored data)
- ``int`` -> INTEGER, ``float`` -> DOUBLE PRECISION, ``bool`` -> BOOLEAN, ``date`` -> DATE
- ``list`` and ``history`` -> JSON (a list of strings; a list of {occupation, years})

Columns whose schema default is ``None`` are nullable; required columns and columns with a
concrete default are NOT NULL (the importer fills the default before a row reaches SQL).
Scalar references (``Column.ref``) become foreign keys with an index; list references (a
coach's municipalities) are checked by the importer.

`plein.storage.operational` adds the operational tables (proposals, jobs, api_keys, audit_log)
to the same `metadata`.
"""

from __future__ import annotations

import sqlalchemy as sa

from plein import schema

#: Naming convention so that constraint names are identical on SQLite and PostgreSQL and
#: migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

#: schema column kind -> SQLAlchemy type factory
SQL_TYPES = {
    "str": sa.Text,
    "enum": sa.Text,
    "int": sa.Integer,
    "float": sa.Double,
    "bool": sa.Boolean,
    "date": sa.Date,
    "list": sa.JSON,
    "history": sa.JSON,
}


def _nullable(col: schema.Column, key: tuple[str, ...]) -> bool:
    if col.name in key or col.required:
        return False
    return col.default is None


def _sql_column(table: schema.Table, col: schema.Column) -> sa.Column:
    if col.kind not in SQL_TYPES:
        raise ValueError(f"schema column {table.name}.{col.name} has unknown kind {col.kind!r}")
    args: list = [SQL_TYPES[col.kind]()]
    indexed = False
    if col.ref and col.kind == "str":
        ref_table = schema.table(col.ref)
        if len(ref_table.key) != 1:
            raise ValueError(f"{table.name}.{col.name} refers to {col.ref}, whose key is not a single column")
        args.append(sa.ForeignKey(f"{col.ref}.{ref_table.key[0]}"))
        # the first key column is already covered by the primary key index
        indexed = not (col.name in table.key and table.key[0] == col.name)
    return sa.Column(
        col.name,
        *args,
        primary_key=col.name in table.key,
        nullable=_nullable(col, table.key),
        index=indexed,
        comment=None,
    )


def _build(table: schema.Table) -> sa.Table:
    return sa.Table(table.name, metadata, *(_sql_column(table, c) for c in table.columns))


#: schema table name -> SQL table, in dependency order (referenced tables first)
TABLES: dict[str, sa.Table] = {name: _build(t) for name, t in schema.TABLES.items()}


def sql_table(name: str) -> sa.Table:
    """The SQL table of a schema entity; a clear KeyError for unknown names."""
    schema.table(name)  # raises the documented error for unknown entities
    return TABLES[name]


# Register the operational tables on the same metadata (imported for its side effect).
from plein.storage import operational as _operational  # noqa: E402,F401
