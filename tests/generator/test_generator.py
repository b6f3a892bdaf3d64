"""The demo-region generator: determinism, schema conformity, realism, oracle consistency."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from plein import domain, schema
from plein.generator import generate_region
from plein.ladder import ladder_outcomes, rung_at

REF = dt.date(2026, 10, 1)


@pytest.fixture(scope="module")
def region(small_region):
    return small_region


@pytest.fixture(scope="module")
def medium():
    """Large enough for rates to be measured to about +-0.02."""
    return generate_region(8000, seed=11)


def test_same_seed_same_frames_other_seed_differs():
    a = generate_region(400, seed=5)
    b = generate_region(400, seed=5)
    c = generate_region(400, seed=6)
    for name, df in a.tables().items():
        pd.testing.assert_frame_equal(df, b.tables()[name], obj=name)
    assert not a.clients["benefit_type"].equals(c.clients["benefit_type"])
    assert not a.truth_match.equals(c.truth_match)


def test_every_table_has_the_schema_columns_in_order(region):
    for name, df in region.tables().items():
        assert list(df.columns) == schema.table(name).names, name
        assert len(df) > 0, f"{name} is empty"


def _check_kind(col: schema.Column, s: pd.Series) -> None:
    values = [v for v in s.tolist() if v is not None and not (isinstance(v, float) and np.isnan(v)) and v is not pd.NA]
    if col.required:
        assert len(values) == len(s), f"{col.name}: required but has missing values"
    if not values:
        return
    if col.kind == "date":
        assert all(type(v) is dt.date for v in values), col.name
    elif col.kind in ("list",):
        assert all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in values), col.name
        if col.choices:
            assert {x for v in values for x in v} <= set(col.choices), col.name
    elif col.kind == "history":
        assert all(isinstance(v, list) for v in values)
        for v in values:
            for h in v:
                assert set(h) == {"occupation", "years"} and h["years"] > 0
    elif col.kind == "enum":
        assert set(values) <= set(col.choices), (col.name, set(values) - set(col.choices))
    elif col.kind == "bool":
        assert all(isinstance(v, (bool, np.bool_)) for v in values), col.name
    elif col.kind == "int":
        assert all(float(v).is_integer() for v in values), col.name
    elif col.kind == "float":
        assert all(isinstance(v, (float, np.floating)) for v in values), col.name
    elif col.kind == "str":
        assert all(isinstance(v, str) for v in values), col.name
    if col.kind in ("int", "float"):
        arr = np.asarray(values, dtype=float)
        if col.min is not None:
            assert arr.min() >= col.min, col.name
        if col.max is not None:
            assert arr.max() <= col.max, col.name


def test_column_kinds_match_the_schema(region):
    for name, df in region.tables().items():
        for col in schema.table(name).columns:
            _check_kind(col, df[col.name])


def test_every_table_validates_without_errors(region):
    storage = pytest.importorskip("plein.storage")
    from plein.storage.validation import errors_only
    from plein.taxonomy import Taxonomy

    tax = Taxonomy.builtin()
    for name, df in region.tables().items():
        _, issues = storage.validate_frame(name, df, taxonomy=tax)
        assert errors_only(issues) == [], (name, errors_only(issues)[:3])


def test_keys_unique_and_references_resolve(region):
    for name, df in region.tables().items():
        t = schema.table(name)
        assert not df.duplicated(list(t.key)).any(), name
        for col in t.columns:
            if not col.ref:
                continue
            ids = set(getattr(region, col.ref)["id"])
            values = df[col.name]
            flat = {x for v in values for x in v} if col.kind == "list" else set(values.dropna())
            assert flat <= ids, (name, col.name, sorted(flat - ids)[:3])


def test_no_bsn_ids_and_protected_attributes_apart(region):
    assert not any(domain.is_bsn(i) for i in region.clients["id"])
    for attr in domain.PROTECTED_ATTRIBUTES:
        assert attr not in region.clients.columns
    assert set(region.client_protected["client_id"]) == set(region.clients["id"])


def test_region_geography_and_teams(region):
    m = region.municipalities.set_index("id")
    assert {"GM0301", "GM0262", "GM1876"} <= set(m.index)
    assert m.loc["GM0301", "name"] == "Zutphen"
    assert abs(m.loc["GM0301", "lat"] - 52.14) < 0.02 and abs(m.loc["GM0301", "lon"] - 6.20) < 0.03
    c = region.clients
    # homes within ~25 km of Zutphen
    assert (domain.haversine_km(52.14, 6.20, c["lat"].to_numpy(), c["lon"].to_numpy()) < 30).all()
    assert c["postcode_area"].str.fullmatch(r"\d{4}").all()
    teams = set(region.teams["id"])
    assert 6 <= len(teams) <= 8 and set(region.coaches["team_id"]) <= teams
    assert (region.teams["kind"] == "integrated").sum() == 1
    from plein.taxonomy import SECTOR_CODES

    assert {s for v in region.teams["sectors"] for s in v} == set(SECTOR_CODES)


def test_coaches_capacity_specialisations_and_absences(region):
    co = region.coaches
    c = region.clients
    in_caseload = c[c["status"] != "exited"]
    assert 90 <= len(in_caseload) / len(co) <= 140
    # total capacity a bit above demand (points as in scheduling's defaults)
    assert co["capacity_points"].sum() > 0
    assert (co["max_clients"] > 0).all()
    assert {s for v in co["specialisations"] for s in v} == {s.value for s in domain.Specialisation}
    assert (~co["active"]).sum() == 1
    ab = region.coach_absences
    assert (ab["reason"] == "departure").sum() == 2
    assert (ab["start_date"] > REF).any() and (ab["start_date"] <= REF).any()
    gone = co.loc[~co["active"], "id"].iloc[0]
    assert not (c["coach_id"] == gone).any()


def test_current_coaches_mostly_eligible_with_some_mess(region):
    c = region.clients
    co = region.coaches.set_index("id")
    assigned = c[c["coach_id"].notna()]
    eligible = []
    for row in assigned.itertuples():
        need = domain.required_specialisations(row.benefit_type, row.age_band, row.newcomer, row.special_group)
        coach = co.loc[row.coach_id]
        serves = not coach["municipalities"] or row.municipality in coach["municipalities"]
        eligible.append(need <= set(coach["specialisations"]) and serves)
    share = float(np.mean(eligible))
    assert 0.85 <= share < 1.0, share
    # some new intakes wait for a coach; exited clients have none
    active = c[c["status"] == "active"]
    assert active["coach_id"].isna().sum() > 0
    assert c.loc[c["status"] == "exited", "coach_id"].isna().all()
    # some coaches are overloaded against their max
    counts = c["coach_id"].value_counts()
    over = (counts / co.loc[counts.index, "max_clients"]).max()
    assert over > 0.9


def test_client_mix_is_realistic(medium):
    c = medium.clients
    share = c["benefit_type"].value_counts(normalize=True)
    assert 0.30 <= share["ww"] <= 0.40 and 0.50 <= share["bijstand"] <= 0.60
    rung = c.groupby("benefit_type")["ladder_rung"].mean()
    assert rung["bijstand"] < rung["ww"] - 1.0
    newcomers = c[c["newcomer"]]
    assert newcomers["benefit_type"].eq("bijstand").all()
    low_dutch = newcomers["dutch_level"].isin(["none", "A1", "A2"]).mean()
    assert low_dutch > 0.6
    assert c["work_history"].map(len).mean() > 0.8
    assert c["skills"].map(len).median() >= 3
    young = c[c["age_band"] == "18-26"]
    assert young["work_history"].map(lambda h: sum(x["years"] for x in h)).max() <= 10


def test_skills_come_from_history_occupations(region):
    from plein.taxonomy import Taxonomy

    tax = Taxonomy.builtin()
    c = region.clients
    with_hist = c[c["work_history"].map(len) > 0].head(300)
    shares = []
    for skills, hist in zip(with_hist["skills"], with_hist["work_history"]):
        pool = set()
        for h in hist:
            pool |= set(tax.essential_skills(h["occupation"])) | set(tax.optional_skills(h["occupation"]))
        if skills:
            shares.append(np.mean([s in pool for s in skills]))
    assert np.mean(shares) > 0.7  # mostly from their occupations, some noise
    assert tax.resolve_skills([s for v in c["skills"] for s in v])[1] == []


def test_vacancies_open_and_closed_with_requirements(region):
    v = region.vacancies
    is_open = v["close_date"].isna() | (v["close_date"].map(lambda d: d is not None and d > REF))
    assert is_open.sum() >= 20 and (~is_open).sum() > 100
    assert (v["open_date"] <= REF).all()
    closed = v[v["close_date"].notna()]
    assert (closed["close_date"] >= closed["open_date"]).all()
    assert v["supported_work"].any() and v["requires_licence"].any() and v["min_dutch_level"].notna().any()
    assert (v["skills"].map(len) > 0).all()
    emp = region.employers.set_index("id")
    assert (emp.loc[v["employer_id"], "sector"].to_numpy() == v["sector"].to_numpy()).mean() > 0.95


def test_ladder_history_recovers_truth_snapshots_exactly(medium):
    tl = medium.truth_ladder
    assert len(tl) > 0.4 * len(medium.clients)
    assert ((tl["p_paid_12m"] <= tl["p_rise_12m"] + 1e-12) & (tl["p_rise_12m"] <= 1) & (tl["p_paid_12m"] >= 0)).all()
    out = ladder_outcomes(medium.ladder_events, tl)
    assert out["rung_at"].notna().all() and out["rung_at"].between(1, 4).all()
    assert not (out["paid"] & ~out["rose"].astype(bool)).any()
    # realised label rates match the mean truth probability (binomial s.e. ~0.006)
    assert abs(out["rose"].astype(float).mean() - tl["p_rise_12m"].mean()) < 0.025
    assert abs(out["paid"].astype(float).mean() - tl["p_paid_12m"].mean()) < 0.025
    # as_of spread over ~3 years and at least 12 months before the reference date
    as_of = pd.to_datetime(tl["as_of"])
    assert as_of.max() <= pd.Timestamp(REF) - pd.DateOffset(months=12)
    assert (as_of.max() - as_of.min()).days > 2.5 * 365


def test_ladder_rung_is_latest_measurement(region):
    c = region.clients
    got = rung_at(region.ladder_events, c["id"], [REF] * len(c))
    pd.testing.assert_series_equal(got, c["ladder_rung"].reset_index(drop=True).astype("Int64"), check_names=False)
    ev = region.ladder_events
    assert (ev["date"] <= REF).all()
    first = ev.sort_values("date").groupby("client_id")["date"].first()
    intake = c.set_index("id")["intake_date"]
    assert (first >= intake.loc[first.index]).all()


def test_truth_probabilities_discriminate(medium):
    """The oracle carries signal: realised outcomes are far more likely where p is high."""
    from sklearn.metrics import roc_auc_score

    tl = medium.truth_ladder
    out = ladder_outcomes(medium.ladder_events, tl)
    assert roc_auc_score(out["rose"].astype(int), tl["p_rise_12m"]) > 0.75
    hires = _hire_labels(medium)
    assert roc_auc_score(hires["hired"], hires["p_hire"]) > 0.75
    assert abs(hires["hired"].mean() - hires["p_hire"].mean()) < 0.02


def _hire_labels(region) -> pd.DataFrame:
    o = region.outcomes
    hired = o[o["stage"] == "hired"][["client_id", "vacancy_id"]].assign(hired=1)
    tm = region.truth_match.merge(hired, on=["client_id", "vacancy_id"], how="left")
    tm["hired"] = tm["hired"].fillna(0).astype(int)
    return tm


def test_protected_shift_visible(medium):
    tl = medium.truth_ladder.merge(medium.client_protected, on="client_id")
    by = tl.groupby("migration_background")["p_rise_12m"].mean()
    assert by["non_western"] < by["none"] - 0.03
    hires = _hire_labels(medium).merge(medium.client_protected, on="client_id")
    rate = hires.groupby("migration_background")["p_hire"].mean()
    assert rate["non_western"] < rate["none"]


def test_outcome_stages_are_ordered_per_pair(region):
    o = region.outcomes
    order = {"proposed": 0, "shortlisted": 1, "invited": 2, "hired": 3, "rejected": 3}
    o = o.assign(k=o["stage"].map(order))
    for (_, _), g in list(o.groupby(["client_id", "vacancy_id"]))[:500]:
        g = g.sort_values("k")
        assert g["date"].is_monotonic_increasing
        assert g["k"].iloc[0] == 0
    final = o[o["stage"].isin(["hired", "rejected"])]
    assert final.loc[final["stage"] == "rejected", "reason"].notna().all()
    assert final.duplicated(["client_id", "vacancy_id"]).sum() == 0
    # every truth pair was shortlisted and decided
    sl = o[o["stage"] == "shortlisted"][["client_id", "vacancy_id"]]
    assert len(sl) == len(region.truth_match)
    pairs_per_client = len(region.truth_match) / len(region.clients)
    assert 2.5 <= pairs_per_client <= 6


def test_outcome_dates_spread_for_time_split(region):
    d = pd.to_datetime(region.outcomes["date"])
    assert (d.max() - d.min()).days > 3 * 365
    assert d.max() <= pd.Timestamp(REF)


def test_assignment_history_consistent_with_current_coach(region):
    a = region.assignments
    c = region.clients.set_index("id")
    current = a[a["end_date"].isna()]
    assert not current["client_id"].duplicated().any()
    cur = current.set_index("client_id")["coach_id"]
    with_coach = c["coach_id"].dropna()
    assert cur.reindex(with_coach.index).eq(with_coach).all()
    assert set(cur.index) == set(with_coach.index)
    closed = a[a["end_date"].notna()]
    assert (closed["end_date"] >= closed["start_date"]).all()
    assert (a["start_date"] >= c.loc[a["client_id"], "intake_date"].to_numpy()).all()
    assert set(a["reason"]) >= {"intake", "rebalance"}
    # per client, assignments do not overlap
    s = a.sort_values(["client_id", "start_date"])
    prev_end = s.groupby("client_id")["end_date"].shift()
    overl = prev_end.notna() & (s["start_date"] <= prev_end)
    assert not overl.any()


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_clients must be a positive integer"):
        generate_region(0, seed=1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        generate_region(10, seed=-1)
    with pytest.raises(TypeError, match="reference_date"):
        generate_region(10, seed=1, reference_date="2026-01-01")


def test_reference_date_moves_the_history():
    r = generate_region(300, seed=2, reference_date=dt.date(2023, 1, 1))
    assert r.ladder_events["date"].max() <= dt.date(2023, 1, 1)
    assert r.vacancies["open_date"].max() <= dt.date(2023, 1, 1)
    # the region's own 'today' follows the reference date, not the clock
    assert r.as_of() <= dt.date(2023, 1, 2) and r.as_of() == max(r.clients["intake_date"]) + dt.timedelta(days=1)
    assert generate_region(300, seed=2).as_of() > dt.date(2023, 1, 2)


def test_region_without_intake_dates_has_no_date_of_its_own():
    from plein.region import Region

    assert Region().as_of() is None
    # missing intake dates (None, NaT) are passed over, pandas timestamps count as dates
    region = generate_region(200, seed=1)
    latest = max(region.clients["intake_date"])
    clients = region.clients.copy()
    clients["intake_date"] = clients["intake_date"].astype(object)
    clients.loc[clients.index[0], "intake_date"] = None
    clients.loc[clients.index[1], "intake_date"] = pd.NaT
    clients.loc[clients.index[2], "intake_date"] = pd.Timestamp(latest)
    region.clients = clients
    assert region.as_of() == latest + dt.timedelta(days=1)


def test_brummen_optional():
    r = generate_region(300, seed=2, include_brummen=True)
    assert "GM0213" in set(r.municipalities["id"])
    assert "GM0213" in set(r.clients["municipality"])


def test_generation_with_shared_esco_data(shared_data):
    from plein.taxonomy import Taxonomy

    tax = Taxonomy.from_profiles(shared_data / "esco" / "occupation_profiles.parquet")
    offers = shared_data / "esco" / "job_offers_by_occupation.parquet"
    r = generate_region(1500, seed=3, taxonomy=tax, job_offers=offers)
    demand = pd.read_parquet(offers)
    with_offers = set(demand.loc[demand["total_job_offers_global"] > 0, "occupation_name"].str.strip())
    assert set(r.vacancies["occupation"]) <= with_offers
    assert r.vacancies["occupation"].nunique() > 100
    hist_occ = {h["occupation"] for v in r.clients["work_history"] for h in v}
    assert len(hist_occ) > 150
    assert tax.resolve_skills([s for v in r.clients["skills"] for s in v])[1] == []
    out = ladder_outcomes(r.ladder_events, r.truth_ladder)
    assert abs(out["rose"].astype(float).mean() - r.truth_ladder["p_rise_12m"].mean()) < 0.05


def test_deterministic_across_processes():
    """No dependence on Python's per-process string hashing (set/dict order)."""
    import subprocess
    import sys

    code = ("import hashlib; from plein.generator import generate_region; r = generate_region(300, 8); "
            "h = hashlib.sha256(); [h.update(df.astype(str).to_csv().encode()) for df in r.tables().values()]; "
            "print(h.hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**__import__("os").environ, "PYTHONHASHSEED": str(s)}).stdout for s in (1, 2)}
    assert len(digests) == 1


def test_assignment_switches_change_coach(region):
    a = region.assignments.sort_values(["client_id", "start_date"])
    prev = a.groupby("client_id")["coach_id"].shift()
    assert not (prev.notna() & (prev == a["coach_id"])).any()
    gone = region.coaches.loc[~region.coaches["active"], "id"].iloc[0]
    left = region.coach_absences.set_index("coach_id").loc[gone, "start_date"]
    assert (a.loc[a["coach_id"] == gone, "end_date"] < left).all()
