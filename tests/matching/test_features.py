import datetime as dt

import numpy as np
import pandas as pd
import pytest

from matching.features import FEATURE_COLUMNS, FEATURE_DOCS, pair_features
from matching.index import CLIENT_COLUMNS, MatchIndex
from plein.domain import PROTECTED_ATTRIBUTES


def test_feature_columns_are_documented_and_free_of_protected_attributes():
    assert FEATURE_COLUMNS == list(FEATURE_DOCS)
    assert all(FEATURE_DOCS[c].strip() for c in FEATURE_COLUMNS)
    assert not set(PROTECTED_ATTRIBUTES) & set(FEATURE_COLUMNS)
    assert not set(PROTECTED_ATTRIBUTES) & set(CLIENT_COLUMNS)
    # proxies of protected grounds are left out on purpose
    assert not {"age_band", "newcomer", "special_group", "languages", "postcode_area"} & set(FEATURE_COLUMNS)


def test_protected_columns_in_input_never_reach_the_index_or_features(helpers):
    clients = helpers.frame([helpers.client("a", ["cook"]), helpers.client("b", ["cook"])])
    clients["gender"] = ["female", "male"]
    clients["migration_background"] = ["none", "non_western"]
    vacancies = helpers.frame([helpers.vacancy("v", ["cook"])])
    ix = MatchIndex(clients, vacancies)
    assert not set(PROTECTED_ATTRIBUTES) & set(ix.clients.columns)
    X = pair_features(None, None, [("a", "v"), ("b", "v")], index=ix, as_of=helpers.AS_OF)
    # identical except the protected attributes -> identical features
    assert X.loc[0, FEATURE_COLUMNS].tolist() == X.loc[1, FEATURE_COLUMNS].tolist()


def test_minimal_frames_with_id_and_skills_work():
    clients = pd.DataFrame({"id": ["c1", "c2"], "skills": ["cook;food safety", ""]})
    vacancies = pd.DataFrame({"id": ["v1"], "skills": ["cook; hygiene"]})
    X = pair_features(clients, vacancies, pd.DataFrame({"client_id": ["c1", "c2"], "vacancy_id": ["v1", "v1"]}))
    assert list(X.columns) == ["client_id", "vacancy_id"] + FEATURE_COLUMNS
    assert X.loc[0, "essential_matched"] == 1 and X.loc[0, "essential_missing"] == 1
    assert X.loc[1, "essential_matched"] == 0 and X.loc[1, "skill_similarity"] == 0
    assert not X[FEATURE_COLUMNS].isna().any().any()


def test_unknown_pair_ids_raise_clear_errors():
    clients = pd.DataFrame({"id": ["c1"], "skills": ["cook"]})
    vacancies = pd.DataFrame({"id": ["v1"], "skills": ["cook"]})
    with pytest.raises(KeyError, match="unknown client 'nobody'"):
        pair_features(clients, vacancies, [("nobody", "v1")])
    with pytest.raises(ValueError, match="missing column"):
        pair_features(clients, vacancies, pd.DataFrame({"client_id": ["c1"]}))


def test_values_of_simple_features(helpers, tiny_taxonomy):
    clients = helpers.frame([
        helpers.client("a", ["prepare meals", "food safety"], hours_available=16, driving_licence=False,
                       dutch_level="A2", ladder_rung=None, certificates=["VCA"], lat=None, lon=None,
                       work_history=[{"occupation": "cook", "years": 4}, {"occupation": "chef", "years": 2}]),
    ])
    vacancies = helpers.frame([helpers.vacancy("v", ["prepare meals", "plan menus"], ["bake bread"], occupation="cook",
                                               hours=32, requires_licence=True, certificates=["VCA", "BHV"],
                                               min_dutch_level="B1", supported_work=True)])
    X = pair_features(clients, vacancies, [("a", "v")], taxonomy=tiny_taxonomy, as_of=dt.date(2025, 7, 15))
    r = X.iloc[0]
    assert r.hours_fit == pytest.approx(0.5)
    assert r.licence_fit == 0 and r.certificate_coverage == pytest.approx(0.5)
    assert r.dutch_margin == -1 and r.dutch_known == 1  # A2 vs B1
    assert r.rung_known == 0 and r.ladder_rung == 0 and r.rung_margin == 0
    assert r.distance_known == 0 and r.distance_km == 0
    assert r.occupation_experience_years == 4 and r.related_experience_years == 0  # chef is another ISCO group
    assert r.months_since_intake == pytest.approx(181 / 30.4375)
    assert r.supported_work == 1
    assert r.transferable_similarity > 0  # plan menus comes from the cook history


