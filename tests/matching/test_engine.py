import datetime as dt

import numpy as np
import pandas as pd
import pytest

from matching.config import MatchConfig
from matching.engine import Matcher
from matching.features import FEATURE_COLUMNS
from matching.scoring import rule_score

KITCHEN = ["prepare meals", "food safety", "use kitchen equipment", "plan menus"]


@pytest.fixture
def kitchen(helpers, tiny_taxonomy):
    clients = helpers.frame([
        helpers.client("full", KITCHEN),
        helpers.client("half", KITCHEN[:2]),
        helpers.client("one", KITCHEN[:1], lat=helpers.LOCHEM[0], lon=helpers.LOCHEM[1]),
        # no kitchen skills listed, but three years as a cook: found through the occupation
        helpers.client("history", ["drive car"], work_history=[{"occupation": "cook", "years": 3}]),
        # a sibling occupation in the same ISCO unit group would count; chef is another group
        helpers.client("forklift", ["operate forklift", "load goods"]),
    ])
    vacancies = helpers.frame([
        helpers.vacancy("cook-job", KITCHEN, ["bake bread"], occupation="cook"),
        helpers.vacancy("warehouse-job", ["load goods", "pick orders", "warehouse safety"], occupation="warehouse worker"),
        helpers.vacancy("care-job", ["assist patients", "hygiene care"], ["prepare meals"]),
    ])
    return Matcher(clients, vacancies, taxonomy=tiny_taxonomy, as_of=helpers.AS_OF)


def test_candidates_ranked_by_skill_fit(kitchen):
    lst = kitchen.candidates_for_vacancy("cook-job", top=10)
    ids = lst.ids()
    assert ids[:3] == ["full", "half", "one"]
    assert "forklift" not in ids
    assert [r.rank for r in lst.results] == list(range(1, len(ids) + 1))
    assert all(a.score >= b.score for a, b in zip(lst.results, lst.results[1:]))


def test_transferable_skills_find_a_client_from_work_history(kitchen):
    ids = kitchen.candidates_for_vacancy("cook-job", top=10).ids()
    assert "history" in ids
    r = next(r for r in kitchen.candidates_for_vacancy("cook-job").results if r.client_id == "history")
    assert r.features["essential_matched"] == 0 and r.features["transferable_similarity"] > 0
    assert set(r.reasons["transferable_skills"]) == set(KITCHEN)
    assert r.features["occupation_experience_years"] == 3


def test_reasons_match_the_score(kitchen):
    for r in kitchen.candidates_for_vacancy("cook-job", top=10).results:
        contrib = r.reasons["score_contributions"]
        assert sum(contrib.values()) == pytest.approx(r.score, abs=1e-5)
        assert r.score == r.rule_score
        # the reported skills are the ones behind the features behind the score
        assert r.reasons["essential_matched"] == len(r.reasons["matched_essential_skills"]) == r.features["essential_matched"]
        assert r.reasons["essential_missing"] == len(r.reasons["missing_essential_skills"]) == r.features["essential_missing"]
        assert set(r.reasons["matched_essential_skills"]) | set(r.reasons["missing_essential_skills"]) == set(KITCHEN)
        # recomputing the score from the reported features gives the score
        assert rule_score(pd.DataFrame([r.features]), kitchen.config)[0] == pytest.approx(r.score)
        weights = kitchen.config.rule_weights
        assert contrib["essential_coverage"] == pytest.approx(weights["essential_coverage"] * r.features["essential_coverage"], abs=1e-6)


def test_distance_and_readiness_in_reasons(kitchen):
    r = next(r for r in kitchen.candidates_for_vacancy("cook-job").results if r.client_id == "one")
    assert 10 < r.reasons["distance_km"] < 20  # Lochem - Zutphen
    assert r.reasons["readiness"] == {"rung": 5, "required_rung": 4, "vacancy_kind": "regular"}


def test_vacancies_for_client(kitchen):
    lst = kitchen.vacancies_for_client("full", top=5)
    assert lst.ids()[0] == "cook-job"
    assert "warehouse-job" not in lst.ids()
    assert kitchen.vacancies_for_client("forklift").ids() == ["warehouse-job"]
    assert lst.results[0].reasons["matched_essential_skills"]


