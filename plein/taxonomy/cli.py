"""`plein taxonomy import-esco|import-profiles|show`: install the full ESCO classification into
the data folder (``<data_dir>/taxonomy/``), where `Taxonomy.load()` finds it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def _target() -> Path:
    from plein.settings import get_settings

    return get_settings().data_dir / "taxonomy"


def _report(tax, console) -> None:
    from rich.table import Table

    from plein.taxonomy import ATTRIBUTION

    s = tax.summary()
    table = Table(title=f"Taxonomy: {s['source']}", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key in ("occupations", "skills", "essential relations", "optional relations", "sectors"):
        table.add_row(key, f"{s[key]:,}")
    console.print(table)
    per = Table(title="Occupations per sector", title_justify="left")
    per.add_column("sector")
    per.add_column("team name (nl)")
    per.add_column("occupations", justify="right")
    names = dict(zip(tax.sectors["code"], tax.sectors["name_nl"]))
    for code, count in s["occupations per sector"].items():
        per.add_row(code, names.get(code, ""), f"{count:,}")
    console.print(per)
    console.print(ATTRIBUTION)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    tax_app = typer.Typer(help="ESCO taxonomy of occupations and skills (builtin, or imported into the data folder).",
                          no_args_is_help=True)
    app.add_typer(tax_app, name="taxonomy")

    @tax_app.command("import-esco")
    def import_esco(folder: Path = typer.Argument(..., help="Folder of the unzipped ESCO CSV download (language en).")) -> None:
        """Import the official ESCO CSV download (occupations, skills, relations, ISCO groups)."""
        from plein.taxonomy import Taxonomy

        _import_and_save(Taxonomy.from_esco_csv, folder)

    @tax_app.command("import-profiles")
    def import_profiles(file: Path = typer.Argument(..., help="ESCO occupation_profiles.parquet.")) -> None:
        """Import the ESCO occupation profiles parquet (3,039 occupations with their skills)."""
        from plein.taxonomy import Taxonomy

        _import_and_save(Taxonomy.from_profiles, file)

    @tax_app.command("show")
    def show(
        occupation: Optional[str] = typer.Argument(None, help="Show one occupation (label, alternative label or URI)."),
    ) -> None:
        """Show the taxonomy in use (imported, else builtin), or one occupation's skills."""
        from rich.console import Console

        from plein.taxonomy import Taxonomy

        console = Console()
        tax = Taxonomy.load()
        if occupation is None:
            _report(tax, console)
            return
        label = tax.resolve_occupation(occupation)
        if label is None:
            typer.echo(f"error: occupation {occupation!r} not in the taxonomy ({tax.source})", err=True)
            raise typer.Exit(1)
        console.print(f"[bold]{label}[/bold]  ISCO-08 {tax.isco_code(label)}  sector {tax.sector_of(label)}")
        console.print("essential: " + "; ".join(tax.essential_skills(label)))
        console.print("optional:  " + "; ".join(tax.optional_skills(label)))
        related = tax.related_occupations(label, level=4)
        if related:
            console.print("same ISCO unit group: " + "; ".join(related[:15]))


def _import_and_save(load, source: Path) -> None:
    """Load a taxonomy with `load(source)`, save it under the data folder and report it."""
    from rich.console import Console

    from plein.taxonomy import TaxonomyError

    try:
        tax = load(source)
    except TaxonomyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    target = tax.save(_target())
    console = Console()
    _report(tax, console)
    console.print(f"saved to {target}")