def test_as_of_per_pair(helpers):
    clients = helpers.frame([helpers.client("a", ["cook"], intake_date=dt.date(2025, 1, 1))])
    vacancies = helpers.frame([helpers.vacancy("v", ["cook"])])
    X = pair_features(clients, vacancies, [("a", "v"), ("a", "v")], as_of=[dt.date(2025, 1, 31), dt.date(2025, 3, 2)])
    assert X["months_since_intake"].tolist() == pytest.approx([30 / 30.4375, 60 / 30.4375])


def _random_data(rng, n_clients=300, n_vacancies=40):
    skills = [f"skill {i}" for i in range(60)]
    clients = pd.DataFrame({
        "id": [f"c{i}" for i in range(n_clients)],
        "skills": [list(rng.choice(skills, size=rng.integers(0, 8), replace=False)) for _ in range(n_clients)],
        "work_history": [[{"occupation": str(rng.choice(["cook", "chef", "warehouse worker"])), "years": float(rng.integers(0, 6))}]
                         for _ in range(n_clients)],
    })
    vacancies = pd.DataFrame({
        "id": [f"v{i}" for i in range(n_vacancies)],
        "skills": [list(rng.choice(skills, size=rng.integers(1, 6), replace=False)) for _ in range(n_vacancies)],
        "optional_skills": [list(rng.choice(skills, size=rng.integers(0, 4), replace=False)) for _ in range(n_vacancies)],
        "occupation": [str(rng.choice(["cook", "chef", "forklift operator"])) for _ in range(n_vacancies)],
    })
    return clients, vacancies


def test_column_slices_and_row_wise_pairs_agree(tiny_taxonomy):
    """Candidate generation (column slices, both directions) and pair_features (row-wise)
    compute the same skill quantities: one definition of the features."""
    rng = np.random.default_rng(3)
    clients, vacancies = _random_data(rng)
    # give the tiny taxonomy's skills to some rows so transferable skills are non-trivial
    clients.loc[:20, "skills"] = pd.Series([["prepare meals", "food safety"]] * 21)
    vacancies.loc[:5, "skills"] = pd.Series([["plan menus", "prepare meals", "lead kitchen staff"]] * 6)
    ix = MatchIndex(clients, vacancies, taxonomy=tiny_taxonomy)
    assert ix.T.nnz > 0
    names = ["skill_similarity", "essential_coverage", "optional_coverage", "transferable_similarity",
             "essential_matched", "essential_missing"]
    for v in range(len(vacancies)):
        cols = ix.vacancy_skill_scores(v)
        rows = ix.pair_skill_arrays(np.arange(len(clients)), np.full(len(clients), v))
        for n in names:
            np.testing.assert_allclose(cols[n], rows[n], rtol=1e-5, atol=1e-6, err_msg=n)
    for c in range(0, len(clients), 17):
        cols = ix.client_skill_scores(c)
        rows = ix.pair_skill_arrays(np.full(len(vacancies), c), np.arange(len(vacancies)))
        for n in names:
            np.testing.assert_allclose(cols[n], rows[n], rtol=1e-5, atol=1e-6, err_msg=n)