def test_explain_on_list_below_cutoff_and_no_skills(kitchen):
    on = kitchen.explain("cook-job", "full")
    assert on.on_list and on.rank == 1 and "rank 1" in on.summary
    below = kitchen.explain("cook-job", "one", top=2)
    assert not below.on_list and below.excluded_by == [] and "below the last of the 2 listed" in below.summary
    assert below.score < below.cutoff_score
    none = kitchen.explain("cook-job", "forklift")
    assert not none.on_list and "no skill in common" in none.summary
    with pytest.raises(KeyError, match="unknown client"):
        kitchen.explain("cook-job", "ghost")
    with pytest.raises(KeyError, match="unknown vacancy"):
        kitchen.candidates_for_vacancy("ghost")


def test_learned_ranker_reorders_and_explains(kitchen, fake_ranker):
    rules = kitchen.candidates_for_vacancy("cook-job", top=10)
    model = kitchen.candidates_for_vacancy("cook-job", top=10, ranker=fake_ranker)
    assert model.scored_by == "model:fake-1"
    assert set(model.ids()) == set(rules.ids())  # same eligible clients
    assert model.ids() != rules.ids()
    assert model.ids()[0] == "history"  # the only one with years as a cook
    top = model.results[0]
    assert top.reasons["model"]["version"] == "fake-1"
    assert top.reasons["model"]["contributions"][0][0] == "occupation_experience_years"
    assert top.score == pytest.approx(top.reasons["model"]["p_hire"])
    assert top.rule_score == pytest.approx(sum(top.reasons["score_contributions"].values()), abs=1e-5)
    ex = kitchen.explain("cook-job", "history", ranker=fake_ranker)
    assert ex.on_list and ex.rank == 1 and ex.reasons["model"]["p_hire"] == pytest.approx(top.score)


def test_threshold_search_returns_the_exact_top(helpers, tiny_taxonomy):
    """The early-stopping candidate search gives the same list as scoring every candidate."""
    rng = np.random.default_rng(5)
    skills = [f"skill {i}" for i in range(40)]
    n = 3000
    clients = pd.DataFrame({
        "id": [f"c{i:04d}" for i in range(n)],
        "skills": [list(rng.choice(skills, size=rng.integers(1, 7), replace=False)) for _ in range(n)],
        "lat": 52.15 + rng.normal(0, 0.03, n), "lon": 6.25 + rng.normal(0, 0.03, n),
        "hours_available": rng.choice([24, 32, 40], n), "ladder_rung": rng.choice([4, 5, 6], n),
        "work_history": [[{"occupation": "cook", "years": float(rng.integers(0, 8))}] for _ in range(n)],
    })
    vacancies = pd.DataFrame({"id": ["v1", "v2"], "skills": [skills[:5], skills[3:12]], "occupation": ["cook", "chef"],
                              "lat": [52.1, 52.2], "lon": [6.2, 6.3], "hours": [24, None]})
    m = Matcher(clients, vacancies, taxonomy=tiny_taxonomy, as_of=helpers.AS_OF)
    for vid in ("v1", "v2"):
        lst = m.candidates_for_vacancy(vid, top=20, with_reasons=False)
        assert lst.examined < lst.candidates  # it did stop early
        all_scores = m.score_pairs(clients["id"], [vid] * n)
        all_scores = all_scores[all_scores[["skill_similarity", "essential_coverage", "optional_coverage",
                                            "transferable_similarity"]].sum(axis=1) > 0]
        best = all_scores.sort_values(["rule_score", "client_id"], ascending=[False, True]).head(20)
        assert lst.ids() == best["client_id"].tolist()
        np.testing.assert_allclose([r.score for r in lst.results], best["rule_score"].to_numpy())
        # the counts are over every candidate, whatever the list length (until 2026-12-07 they
        # counted the examined ones: 256 for a list of 20, 559 for one of 200)
        whole = m.candidates_for_vacancy(vid, top=n, with_reasons=False)
        assert whole.examined == whole.candidates and whole.eligible == len(whole.results)
        assert (lst.eligible, lst.excluded_by) == (whole.eligible, whole.excluded_by)


def test_matcher_on_generated_region(small_region):
    from plein.taxonomy import Taxonomy

    region = small_region
    m = Matcher.from_region(region, taxonomy=Taxonomy.builtin(), as_of=dt.date(2026, 10, 1))
    open_ids = [v for v, c in zip(region.vacancies["id"], region.vacancies["close_date"]) if c is None or c > dt.date(2026, 10, 1)]
    assert open_ids, "the generated region should have open vacancies"
    lst = m.candidates_for_vacancy(open_ids[0], top=20)
    assert lst.results, "an open vacancy in the demo region should have candidates"
    placed = set(region.clients.loc[region.clients["status"] != "active", "id"])
    assert not placed & set(lst.ids())
    for r in lst.results:
        assert sum(r.reasons["score_contributions"].values()) == pytest.approx(r.score, abs=1e-5)
        assert set(r.features) == set(FEATURE_COLUMNS)
    client = lst.results[0].client_id
    assert m.vacancies_for_client(client, top=5).results


