"""Alembic environment for Plein.

Normally run through `plein.storage.upgrade(engine)` (or `plein db upgrade`), which builds the
Alembic Config in code and hands over an open connection in ``config.attributes["connection"]``.
Without one, the URL comes from the Config's ``sqlalchemy.url`` or else from Plein's settings.
"""

from __future__ import annotations

from alembic import context

from plein.storage.tables import metadata

config = context.config


def _configure(**kwargs) -> None:
    context.configure(target_metadata=metadata, compare_type=True, **kwargs)


def run_offline() -> None:
    from plein.storage.engine import normalise_url
    from plein.settings import get_settings

    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    _configure(url=normalise_url(url), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_with(connection) -> None:
    # SQLite cannot ALTER most things in place: batch mode recreates tables instead.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    from plein.storage.engine import get_engine

    engine = get_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.begin() as conn:
            _run_with(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
