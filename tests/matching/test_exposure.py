import datetime as dt

import numpy as np
import pandas as pd
import pytest

from matching.engine import Matcher
from matching.exposure import allocate_lists, concentration, gini, prior_appearances


@pytest.fixture
def crowded(helpers):
    """Ten similar vacancies; a few 'star' clients hold every skill and top every list."""
    skills = ["load goods", "pick orders", "warehouse safety", "operate forklift"]
    rng = np.random.default_rng(1)
    clients = [helpers.client(f"star{i}", skills) for i in range(3)]
    clients += [helpers.client(f"c{i:02d}", list(rng.choice(skills, size=2, replace=False))) for i in range(60)]
    vacancies = [helpers.vacancy(f"v{i}", skills, open_date=dt.date(2026, 1, 1) + dt.timedelta(days=i)) for i in range(10)]
    return Matcher(helpers.frame(clients), helpers.frame(vacancies), as_of=helpers.AS_OF)


def test_without_cap_the_same_clients_fill_every_list(crowded):
    alloc = allocate_lists(crowded, top=5, cap=None)
    counts = alloc.lists.groupby("client_id").size()
    assert all(counts[f"star{i}"] == 10 for i in range(3))
    assert len(alloc.lists) == 50


def test_cap_is_respected_and_lowers_concentration(crowded):
    free = allocate_lists(crowded, top=5, cap=None)
    capped = allocate_lists(crowded, top=5, cap=2)
    counts = capped.lists.groupby("client_id").size()
    assert counts.max() <= 2
    assert len(capped.lists) == 50  # enough other suitable clients: no list got shorter
    assert capped.short_lists == {}
    population = crowded.index.client_ids
    c_free, c_capped = concentration(free.lists, population), concentration(capped.lists, population)
    assert c_capped["gini"] < c_free["gini"]
    assert c_capped["top10_share"] < c_free["top10_share"]
    assert c_capped["clients_listed"] > c_free["clients_listed"]
    # round-robin: the oldest vacancy gets the first star first, every vacancy gets a star only while they last
    first = capped.lists[capped.lists["rank"] == 1].set_index("vacancy_id")["client_id"]
    assert first["v0"].startswith("star")


def test_prior_appearances_count_towards_the_cap(crowded, helpers):
    outcomes = pd.DataFrame({"client_id": ["star0", "star0", "star1"], "vacancy_id": ["old1", "old2", "old1"],
                             "date": [helpers.AS_OF - dt.timedelta(days=3), helpers.AS_OF - dt.timedelta(days=10),
                                      helpers.AS_OF - dt.timedelta(days=90)],
                             "stage": ["proposed"] * 3})
    prior = prior_appearances(outcomes, helpers.AS_OF, period_days=30)
    assert prior.to_dict() == {"star0": 2}
    alloc = allocate_lists(crowded, top=5, cap=2, prior=prior)
    assert "star0" not in set(alloc.lists["client_id"])
    assert alloc.appearances["star0"] == 2


def test_short_lists_are_reported_when_the_cap_empties_the_pool(helpers):
    clients = [helpers.client(f"c{i}", ["weld"]) for i in range(3)]
    vacancies = [helpers.vacancy(f"v{i}", ["weld"]) for i in range(3)]
    m = Matcher(helpers.frame(clients), helpers.frame(vacancies), as_of=helpers.AS_OF)
    alloc = allocate_lists(m, top=3, cap=1)
    assert len(alloc.lists) == 3
    assert sum(alloc.short_lists.values()) == 6


def test_gini_and_concentration_measures():
    assert gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 10]) == pytest.approx(0.75)
    lists = pd.DataFrame({"client_id": ["a"] * 9 + ["b"], "vacancy_id": list(range(10))})
    c = concentration(lists, population=[f"p{i}" for i in range(8)] + ["a", "b"])
    assert c["top10_share"] == pytest.approx(0.9)
    assert c["clients_listed"] == 2 and c["max_appearances"] == 9 and c["slots"] == 10