def test_config_weights_change_the_score(kitchen, helpers, tiny_taxonomy):
    base = kitchen.candidates_for_vacancy("cook-job").results[0]
    cfg = MatchConfig().with_overrides(rule_weights={**MatchConfig().rule_weights, "essential_coverage": 0.0})
    other = Matcher(index=None, clients=kitchen.index.clients, vacancies=kitchen.index.vacancies, taxonomy=tiny_taxonomy,
                    config=cfg, as_of=helpers.AS_OF).candidates_for_vacancy("cook-job").results[0]
    assert other.reasons["score_contributions"]["essential_coverage"] == 0
    assert other.score == pytest.approx(base.score - base.reasons["score_contributions"]["essential_coverage"], abs=1e-5)
    with pytest.raises(ValueError, match="unknown rule weight"):
        MatchConfig().with_overrides(rule_weights={"charm": 1.0})


def test_explain_with_ranker_outside_the_reranked_shortlist(kitchen, fake_ranker, helpers, tiny_taxonomy):
    cfg = MatchConfig().with_overrides(shortlist_size=2)
    m = Matcher(kitchen.index.clients, kitchen.index.vacancies, taxonomy=tiny_taxonomy, config=cfg, as_of=helpers.AS_OF)
    lst = m.candidates_for_vacancy("cook-job", top=1, ranker=fake_ranker)
    assert lst.ids() != ["history"]  # the model's favourite is not among the 2 best by rules
    ex = m.explain("cook-job", "history", top=1, ranker=fake_ranker)
    assert not ex.on_list and "outside the best 2 that the model re-ranks" in ex.summary


def test_models_ranker_satisfies_the_reranking_contract(small_region):
    """The models package's ranker, trained on the demo region's outcomes, re-ranks lists."""
    ranker_mod = pytest.importorskip("models.ranker")
    from plein.taxonomy import Taxonomy

    taxonomy = Taxonomy.builtin()
    pairs = ranker_mod.labelled_pairs(small_region.outcomes)
    pairs = pairs[pairs["start"] >= pairs["start"].quantile(0.8)].reset_index(drop=True)  # a recent slice keeps it quick
    assert pairs["hired"].nunique() == 2
    X = ranker_mod.ranker_features(small_region, pairs, taxonomy=taxonomy)
    model = ranker_mod.RankerModel(max_iter=50).fit(X, pairs["hired"].to_numpy())
    model.version = "test"
    m = Matcher.from_region(small_region, taxonomy=taxonomy, as_of=dt.date(2026, 10, 1))
    open_ids = [v for v, c in zip(small_region.vacancies["id"], small_region.vacancies["close_date"]) if c is None or c > dt.date(2026, 10, 1)]
    lst = m.candidates_for_vacancy(open_ids[0], top=10, ranker=model)
    assert lst.scored_by == "model:test" and lst.results
    scores = [r.score for r in lst.results]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert all(r.reasons["model"]["contributions"] for r in lst.results)
    assert {c[0] for r in lst.results for c in r.reasons["model"]["contributions"]} <= set(FEATURE_COLUMNS)


def test_an_empty_list_says_why(helpers, tiny_taxonomy):
    clients = helpers.frame([helpers.client("gone", KITCHEN, status="exited"), helpers.client("driver", ["drive car"]),
                             helpers.client("cook", KITCHEN)])
    vacancies = helpers.frame([helpers.vacancy("cook-job", KITCHEN), helpers.vacancy("blank", []),
                               helpers.vacancy("forklift-job", ["operate forklift"])])
    m = Matcher(clients, vacancies, taxonomy=tiny_taxonomy, as_of=helpers.AS_OF)
    blank = m.candidates_for_vacancy("blank")
    assert blank.results == [] and blank.note.startswith("the vacancy lists no skills")
    assert m.candidates_for_vacancy("forklift-job").note.startswith("no client shares a skill")
    gone = m.vacancies_for_client("gone")
    assert gone.results == [] and gone.note == "all 1 candidates with a skill in common fail a requirement: status (1)"
    # a list with results carries no such note
    cook = m.candidates_for_vacancy("cook-job", top=5)
    assert cook.ids() == ["cook"] and cook.note is None
