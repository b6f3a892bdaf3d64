"""Imports into the database, on SQLite and PostgreSQL: all-or-nothing, idempotent, upserts,
references, privacy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from plein.storage import ImportValidationError, import_file, import_frame, read_table, save_region
from plein.storage import bulk


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_client_and_vacancy_files_import(engine, tmp_path):
    report = import_file(engine, "clients", _write(tmp_path / "clients.csv", "id,skills\nk1,cook;clean surfaces\nk2,\n"), taxonomy=None)
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (2, 2, 0, 0)
    report = import_file(engine, "vacancies", _write(tmp_path / "vacancies.csv", "id,essential_skills\nv1,operate forklift\n"), taxonomy=None)
    assert report.inserted == 1
    clients = read_table(engine, "clients")
    assert clients["skills"].tolist() == [["cook", "clean surfaces"], []]
    assert clients["languages"].tolist() == [["nl"], ["nl"]]
    assert read_table(engine, "vacancies").loc[0, "skills"] == ["operate forklift"]


def test_all_errors_at_once_and_nothing_written(engine, tmp_path):
    import_file(engine, "coaches", _write(tmp_path / "coaches.csv", "id\ncoach-1\n"))
    path = _write(
        tmp_path / "clients.csv",
        "id,skills,coach_id,ladder_rung,benefit_type\n"
        "k1,cook,coach-1,3,ww\n"
        "k2,cook,coach-9,7,ww\n"          # unknown coach, rung out of range
        "123456782,cook,,2,bijstand\n"     # BSN
        "k4,cook,coach-1,two,wajong\n",     # not a number, not a benefit type
    )
    with pytest.raises(ImportValidationError) as info:
        import_file(engine, "clients", path, taxonomy=None)
    err = info.value
    assert {(e.row, e.column) for e in err.errors} == {
        (3, "coach_id"), (3, "ladder_rung"), (4, "id"), (5, "ladder_rung"), (5, "benefit_type"),
    }
    assert all(e.file == str(path) for e in err.errors)
    message = str(err)
    assert message.startswith(f"{path}: 5 errors in clients; nothing was imported")
    assert "row 3, column 'coach_id': no coaches with id 'coach-9'" in message
    assert read_table(engine, "clients").empty


def test_a_broken_file_leaves_the_database_exactly_as_it_was(engine, tiny_region, tmp_path, take_snapshot):
    save_region(engine, tiny_region)
    before = take_snapshot(engine)
    # new clients (a stored client's coach would not change by import, see below)
    rows = [f"n-{i:03d},first aid,{'coach-1' if i % 2 else 'coach-2'},4" for i in range(1, 300)]
    rows[-1] = "n-299,first aid,coach-1,9"  # one bad cell at the very end
    path = _write(tmp_path / "clients.csv", "id,skills,coach_id,ladder_rung\n" + "\n".join(rows) + "\n")
    with pytest.raises(ImportValidationError) as info:
        import_file(engine, "clients", path, taxonomy=None)
    assert [(e.row, e.column) for e in info.value.errors] == [(300, "ladder_rung")]
    assert take_snapshot(engine) == before


def test_a_database_failure_halfway_rolls_back_every_batch(engine, tiny_region, monkeypatch, take_snapshot):
    save_region(engine, tiny_region)
    before = take_snapshot(engine)
    monkeypatch.setattr(bulk, "BATCH_ROWS", 10)
    written = []

    def failing_progress(done, total, message):
        # called after each batch is written: fail once two batches are in the database
        if message.startswith("writing") and done >= 20:
            written.append(done)
            raise RuntimeError("disk full")

    df = pd.DataFrame({"id": [f"n-{i}" for i in range(50)], "skills": ["first aid"] * 50})
    with pytest.raises(RuntimeError, match="disk full"):
        import_frame(engine, "clients", df, taxonomy=None, progress=failing_progress)
    assert written == [20]
    assert take_snapshot(engine) == before


def test_reimporting_the_same_file_changes_nothing(engine, tmp_path, take_snapshot):
    # a client's home is stored rounded (postcode-area precision), a workplace to the full double
    path = _write(tmp_path / "clients.csv", "id,skills,lat,lon,ladder_rung,work_history\nk1,cook,52.1612345678901,6.2049,3,cook=2.5\nk2,,,,,\n")
    vacancies = _write(tmp_path / "vacancies.csv", "id,skills,lat,lon\nv1,cook,52.1612345678901,6.4139012345678\n")
    first = import_file(engine, "clients", path, taxonomy=None)
    import_file(engine, "vacancies", vacancies, taxonomy=None)
    before = take_snapshot(engine)
    again = import_file(engine, "clients", path, taxonomy=None)
    vacancy_again = import_file(engine, "vacancies", vacancies, taxonomy=None)
    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (2, 0, 0, 2)
    assert vacancy_again.unchanged == 1
    assert take_snapshot(engine) == before
    assert read_table(engine, "clients").loc[0, ["lat", "lon"]].tolist() == [52.16, 6.2]
    assert read_table(engine, "vacancies").loc[0, ["lat", "lon"]].tolist() == [52.1612345678901, 6.4139012345678]


def test_upsert_updates_only_the_columns_the_file_has(engine, tmp_path):
    import_file(engine, "coaches", _write(tmp_path / "coaches.csv", "id\ncoach-1\n"))
    import_file(engine, "clients", _write(tmp_path / "a.csv", "id,skills,coach_id,intake_date\nk1,cook,coach-1,2024-01-05\nk2,clean,,2024-02-01\n"), taxonomy=None)
    report = import_file(engine, "clients", _write(tmp_path / "b.csv", "id,skills,ladder_rung\nk1,cook,4\nk2,clean,\nk3,,2\n"), taxonomy=None)
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 1)
    clients = read_table(engine, "clients").set_index("id")
    assert clients.loc["k1", "ladder_rung"] == 4
    assert clients.loc["k1", "coach_id"] == "coach-1" and clients.loc["k1", "skills"] == ["cook"]
    assert str(clients.loc["k1", "intake_date"]) == "2024-01-05"
    assert clients.loc["k3", "skills"] == []  # a new row gets the defaults


def test_references_inside_lists_are_checked(engine, tmp_path):
    import_file(engine, "municipalities", _write(tmp_path / "m.csv", "id,name\nGM0301,Zutphen\n"))
    with pytest.raises(ImportValidationError) as info:
        import_file(engine, "coaches", _write(tmp_path / "c.csv", "id,municipalities\nc1,GM0301;GM9999\n"))
    assert [(e.row, e.column, e.value) for e in info.value.errors] == [(2, "municipalities", "GM9999")]


def test_coach_office_defaults_to_the_first_municipality(engine, tmp_path):
    import_file(engine, "municipalities", _write(tmp_path / "m.csv", "id,lat,lon\nGM0262,52.16,6.4139\n"))
    import_file(engine, "coaches", _write(tmp_path / "c.csv", "id,municipalities\nc1,GM0262\nc2,\n"))
    coaches = read_table(engine, "coaches").set_index("id")
    assert (coaches.loc["c1", "lat"], coaches.loc["c1", "lon"]) == (52.16, 6.4139)
    assert pd.isna(coaches.loc["c2", "lat"])
    # an office set explicitly is not overwritten by a later file without coordinates
    import_file(engine, "coaches", _write(tmp_path / "c2.csv", "id,lat,lon\nc2,52.0,6.0\n"))
    report = import_file(engine, "coaches", _write(tmp_path / "c3.csv", "id,municipalities\nc1,GM0262\nc2,GM0262\n"))
    assert (report.updated, report.unchanged) == (1, 1)
    coaches = read_table(engine, "coaches").set_index("id")
    assert (coaches.loc["c2", "lat"], coaches.loc["c2", "municipalities"]) == (52.0, ["GM0262"])


def test_protected_attributes_import_only_into_client_protected(engine, tmp_path):
    with pytest.raises(ImportValidationError, match="client_protected"):
        import_file(engine, "clients", _write(tmp_path / "c.csv", "id,skills,gender\nk1,,female\n"), taxonomy=None)
    import_file(engine, "clients", _write(tmp_path / "c2.csv", "id,skills\nk1,\n"), taxonomy=None)
    report = import_file(engine, "client_protected", _write(tmp_path / "p.csv", "client_id,gender,migration_background\nk1,female,non_western\n"))
    assert report.inserted == 1
    with pytest.raises(ImportValidationError, match="no clients with id 'k2'"):
        import_file(engine, "client_protected", _write(tmp_path / "p2.csv", "client_id,gender\nk2,male\n"))
    with engine.connect() as conn:
        assert "gender" not in {c["name"] for c in sa.inspect(conn).get_columns("clients")}


def test_unreadable_file_raises_the_import_error(engine, tmp_path):
    with pytest.raises(ImportValidationError, match="no such file"):
        import_file(engine, "clients", tmp_path / "missing.csv")
    with pytest.raises(ImportValidationError, match="fields but the header has"):
        import_file(engine, "clients", _write(tmp_path / "r.csv", "id,skills\nk1,a,b\n"), taxonomy=None)


def test_large_inputs_read_whole_key_sets_with_the_same_result(engine, tmp_path, monkeypatch):
    """Above SMALL_LOOKUP distinct values the importer reads all ids instead of IN (...)."""
    from plein.storage import importer

    monkeypatch.setattr(importer, "SMALL_LOOKUP", 1)
    import_file(engine, "coaches", _write(tmp_path / "coaches.csv", "id\ncoach-1\ncoach-2\n"))
    good = _write(tmp_path / "ok.csv", "id,skills,coach_id\nk1,,coach-1\nk2,,coach-2\nk3,,\n")
    assert import_file(engine, "clients", good, taxonomy=None).inserted == 3
    report = import_file(engine, "clients", _write(tmp_path / "ok2.csv", "id,skills,coach_id\nk1,welding,coach-1\nk2,,coach-2\nk3,,\n"), taxonomy=None)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)
    # a stored client's coach changes only by an approved proposal: every such row named, in chunks too
    with pytest.raises(ImportValidationError) as info:
        import_file(engine, "clients", _write(tmp_path / "moved.csv", "id,skills,coach_id\nk1,,coach-2\nk2,,coach-2\nk3,,coach-1\n"), taxonomy=None)
    assert [(e.row, e.column, e.value) for e in info.value.errors] == [(2, "coach_id", "coach-2"), (4, "coach_id", "coach-1")]
    # reported together with a row's other errors, in one pass
    with pytest.raises(ImportValidationError) as info:
        import_file(engine, "clients", _write(tmp_path / "both.csv", "id,skills,coach_id,hours_available\nk1,,coach-2,32\nk2,,coach-2,999\n"), taxonomy=None)
    assert [(e.row, e.column) for e in info.value.errors] == [(2, "coach_id"), (3, "hours_available")]
    with pytest.raises(ImportValidationError) as info:
        import_file(engine, "clients", _write(tmp_path / "bad.csv", "id,skills,coach_id\nk4,,coach-3\nk5,,coach-1\nk6,,coach-4\n"), taxonomy=None)
    assert [(e.row, e.value) for e in info.value.errors] == [(2, "coach-3"), (4, "coach-4")]


def test_imported_outcomes_keep_to_the_vacancy_dates(engine, tiny_region, tmp_path, take_snapshot):
    """The rule of the API and the dashboard (`plein.domain.outcome_date_problem`) holds for
    bulk imports too: every row named, nothing written (until 2026-12-07 only single outcomes
    were checked). vac-1 opened 2025-03-01 and is open; vac-2 ran 2025-04-02 to 2025-06-30."""
    import datetime as dt

    save_region(engine, tiny_region)
    before = take_snapshot(engine)
    future = dt.date.today() + dt.timedelta(days=3)
    path = _write(tmp_path / "outcomes.csv",
                  "id,client_id,vacancy_id,date,stage,reason\n"
                  "o1,k-001,vac-1,2025-03-05,invited,\n"                 # fine
                  "o2,k-001,vac-1,2025-02-01,invited,\n"                 # before vac-1 opened
                  "o3,k-003,vac-2,2025-07-10,hired,\n"                   # after vac-2 closed
                  "o4,k-003,vac-2,2025-07-10,rejected,position filled\n"  # a rejection may come after
                  f"o5,k-001,vac-1,{future},shortlisted,\n")            # a day to come
    with pytest.raises(ImportValidationError) as info:
        import_file(engine, "outcomes", path, taxonomy=None)
    assert [(e.row, e.column) for e in info.value.errors] == [(3, "date"), (4, "date"), (6, "date")]
    message = str(info.value)
    assert "vacancy vac-1 opened on 2025-03-01, after 2025-02-01" in message
    assert "vacancy vac-2 closed on 2025-06-30: a candidate cannot be hired on it on 2025-07-10" in message
    assert f"the date {future} has not come yet" in message
    assert take_snapshot(engine) == before
    # the same file without the three: imported
    ok = _write(tmp_path / "ok.csv", "id,client_id,vacancy_id,date,stage,reason\n"
                "o1,k-001,vac-1,2025-03-05,invited,\no4,k-003,vac-2,2025-07-10,rejected,position filled\n")
    assert import_file(engine, "outcomes", ok, taxonomy=None).inserted == 2


def test_a_half_given_period_is_checked_against_the_stored_half(engine, tiny_region, tmp_path, take_snapshot):
    # vac-2 opened 2025-04-02: a file with only close_date may not close it before that (the
    # validator sees only the file; the stored open_date is in the database)
    save_region(engine, tiny_region)
    before = take_snapshot(engine)
    skills = {v: ";".join(s) for v, s in zip(tiny_region.vacancies["id"], tiny_region.vacancies["skills"])}
    path = _write(tmp_path / "v.csv", f"id,skills,close_date\nvac-1,{skills['vac-1']},2025-06-01\nvac-2,{skills['vac-2']},2025-03-01\n")
    with pytest.raises(ImportValidationError) as info:
        import_file(engine, "vacancies", path, taxonomy=None)
    assert [(e.row, e.column) for e in info.value.errors] == [(3, "close_date")]
    assert "close_date 2025-03-01 comes before the stored open_date 2025-04-02" in str(info.value)
    assert take_snapshot(engine) == before
    # and the reverse: an open_date after the stored close_date
    path = _write(tmp_path / "o.csv", f"id,skills,open_date\nvac-2,{skills['vac-2']},2025-07-01\n")
    with pytest.raises(ImportValidationError, match="open_date 2025-07-01 comes after the stored close_date 2025-06-30"):
        import_file(engine, "vacancies", path, taxonomy=None)
    assert import_file(engine, "vacancies", _write(tmp_path / "ok.csv", f"id,skills,close_date\nvac-2,{skills['vac-2']},2025-05-01\n"), taxonomy=None).updated == 1


@pytest.mark.parametrize("small_lookup", [1_000, 1])
def test_ids_that_differ_only_in_case_are_refused_and_named(engine, tmp_path, take_snapshot, monkeypatch, small_lookup):
    """Ids are case-sensitive: `k000123` beside a stored `K000123` would be a second client, and
    a reference to it a reference to nothing. Both are refused, naming the stored spelling (by
    IN (...) on lowered ids, and by reading every id above SMALL_LOOKUP)."""
    from plein.storage import importer

    monkeypatch.setattr(importer, "SMALL_LOOKUP", small_lookup)
    import_file(engine, "coaches", _write(tmp_path / "coaches.csv", "id\nCoach-1\n"))
    import_file(engine, "clients", _write(tmp_path / "clients.csv", "id,skills\nK000123,\nK000124,\n"), taxonomy=None)
    before = take_snapshot(engine)
    with pytest.raises(ImportValidationError) as info:
        import_file(engine, "clients", _write(tmp_path / "new.csv", "id,skills,coach_id\nk000123,,\nK000124,cook,\nK9,,\nk9,,\nK10,,coach-1\n"), taxonomy=None)
    got = [(e.row, e.column, e.value) for e in info.value.errors]
    assert got == [(2, "id", "k000123"), (5, "id", "k9"), (6, "coach_id", "coach-1")]
    reasons = [e.reason for e in info.value.errors]
    assert "the stored 'K000123' only in upper/lower case" in reasons[0] and "write it as 'K000123'" in reasons[0]
    assert "another row's 'K9'" in reasons[1]
    assert "ids are case-sensitive: the stored one is 'Coach-1'" in reasons[2]
    assert take_snapshot(engine) == before
    # the same ids as stored, and ids no other id matches, import as before
    report = import_file(engine, "clients", _write(tmp_path / "ok.csv", "id,skills,coach_id\nK000123,cook,\nK9,,Coach-1\n"), taxonomy=None)
    assert (report.inserted, report.updated) == (1, 1)
    # a reference to an id nothing matches keeps its pointer to importing that first
    with pytest.raises(ImportValidationError) as info:
        import_file(engine, "clients", _write(tmp_path / "ref.csv", "id,skills,coach_id\nK11,,coach-7\n"), taxonomy=None)
    assert "(import coaches first)" in info.value.errors[0].reason
