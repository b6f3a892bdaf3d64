"""Exports read back by imports, and whole regions saved and loaded, on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest

from plein import schema
from plein.storage import (
    ImportValidationError,
    export_file,
    get_engine,
    import_file,
    load_region,
    read_table,
    save_region,
    upgrade,
    validate_frame,
)


def _expected(region) -> dict[str, pd.DataFrame]:
    """The region as storage keeps it: validated (defaults filled) and ordered by key."""
    out = {}
    for name, df in region.tables().items():
        clean, issues = validate_frame(name, df)
        assert [i for i in issues if i.severity == "error"] == []
        out[name] = clean.sort_values(list(schema.table(name).key)).reset_index(drop=True)
    return out


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=True)


def test_save_and_load_region_round_trip(engine, tiny_region):
    counts = save_region(engine, tiny_region)
    assert counts == tiny_region.summary()
    loaded = load_region(engine, include_protected=True)
    expected = _expected(tiny_region)
    # a coach without office coordinates gets those of the first municipality served
    coach_2 = expected["coaches"].index[expected["coaches"]["id"] == "coach-2"][0]
    expected["coaches"].loc[coach_2, ["lat", "lon"]] = [52.16, 6.4139]
    for name in schema.TABLES:
        _same(getattr(loaded, name), expected[name])
    # name defaults to the id, exactly as on import
    assert loaded.teams.set_index("id").loc["team-all", "name"] == "team-all"


def test_load_region_leaves_protected_attributes_out_unless_asked(engine, tiny_region):
    save_region(engine, tiny_region)
    region = load_region(engine)
    assert region.client_protected.empty
    assert list(region.client_protected.columns) == schema.table("client_protected").names
    assert not set(region.clients.columns) & {"gender", "migration_background"}
    assert len(load_region(engine, include_protected=True).client_protected) == 3


def test_save_region_replaces_the_previous_region(engine, tiny_region):
    save_region(engine, tiny_region)
    smaller = tiny_region
    smaller.outcomes = smaller.outcomes.iloc[:1]
    smaller.truth_match = smaller.truth_match.iloc[:1]
    save_region(engine, smaller)
    assert read_table(engine, "outcomes")["id"].tolist() == ["out-1"]


def test_save_region_validates_everything_before_touching_the_database(engine, tiny_region, take_snapshot):
    save_region(engine, tiny_region)
    before = take_snapshot(engine)
    broken = tiny_region
    broken.clients = broken.clients.assign(complexity=[1, 2, 9, 1])
    broken.ladder_events = broken.ladder_events.assign(rung=[4, 0, 2])
    with pytest.raises(ImportValidationError) as info:
        save_region(engine, broken)
    assert {(e.file, e.row, e.column) for e in info.value.errors} == {
        ("region.clients", 3, "complexity"), ("region.ladder_events", 2, "rung"),
    }
    assert take_snapshot(engine) == before


def test_save_region_refuses_dangling_references(engine, tiny_region):
    tiny_region.assignments = tiny_region.assignments.assign(coach_id=["coach-1", "coach-404"])
    with pytest.raises(ImportValidationError, match="no coaches with id 'coach-404'"):
        save_region(engine, tiny_region)
    assert read_table(engine, "clients").empty


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_entity_exports_and_imports_back_identically(engine, tiny_region, tmp_path, fmt):
    save_region(engine, tiny_region)
    originals = {name: read_table(engine, name) for name in schema.TABLES}
    for name in schema.TABLES:
        assert export_file(engine, name, tmp_path / f"{name}.{fmt}") == len(originals[name])
    target = get_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    upgrade(target)
    try:
        for name in schema.TABLES:  # dependency order
            report = import_file(target, name, tmp_path / f"{name}.{fmt}", taxonomy=None)
            assert (report.inserted, report.warnings) == (len(originals[name]), [])
            _same(read_table(target, name), originals[name])
        # and the same files into the original database: nothing changes
        for name in schema.TABLES:
            report = import_file(engine, name, tmp_path / f"{name}.{fmt}", taxonomy=None)
            assert (report.inserted, report.updated, report.unchanged) == (0, 0, len(originals[name]))
    finally:
        target.dispose()


def test_csv_export_writes_documented_cell_forms(engine, tiny_region, tmp_path):
    save_region(engine, tiny_region)
    export_file(engine, "clients", tmp_path / "clients.csv")
    text = (tmp_path / "clients.csv").read_text(encoding="utf-8").splitlines()
    assert text[0].split(",")[:3] == ["id", "skills", "municipality"]
    first = text[1]
    assert first.startswith("k-001,operate forklift;stack goods,GM0301,52.14,6.2,7201,ww,2024-02-01,")
    assert ",true," in first and "forklift operator=3;warehouse worker=1.5" in first


def test_generated_demo_region_round_trips(engine, request):
    """The demo region of plein.generator saves and loads unchanged (skipped until it exists)."""
    pytest.importorskip("plein.generator", reason="plein.generator not available yet")
    region = request.getfixturevalue("small_region")
    save_region(engine, region)
    loaded = load_region(engine, include_protected=True)
    expected = _expected(region)
    for name in ("clients", "vacancies", "ladder_events", "assignments", "outcomes", "client_protected"):
        _same(getattr(loaded, name), expected[name])
    assert loaded.summary() == region.summary()
