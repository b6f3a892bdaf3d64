import pandas as pd
from typer.testing import CliRunner

from plein.cli import app

runner = CliRunner()


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_recommend_on_minimal_files(tmp_path, data_dir):
    clients = _write(tmp_path, "clients.csv", "id,skills\nc1,prepare meals;food safety\nc2,operate forklift\nc3,\n")
    vacancies = _write(tmp_path, "vacancies.csv",
                       "id,skills\nv1,prepare meals;food safety;plan menus\nv2,operate forklift;load goods\nv3,prepare meals\n")
    out = tmp_path / "out" / "recs.csv"
    result = runner.invoke(app, ["recommend", "--clients", str(clients), "--vacancies", str(vacancies), "--top", "2",
                                 "--out", str(out), "--no-taxonomy"])
    assert result.exit_code == 0, result.output
    recs = pd.read_csv(out)
    assert list(recs.columns) == ["client_id", "rank", "vacancy_id", "score"]
    by_client = {c: g.sort_values("rank")["vacancy_id"].tolist() for c, g in recs.groupby("client_id")}
    assert by_client["c1"] == ["v1", "v3"] or by_client["c1"] == ["v3", "v1"]
    assert by_client["c2"] == ["v2"]
    assert "c3" not in by_client  # no skills, no evidence, no recommendation
    assert recs.groupby("client_id")["rank"].apply(lambda r: list(r) == list(range(1, len(r) + 1))).all()
    assert (recs["score"].diff().fillna(0)[recs["rank"] > 1] <= 1e-12).all()


def test_recommend_parquet_output_and_top_n(tmp_path, data_dir):
    clients = pd.DataFrame({"id": ["a"], "skills": [["s1", "s2"]]})
    vacancies = pd.DataFrame({"id": [f"v{i}" for i in range(6)], "skills": [["s1"], ["s2"], ["s1", "s2"], ["s1", "x"], ["s2", "y"], ["z"]]})
    clients.to_parquet(tmp_path / "c.parquet")
    vacancies.to_parquet(tmp_path / "v.parquet")
    out = tmp_path / "r.parquet"
    result = runner.invoke(app, ["recommend", "--clients", str(tmp_path / "c.parquet"), "--vacancies", str(tmp_path / "v.parquet"),
                                 "--top", "3", "--out", str(out), "--no-taxonomy"])
    assert result.exit_code == 0, result.output
    recs = pd.read_parquet(out)
    assert recs["rank"].tolist() == [1, 2, 3]
    assert recs["vacancy_id"].iloc[0] == "v2"  # holds both of its skills and both of the client's


def test_recommend_reports_bad_input(tmp_path, data_dir):
    clients = _write(tmp_path, "clients.csv", "id,skills,hours_available\nc1,cook,lots\n")
    vacancies = _write(tmp_path, "vacancies.csv", "id,skills\nv1,cook\n")
    result = runner.invoke(app, ["recommend", "--clients", str(clients), "--vacancies", str(vacancies), "--out",
                                 str(tmp_path / "o.csv"), "--no-taxonomy"])
    assert result.exit_code == 2
    assert "hours_available" in result.output and "row" in result.output
    missing = runner.invoke(app, ["recommend", "--clients", str(tmp_path / "nope.csv"), "--vacancies", str(vacancies), "--out",
                                  str(tmp_path / "o.csv"), "--no-taxonomy"])
    assert missing.exit_code == 2 and "not found" in missing.output


def test_match_command_lists_and_explains_from_the_database(data_dir):
    from plein.storage import get_engine, import_frame, upgrade

    engine = get_engine()
    upgrade(engine)
    import_frame(engine, "clients", pd.DataFrame({"id": ["K1", "K2"], "skills": ["cook;bake", "cook"],
                                                  "ladder_rung": [5, 2]}), taxonomy=None)
    import_frame(engine, "vacancies", pd.DataFrame({"id": ["V1"], "skills": ["cook;bake"]}), taxonomy=None)
    listed = runner.invoke(app, ["match", "--vacancy", "V1"])
    assert listed.exit_code == 0, listed.output
    assert "K1" in listed.output and "K2" not in listed.output.split("excluded by")[0]
    why = runner.invoke(app, ["match", "--vacancy", "V1", "--client", "K2"])
    assert why.exit_code == 0, why.output
    assert "rung 2" in why.output
    unknown = runner.invoke(app, ["match", "--vacancy", "nope"])
    assert unknown.exit_code == 2 and "unknown vacancy" in unknown.output


def test_lists_command_caps_exposure(data_dir, tmp_path):
    from plein.storage import get_engine, import_frame, upgrade

    engine = get_engine()
    upgrade(engine)
    skills = "load goods;pick orders;warehouse safety"
    clients = pd.DataFrame({"id": [f"K{i}" for i in range(12)], "skills": [skills] * 3 + ["load goods;pick orders"] * 9})
    import_frame(engine, "clients", clients, taxonomy=None)
    import_frame(engine, "vacancies", pd.DataFrame({"id": [f"V{i}" for i in range(4)], "skills": [skills] * 4}), taxonomy=None)
    out = tmp_path / "lists.csv"
    result = runner.invoke(app, ["lists", "--top", "3", "--cap", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lists = pd.read_csv(out)
    assert len(lists) == 12 and lists.groupby("client_id").size().max() == 1
    assert "cap 1" in result.output and "Gini" in result.output
