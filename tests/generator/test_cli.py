"""`plein generate`: files in the import format and the database, and argument errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from plein import schema
from plein.cli import app

runner = CliRunner()


def test_generate_writes_every_table_as_importable_files(tmp_path, data_dir):
    from plein.storage import read_file

    out = tmp_path / "region"
    result = runner.invoke(app, ["generate", "--clients", "150", "--seed", "4", "--out", str(out),
                                 "--format", "parquet", "--no-database"])
    assert result.exit_code == 0, result.output
    assert "truth_match" in result.output
    for name in schema.TABLES:
        df = read_file(out / f"{name}.parquet")
        df = df[0] if isinstance(df, tuple) else df
        assert list(df.columns) == schema.table(name).names, name
    assert not (data_dir / "plein.db").exists()


def test_generate_into_the_database_round_trips(data_dir):
    from plein.storage import get_engine, load_region

    result = runner.invoke(app, ["generate", "--clients", "120", "--seed", "9", "--reference-date", "2025-06-30"])
    assert result.exit_code == 0, result.output
    region = load_region(get_engine())
    assert len(region.clients) == 120
    assert max(region.ladder_events["date"]) <= __import__("datetime").date(2025, 6, 30)
    assert len(region.truth_match) > 0


@pytest.mark.parametrize("args, message", [
    (["--reference-date", "yesterday"], "not a date"),
    (["--format", "xlsx", "--out", "x"], "csv or parquet"),
    (["--no-database"], "needs --out"),
    (["--profiles", "/nonexistent.parquet"], "file not found"),
])
def test_generate_argument_errors(args, message, data_dir):
    result = runner.invoke(app, ["generate", "--clients", "10", *args])
    assert result.exit_code != 0
    assert message in result.output
