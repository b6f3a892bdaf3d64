"""Storage commands: `plein db upgrade|current`, `plein import`, `plein export`, `plein schema`,
and the benchmark `plein bench import`.

Heavy imports (pandas, SQLAlchemy) happen inside the commands so `plein --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

ENTITY_HELP = (
    "Entity: municipalities, teams, coaches, coach_absences, clients, client_protected, employers, "
    "vacancies, ladder_events, assignments, outcomes, truth_ladder, truth_match"
)


def _entity(value: str) -> str:
    from plein import schema

    if value not in schema.TABLES:
        raise typer.BadParameter(f"unknown entity {value!r}; known: {', '.join(schema.TABLES)}")
    return value


def _format(value: Optional[str]) -> Optional[str]:
    if value is not None and value.lower() not in ("csv", "parquet"):
        raise typer.BadParameter("use csv or parquet")
    return value.lower() if value else None


def _engine():
    from plein.storage import get_engine, upgrade

    engine = get_engine()
    upgrade(engine)  # a no-op at head; creates the schema on first use
    return engine


def register(app: typer.Typer, bench: typer.Typer) -> None:
    db = typer.Typer(help="Database: migrations (SQLite by default, PostgreSQL via DATABASE_URL).", no_args_is_help=True)
    app.add_typer(db, name="db")

    @db.command("upgrade")
    def db_upgrade(revision: str = typer.Argument("head", help="Target revision (default: the newest).")) -> None:
        """Migrate the database to the newest schema (safe to repeat)."""
        from plein.storage import get_engine, upgrade
        from plein.storage.migrate import current_revision

        engine = get_engine()
        upgrade(engine, revision)
        typer.echo(f"{engine.url.render_as_string(hide_password=True)}: at revision {current_revision(engine)}")

    @db.command("current")
    def db_current() -> None:
        """Show the database's schema revision and the newest one available."""
        from plein.storage import current_revision, get_engine, head_revision

        engine = get_engine()
        typer.echo(f"database: {engine.url.render_as_string(hide_password=True)}")
        typer.echo(f"current:  {current_revision(engine) or '(not migrated)'}")
        typer.echo(f"head:     {head_revision()}")

    @app.command("import")
    def import_command(
        entity: str = typer.Argument(..., help=ENTITY_HELP, callback=_entity),
        file: Path = typer.Argument(..., help="CSV or Parquet file (see docs/import-formats.md)."),
        format: Optional[str] = typer.Option(None, "--format", "-f", help="csv or parquet; default from the extension.", callback=_format),
    ) -> None:
        """Import a file: every row validated, all or nothing, upsert by id (re-importing is harmless).

        On errors nothing is written; every error is printed with its row and column, and the
        exit code is 1."""
        from plein.progress import console_progress
        from plein.storage import ImportValidationError, import_file

        engine = _engine()
        try:
            with console_progress(f"importing {entity}") as progress:
                report = import_file(engine, entity, file, format=format, progress=progress)
        except ImportValidationError as exc:
            typer.echo(str(exc), err=True)
            for w in exc.warnings:
                typer.echo(f"  {w}", err=True)
            raise typer.Exit(1) from None
        typer.echo(str(report))
        for w in report.warnings:
            typer.echo(f"  {w}")

    @app.command("export")
    def export_command(
        entity: str = typer.Argument(..., help=ENTITY_HELP, callback=_entity),
        file: Path = typer.Argument(..., help="Output .csv or .parquet file."),
        format: Optional[str] = typer.Option(None, "--format", "-f", help="csv or parquet; default from the extension.", callback=_format),
    ) -> None:
        """Export an entity to CSV or Parquet, in the form `plein import` reads back."""
        from plein.storage import export_file

        n = export_file(_engine(), entity, file, format=format)
        typer.echo(f"{entity}: {n} rows written to {file}")

    @app.command("schema")
    def schema_command(
        entity: Optional[str] = typer.Argument(None, help="One entity (default: all)."),
        markdown: bool = typer.Option(False, "--markdown", help="Markdown tables (as in docs/import-formats.md)."),
        update_doc: Optional[Path] = typer.Option(
            None, "--update-doc", help="Rewrite the generated section of this Markdown file (docs/import-formats.md)."
        ),
    ) -> None:
        """Show the columns of every importable entity: type, default, constraints, meaning."""
        from plein import schema
        from plein.storage.schema_doc import KIND_TEXT, default_text, schema_markdown, table_markdown, update_doc as _update

        if update_doc is not None:
            changed = _update(update_doc)
            typer.echo(f"{update_doc}: {'updated' if changed else 'already current'}")
            return

        tables = [schema.table(_entity(entity))] if entity else list(schema.TABLES.values())
        if markdown:
            typer.echo(table_markdown(tables[0]) if entity else schema_markdown())
            return
        from rich.console import Console
        from rich.table import Table

        console = Console()
        for t in tables:
            table = Table(title=f"{t.name}: {t.doc}", title_justify="left", show_lines=False)
            for name in ("column", "type", "default", "meaning"):
                table.add_column(name)
            for c in t.columns:
                meaning = c.doc + (f" Values: {', '.join(c.choices)}." if c.choices else "")
                table.add_row(c.name, KIND_TEXT[c.kind], default_text(c).replace("`", "").replace("**", ""), meaning)
            console.print(table)

    @bench.command("import")
    def bench_import(
        clients: int = typer.Option(100_000, "--clients", help="Number of clients in the generated file."),
        seed: int = typer.Option(1, help="Random seed of the generated file."),
        postgres: bool = typer.Option(True, "--postgres/--no-postgres", help="Also run on PostgreSQL when reachable."),
        save: bool = typer.Option(True, "--save-region/--no-save-region", help="Also time save_region/load_region with 3 ladder events and 1.5 assignments per client."),
    ) -> None:
        """Time validate+import of a generated clients CSV into a fresh SQLite file (and PostgreSQL)."""
        from bench.import_clients import print_table, run

        print_table(run(clients, seed=seed, postgres=postgres, save=save))
