"""The row validator (`validate_frame`) and the file readers: no database needed."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from plein.storage import read_file, validate_frame
from plein.storage.codec import FileFormatError, read_csv


def _frame(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols, dtype="str")


def _errors(issues):
    return [i for i in issues if i.severity == "error"]


def test_minimal_client_gets_every_documented_default():
    clean, issues = validate_frame("clients", _frame(id=["k1"], skills=["cook; clean surfaces ;cook"]), today=date(2026, 3, 1))
    assert issues == []
    row = clean.iloc[0].to_dict()
    assert row["skills"] == ["cook", "clean surfaces"]  # stripped, duplicates dropped, order kept
    assert row["intake_date"] == date(2026, 3, 1)  # IMPORT_DATE
    assert (row["benefit_type"], row["age_band"], row["status"]) == ("none", "unknown", "active")
    assert (row["hours_available"], row["complexity"], row["driving_licence"]) == (32, 1, False)
    assert row["languages"] == ["nl"] and row["work_history"] == [] and row["certificates"] == []
    assert pd.isna(row["ladder_rung"]) and pd.isna(row["coach_id"]) and pd.isna(row["lat"])
    assert clean.attrs["given_columns"] == ["id", "skills"]


def test_minimal_vacancy_accepts_the_essential_skills_alias():
    clean, issues = validate_frame("vacancies", _frame(id=["v1"], essential_skills=["operate forklift"]))
    assert issues == []
    assert clean.loc[0, "skills"] == ["operate forklift"]
    assert clean.loc[0, "positions"] == 1 and clean.loc[0, "optional_skills"] == []


def test_name_defaults_to_the_id():
    clean, _ = validate_frame("teams", _frame(id=["team-a", "team-b"], name=["Zorg", ""]))
    assert clean["name"].tolist() == ["Zorg", "team-b"]


def test_every_error_is_reported_at_once_with_row_column_value_and_reason():
    df = _frame(
        id=["k1", "k2", "k2", "", "k5"],
        skills=["a", "b", "c", "d", "e"],
        benefit_type=["ww", "bijstnd", "WW", "none", "none"],
        intake_date=["2024-01-02", "23-11-2026", "2024-02-30", "", "1850-01-01"],
        hours_available=["32", "abc", "12.5", "61", "40"],
        driving_licence=["ja", "nee", "misschien", "1", "0"],
        work_history=["cook=3;porter=1,5", "cook", "cook=-1", "", ""],
        specialisations_typo=["", "", "", "", ""],
    )
    clean, issues = validate_frame("clients", df, source="clients.csv", row_numbers=[2, 3, 4, 5, 6])
    got = {(i.row, i.column) for i in _errors(issues)}
    assert got == {
        (None, "specialisations_typo"),
        (3, "benefit_type"), (3, "intake_date"), (3, "hours_available"), (3, "work_history"),
        (4, "id"), (4, "intake_date"), (4, "hours_available"), (4, "driving_licence"), (4, "work_history"),
        (5, "id"), (5, "hours_available"),
        (6, "intake_date"),
    }
    by_key = {(i.row, i.column): i for i in issues}
    assert "did you mean 'bijstand'" in by_key[(3, "benefit_type")].reason
    assert by_key[(3, "benefit_type")].value == "bijstnd"
    assert "already on row 3" in by_key[(4, "id")].reason
    assert "between 0 and 60" in by_key[(5, "hours_available")].reason
    assert "required value is empty" in by_key[(5, "id")].reason
    assert by_key[(4, "driving_licence")].value == "misschien"
    assert str(by_key[(3, "intake_date")]).startswith("clients.csv, row 3, column 'intake_date': not a date")
    # a file-level error (unknown column) means no row is trusted
    assert len(clean) == 0


def test_rows_with_errors_are_left_out_of_the_clean_frame():
    clean, issues = validate_frame("clients", _frame(id=["k1", "k2"], skills=["", ""], complexity=["2", "4"]))
    assert [i.row for i in issues] == [2]
    assert clean["id"].tolist() == ["k1"] and clean["complexity"].tolist() == [2]
    assert clean.attrs["row_numbers"].tolist() == [1]


def test_values_are_read_leniently_where_people_differ():
    df = _frame(
        id=["k1", "k2", "k3"], skills=["", "", ""],
        driving_licence=["TRUE", "Nee", "yes"], lat=["52,14", "52.1", ""], lon=["6,2", "6.21", ""],
        dutch_level=["b1", "A2", ""], intake_date=["2024-01-02", "2024-01-02T09:30:00", "2024-01-02 10:00"],
        **{"Coach ID": ["", "", ""]},
    )
    clean, issues = validate_frame("clients", df)
    assert issues == []
    assert clean["driving_licence"].tolist() == [True, False, True]
    assert clean["lat"].tolist()[:2] == [52.14, 52.1] and clean["lon"].tolist()[:2] == [6.2, 6.21]
    assert clean["dutch_level"].tolist() == ["B1", "A2", "unknown"]
    assert set(clean["intake_date"]) == {date(2024, 1, 2)}


def test_list_choices_and_history_are_checked_per_element():
    clean, issues = validate_frame("coaches", _frame(id=["c1", "c2"], specialisations=["WW;youth", "ww;plumbing"]))
    assert [(i.row, i.column) for i in issues] == [(2, "specialisations")]
    assert "'plumbing' not among" in issues[0].reason
    assert clean.loc[0, "specialisations"] == ["ww", "youth"]
    clean, issues = validate_frame("clients", _frame(id=["k1"], skills=[""], work_history=["cook=3; kitchen porter = 1,5"]))
    assert issues == []
    assert clean.loc[0, "work_history"] == [{"occupation": "cook", "years": 3.0}, {"occupation": "kitchen porter", "years": 1.5}]


def test_bsn_ids_are_refused_for_privacy():
    clean, issues = validate_frame("clients", _frame(id=["123456782", "12345678", "k-3"], skills=["", "", ""]))
    assert [(i.row, i.column) for i in issues] == [(1, "id")]  # 12345678 fails the eleven-test
    assert "BSN" in issues[0].reason and "pseudonym" in issues[0].reason
    _, issues = validate_frame("ladder_events", _frame(id=["e1"], client_id=["123456782"], date=["2024-01-01"], rung=["3"]))
    assert [(i.row, i.column) for i in issues] == [(1, "client_id")]
    # written with separators or inside other text it is still a BSN; a longer number, or an
    # id whose digits fail the eleven-test, is not
    ids = ["123.456.782", "1234 56 782", "bsn123456782", "K123456782", "K-2024-000123", "K000001", "1234567820",
           "c-2024-0004", "K00000012", "12-345-6782"]
    _, issues = validate_frame("clients", _frame(id=ids, skills=[""] * len(ids)))
    assert [i.row for i in issues if "BSN" in i.reason] == [1, 2, 3, 4]


@pytest.mark.parametrize("column", ["gender", "migration_background"])
def test_protected_attributes_are_refused_in_clients_and_pointed_to_client_protected(column):
    _, issues = validate_frame("clients", _frame(id=["k1"], skills=[""], **{column: ["female" if column == "gender" else "none"]}))
    assert len(issues) == 1 and issues[0].row is None and issues[0].column == column
    assert "client_protected" in issues[0].reason and "protected attribute" in issues[0].reason


def test_protected_attributes_are_accepted_in_client_protected():
    clean, issues = validate_frame("client_protected", _frame(client_id=["k1", "k2"], gender=["Female", ""], migration_background=["non_western", "none"]))
    assert issues == []
    assert clean["gender"].tolist() == ["female", "unknown"]


def test_unknown_column_lists_the_known_ones_with_a_suggestion():
    _, issues = validate_frame("vacancies", _frame(id=["v1"], skills=["x"], hours_per_week=["32"]))
    assert len(issues) == 1
    reason = issues[0].reason
    assert "unknown column for vacancies" in reason and "Known columns: id, skills" in reason


def test_missing_required_column_is_reported():
    _, issues = validate_frame("clients", _frame(id=["k1"]))
    assert [(i.row, i.column) for i in issues] == [(None, "skills")]
    assert "required column is missing" in issues[0].reason


def test_typed_input_from_parquet_or_json_is_accepted():
    df = pd.DataFrame({
        "id": [101, 102], "skills": [["a", "b"], None], "ladder_rung": [3.0, None],
        "intake_date": [date(2024, 5, 1), None], "driving_licence": [True, False],
        "work_history": [[{"occupation": "cook", "years": 2}], []],
    })
    clean, issues = validate_frame("clients", df, today=date(2026, 1, 1))
    assert issues == []
    assert clean["id"].tolist() == ["101", "102"]
    assert clean["skills"].tolist() == [["a", "b"], []]
    assert clean["ladder_rung"].iloc[0] == 3 and pd.isna(clean["ladder_rung"].iloc[1])
    assert clean["intake_date"].tolist() == [date(2024, 5, 1), date(2026, 1, 1)]


class FakeTaxonomy:
    """What validate_frame needs of plein.taxonomy.Taxonomy: a skills frame and resolve_skills."""

    skills = pd.DataFrame({
        "label": ["operate forklift", "first aid"],
        "uri": ["http://data.europa.eu/esco/skill/aaa", "http://data.europa.eu/esco/skill/bbb"],
        "kind": ["skill/competence", "skill/competence"],
    })
    occupations = pd.DataFrame({"label": ["forklift operator"], "uri": ["http://data.europa.eu/esco/occupation/ccc"]})

    def resolve_skills(self, values):
        alt = {"forklift driving": "operate forklift"}
        return [alt[v] for v in values if v in alt], [v for v in values if v not in alt]


def test_skills_resolve_through_the_taxonomy():
    df = _frame(
        id=["k1", "k2", "k3"],
        skills=["http://data.europa.eu/esco/skill/aaa;First Aid", "forklift driving;juggling",
                "http://data.europa.eu/esco/skill/zzz;juggling"],
    )
    clean, issues = validate_frame("clients", df, taxonomy=FakeTaxonomy())
    errors = _errors(issues)
    warnings = [i for i in issues if i.severity == "warning"]
    assert [(e.row, e.column, e.value) for e in errors] == [(3, "skills", "http://data.europa.eu/esco/skill/zzz")]
    assert "does not resolve" in errors[0].reason
    # an unknown label is kept, with one warning for all its rows
    assert [(w.row, w.value) for w in warnings] == [(2, "juggling")]
    assert "2 rows" in warnings[0].reason
    assert clean["skills"].tolist() == [["operate forklift", "first aid"], ["operate forklift", "juggling"]]


def test_vacancy_occupation_uri_resolves_to_its_label():
    clean, issues = validate_frame("vacancies", _frame(id=["v1"], skills=["first aid"], occupation=["http://data.europa.eu/esco/occupation/ccc"]), taxonomy=FakeTaxonomy())
    assert issues == [] and clean.loc[0, "occupation"] == "forklift operator"


def test_csv_rows_are_numbered_as_lines_in_an_editor(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_text('\ufeffid,skills,postcode_area\nk1,"cook;\nclean",7201\n\nk2,x,7202,extra\nk3,,bad\n', encoding="utf-8")
    df, shape = read_csv(path)
    assert [(i.row, "4 fields" in i.reason) for i in shape] == [(5, True)]
    assert df["id"].tolist() == ["k1", "k3"]
    assert df.attrs["row_numbers"].tolist() == [2, 6]
    clean, issues = validate_frame("clients", df)
    # the errors found in the rows name the lines too
    assert [(i.row, i.column, i.value) for i in issues] == [(6, "postcode_area", "bad")]
    assert clean["id"].tolist() == ["k1"] and clean.loc[0, "skills"] == ["cook", "clean"]


def test_semicolon_delimited_csv_from_a_dutch_spreadsheet(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_text('id;skills;lat;lon\nk1;"cook;clean";52,14;6,2\n', encoding="utf-8")
    df, shape = read_csv(path)
    clean, issues = validate_frame("clients", df)
    assert shape == [] and issues == []
    assert clean.loc[0, "skills"] == ["cook", "clean"] and (clean.loc[0, "lat"], clean.loc[0, "lon"]) == (52.14, 6.2)


def test_unreadable_files_get_a_clear_error(tmp_path):
    bad = tmp_path / "clients.csv"
    bad.write_bytes("id,skills\nk1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(FileFormatError, match="not UTF-8"):
        read_file(bad)
    excel = tmp_path / "clients.xlsx"
    excel.write_text("x")
    with pytest.raises(FileFormatError, match="extension"):
        read_file(excel)
    with pytest.raises(FileFormatError, match="not a readable Parquet"):
        read_file(bad, format="parquet")


def test_whole_numbers_beyond_the_database_range_are_refused_not_crashed():
    df = pd.DataFrame({"id": ["v1", "v2"], "skills": ["a", "b"], "positions": ["99999999999999999999", "3"]})
    clean, errors = validate_frame("vacancies", df, source="big.csv")
    hard = [e for e in errors if e.severity == "error"]
    assert [(e.row, e.column) for e in hard] == [(1, "positions")]  # data row 1 of a frame
    assert "too large" in hard[0].reason
    assert clean["positions"].tolist() == [3]
