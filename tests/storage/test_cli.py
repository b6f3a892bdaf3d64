"""The storage commands (`plein db`, `import`, `export`, `schema`) and the import-format docs."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from plein import schema
from plein.storage import get_engine, read_table
from plein.storage.cli import register
from plein.storage.schema_doc import schema_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs" / "import-formats.md"


def _app() -> typer.Typer:
    app = typer.Typer()
    bench = typer.Typer()
    app.add_typer(bench, name="bench")
    register(app, bench)
    return app


def test_db_upgrade_then_import_and_export(data_dir, tmp_path):
    runner = CliRunner()
    app = _app()
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "at revision 0002_homes_to_postcode_area" in result.output
    clients = tmp_path / "clients.csv"
    clients.write_text("id,skills,hours_available\nk1,first aid,24\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "clients", str(clients)])
    assert result.exit_code == 0, result.output
    assert "1 inserted, 0 updated, 0 unchanged" in result.output
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["export", "clients", str(out)])
    assert result.exit_code == 0 and "1 rows written" in result.output
    engine = get_engine()
    assert read_table(engine, "clients")["hours_available"].tolist() == [24]
    engine.dispose()


def test_import_with_errors_prints_every_error_and_exits_1(data_dir, tmp_path):
    bad = tmp_path / "clients.csv"
    bad.write_text("id,skills,complexity,gender\nk1,,5,female\nk2,,x,male\n", encoding="utf-8")
    result = CliRunner().invoke(_app(), ["import", "clients", str(bad)])
    assert result.exit_code == 1
    text = result.output
    assert "3 errors in clients; nothing was imported" in text
    assert "column 'gender'" in text and "client_protected" in text
    assert "row 2, column 'complexity'" in text and "row 3, column 'complexity'" in text


def test_unknown_entity_is_a_usage_error(data_dir, tmp_path):
    result = CliRunner().invoke(_app(), ["import", "klanten", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "unknown entity 'klanten'" in result.output


def test_schema_command_documents_every_column():
    result = CliRunner().invoke(_app(), ["schema", "--markdown"])
    assert result.exit_code == 0
    for t in schema.TABLES.values():
        assert f"### `{t.name}`" in result.output
        for c in t.columns:
            assert f"| `{c.name}` |" in result.output


def test_import_formats_doc_holds_the_current_schema_tables():
    """docs/import-formats.md embeds `plein schema --markdown`. When plein/schema.py changes, run
    `plein schema --update-doc docs/import-formats.md`."""
    assert schema_markdown().strip() in DOCS.read_text(encoding="utf-8"), (
        "docs/import-formats.md is out of date: run `plein schema --update-doc docs/import-formats.md`"
    )


def test_update_doc_rewrites_only_the_generated_section(tmp_path):
    from plein.storage.schema_doc import BEGIN_MARKER, END_MARKER

    doc = tmp_path / "doc.md"
    doc.write_text(f"# Intro\n\n{BEGIN_MARKER}\nSTALE-SECTION\n{END_MARKER}\n\nOutro\n", encoding="utf-8")
    result = CliRunner().invoke(_app(), ["schema", "--update-doc", str(doc)])
    assert result.exit_code == 0 and "updated" in result.output
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Intro") and text.endswith("Outro\n") and "STALE-SECTION" not in text
    assert schema_markdown().strip() in text
