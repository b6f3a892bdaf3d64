"""`plein generate` (a demo region into the database and/or files) and `plein bench generate`.

Heavy imports happen inside the commands so `plein --help` stays fast.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer


def _date(value: Optional[str]) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (use YYYY-MM-DD)") from None


def _format(value: str) -> str:
    if value.lower() not in ("csv", "parquet"):
        raise typer.BadParameter("use csv or parquet")
    return value.lower()


def _existing_file(value: Optional[Path]) -> Optional[Path]:
    if value is not None and not value.is_file():
        raise typer.BadParameter(f"file not found: {value}")
    return value


def write_region(region, out: Path, format: str = "csv", progress=None) -> dict[str, Path]:
    """Write every table of `region` to ``out/<table>.<format>`` in the documented import
    format (what `plein import` reads back). Returns table -> path."""
    from plein.progress import no_progress
    from plein.storage import validate_frame, write_file
    from plein.storage.validation import errors_only

    cb = progress or no_progress
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    tables = region.tables()
    for i, (name, df) in enumerate(tables.items()):
        cb(i, len(tables), f"writing {name}")
        clean, issues = validate_frame(name, df, source=f"region.{name}")
        errors = errors_only(issues)
        if errors:
            raise ValueError(f"generated table {name} does not validate: {errors[:3]}")
        paths[name] = write_file(name, clean, out / f"{name}.{format}", format=format)
    cb(len(tables), len(tables), "written")
    return paths


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("generate")
    def generate(
        clients: int = typer.Option(5000, "--clients", "-n", min=1, help="Number of clients."),
        seed: int = typer.Option(42, "--seed", "-s", min=0, help="Random seed: same seed, same region."),
        reference_date: Optional[str] = typer.Option(
            None, "--reference-date", help="The region's 'today' (YYYY-MM-DD); default 2026-10-01. History lies before it."),
        profiles: Optional[Path] = typer.Option(
            None, "--profiles", help="ESCO occupation_profiles.parquet: draw histories and skills from all of ESCO.",
            callback=_existing_file),
        job_offers: Optional[Path] = typer.Option(
            None, "--job-offers", help="job_offers_by_occupation.parquet: vacancies follow real demand.",
            callback=_existing_file),
        brummen: bool = typer.Option(False, "--brummen", help="Add Brummen (GM0213) as a fourth municipality."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write every table to this folder."),
        format: str = typer.Option("csv", "--format", "-f", help="File format for --out: csv or parquet.", callback=_format),
        database_url: Optional[str] = typer.Option(
            None, "--database-url", help="Database to fill (default: DATABASE_URL or the SQLite file in the data folder)."),
        no_database: bool = typer.Option(False, "--no-database", help="Do not write to the database (only --out)."),
    ) -> None:
        """Generate a demo Werkplein region (Zutphen, Lochem, Bronckhorst): coaches, clients,
        vacancies and a history with oracle probabilities; deterministic by seed.

        Writes into the database (replacing its region tables); --out also writes files.
        """
        from rich.console import Console
        from rich.table import Table

        from plein.generator import DEFAULT_REFERENCE_DATE, generate_region
        from plein.progress import console_progress
        from plein.taxonomy import Taxonomy

        if no_database and out is None:
            raise typer.BadParameter("--no-database needs --out (otherwise nothing is written)")
        console = Console()
        taxonomy = Taxonomy.from_profiles(profiles) if profiles else Taxonomy.load()
        ref = _date(reference_date) or DEFAULT_REFERENCE_DATE
        with console_progress("generating") as progress:
            region = generate_region(clients, seed, taxonomy=taxonomy, job_offers=job_offers,
                                     reference_date=ref, progress=progress, include_brummen=brummen)
        if out is not None:
            with console_progress("writing files") as progress:
                write_region(region, out, format, progress)
            console.print(f"files written to {out}/ ({format})")
        if not no_database:
            from plein.storage import get_engine, save_region, upgrade

            engine = get_engine(database_url)
            upgrade(engine)
            with console_progress("saving to the database") as progress:
                save_region(engine, region, progress=progress)
            console.print(f"saved to {engine.url.render_as_string(hide_password=True)}")
        table = Table(title=f"Demo region: {clients} clients, seed {seed}, reference date {ref}, taxonomy {taxonomy.source}")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, rows in region.summary().items():
            table.add_row(name, f"{rows:,}")
        console.print(table)

    @bench.command("generate")
    def bench_generate(
        clients: int = typer.Option(100_000, "--clients", help="Number of clients."),
        seed: int = typer.Option(1, "--seed", help="Random seed."),
        shared: bool = typer.Option(True, "--shared/--no-shared",
                                    help="Also run with the ESCO profiles and job offers from the shared data folder, when present."),
    ) -> None:
        """Time the demo-region generator; print rows per table, peak memory and a realism table."""
        from bench.generate_region import main

        main(clients, seed, shared)
