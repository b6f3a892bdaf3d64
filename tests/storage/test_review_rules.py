"""Rules added after the user review (docs/import-formats.md, docs/privacy-and-fairness.md):
BSNs wherever they are typed, one id rule for every write path, PC4 postcode areas, points and
periods that make sense, and homes kept at postcode-area precision. No database needed."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

from plein import domain, schema
from plein.storage import validate_frame


def _frame(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols, dtype="str")


def _errors(issues):
    return [i for i in issues if i.severity == "error"]


# --------------------------------------------------------------------------------------------
# BSNs


@pytest.mark.parametrize("value", [
    "123456782", "123.456.782", "1234 56 782", "bsn123456782", "K123456782",
    # separators the review got through: hyphens, underscores, non-breaking and thin spaces
    "123-456-782", "123_456_782", "bsn-123-45-6782", "1234.56.782", "123\u00a0456\u00a0782",
    "123\u202f456\u202f782", "123\u2013456\u2013782", "123 - 456 - 782", "K-123-456-782",
    # an 8-digit BSN (written without its leading zero), whole or in groups
    "12345672", "012345672", "12.345.672",
])
def test_bsns_in_any_usual_writing_are_recognised(value):
    assert domain.is_bsn(value)


@pytest.mark.parametrize("value", [
    # pseudonyms with counters, however they are joined: the groups have no BSN shape, or the
    # counter has too few significant digits to be a BSN (a BSN has 8 or 9)
    "c-2024-0004", "K-2024-00012", "K00000012", "K-2024-000123", "K000001", "client-000123456",
    "kl-001-002-003", "12-345-6782", "1234567820", "12345678", "k-3",
    # phone numbers, dates, postcodes
    "0612345678", "06-12345678", "06 1234 5678", "0612 345 678", "020-123-4567", "+31 6 12345678",
    "2024-03-15", "7201", "7201 AB",
    # software-written hashes and UUIDs (outcome ids)
    "out-3f2a123456782c9d", "123e4567-e89b-12d3-a456-426614174000",
])
def test_pseudonyms_phone_numbers_and_hashes_are_no_bsn(value):
    assert not domain.is_bsn(value)


@pytest.mark.parametrize("value", [
    "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff12",  # full-width, as some input methods type it
    "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0662",  # Arabic-Indic
    "bsn \u0967\u0968\u0969.\u096a\u096b\u096c.\u096d\u096e\u0968",  # Devanagari, in groups
    "12\uff13456782",  # mixed
])
def test_a_bsn_in_the_digits_of_another_script_is_recognised(value):
    assert domain.is_bsn(value) and domain.holds_bsn(value)
    assert not domain.is_bsn(value[:-1] + ("0" if value[-1] != "0" else "1"))  # the eleven-test still decides
    # the bulk check's first look sees it too (pandas' own strings and Arrow's RE2)
    for dtype in (object, "string[pyarrow]"):
        assert pd.Series([value, "caf\u00e9"], dtype=dtype).str.contains(domain.HOLDS_BSN_HINT).tolist() == [True, False]


def test_a_bsn_in_other_digits_is_refused_in_free_text():
    outcomes = _frame(id=["o1", "o2"], client_id=["k1"] * 2, vacancy_id=["v1"] * 2, date=["2025-01-02"] * 2,
                      stage=["rejected"] * 2, reason=["bsn \uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff12", "geen"])
    _, issues = validate_frame("outcomes", outcomes)
    assert [(i.row, i.column) for i in _errors(issues)] == [(1, "reason")] and "BSN" in _errors(issues)[0].reason


def test_hyphenated_pseudonyms_with_counters_all_pass():
    """A previous version joined every hyphenated digit group and refused about 1 in 11 of
    these (the joined digits pass the eleven-test that often)."""
    ids = [f"K-{year}-{n:05d}" for year in (2023, 2024, 2025) for n in range(0, 3000, 7)]
    ids += [f"c-{year}-{n:04d}" for year in (2024, 2025) for n in range(0, 10000, 13)]
    ids += [f"client-{n:09d}" for n in range(0, 10_000_000, 9973)]
    assert not [i for i in ids if domain.is_bsn(i)]


def test_a_bsn_typed_as_id_with_any_separator_is_refused():
    ids = ["123-456-782", "123_456_782", "bsn-123-45-6782", "1234.56.782", "123\u00a0456\u00a0782", "c-2024-0004", "K-2024-00012"]
    _, issues = validate_frame("clients", _frame(id=ids, skills=[""] * len(ids)))
    bsn = [i for i in issues if "BSN" in i.reason]
    assert [(i.row, i.column) for i in bsn] == [(1, "id"), (2, "id"), (3, "id"), (4, "id"), (5, "id")]
    assert all("pseudonym" in i.reason for i in bsn)


def test_a_bsn_in_free_text_list_and_postcode_columns_is_refused_naming_the_column():
    clients = _frame(
        id=["k1", "k2", "k3", "k4"], skills=["", "", "", ""],
        postcode_area=["123456782", "7201", "7201", "7201"],
        certificates=["VCA", "VCA;123456782", "", ""],
        languages=["nl", "nl", "123-456-782", "nl"],
        work_history=["", "", "", "cook 123456782=2"],
    )
    _, issues = validate_frame("clients", clients)
    bsn = [(i.row, i.column) for i in issues if "BSN" in i.reason]
    assert bsn == [(1, "postcode_area"), (2, "certificates"), (3, "languages"), (4, "work_history")]
    text = next(str(i) for i in issues if "BSN" in i.reason and i.column == "certificates")
    assert "in certificates" in text and "pseudonym" in text

    _, issues = validate_frame("vacancies", _frame(id=["v1", "v2"], skills=["cook", "cook"], title=["contact 123456782", "Kok (m/v/x)"]))
    assert [(i.row, i.column) for i in _errors(issues)] == [(1, "title")] and "BSN" in issues[0].reason

    outcomes = _frame(id=["o1", "o2", "o3"], client_id=["k1"] * 3, vacancy_id=["v1"] * 3, date=["2025-01-02"] * 3,
                      stage=["rejected"] * 3, reason=["klant met BSN 123456782 kwam niet", "bel 0612345678", "bsn 1234.56.782"])
    _, issues = validate_frame("outcomes", outcomes)
    assert [(i.row, i.column) for i in _errors(issues)] == [(1, "reason"), (3, "reason")]


def test_a_bsn_as_any_entitys_id_or_reference_is_refused():
    _, issues = validate_frame("coaches", _frame(id=["123456782", "coach-1"], municipalities=["", "GM0301;123.456.782"]))
    assert [(i.row, i.column) for i in issues] == [(1, "id"), (2, "municipalities")]
    assert all("BSN" in i.reason for i in issues)
    _, issues = validate_frame("vacancies", _frame(id=["vac-123456782"], skills=["cook"], employer_id=["123_456_782"]))
    assert [(i.row, i.column) for i in issues] == [(1, "id"), (1, "employer_id")]
    # a KvK number (8 digits) as an employer id is no BSN; nor are generated outcome ids
    _, issues = validate_frame("employers", _frame(id=["12345672"]))
    assert issues == []
    _, issues = validate_frame("outcomes", _frame(id=["out-3f2a123456782c9d"], client_id=["k1"], vacancy_id=["v1"],
                                                  date=["2025-01-02"], stage=["proposed"]))
    assert issues == []


def test_skill_uris_are_not_read_as_bsns_but_typed_labels_are():
    uri = "http://data.europa.eu/esco/skill/0a1b2c3d-4e5f-4a6b-8c7d-123456782abc"
    _, issues = validate_frame("clients", _frame(id=["k1", "k2"], skills=[uri, "cook;bsn 123456782"]))
    assert [(i.row, i.column) for i in _errors(issues)] == [(2, "skills")]


# --------------------------------------------------------------------------------------------
# one id rule


def test_storage_and_the_api_share_one_id_pattern():
    from api import schemas

    assert schemas.ID_PATTERN is schema.ID_PATTERN and schemas.MAX_ID_LENGTH == schema.MAX_ID_LENGTH


def test_ids_the_api_could_not_serve_are_refused_on_import():
    ids = ["K/imp 4", "K?x#1", "K%20", "ok-1", "K\\1", "K\t1", "x" * 101, "k.2:a_b"]
    _, issues = validate_frame("clients", _frame(id=ids, skills=[""] * len(ids)), source="clients.csv", row_numbers=range(2, 10))
    assert [(i.row, i.column) for i in issues] == [(2, "id"), (3, "id"), (4, "id"), (6, "id"), (7, "id"), (8, "id")]
    text = str(issues[0])
    assert text.startswith("clients.csv, row 2, column 'id': not an id") and "spaces, slashes, '?', '#', '%'" in text
    # every id column, references and lists of references too
    _, issues = validate_frame("clients", _frame(id=["k1"], skills=[""], coach_id=["coach 1"], municipality=["GM/0301"]))
    assert [(i.row, i.column) for i in issues] == [(1, "municipality"), (1, "coach_id")]
    _, issues = validate_frame("coaches", _frame(id=["c1"], team_id=["team#1"], municipalities=["GM0301;GM 0262"]))
    assert [(i.row, i.column) for i in issues] == [(1, "team_id"), (1, "municipalities")]
    assert "'GM 0262'" in issues[1].reason


def test_every_id_the_validator_accepts_the_api_pattern_accepts():
    for value in ["K-2024-00012", "GM0301", "vac:3505", "é-1", "a" * 100]:
        assert re.match(schema.ID_PATTERN, value)
        _, issues = validate_frame("teams", _frame(id=[value]))
        assert issues == [], value


# --------------------------------------------------------------------------------------------
# PC4


def test_postcode_area_is_a_four_digit_pc4():
    values = ["Dorpsstraat 5, 7201AB Zutphen", "7201 AB 12", "7201AB", "0123", "72011", "7201", " 7231 ", ""]
    clean, issues = validate_frame("clients", _frame(id=[f"k{i}" for i in range(8)], skills=[""] * 8, postcode_area=values))
    assert [(i.row, i.column) for i in issues] == [(r, "postcode_area") for r in (1, 2, 3, 4, 5)]
    assert "four-digit postcode area (PC4)" in issues[0].reason and "1000 and 9999" in issues[0].reason
    assert clean["postcode_area"].tolist()[:2] == ["7201", "7231"] and pd.isna(clean["postcode_area"].iloc[2])
    # from Parquet or JSON a PC4 may come as a number
    clean, issues = validate_frame("clients", pd.DataFrame({"id": ["k1"], "skills": [[]], "postcode_area": [7201]}))
    assert issues == [] and clean.loc[0, "postcode_area"] == "7201"


# --------------------------------------------------------------------------------------------
# vacancies and points


def test_every_vacancy_that_makes_no_sense_is_reported_at_once():
    df = _frame(
        id=["v1", "v2", "v3", "v4", "v5"], skills=["cook"] * 5,
        open_date=["2026-11-01", "2026-01-01", "2026-01-01", "2026-01-01", "2026-01-01"],
        close_date=["2026-01-01", "2026-01-01", "", "2026-02-01", "2026-03-01"],
        lat=["52.14", "52.14", "52.14", "", "52.14"],
        lon=["6.2", "6.2", "", "6.2", "6.2"],
        min_dutch_level=["B1", "", "A2", "B2", "unknown"],
    )
    clean, issues = validate_frame("vacancies", df, source="vacancies.csv", row_numbers=range(2, 7))
    assert [(i.row, i.column) for i in issues] == [
        (2, "close_date"), (4, "lon"), (5, "lat"), (6, "min_dutch_level"),
    ]
    by_row = {i.row: i for i in issues}
    assert "before open_date 2026-11-01" in by_row[2].reason and by_row[2].value == "2026-01-01"
    assert "lat is given" in by_row[4].reason and "lon is given" in by_row[5].reason
    assert "not one of none, A1, A2, B1, B2, C1, C2" in by_row[6].reason
    assert clean["id"].tolist() == ["v2"]  # closing on the day it opened is fine


def test_a_close_date_before_the_default_open_date_says_so():
    _, issues = validate_frame("vacancies", _frame(id=["v1"], skills=["cook"], open_date=[""], close_date=["2026-01-01"]),
                               today=date(2026, 3, 1))
    assert [(i.row, i.column) for i in issues] == [(1, "close_date")]
    assert "2026-03-01 (empty: the day of the import)" in issues[0].reason


def test_half_a_point_is_refused_for_clients_too_also_when_a_column_is_missing():
    _, issues = validate_frame("clients", _frame(id=["k1", "k2", "k3"], skills=[""] * 3, lat=["52.1", "", ""], lon=["", "6.2", ""]))
    assert [(i.row, i.column) for i in issues] == [(1, "lon"), (2, "lat")]
    # only one of the columns: setting or clearing half a stored point
    _, issues = validate_frame("vacancies", _frame(id=["v1", "v2"], skills=["cook", "cook"], lat=["52.14", ""]))
    assert [(i.row, i.column) for i in issues] == [(1, "lon"), (2, "lon")]
    assert "give lat and lon together" in issues[0].reason


# --------------------------------------------------------------------------------------------
# homes at postcode-area precision


def test_client_homes_are_rounded_to_postcode_area_precision_other_places_are_not():
    clean, issues = validate_frame("clients", _frame(id=["k1", "k2"], skills=["", ""], lat=["52.14132", "52,1351"], lon=["6.21626", "6.2"]))
    assert issues == []
    assert clean["lat"].tolist() == [52.14, 52.14] and clean["lon"].tolist() == [6.22, 6.2]
    for table in ("vacancies", "employers", "coaches", "municipalities"):
        cols = {"id": ["x1"], "lat": ["52.14132"], "lon": ["6.21626"]} | ({"skills": ["cook"]} if table == "vacancies" else {})
        clean, issues = validate_frame(table, _frame(**cols))
        assert issues == [] and (clean.loc[0, "lat"], clean.loc[0, "lon"]) == (52.14132, 6.21626), table


# --------------------------------------------------------------------------------------------
# range messages


def test_a_number_far_out_of_range_gets_the_columns_range_not_the_databases_limit():
    df = pd.DataFrame({"id": ["k1", "k2"], "skills": [[], []], "hours_available": [1e12, 61]})
    _, issues = validate_frame("clients", df)
    assert [(i.row, i.reason) for i in issues] == [(1, "must be between 0 and 60"), (2, "must be between 0 and 60")]
