"""The taxonomy: builtin sanity, resolving, the ESCO CSV importer, the profiles loader."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from plein.taxonomy import ATTRIBUTION, SECTOR_CODES, Taxonomy, TaxonomyError, sector_for_isco


@pytest.fixture(scope="module")
def builtin() -> Taxonomy:
    return Taxonomy.builtin()


def test_builtin_covers_every_sector_with_real_codes(builtin):
    occ = builtin.occupations
    assert list(occ.columns) == ["label", "uri", "isco_code", "sector"]
    assert set(occ["sector"]) == set(SECTOR_CODES)
    assert 45 <= len(occ) <= 80
    assert occ["uri"].str.startswith("http://data.europa.eu/esco/occupation/").all()
    assert occ["uri"].is_unique and occ["label"].is_unique
    assert occ["isco_code"].str.fullmatch(r"\d{4}").all()
    assert list(builtin.sectors.columns) == ["code", "name_nl", "name_en"]
    assert dict(zip(builtin.sectors["code"], builtin.sectors["name_nl"]))["care"] == "zorg"


def test_builtin_occupations_have_6_to_15_essential_skills(builtin):
    rel = builtin.occupation_skills
    ess = rel[rel["relation"] == "essential"].groupby("occupation").size()
    assert ess.reindex(builtin.occupations["label"]).between(6, 15).all()
    assert (rel[rel["relation"] == "optional"].groupby("occupation").size() >= 1).all()
    assert set(rel["skill"]) == set(builtin.skills["label"])
    assert set(builtin.skills["kind"].dropna()) <= {"skill/competence", "knowledge"}


def test_builtin_sectors_mostly_follow_the_isco_mapping(builtin):
    mapped = builtin.occupations["isco_code"].map(sector_for_isco)
    agree = (mapped == builtin.occupations["sector"]).mean()
    assert agree > 0.9, builtin.occupations[mapped != builtin.occupations["sector"]]


def test_resolve_skills_case_insensitive_and_reports_unknown(builtin):
    canonical, unknown = builtin.resolve_skills(["  Lift Heavy Weights ", "stack goods", "juggling", "stack goods"])
    assert canonical == ["lift heavy weights", "stack goods", "stack goods"]
    assert unknown == ["juggling"]


def test_resolve_occupation_by_uri_and_label(builtin):
    row = builtin.occupations.iloc[0]
    assert builtin.resolve_occupation(row["uri"]) == row["label"]
    assert builtin.resolve_occupation(row["label"].upper()) == row["label"]
    assert builtin.resolve_occupation("astronaut") is None


def test_skill_and_hierarchy_helpers(builtin):
    assert "comply with food safety and hygiene" in builtin.essential_skills("cook")
    assert builtin.optional_skills("cook")
    assert builtin.isco_code("cook") == "5120"
    assert builtin.sector_of("cook") == "hospitality"
    # kitchen assistant and kitchen porter share ISCO unit group 9412
    assert "kitchen porter" in builtin.related_occupations("kitchen assistant", level=4)
    assert set(builtin.occupations_in_group("94")) >= {"kitchen porter", "kitchen assistant"}
    with pytest.raises(KeyError, match="unknown occupation"):
        builtin.essential_skills("astronaut")
    with pytest.raises(ValueError, match="1-4 digits"):
        builtin.occupations_in_group("12345")


def test_isco_sector_mapping_longest_prefix_wins():
    assert sector_for_isco("7126") == "technical"  # plumbers, not construction (71)
    assert sector_for_isco("7112") == "construction"
    assert sector_for_isco("8344") == "logistics"
    assert sector_for_isco("8342") == "construction"
    assert sector_for_isco("2654.1.7") == "business_services"
    assert sector_for_isco(None) == "business_services"


def test_save_and_load_round_trip(builtin, data_dir):
    from plein.settings import get_settings

    assert Taxonomy.load().source == "builtin"  # nothing imported yet
    small = Taxonomy(
        occupations=builtin.occupations.head(3),
        skills=builtin.skills,
        occupation_skills=builtin.occupation_skills[builtin.occupation_skills["occupation"].isin(builtin.occupations["label"].head(3))],
        source="subset",
    )
    small.save(get_settings().data_dir / "taxonomy")
    loaded = Taxonomy.load()
    assert loaded.source == "subset"
    pd.testing.assert_frame_equal(loaded.occupations, small.occupations.astype(object))
    assert loaded.resolve_skills(["STACK GOODS"])[0] == ["stack goods"]


def test_inconsistent_taxonomy_is_refused(builtin):
    bad = builtin.occupation_skills.copy()
    bad.loc[0, "relation"] = "mandatory"
    with pytest.raises(TaxonomyError, match="essential or optional"):
        Taxonomy(builtin.occupations, builtin.skills, bad)


def test_attribution_text():
    assert ATTRIBUTION == "This service uses the ESCO classification of the European Commission."


# --------------------------------------------------------------------------- ESCO CSV


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


OCC = "http://data.europa.eu/esco/occupation/"
SK = "http://data.europa.eu/esco/skill/"
ISCO = "http://data.europa.eu/esco/isco/C"


@pytest.fixture
def esco_folder(tmp_path) -> Path:
    _write(tmp_path / "occupations_en.csv",
           ["conceptType", "conceptUri", "iscoGroup", "preferredLabel", "altLabels", "status", "code"],
           [["Occupation", OCC + "o1", "5120", "cook ", "chef de partie\nline cook", "released", "5120.1"],
            ["Occupation", OCC + "o2", ISCO + "9412", "kitchen porter", "", "released", "9412.2"],
            ["Occupation", OCC + "o3", "7126", "plumber", "", "released", "7126.1"]])
    _write(tmp_path / "skills_en.csv",
           ["conceptType", "conceptUri", "skillType", "reuseLevel", "preferredLabel", "altLabels", "status"],
           [["KnowledgeSkillCompetence", SK + "s1", "skill/competence", "sector-specific", "use food cutting tools", "", "released"],
            ["KnowledgeSkillCompetence", SK + "s2", "knowledge", "cross-sector", "food safety principles", "", "released"],
            ["KnowledgeSkillCompetence", SK + "s3", "skill/competence", "transversal", "clean surfaces", "", "released"],
            ["KnowledgeSkillCompetence", SK + "s4", "skill/competence", "sector-specific", "install pipes", "", "released"]])
    _write(tmp_path / "occupationSkillRelations_en.csv",
           ["occupationUri", "relationType", "skillType", "skillUri"],
           [[OCC + "o1", "essential", "skill/competence", SK + "s1"],
            [OCC + "o1", "essential", "knowledge", SK + "s2"],
            [OCC + "o1", "optional", "skill/competence", SK + "s3"],
            [OCC + "o2", "essential", "skill/competence", SK + "s3"],
            [OCC + "o2", "optional", "skill/competence", SK + "s1"],
            [OCC + "o3", "essential", "skill/competence", SK + "s4"],
            [OCC + "o3", "essential", "skill/competence", SK + "s-unknown"]])
    _write(tmp_path / "ISCOGroups_en.csv",
           ["conceptType", "conceptUri", "code", "preferredLabel", "status"],
           [["ISCOGroup", ISCO + "9412", "9412", "Kitchen helpers", "released"],
            ["ISCOGroup", ISCO + "5120", "5120", "Cooks", "released"]])
    return tmp_path


def test_esco_csv_importer(esco_folder):
    tax = Taxonomy.from_esco_csv(esco_folder)
    occ = tax.occupations.set_index("label")
    assert list(occ.index) == ["cook", "kitchen porter", "plumber"]  # labels trimmed
    assert occ.loc["kitchen porter", "isco_code"] == "9412"  # iscoGroup given as URI resolved
    assert occ.loc["plumber", "sector"] == "technical"
    assert occ.loc["cook", "sector"] == "hospitality"
    assert tax.skills.set_index("label").loc["food safety principles", "kind"] == "knowledge"
    assert tax.essential_skills("cook") == ["use food cutting tools", "food safety principles"]
    assert tax.optional_skills("kitchen porter") == ["use food cutting tools"]
    assert tax.essential_skills("plumber") == ["install pipes"]  # relation to an unknown skill dropped
    assert tax.resolve_occupation("Line Cook") == "cook"  # alternative label
    assert tax.resolve_skills([SK + "s3"]) == (["clean surfaces"], [])
    assert tax.isco_groups["9412"] == "Kitchen helpers"


def test_esco_csv_importer_reports_missing_file_and_columns(esco_folder):
    (esco_folder / "skills_en.csv").unlink()
    with pytest.raises(TaxonomyError, match="skills_en.csv: file not found"):
        Taxonomy.from_esco_csv(esco_folder)
    _write(esco_folder / "skills_en.csv", ["conceptUri", "label"], [[SK + "s1", "x"]])
    with pytest.raises(TaxonomyError, match=r"missing column\(s\) \['preferredLabel'\]"):
        Taxonomy.from_esco_csv(esco_folder)


def test_esco_csv_importer_reports_bad_relation_type_with_row(esco_folder):
    path = esco_folder / "occupationSkillRelations_en.csv"
    text = path.read_text().replace("optional", "maybe", 1)
    path.write_text(text)
    with pytest.raises(TaxonomyError, match="row 4: relationType 'maybe'"):
        Taxonomy.from_esco_csv(esco_folder)


def test_esco_cli_import_then_show(esco_folder, data_dir):
    from typer.testing import CliRunner

    from plein.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["taxonomy", "import-esco", str(esco_folder)])
    assert result.exit_code == 0, result.output
    assert (data_dir / "taxonomy" / "occupations.parquet").is_file()
    result = runner.invoke(app, ["taxonomy", "show", "line cook"])
    assert result.exit_code == 0, result.output
    assert "cook" in result.output and "use food cutting tools" in result.output
    result = runner.invoke(app, ["taxonomy", "import-esco", str(esco_folder / "nowhere")])
    assert result.exit_code == 1


# --------------------------------------------------------------------------- profiles


def test_profiles_loader(shared_data):
    tax = Taxonomy.from_profiles(shared_data / "esco" / "occupation_profiles.parquet")
    assert len(tax.occupations) == 3039
    assert tax.occupations["label"].str.strip().eq(tax.occupations["label"]).all()
    assert tax.occupations["isco_code"].str.fullmatch(r"\d{4}").all()
    assert set(tax.occupations["sector"]) == set(SECTOR_CODES)
    assert len(tax.skills) > 10_000
    assert tax.resolve_occupation("machine learning engineer") == "artificial intelligence engineer"
    assert "Python (computer programming)" in tax.essential_skills("artificial intelligence engineer")
    # every builtin occupation and skill is a real ESCO preferred label
    builtin = Taxonomy.builtin()
    _, unknown_occ = tax.resolve_occupations(builtin.occupations["label"])
    assert unknown_occ == []
    _, unknown_skills = tax.resolve_skills(builtin.skills["label"])
    assert unknown_skills == []
    assert set(builtin.occupations["uri"]) <= set(tax.occupations["uri"])


def test_profiles_loader_refuses_other_files(tmp_path):
    path = tmp_path / "x.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(path)
    with pytest.raises(TaxonomyError, match="missing column"):
        Taxonomy.from_profiles(path)
    with pytest.raises(TaxonomyError, match="not found"):
        Taxonomy.from_profiles(tmp_path / "none.parquet")


def test_missing_columns_are_named(builtin):
    with pytest.raises(TaxonomyError, match=r"skills lacks column\(s\) \['kind'\]"):
        Taxonomy(builtin.occupations, builtin.skills.drop(columns="kind"), builtin.occupation_skills)


def test_taxonomy_is_hashable_by_identity(builtin):
    assert {builtin: 1}[builtin] == 1
