"""The demo-region generator: a realistic Werkplein region, vectorised with numpy.

`generate_region(n_clients, seed)` builds every table of `plein.schema` for a Werkplein
serving Zutphen, Lochem and Bronckhorst: municipalities, sector teams, coaches with
specialisations and capacities, absences, clients with work histories and ESCO skills,
protected attributes (apart), employers and vacancies, and a history of ladder measurements,
assignments and placement outcomes drawn from the documented causal process in
`plein.generator.oracle`, whose true probabilities go into `truth_ladder` and `truth_match`.

Determinism: one `numpy.random.SeedSequence(seed)` is split into independent streams, one
per stage, and nothing reads the clock; the same (n_clients, seed, taxonomy, job offers,
reference date) gives identical frames. See docs/generator.md for the process in full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from plein import domain as d
from plein.generator import oracle
from plein.generator.places import (
    BRUMMEN,
    COMPANY_WORDS,
    FIRST_NAMES,
    LAST_NAMES,
    MUNICIPALITIES,
    POSTCODE_AREAS,
    TEAM_LEADERS,
    TEAMS,
)
from plein.generator.vocab import TaxonomyArrays, build_arrays
from plein.progress import ProgressCallback, no_progress
from plein.region import Region
from plein.schema import HOME_DECIMALS

DEFAULT_REFERENCE_DATE = dt.date(2026, 10, 1)
EPOCH = dt.date(1970, 1, 1)

BENEFITS = ("ww", "bijstand", "none")
WW, BIJSTAND, NONE = 0, 1, 2
BENEFIT_SHARES = (0.35, 0.55, 0.10)

AGE_BANDS = ("18-26", "27-44", "45-54", "55+")
AGE_BY_BENEFIT = np.array([
    [0.07, 0.36, 0.27, 0.30],  # ww: older, recently employed
    [0.18, 0.44, 0.21, 0.17],  # bijstand
    [0.38, 0.34, 0.16, 0.12],  # none: many young people without benefit (NUG)
])
EDUCATION = ("basic", "vmbo", "mbo1", "mbo2_3", "mbo4", "havo_vwo", "hbo", "wo", "unknown")
EDUCATION_BY_BENEFIT = np.array([
    [0.04, 0.10, 0.05, 0.30, 0.22, 0.06, 0.14, 0.06, 0.03],  # ww
    [0.14, 0.22, 0.12, 0.26, 0.10, 0.04, 0.04, 0.02, 0.06],  # bijstand
    [0.08, 0.20, 0.12, 0.26, 0.14, 0.08, 0.06, 0.02, 0.04],  # none
])
EDUCATION_NEWCOMER = np.array([0.30, 0.05, 0.12, 0.08, 0.04, 0.04, 0.08, 0.04, 0.25])
DUTCH = ("none", "A1", "A2", "B1", "B2", "C1", "C2", "unknown")
DUTCH_BY_BACKGROUND = np.array([
    [0.0, 0.0, 0.0, 0.03, 0.14, 0.50, 0.30, 0.03],  # no migration background
    [0.0, 0.03, 0.10, 0.27, 0.30, 0.20, 0.05, 0.05],  # western
    [0.0, 0.05, 0.20, 0.35, 0.24, 0.11, 0.02, 0.03],  # non-western, not a newcomer
    [0.14, 0.34, 0.33, 0.14, 0.03, 0.0, 0.0, 0.02],  # newcomer (statushouder in inburgering)
])
MIGRATION = ("none", "western", "non_western", "unknown")
MIGRATION_BY_BENEFIT = np.array([
    [0.80, 0.09, 0.09, 0.02],
    [0.62, 0.09, 0.26, 0.03],
    [0.72, 0.08, 0.17, 0.03],
])
GENDERS = ("female", "male", "other", "unknown")
GENDER_SHARES = (0.48, 0.50, 0.005, 0.015)
#: rung distribution (1..6) at the reference point (as_of, or intake) by benefit type
RUNG_BY_BENEFIT = np.array([
    [0.00, 0.03, 0.10, 0.55, 0.17, 0.15],  # ww: most are one step from paid work
    [0.12, 0.27, 0.30, 0.19, 0.07, 0.05],  # bijstand: skewed low
    [0.05, 0.15, 0.30, 0.30, 0.12, 0.08],  # none
])
COMPLEXITY_BY_BENEFIT = np.array([[0.75, 0.20, 0.05], [0.35, 0.40, 0.25], [0.60, 0.30, 0.10]])
HOURS = np.array([16, 20, 24, 28, 32, 36, 40])
HOURS_BY_BENEFIT = np.array([
    [0.02, 0.05, 0.10, 0.08, 0.25, 0.25, 0.25],
    [0.10, 0.15, 0.20, 0.12, 0.20, 0.13, 0.10],
    [0.08, 0.12, 0.15, 0.10, 0.25, 0.15, 0.15],
])
SPEC_BITS = {"ww": 1, "bijstand": 2, "youth": 4, "newcomers": 8, "special_groups": 16}
#: caseload points, mirroring the defaults of scheduling.config.CaseloadPoints, used only to
#: size coach capacities a little above demand
POINTS_BENEFIT = np.array([1.0, 1.5, 1.0])
POINTS_RUNG = {1: 1.6, 2: 1.4, 3: 1.2, 4: 1.0, 5: 0.9, 6: 0.7, 0: 1.3}
POINTS_COMPLEXITY = np.array([0.0, 1.0, 1.3, 1.7])
CLIENTS_PER_COACH = 120
YEAR = 365


@dataclass
class _Clients:
    """Client attributes as aligned numpy arrays (index = client number)."""

    n: int
    benefit: np.ndarray
    municipality: np.ndarray
    pc4: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    age: np.ndarray
    education: np.ndarray
    dutch: np.ndarray
    migration: np.ndarray
    gender: np.ndarray
    newcomer: np.ndarray
    special_group: np.ndarray
    licence: np.ndarray
    hours: np.ndarray
    complexity: np.ndarray
    intake: np.ndarray  # day numbers
    base_rung: np.ndarray
    hist_client: np.ndarray  # work-history entries: client, occupation, years
    hist_occ: np.ndarray
    hist_years: np.ndarray
    skill_client: np.ndarray  # (client, skill) pairs, sorted by client
    skill_id: np.ndarray
    target_client: np.ndarray  # (client, sector) pairs, first per client = main
    target_sector: np.ndarray
    languages: list
    certificates: list

    @property
    def years_worked(self) -> np.ndarray:
        return np.bincount(self.hist_client, weights=self.hist_years, minlength=self.n)

    @property
    def n_skills(self) -> np.ndarray:
        return np.bincount(self.skill_client, minlength=self.n)


def _days(date: dt.date) -> int:
    return (date - EPOCH).days


def _dates(days: np.ndarray) -> np.ndarray:
    """Day numbers -> object array of datetime.date."""
    return np.asarray(days, dtype="datetime64[D]").astype(object)


def _draw(rng: np.random.Generator, group: np.ndarray, table: np.ndarray) -> np.ndarray:
    """One categorical draw per row from the probability row `table[group]`."""
    cum = np.cumsum(table, axis=1)
    cum = cum / cum[:, -1:]
    u = rng.random(len(group))
    return (u[:, None] > cum[group]).sum(axis=1).clip(0, table.shape[1] - 1)


def _weighted(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    p = p / p.sum()
    cum = np.cumsum(p)
    return np.searchsorted(cum, rng.random(size) * cum[-1], side="right").clip(0, len(p) - 1)


def _ids(prefix: str, n: int, width: int | None = None) -> np.ndarray:
    width = width or max(4, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _unique(a: np.ndarray) -> np.ndarray:
    """Sorted unique values of an integer array (sort-based: numpy 2.4's hash-based
    `np.unique` is an order of magnitude slower on millions of int64 keys)."""
    s = np.sort(np.asarray(a))
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def _split_lists(owner: np.ndarray, values: np.ndarray, n: int) -> list[list]:
    """Group `values` by integer `owner` (0..n-1) into n Python lists, keeping value order."""
    order = np.argsort(owner, kind="stable")
    ends = np.cumsum(np.bincount(owner, minlength=n)).tolist()
    flat = np.asarray(values, dtype=object)[order].tolist()
    starts = [0] + ends[:-1]
    return [flat[a:b] for a, b in zip(starts, ends)]


def _expand_csr(rows: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each position i of `rows`, all entries of CSR row rows[i]: (position, value)."""
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    pos = np.repeat(np.arange(len(rows)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return pos, indices[np.repeat(starts, counts) + offsets]


# =============================================================================================
# public entry point


def generate_region(
    n_clients: int,
    seed: int,
    taxonomy=None,
    job_offers=None,
    reference_date: dt.date = DEFAULT_REFERENCE_DATE,
    progress: ProgressCallback | None = None,
    include_brummen: bool = False,
) -> Region:
    """Generate a demo Werkplein region of `n_clients` clients, deterministic by `seed`.

    - `taxonomy`: a `plein.taxonomy.Taxonomy` (default: builtin); with the full ESCO profiles
      (`Taxonomy.from_profiles`) work histories and skills are drawn from all of ESCO.
    - `job_offers`: the job-offers frame or the path of ``job_offers_by_occupation.parquet``;
      vacancies then follow real demand per occupation.
    - `reference_date`: "today" of the region; history lies before it, nothing reads the clock.
    - `include_brummen`: add Brummen (GM0213) as a fourth municipality.
    """
    if not isinstance(n_clients, (int, np.integer)) or isinstance(n_clients, bool) or n_clients < 1:
        raise ValueError(f"n_clients must be a positive integer, got {n_clients!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(reference_date, dt.date):
        raise TypeError(f"reference_date must be a datetime.date, got {type(reference_date).__name__}")
    if isinstance(reference_date, dt.datetime):
        reference_date = reference_date.date()
    if taxonomy is None:
        from plein.taxonomy import Taxonomy

        taxonomy = Taxonomy.builtin()
    n = int(n_clients)
    cb = progress or no_progress
    steps = 9
    cb(0, steps, "taxonomy")
    tax = build_arrays(taxonomy, job_offers)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(10)]
    ref = _days(reference_date)
    muni_rows = list(MUNICIPALITIES) + ([BRUMMEN] if include_brummen else [])

    gen = _Generator(n, tax, ref, muni_rows, streams)
    cb(1, steps, "clients")
    clients = gen.clients()
    cb(2, steps, "employers and vacancies")
    employers, vacancies = gen.labour_market()
    cb(3, steps, "ladder history")
    ladder = gen.ladder(clients)
    cb(4, steps, "coaches and caseloads")
    staff = gen.staff(clients, ladder)
    cb(5, steps, "assignment history")
    assignments = gen.assignment_history(clients, ladder, staff)
    cb(6, steps, "placement history")
    outcomes, truth_match = gen.placements(clients, ladder, vacancies)
    cb(7, steps, "tables")
    region = gen.frames(clients, employers, vacancies, ladder, staff, assignments, outcomes, truth_match)
    cb(steps, steps, "done")
    return region


# =============================================================================================


class _Generator:
    """One generation run. The stages run in this order, each with its own random stream:
    clients -> labour market (employers, vacancies, sector demand) -> ladder history and
    oracle -> staff (status, teams, coaches, capacities, current coaches, absences) ->
    assignment history -> placement history and oracle -> frames."""

    def __init__(self, n: int, tax: TaxonomyArrays, ref: int, muni_rows, streams) -> None:
        self.n = n
        self.tax = tax
        self.ref = ref
        self.muni = muni_rows
        self.muni_ids = np.array([m[0] for m in muni_rows], dtype=object)
        self.rng_clients, self.rng_skills, self.rng_labour, self.rng_ladder, self.rng_staff, \
            self.rng_assign, self.rng_place, self.rng_misc, _, _ = streams
        self.n_sectors = len(tax.sector_codes)
        self.team_of_sector = self._team_of_sector()

    def _team_of_sector(self) -> np.ndarray:
        out = np.full(self.n_sectors, len(TEAMS) - 1)
        for t, (_, _, _, sectors) in enumerate(TEAMS):
            for s in sectors:
                if s in self.tax.sector_codes:
                    out[self.tax.sector_codes.index(s)] = t
        return out

    # ----------------------------------------------------------------------------- clients

    def clients(self) -> _Clients:
        rng, n = self.rng_clients, self.n
        benefit = _weighted(rng, np.array(BENEFIT_SHARES), n)
        # where they live: Zutphen has more bijstand clients than the villages
        shares = np.array([m[4] for m in self.muni])
        muni_table = np.vstack([shares, shares * np.r_[1.35, np.ones(len(shares) - 1)], shares])
        muni = _draw(rng, benefit, muni_table)
        areas = [a for a in POSTCODE_AREAS if a[1] in set(self.muni_ids)]
        area_muni = np.array([list(self.muni_ids).index(a[1]) for a in areas])
        area_table = np.array([[a[5] if area_muni[i] == m else 0.0 for i, a in enumerate(areas)] for m in range(len(self.muni))])
        area = _draw(rng, muni, area_table)
        pc4 = np.array([a[0] for a in areas], dtype=object)[area]
        lat = np.array([a[3] for a in areas])[area] + rng.normal(0, 0.006, n)
        lon = np.array([a[4] for a in areas])[area] + rng.normal(0, 0.009, n)

        age = _draw(rng, benefit, AGE_BY_BENEFIT)
        newcomer = (benefit == BIJSTAND) & (rng.random(n) < 0.12)
        age[newcomer] = _draw(rng, np.zeros(int(newcomer.sum()), dtype=int), np.array([[0.35, 0.50, 0.12, 0.03]]))
        migration = _draw(rng, benefit, MIGRATION_BY_BENEFIT)
        migration[newcomer] = 2
        gender = _weighted(rng, np.array(GENDER_SHARES), n)
        education = _draw(rng, benefit, EDUCATION_BY_BENEFIT)
        education[newcomer] = _draw(rng, np.zeros(int(newcomer.sum()), dtype=int), EDUCATION_NEWCOMER[None, :])
        background = np.where(newcomer, 3, np.where(migration == 3, 0, migration))
        dutch = _draw(rng, background, DUTCH_BY_BACKGROUND)
        p_licence = np.array([0.78, 0.45, 0.55])[benefit] * np.where(age == 0, 0.7, 1.0)
        p_licence = np.where(newcomer, 0.08, p_licence)
        licence = rng.random(n) < p_licence
        hours = HOURS[_draw(rng, benefit, HOURS_BY_BENEFIT)]
        complexity = _draw(rng, benefit, COMPLEXITY_BY_BENEFIT) + 1
        complexity = np.where(newcomer & (rng.random(n) < 0.5), np.minimum(complexity + 1, 3), complexity)
        special_group = rng.random(n) < np.array([0.02, 0.07, 0.20])[benefit]
        hours = np.where(special_group, np.minimum(hours, 24), hours)

        # intake: WW within the last 3.5 years (WW lasts at most 24 months); bijstand spells
        # are long (exponential, mean 2.5 years, up to 9); no-benefit clients within 3 years
        span = np.where(benefit == WW, rng.random(n) * 3.5 * YEAR,
                        np.where(benefit == BIJSTAND, np.minimum(rng.exponential(2.5 * YEAR, n), 9 * YEAR),
                                 rng.random(n) * 3 * YEAR))
        intake = self.ref - np.floor(span).astype(np.int64)

        base_rung = _draw(rng, benefit, RUNG_BY_BENEFIT) + 1
        base_rung = np.where((complexity == 3) & (rng.random(n) < 0.5), np.maximum(base_rung - 1, 1), base_rung)
        base_rung = np.where(newcomer & (rng.random(n) < 0.7), np.minimum(base_rung, 3), base_rung)
        base_rung = np.where(special_group & (base_rung == 6), 5, base_rung)

        hist_client, hist_occ, hist_years = self._work_history(benefit, age, newcomer)
        target_client, target_sector = self._targets(hist_client, hist_occ, newcomer)
        skill_client, skill_id = self._skills(hist_client, hist_occ, hist_years, target_client, target_sector)
        languages = self._languages(dutch, migration, newcomer, education)
        certificates = self._certificates(target_client, target_sector, licence)
        return _Clients(
            n=n, benefit=benefit, municipality=muni, pc4=pc4, lat=np.round(lat, 5), lon=np.round(lon, 5), age=age,
            education=education, dutch=dutch, migration=migration, gender=gender, newcomer=newcomer,
            special_group=special_group, licence=licence, hours=hours, complexity=complexity, intake=intake,
            base_rung=base_rung, hist_client=hist_client, hist_occ=hist_occ, hist_years=hist_years,
            skill_client=skill_client, skill_id=skill_id, target_client=target_client, target_sector=target_sector,
            languages=languages, certificates=certificates,
        )

    def _work_history(self, benefit, age, newcomer):
        rng, n, tax = self.rng_skills, self.n, self.tax
        table = np.array([[0.03, 0.45, 0.35, 0.17], [0.30, 0.40, 0.22, 0.08], [0.35, 0.45, 0.20, 0.0]])
        k = _draw(rng, benefit, table)
        k = np.where(newcomer, _draw(rng, np.zeros(n, dtype=int), np.array([[0.6, 0.35, 0.05, 0.0]])), k)
        k = np.where(age == 0, np.minimum(k, 2), k)
        client = np.repeat(np.arange(n), k)
        rank = np.arange(len(client)) - np.repeat(np.cumsum(k) - k, k)
        occ = _weighted(rng, tax.client_weight, len(client))
        # later jobs stay in the sector of the main (first) job 60% of the time
        main_pos = np.cumsum(k) - k
        main_occ = np.zeros(n, dtype=np.int64)
        main_occ[k > 0] = occ[main_pos[k > 0]]
        same = (rank > 0) & (rng.random(len(client)) < 0.6)
        want_sector = tax.occ_sector[main_occ[client]]
        for s in range(self.n_sectors):
            sel = np.flatnonzero(same & (want_sector == s))
            in_sector = np.flatnonzero((tax.occ_sector == s) & (tax.client_weight > 0))
            if len(sel) and len(in_sector):
                occ[sel] = in_sector[_weighted(rng, tax.client_weight[in_sector], len(sel))]
        mu = np.array([1.1, 0.6, 0.4])[benefit[client]]
        years = np.exp(rng.normal(mu, 0.8))
        cap = np.array([5.0, 15.0, 25.0, 30.0])[age[client]] / np.maximum(k[client], 1)
        years = np.round(np.clip(np.minimum(years, cap), 0.5, None) * 2) / 2
        # one entry per (client, occupation)
        key = client.astype(np.int64) * tax.n_occupations + occ
        order = np.argsort(key, kind="stable")
        ks = key[order]
        first = np.sort(order[np.r_[True, ks[1:] != ks[:-1]]] if len(ks) else order)
        return client[first], occ[first], years[first]

    def _targets(self, hist_client, hist_occ, newcomer):
        """Target sectors: the main job's sector (80%) or a sector drawn by demand, plus a
        second sector 30% of the time. First pair per client is the main target."""
        rng, n, tax = self.rng_skills, self.n, self.tax
        sector_demand = np.bincount(tax.occ_sector, weights=tax.vacancy_weight, minlength=self.n_sectors)
        main = _weighted(rng, sector_demand, n)
        has_hist = np.zeros(n, dtype=bool)
        first_occ = np.full(n, -1)
        order = np.argsort(hist_client, kind="stable")
        hc, ho = hist_client[order], hist_occ[order]
        firsts = np.r_[True, hc[1:] != hc[:-1]] if len(hc) else np.zeros(0, dtype=bool)
        first_occ[hc[firsts]] = ho[firsts]
        has_hist[hc[firsts]] = True
        keep_main = has_hist & (rng.random(n) < 0.8)
        main[keep_main] = tax.occ_sector[first_occ[keep_main]]
        second = _weighted(rng, sector_demand, n)
        add_second = (rng.random(n) < 0.3) & (second != main)
        none = rng.random(n) < 0.04  # a few clients have no target yet
        c1 = np.flatnonzero(~none)
        c2 = np.flatnonzero(~none & add_second)
        client = np.r_[c1, c2]
        sector = np.r_[main[c1], second[c2]]
        order = np.argsort(client, kind="stable")
        return client[order], sector[order]

    def _skills(self, hist_client, hist_occ, hist_years, target_client, target_sector):
        """Skills: part of the essential and optional skills of each past occupation (more with
        more years), a few from an occupation in the target sector for clients without work
        history (courses, volunteer work), and some noise skills from anywhere."""
        rng, n, tax = self.rng_skills, self.n, self.tax
        ess_n = np.maximum(tax.ess_count(), 1)
        opt_n = np.maximum(tax.opt_count(), 1)
        pos, sk = _expand_csr(hist_occ, tax.ess_indptr, tax.ess_indices)
        p = np.minimum(1.0, 0.40 + 0.06 * hist_years[pos]) * np.minimum(1.0, 10.0 / ess_n[hist_occ[pos]])
        keep = rng.random(len(pos)) < p
        clients = [hist_client[pos[keep]]]
        skills = [sk[keep]]
        pos, sk = _expand_csr(hist_occ, tax.opt_indptr, tax.opt_indices)
        keep = rng.random(len(pos)) < 0.2 * np.minimum(1.0, 6.0 / opt_n[hist_occ[pos]])
        clients.append(hist_client[pos[keep]])
        skills.append(sk[keep])
        # clients without history: an aspiration occupation in their main target sector
        no_hist = np.ones(n, dtype=bool)
        no_hist[hist_client] = False
        firsts = np.r_[True, target_client[1:] != target_client[:-1]] if len(target_client) else np.zeros(0, dtype=bool)
        main_sector = np.full(n, -1)
        main_sector[target_client[firsts]] = target_sector[firsts]
        who = np.flatnonzero(no_hist & (main_sector >= 0))
        asp = np.zeros(len(who), dtype=np.int64)
        for s in range(self.n_sectors):
            sel = np.flatnonzero(main_sector[who] == s)
            in_sector = np.flatnonzero((tax.occ_sector == s) & (tax.client_weight > 0))
            if len(sel) and len(in_sector):
                asp[sel] = in_sector[_weighted(rng, tax.client_weight[in_sector], len(sel))]
            elif len(sel):
                asp[sel] = _weighted(rng, tax.client_weight, len(sel))
        pos, sk = _expand_csr(asp, tax.ess_indptr, tax.ess_indices)
        keep = rng.random(len(pos)) < 0.18 * np.minimum(1.0, 10.0 / ess_n[asp[pos]])
        clients.append(who[pos[keep]])
        skills.append(sk[keep])
        # noise: skills of occupations the client never held (transversal, hobbies, mistakes)
        n_noise = rng.binomial(2, 0.3, n)
        noise_client = np.repeat(np.arange(n), n_noise)
        noise_occ = _weighted(rng, tax.client_weight, len(noise_client))
        start = tax.ess_indptr[noise_occ]
        cnt = tax.ess_indptr[noise_occ + 1] - start
        noise_skill = tax.ess_indices[start + np.floor(rng.random(len(noise_client)) * cnt).astype(np.int64)]
        clients.append(noise_client)
        skills.append(noise_skill)
        c = np.concatenate(clients).astype(np.int64)
        s = np.concatenate(skills).astype(np.int64)
        key = _unique(c * len(tax.skill_labels) + s)
        return key // len(tax.skill_labels), key % len(tax.skill_labels)

    def _languages(self, dutch, migration, newcomer, education) -> list:
        rng, n = self.rng_skills, self.n
        speaks_nl = dutch != 0  # below A1 does not count; unknown level still speaks some
        en = rng.random(n) < np.where(education >= 5, 0.75, 0.3)
        u = rng.random(n)
        other = np.full(n, "", dtype=object)
        nc = newcomer
        other[nc] = np.array(["ar", "ti", "fa", "so", "uk", "tr"], dtype=object)[_weighted(rng, np.array([0.42, 0.26, 0.1, 0.07, 0.1, 0.05]), int(nc.sum()))]
        nw = (migration == 2) & ~nc & (u < 0.7)
        other[nw] = np.array(["tr", "ar", "pap", "fa"], dtype=object)[_weighted(rng, np.array([0.4, 0.4, 0.1, 0.1]), int(nw.sum()))]
        other = np.where(other == "pap", "", other)  # Papiamento has no ISO 639-1 code
        w = (migration == 1) & (u < 0.8)
        other[w] = np.array(["pl", "de", "ro", "bg"], dtype=object)[_weighted(rng, np.array([0.45, 0.3, 0.15, 0.1]), int(w.sum()))]
        out = []
        for i in range(n):
            langs = ["nl"] if speaks_nl[i] else []
            if en[i]:
                langs.append("en")
            if other[i]:
                langs.append(other[i])
            out.append(langs)
        return out

    def _certificates(self, target_client, target_sector, licence) -> list:
        rng, n = self.rng_skills, self.n
        codes = self.tax.sector_codes
        cert_by_sector = {"logistics": ("heftruck", 0.45), "construction": ("VCA", 0.55), "technical": ("VCA", 0.45),
                          "hospitality": ("HACCP", 0.3), "care": ("BHV", 0.25), "manufacturing": ("VCA", 0.3),
                          "cleaning": ("VCA", 0.15), "business_services": ("BHV", 0.1), "agriculture": ("VCA", 0.2)}
        owner, value = [], []
        u = rng.random(len(target_client))
        for s, (cert, p) in cert_by_sector.items():
            if s in codes:
                sel = (target_sector == codes.index(s)) & (u < p)
                owner.append(target_client[sel])
                value.append(np.full(int(sel.sum()), cert, dtype=object))
        code95 = licence & (rng.random(n) < 0.05)
        owner.append(np.flatnonzero(code95))
        value.append(np.full(int(code95.sum()), "code95", dtype=object))
        o = np.concatenate(owner)
        v = np.concatenate(value)
        key = pd.DataFrame({"o": o, "v": v}).drop_duplicates()
        return _split_lists(key["o"].to_numpy(), key["v"].to_numpy(), n)

    # ----------------------------------------------------------------------------- labour market

    def labour_market(self) -> tuple[dict, dict]:
        rng, n, tax = self.rng_labour, self.n, self.tax
        n_emp = max(40, n // 25)
        sector_demand = np.bincount(tax.occ_sector, weights=tax.vacancy_weight, minlength=self.n_sectors)
        emp_sector = _weighted(rng, sector_demand + 0.02 * sector_demand.sum(), n_emp)
        shares = np.array([m[4] for m in self.muni])
        emp_muni = _weighted(rng, shares, n_emp)
        areas = [a for a in POSTCODE_AREAS if a[1] in set(self.muni_ids)]
        area_muni = np.array([list(self.muni_ids).index(a[1]) for a in areas])
        area_table = np.array([[a[5] if area_muni[i] == m else 0.0 for i, a in enumerate(areas)] for m in range(len(self.muni))])
        emp_area = _draw(rng, emp_muni, area_table)
        emp_lat = np.round(np.array([a[3] for a in areas])[emp_area] + rng.normal(0, 0.008, n_emp), 5)
        emp_lon = np.round(np.array([a[4] for a in areas])[emp_area] + rng.normal(0, 0.012, n_emp), 5)
        last = np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), n_emp)]
        word_idx = rng.integers(0, 4, n_emp)
        names = [f"{last[i]} {COMPANY_WORDS.get(tax.sector_codes[emp_sector[i]], ('Bedrijf',) * 4)[word_idx[i]]}"
                 for i in range(n_emp)]
        employers = dict(id=_ids("emp-", n_emp), name=np.array(names, dtype=object), sector=emp_sector,
                         municipality=emp_muni, lat=emp_lat, lon=emp_lon)

        # vacancies: past ones (closed) spread over four years, plus the ones open now
        n_closed = max(30, int(round(0.7 * n)))
        n_open = max(20, int(round(0.03 * n)))
        n_vac = n_closed + n_open
        occ = _weighted(rng, tax.vacancy_weight, n_vac)
        sector = tax.occ_sector[occ]
        # employer of the same sector (uniformly among them), else any employer
        emp = rng.integers(0, n_emp, n_vac)
        emp_order = np.argsort(emp_sector, kind="stable")
        emp_count = np.bincount(emp_sector, minlength=self.n_sectors)
        emp_start = np.cumsum(emp_count) - emp_count
        has = emp_count[sector] > 0
        pick = emp_start[sector] + np.floor(rng.random(n_vac) * np.maximum(emp_count[sector], 1)).astype(np.int64)
        emp[has] = emp_order[pick[has]]
        open_day = np.r_[self.ref - 90 - rng.integers(0, 4 * YEAR - 90, n_closed),
                         self.ref - rng.integers(0, 75, n_open)]
        close_day = np.r_[open_day[:n_closed] + rng.integers(21, 90, n_closed),
                          np.where(rng.random(n_open) < 0.35, self.ref + rng.integers(7, 60, n_open), -1)]
        is_open = np.r_[np.zeros(n_closed, dtype=bool), np.ones(n_open, dtype=bool)]
        # skills: the occupation's essential skills (at most ~10 for large ESCO profiles)
        ess_n = np.maximum(tax.ess_count(), 1)
        pos, sk = _expand_csr(occ, tax.ess_indptr, tax.ess_indices)
        keep = rng.random(len(pos)) < np.minimum(1.0, 10.0 / ess_n[occ[pos]])
        ess_pos, ess_sk = pos[keep], sk[keep]
        opt_n = np.maximum(tax.opt_count(), 1)
        pos, sk = _expand_csr(occ, tax.opt_indptr, tax.opt_indices)
        keep = rng.random(len(pos)) < np.minimum(0.8, 4.0 / opt_n[occ[pos]])
        opt_pos, opt_sk = pos[keep], sk[keep]
        codes = tax.sector_codes
        isco = tax.occ_isco[occ].astype(str)
        drivers = np.char.startswith(isco.astype("U4"), "83")
        requires_licence = drivers | (rng.random(n_vac) < np.where(np.isin(sector, [codes.index(s) for s in ("care", "technical") if s in codes]), 0.3, 0.08))
        hours = np.array([16, 20, 24, 32, 36, 38, 40])[_weighted(rng, np.array([0.08, 0.1, 0.14, 0.2, 0.18, 0.1, 0.2]), n_vac)]
        # minimum Dutch level: none / A2 / B1 / B2, higher for care and office work
        dutch_choice = np.array([-1, DUTCH.index("A2"), DUTCH.index("B1"), DUTCH.index("B2")])
        dutch_table = np.array([[0.35, 0.25, 0.30, 0.10],   # other sectors
                                [0.05, 0.15, 0.50, 0.30]])  # care, business services, ICT
        high_lang = np.isin(sector, [codes.index(s) for s in ("care", "business_services", "ict") if s in codes]).astype(int)
        min_dutch = dutch_choice[_draw(rng, high_lang, dutch_table)]
        supported = rng.random(n_vac) < np.where(np.isin(sector, [codes.index(s) for s in ("cleaning", "manufacturing", "agriculture", "hospitality") if s in codes]), 0.12, 0.04)
        positions = 1 + _weighted(rng, np.array([0.72, 0.16, 0.07, 0.03, 0.02]), n_vac)
        cert_map = {"logistics": "heftruck", "construction": "VCA", "technical": "VCA", "hospitality": "HACCP"}
        cert = np.full(n_vac, "", dtype=object)
        u = rng.random(n_vac)
        for s, cname in cert_map.items():
            if s in codes:
                cert[(sector == codes.index(s)) & (u < 0.35)] = cname
        cert[drivers & np.char.startswith(isco.astype("U4"), "833") & (u < 0.8)] = "code95"
        lat = np.round(employers["lat"][emp] + rng.normal(0, 0.002, n_vac), 5)
        lon = np.round(employers["lon"][emp] + rng.normal(0, 0.003, n_vac), 5)
        vacancies = dict(
            n=n_vac, occ=occ, sector=sector, emp=emp, open_day=open_day, close_day=close_day, is_open=is_open,
            ess_pos=ess_pos, ess_sk=ess_sk, opt_pos=opt_pos, opt_sk=opt_sk, requires_licence=requires_licence,
            hours=hours, min_dutch=min_dutch, supported=supported, positions=positions, cert=cert,
            municipality=employers["municipality"][emp], lat=lat, lon=lon, id=_ids("vac-", n_vac),
        )
        # local demand index per sector: log of its vacancy count over the mean, clipped to [-1, 1]
        counts = np.bincount(sector, minlength=self.n_sectors).astype(float)
        present = counts > 0
        demand = np.zeros(self.n_sectors)
        demand[present] = np.clip(np.log(counts[present] / counts[present].mean()), -1.0, 1.0)
        self.sector_demand_index = demand
        return employers, vacancies

    # ----------------------------------------------------------------------------- ladder

    def client_demand(self, c: _Clients) -> np.ndarray:
        """Mean local demand index over each client's target sectors (0 without targets)."""
        tot = np.bincount(c.target_client, weights=self.sector_demand_index[c.target_sector], minlength=c.n)
        cnt = np.bincount(c.target_client, minlength=c.n)
        return np.where(cnt > 0, tot / np.maximum(cnt, 1), 0.0)

    def ladder(self, c: _Clients) -> dict:
        """Ladder measurements, snapshots and the oracle (see docs/generator.md)."""
        rng, n, ref = self.rng_ladder, self.n, self.ref
        r = c.base_rung.copy()
        # snapshot: a re-measurement date between intake and ref - 12 months, in the last 4 years;
        # WW clients only while on WW (at most 20 months after intake)
        lo = np.maximum(c.intake, ref - 4 * YEAR)
        hi = np.where(c.benefit == WW, np.minimum(ref - YEAR, c.intake + 600), ref - YEAR)
        has_snap = (hi >= lo) & (r <= 4)
        # skewed towards the start of the allowed span, so snapshots spread over the years
        # (intakes themselves are recent-heavy) and time-based splits have data on both sides
        as_of = np.where(has_snap, lo + np.floor(rng.random(n) ** 2 * (hi - lo + 1)).astype(np.int64), -1)
        s_idx = np.flatnonzero(has_snap)
        months = (as_of[s_idx] - c.intake[s_idx]) / 30.4375
        edu_rank = np.where(c.education == len(EDUCATION) - 1, -1, c.education)
        dutch_rank = np.where(c.dutch == len(DUTCH) - 1, -1, c.dutch)
        demand = self.client_demand(c)
        eta_rise, eta_paid = oracle.ladder_logits(
            rung=r[s_idx], months_on_benefit=months, benefit=np.array(BENEFITS, dtype=object)[c.benefit[s_idx]],
            age_band=np.array(AGE_BANDS, dtype=object)[c.age[s_idx]], education_rank=edu_rank[s_idx],
            dutch_rank=dutch_rank[s_idx], licence=c.licence[s_idx].astype(float), years_worked=c.years_worked[s_idx],
            n_skills=c.n_skills[s_idx].astype(float), complexity=c.complexity[s_idx].astype(float),
            newcomer=c.newcomer[s_idx], special_group=c.special_group[s_idx].astype(float), demand=demand[s_idx],
            non_western=(c.migration[s_idx] == 2).astype(float), female=(c.gender[s_idx] == 0).astype(float),
        )
        p_rise, p_paid, q = oracle.ladder_probabilities(r[s_idx], eta_rise, eta_paid)
        rose = rng.random(len(s_idx)) < p_rise
        paid = rose & (rng.random(len(s_idx)) < q)

        ev_client, ev_day, ev_rung = [], [], []
        # 1. intake measurement (new intakes of the last months may not be measured yet)
        measured = ~((c.intake > ref - 120) & (rng.random(n) < 0.35))
        intake_rung = r.copy()
        before = has_snap & (as_of > c.intake)
        drift = _weighted(rng, np.array([0.30, 0.55, 0.15]), n) - 1  # -1: rose since intake, +1: fell since
        intake_rung[before] = np.clip(r[before] + drift[before], 1, 6)
        m = np.flatnonzero(measured)
        ev_client.append(m), ev_day.append(c.intake[m]), ev_rung.append(intake_rung[m])
        # 2. the measurement at as_of
        b = np.flatnonzero(before)
        ev_client.append(b), ev_day.append(as_of[b]), ev_rung.append(r[b])
        # 3. the measurement inside the 12-month window, carrying the outcome
        w_day = as_of[s_idx] + rng.integers(60, 361, len(s_idx))
        rs = r[s_idx]
        paid_rung = np.where(c.special_group[s_idx] | (rng.random(len(s_idx)) < 0.4), 5, 6)
        up = np.minimum(4, rs + 1 + (rng.random(len(s_idx)) < 0.2))
        stay = np.where(rng.random(len(s_idx)) < 0.8, rs, np.maximum(rs - 1, 1))
        w_rung = np.where(paid, paid_rung, np.where(rose, np.maximum(up, rs + 1), stay))
        ev_client.append(s_idx), ev_day.append(w_day), ev_rung.append(w_rung)
        # 4. yearly measurements afterwards until the reference date
        last_day = np.where(measured, c.intake, -1)
        last_rung = intake_rung.copy()
        last_day[s_idx] = w_day
        last_rung[s_idx] = w_rung
        # clients without snapshot that were measured at intake: yearly re-measurements too
        for _ in range(12):
            nxt = last_day + YEAR + rng.integers(-30, 31, n)
            go = (last_day >= 0) & (nxt <= ref)
            if not go.any():
                break
            step = _weighted(rng, np.array([0.10, 0.65, 0.25]), n) - 1
            new_rung = np.clip(last_rung + step, 1, 6)
            g = np.flatnonzero(go)
            ev_client.append(g), ev_day.append(nxt[g]), ev_rung.append(new_rung[g])
            last_day = np.where(go, nxt, last_day)
            last_rung = np.where(go, new_rung, last_rung)
            last_day[~go] = -1
        # a second measurement for some recent intakes
        recent = measured & (c.intake > ref - YEAR) & (c.intake < ref - 100) & (rng.random(n) < 0.3) & ~has_snap
        g = np.flatnonzero(recent)
        extra_day = c.intake[g] + rng.integers(90, 100, len(g))
        extra_rung = np.clip(r[g] + _weighted(rng, np.array([0.1, 0.7, 0.2]), len(g)) - 1, 1, 6)
        ev_client.append(g), ev_day.append(extra_day), ev_rung.append(extra_rung)

        cl = np.concatenate(ev_client).astype(np.int64)
        dy = np.concatenate(ev_day).astype(np.int64)
        rg = np.concatenate(ev_rung).astype(np.int64)
        order = np.lexsort((dy, cl))
        cl, dy, rg = cl[order], dy[order], rg[order]
        latest = np.zeros(n, dtype=np.int64)  # 0 = never measured
        last_of_client = np.r_[cl[1:] != cl[:-1], True] if len(cl) else np.zeros(0, dtype=bool)
        latest[cl[last_of_client]] = rg[last_of_client]
        return dict(client=cl, day=dy, rung=rg, latest=latest, snap_client=s_idx, snap_day=as_of[s_idx],
                    p_rise=p_rise, p_paid=p_paid, rose=rose, paid=paid)

    # ----------------------------------------------------------------------------- staff

    def status(self, c: _Clients, ladder: dict) -> tuple[np.ndarray, np.ndarray]:
        """(status code 0 active / 1 placed / 2 exited, exit day or -1)."""
        rng, n, ref = self.rng_misc, self.n, self.ref
        status = np.zeros(n, dtype=np.int64)
        placed = (ladder["latest"] == 6) & (rng.random(n) < np.where(c.benefit == WW, 0.85, 0.6))
        status[placed] = 1
        ww_done = (c.benefit == WW) & (c.intake < ref - 730) & ~placed
        other_exit = ~placed & (rng.random(n) < 0.03) & (c.intake < ref - 60)
        exited = ww_done | other_exit
        status[exited] = 2
        exit_day = np.full(n, -1, dtype=np.int64)
        exit_day[ww_done] = c.intake[ww_done] + 730
        oe = other_exit & ~ww_done
        exit_day[oe] = c.intake[oe] + np.floor(rng.random(int(oe.sum())) * (ref - c.intake[oe])).astype(np.int64)
        return status, exit_day

    def staff(self, c: _Clients, ladder: dict) -> dict:
        rng, n = self.rng_staff, self.n
        status, exit_day = self.status(c, ladder)
        in_caseload = status != 2
        # the team a client belongs to: the one of the main target sector; complex cases and
        # newcomers often go to the integrated team
        firsts = np.r_[True, c.target_client[1:] != c.target_client[:-1]] if len(c.target_client) else np.zeros(0, dtype=bool)
        main_sector = np.full(n, -1)
        main_sector[c.target_client[firsts]] = c.target_sector[firsts]
        team = np.where(main_sector >= 0, self.team_of_sector[np.maximum(main_sector, 0)], len(TEAMS) - 1)
        to_integrated = ((c.complexity == 3) | c.newcomer) & (rng.random(n) < 0.5)
        team = np.where(to_integrated, len(TEAMS) - 1, team)
        req = np.zeros(n, dtype=np.int64)
        req |= np.where(c.benefit == WW, SPEC_BITS["ww"], 0)
        req |= np.where(c.benefit == BIJSTAND, SPEC_BITS["bijstand"], 0)
        req |= np.where(c.age == 0, SPEC_BITS["youth"], 0)
        req |= np.where(c.newcomer, SPEC_BITS["newcomers"], 0)
        req |= np.where(c.special_group, SPEC_BITS["special_groups"], 0)
        rung_factor = np.array([POINTS_RUNG[k] for k in range(7)])
        points = POINTS_BENEFIT[c.benefit] * rung_factor[ladder["latest"]] * POINTS_COMPLEXITY[c.complexity] \
            + 0.3 * c.newcomer + 0.3 * c.special_group

        n_teams = len(TEAMS)
        team_clients = np.bincount(team[in_caseload], minlength=n_teams)
        n_coach_team = np.maximum(1, np.round(team_clients / CLIENTS_PER_COACH)).astype(int)
        coach_team = np.repeat(np.arange(n_teams), n_coach_team)
        k = len(coach_team)
        n_muni = len(self.muni)
        spec = np.zeros(k, dtype=np.int64)
        serves = np.ones((k, n_muni), dtype=bool)  # coach x municipality
        explicit_all = rng.random(k) < 0.45  # "all" written out as a list vs. left empty
        fte = np.array([0.6, 0.8, 0.9, 1.0])[_weighted(rng, np.array([0.15, 0.25, 0.2, 0.4]), k)]
        for t in range(n_teams):
            idx = np.flatnonzero(coach_team == t)
            members = in_caseload & (team == t)
            treq = req[members]
            if t == n_teams - 1:  # integrated team: broad generalists
                spec[idx] = SPEC_BITS["ww"] | SPEC_BITS["bijstand"]
                for bit in ("youth", "newcomers", "special_groups"):
                    spec[idx] |= np.where(rng.random(len(idx)) < 0.7, SPEC_BITS[bit], 0)
            else:
                n_ww_clients = int(((treq & 1) > 0).sum())
                n_bij = int(((treq & 2) > 0).sum())
                share_ww = n_ww_clients / max(n_ww_clients + 1.5 * n_bij, 1)
                n_ww = int(np.clip(round(len(idx) * share_ww), 1 if n_ww_clients else 0, len(idx) - (1 if n_bij else 0)))
                perm = rng.permutation(idx)
                spec[perm[:n_ww]] = SPEC_BITS["ww"]
                spec[perm[n_ww:]] = SPEC_BITS["bijstand"]
                both = rng.random(len(idx)) < 0.12
                spec[idx[both]] |= SPEC_BITS["ww"] | SPEC_BITS["bijstand"]
                for bit in ("youth", "newcomers", "special_groups"):
                    share = ((treq & SPEC_BITS[bit]) > 0).mean() if len(treq) else 0.0
                    spec[idx] |= np.where(rng.random(len(idx)) < min(0.9, 2.2 * share), SPEC_BITS[bit], 0)
            # a quarter of the coaches serve only one or two municipalities; the first never
            for j in idx[1:]:
                if rng.random() < 0.25 and n_muni > 1:
                    keep = rng.permutation(n_muni)[: rng.integers(1, min(2, n_muni - 1) + 1)]
                    serves[j] = False
                    serves[j, keep] = True
            # coverage: every needed combination has a coach who serves all municipalities
            all_muni = idx[serves[idx].all(axis=1)]
            needed, counts = np.unique(treq, return_counts=True)
            for rq in needed[np.argsort(-counts, kind="stable")]:
                if ((spec[idx] & rq) == rq).any():
                    continue
                cands = all_muni if len(all_muni) else idx
                benefit_bits = rq & 3
                same = cands[(spec[cands] & benefit_bits) == benefit_bits] if benefit_bits else cands
                pool = same if len(same) else cands
                j = pool[np.argmin([bin(int(s)).count("1") for s in spec[pool]])]
                spec[j] |= rq
        # capacities: team demand in points, times 1.05-1.15, shared by FTE
        cap = np.zeros(k)
        maxc = np.zeros(k, dtype=np.int64)
        for t in range(n_teams):
            idx = np.flatnonzero(coach_team == t)
            members = in_caseload & (team == t)
            demand_pts = points[members].sum()
            total = max(demand_pts, 30.0 * len(idx)) * rng.uniform(1.05, 1.15)
            cap[idx] = np.round(total * fte[idx] / fte[idx].sum(), 1)
            mean_pts = points[members].mean() if members.any() else 1.3
            maxc[idx] = np.ceil(cap[idx] / mean_pts * 1.25).astype(np.int64)
        languages = []
        for j in range(k):
            langs = ["nl"]
            if rng.random() < 0.55:
                langs.append("en")
            if rng.random() < 0.15:
                langs.append("de")
            u = rng.random()
            if u < 0.06:
                langs.append("ar")
            elif u < 0.11:
                langs.append("tr")
            elif u < 0.15:
                langs.append("pl")
            elif u < 0.18:
                langs.append("ti")
            languages.append(langs)
        first = np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), k)]
        last = np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), k)]
        # one coach has already left (inactive, history only); one leaves soon
        active = np.ones(k, dtype=bool)
        gone = int(rng.integers(0, k))
        active[gone] = False
        leaving = int((gone + 1 + rng.integers(0, k - 1)) % k)
        pull = np.exp(rng.normal(0, 0.5, k))  # some coaches attract more clients: overload
        staff = dict(k=k, team=coach_team, spec=spec, serves=serves, explicit_all=explicit_all, cap=cap, maxc=maxc,
                     languages=languages, names=[f"{a} {b}" for a, b in zip(first, last)], active=active,
                     gone=gone, leaving=leaving, client_team=team, req=req, status=status, exit_day=exit_day,
                     points=points, id=_ids("coach-", k, 3))
        staff["coach"] = self._current_coaches(c, staff, pull)
        staff["absences"] = self._absences(staff)
        return staff

    def _current_coaches(self, c: _Clients, staff: dict, pull: np.ndarray) -> np.ndarray:
        """The messy hand-made state: mostly eligible coaches of the client's team, drawn with
        a per-coach pull (some end up overloaded), a few odd choices, new intakes waiting."""
        rng, n, ref = self.rng_assign, self.n, self.ref
        coach = np.full(n, -1, dtype=np.int64)
        status, team, req = staff["status"], staff["client_team"], staff["req"]
        waiting = (c.intake > ref - 45) & (rng.random(n) < 0.6) | (rng.random(n) < 0.01)
        todo = (status != 2) & ~waiting
        ok_coach = staff["active"].copy()
        key = (team * 64 + req) * 16 + c.municipality
        groups = []
        for g in _unique(key[todo]):
            members = np.flatnonzero(todo & (key == g))
            t, rq, mu = g // 1024, (g // 16) % 64, g % 16
            elig = ok_coach & (staff["team"] == t) & ((staff["spec"] & rq) == rq) & staff["serves"][:, mu]
            if not elig.any():
                elig = ok_coach & ((staff["spec"] & rq) == rq) & staff["serves"][:, mu]
            if not elig.any():
                elig = ok_coach & (staff["team"] == t)
            groups.append((int(elig.sum()), int(g), members, np.flatnonzero(elig)))
        # most constrained groups first; in chunks, drawn by pull times remaining capacity, so
        # caseloads roughly follow capacity but a coach's pull overloads some
        load = np.zeros(staff["k"])
        points = staff["points"]
        for _, _, members, cand in sorted(groups, key=lambda x: (x[0], x[1])):
            members = rng.permutation(members)
            for start in range(0, len(members), 40):
                chunk = members[start:start + 40]
                room = np.maximum(staff["cap"][cand] - load[cand], 0.08 * staff["cap"][cand])
                picked = cand[_weighted(rng, pull[cand] * room, len(chunk))]
                coach[chunk] = picked
                np.add.at(load, picked, points[chunk])
        # a few odd choices: any active coach of the team, eligible or not
        odd = todo & (rng.random(n) < 0.05)
        for t in range(len(TEAMS)):
            sel = np.flatnonzero(odd & (team == t))
            cand = np.flatnonzero(ok_coach & (staff["team"] == t))
            if len(sel) and len(cand):
                coach[sel] = cand[rng.integers(0, len(cand), len(sel))]
        return coach

    def _absences(self, staff: dict) -> dict:
        rng, k, ref = self.rng_staff, staff["k"], self.ref
        rows = []  # (coach, start, end or -1, reason)
        rows.append((staff["gone"], ref - int(rng.integers(60, 200)), -1, "departure"))
        rows.append((staff["leaving"], ref + int(rng.integers(30, 60)), -1, "departure"))
        others = [j for j in range(k) if j not in (staff["gone"], staff["leaving"])]
        perm = rng.permutation(others)
        n_ill = max(1, round(0.04 * k))
        n_leave = max(1, round(0.06 * k))
        for j in perm[:n_ill]:
            start = ref - int(rng.integers(5, 40))
            rows.append((int(j), start, ref + int(rng.integers(10, 70)), "illness"))
        for j in perm[n_ill:n_ill + n_leave]:
            start = ref + int(rng.integers(7, 90))
            rows.append((int(j), start, start + int(rng.integers(7, 22)), "leave"))
        for j in perm[n_ill + n_leave:n_ill + n_leave + max(1, round(0.03 * k))]:
            start = ref - int(rng.integers(0, 5))
            rows.append((int(j), start, start + int(rng.integers(5, 15)), "leave"))
        return dict(coach=np.array([r[0] for r in rows]), start=np.array([r[1] for r in rows]),
                    end=np.array([r[2] for r in rows]), reason=np.array([r[3] for r in rows], dtype=object))

    # ----------------------------------------------------------------------------- assignments

    def assignment_history(self, c: _Clients, ladder: dict, staff: dict) -> dict:
        """Earlier coaches before the current one (0-2 switches), and one past assignment for
        clients who left. The last assignment of a client with a coach is open-ended."""
        rng, ref = self.rng_assign, self.ref
        coach, status, exit_day = staff["coach"], staff["status"], staff["exit_day"]
        team_members = [np.flatnonzero(staff["team"] == t) for t in range(len(TEAMS))]
        cl, co, st, en, rs = [], [], [], [], []
        # clients with a current coach
        has = np.flatnonzero(coach >= 0)
        n_prev = _weighted(rng, np.array([0.65, 0.28, 0.07]), len(has))
        n_prev[ref - c.intake[has] < 30] = 0  # too recent for a change of coach
        span = np.maximum(ref - c.intake[has], 1)
        # switch days: sorted uniform points in (intake, ref)
        u = np.sort(rng.random((len(has), 2)), axis=1)
        sw1 = c.intake[has] + np.floor(u[:, 0] * span).astype(np.int64) + 1
        sw2 = c.intake[has] + np.floor(u[:, 1] * span).astype(np.int64) + 2
        sw1 = np.minimum(sw1, ref - 1)
        sw2 = np.minimum(np.maximum(sw2, sw1 + 1), ref)
        prev_coach = np.empty((len(has), 2), dtype=np.int64)
        for col in range(2):
            tm = staff["team"][coach[has]]
            pick = np.array([team_members[t][rng.integers(0, len(team_members[t]))] for t in tm]) if len(has) else np.zeros(0, dtype=np.int64)
            use_gone = rng.random(len(has)) < 0.12
            pick[use_gone] = staff["gone"]
            prev_coach[:, col] = pick
        reasons = np.array(["rebalance", "absence", "specialisation", "client request"], dtype=object)
        reason_draw = reasons[_weighted(rng, np.array([0.4, 0.2, 0.2, 0.2]), len(has))]
        gone_day = int(staff["absences"]["start"][0])
        gone = staff["gone"]
        for j, i in enumerate(has):
            p = int(n_prev[j])
            starts = [int(c.intake[i])] + ([int(sw1[j])] if p >= 1 else []) + ([int(sw2[j])] if p >= 2 else [])
            coaches = [int(prev_coach[j, q]) for q in range(p)] + [int(coach[i])]
            for q in range(p):
                if coaches[q] != gone:
                    continue
                if starts[q] >= gone_day:  # the coach had already left: someone else then
                    tm_q = team_members[staff["team"][coach[i]]]
                    coaches[q] = int(tm_q[tm_q != gone][0]) if (tm_q != gone).any() else int(coach[i])
                elif starts[q + 1] > gone_day:  # the departure ended this assignment
                    starts[q + 1] = gone_day
            # a "switch" to the same coach is no switch: merge it into the previous assignment
            keep = [0] + [q for q in range(1, len(coaches)) if coaches[q] != coaches[q - 1]]
            starts = [starts[q] for q in keep]
            coaches = [coaches[q] for q in keep]
            for q in range(len(starts)):
                cl.append(i)
                co.append(coaches[q])
                st.append(starts[q])
                en.append(starts[q + 1] - 1 if q + 1 < len(starts) else -1)
                if q == 0:
                    rs.append("intake")
                elif coaches[q - 1] == gone:
                    rs.append("departure")
                else:
                    rs.append(reason_draw[j])
        # clients who left: one assignment ending at exit
        left = np.flatnonzero(status == 2)
        tm = staff["client_team"][left]
        for i, t in zip(left, tm):
            members = team_members[t]
            j = int(members[rng.integers(0, len(members))])
            end = int(max(exit_day[i], c.intake[i]))
            if j == gone and end >= gone_day:
                others = members[members != gone]
                j = int(others[0]) if len(others) else j
            cl.append(int(i))
            co.append(j)
            st.append(int(c.intake[i]))
            en.append(end)
            rs.append("intake")
        cl, co, st, en = map(np.asarray, (cl, co, st, en))
        rs = np.asarray(rs, dtype=object)
        en = np.where((en >= 0) & (en < st), st, en)
        approved = np.array([TEAM_LEADERS[TEAMS[t][0]] for t in range(len(TEAMS))], dtype=object)[staff["team"][co]]
        return dict(client=cl, coach=co, start=st, end=en, reason=rs, approved_by=approved)

    # ----------------------------------------------------------------------------- placements

    def placements(self, c: _Clients, ladder: dict, v: dict) -> tuple[dict, dict]:
        """Shortlists for past vacancies with the true hire probability of each pair, and the
        outcome stages drawn from it; proposals for the currently open vacancies."""
        rng, n, tax = self.rng_place, self.n, self.tax
        closed = np.flatnonzero(~v["is_open"])
        k = 2 + rng.poisson(4.0, len(closed))
        slot_vac = np.repeat(closed, k)
        S = len(slot_vac)
        # groups of clients by past occupation and by target sector
        occ_order = np.argsort(c.hist_occ, kind="stable")
        occ_count = np.bincount(c.hist_occ, minlength=tax.n_occupations)
        occ_start = np.cumsum(occ_count) - occ_count
        sec_order = np.argsort(c.target_sector, kind="stable")
        sec_count = np.bincount(c.target_sector, minlength=self.n_sectors)
        sec_start = np.cumsum(sec_count) - sec_count
        vo = v["occ"][slot_vac]
        vs = v["sector"][slot_vac]
        u = rng.random(S)
        by_occ = (u < 0.40) & (occ_count[vo] > 0)
        by_sec = ~by_occ & (u < 0.78) & (sec_count[vs] > 0)
        cand = np.full(S, -1, dtype=np.int64)
        # only clients in the caseload at the time (intake a week before the vacancy opened):
        # redraw a slot's candidate a few times when the drawn client came later
        todo = np.arange(S)
        for _ in range(6):
            r = rng.random(len(todo))
            pick = rng.integers(0, n, len(todo))  # random (poor) fits by default
            bo, bs = by_occ[todo], by_sec[todo]
            o, s_ = vo[todo], vs[todo]
            pick[bo] = c.hist_client[occ_order[occ_start[o[bo]] + np.floor(r[bo] * occ_count[o[bo]]).astype(np.int64)]]
            pick[bs] = c.target_client[sec_order[sec_start[s_[bs]] + np.floor(r[bs] * sec_count[s_[bs]]).astype(np.int64)]]
            good = c.intake[pick] <= v["open_day"][slot_vac[todo]] - 7
            cand[todo[good]] = pick[good]
            todo = todo[~good]
            if not len(todo):
                break
        ok = cand >= 0
        pairs = _unique(slot_vac[ok].astype(np.int64) * n + cand[ok])
        pv, pc = pairs // n, pairs % n
        P = len(pv)

        # pair features, all observable: skills, experience, distance, rung, language, licence, hours
        skill_n = len(tax.skill_labels)
        # skill overlaps: each (pair, vacancy skill) looked up in the sorted client-skill keys
        client_keys = c.skill_client.astype(np.int64) * skill_n + c.skill_id  # sorted (see _skills)

        def overlap(vac_pos: np.ndarray, vac_skill: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            indptr = np.concatenate([[0], np.cumsum(np.bincount(vac_pos, minlength=v["n"]))]).astype(np.int64)
            pair, skill = _expand_csr(pv, indptr, vac_skill)
            keys = pc[pair].astype(np.int64) * skill_n + skill
            loc = np.minimum(np.searchsorted(client_keys, keys), max(len(client_keys) - 1, 0))
            hit = (client_keys[loc] == keys) if len(client_keys) else np.zeros(len(keys), dtype=bool)
            return np.bincount(pair, weights=hit, minlength=P), np.diff(indptr)[pv]

        ess_hit, ess_tot = overlap(v["ess_pos"], v["ess_sk"])
        opt_hit, opt_tot = overlap(v["opt_pos"], v["opt_sk"])
        ess_share = np.where(ess_tot > 0, ess_hit / np.maximum(ess_tot, 1), 0.0)
        opt_share = np.where(opt_tot > 0, opt_hit / np.maximum(opt_tot, 1), 0.0)
        # years of experience in the vacancy's occupation: look the (client, occupation) key up
        # in the sorted work-history keys
        hk = c.hist_client.astype(np.int64) * tax.n_occupations + c.hist_occ
        hk_order = np.argsort(hk)
        pk = pc.astype(np.int64) * tax.n_occupations + v["occ"][pv]
        exp_years = np.zeros(P)
        if len(hk):
            loc = np.minimum(np.searchsorted(hk[hk_order], pk), len(hk) - 1)
            found = hk[hk_order][loc] == pk
            exp_years = np.where(found, c.hist_years[hk_order][loc], 0.0)
        dist = d.haversine_km(c.lat[pc], c.lon[pc], v["lat"][pv], v["lon"][pv])
        rung = _rung_at_days(ladder["client"], ladder["day"], ladder["rung"], pc, v["open_day"][pv])
        rung = np.where(rung == 0, 3, rung)
        cd = np.where(c.dutch[pc] == len(DUTCH) - 1, 3, c.dutch[pc])
        need = v["min_dutch"][pv]
        dutch_gap = np.where(need >= 0, np.maximum(need - cd, 0), 0)
        hours_short = np.maximum(v["hours"][pv] - c.hours[pc], 0).astype(float)
        male_dom = np.isin(v["sector"][pv], [tax.sector_codes.index(s) for s in oracle.MALE_DOMINATED_SECTORS if s in tax.sector_codes])
        eta = oracle.hire_logits(
            essential_share=ess_share, optional_share=opt_share, experience_years=exp_years, distance_km=dist,
            licence=c.licence[pc], rung=rung.astype(float), dutch_gap=dutch_gap.astype(float),
            requires_licence=v["requires_licence"][pv], hours_short=hours_short, supported_work=v["supported"][pv],
            special_group=c.special_group[pc], male_dominated=male_dom,
            non_western=(c.migration[pc] == 2).astype(float), female=(c.gender[pc] == 0),
        )
        p_hire = oracle.sigmoid(eta)
        # 15% of proposals are not shortlisted by the employer (no truth: never a hire decision)
        shortlisted = rng.random(P) >= 0.15
        hired = shortlisted & (rng.random(P) < p_hire)
        invited = hired | (shortlisted & (rng.random(P) < 0.45))
        open_day = v["open_day"][pv]
        d_prop = open_day + rng.integers(2, 15, P)
        d_short = d_prop + rng.integers(1, 8, P)
        d_inv = d_short + rng.integers(3, 15, P)
        d_final = np.where(invited, d_inv + rng.integers(2, 15, P), d_short + rng.integers(5, 22, P))
        d_final = np.where(shortlisted, d_final, d_prop + rng.integers(3, 15, P))
        # reason for a rejection: the pair's weakest point (or the competition after interviews)
        reasons = np.array(["insufficient skills", "too far", "Dutch language requirement not met",
                            "no driving licence", "hours do not fit", "other candidate preferred",
                            "not suitable after interview", "candidate withdrew", "not shortlisted by employer"], dtype=object)
        weak = np.select(
            [v["requires_licence"][pv] & ~c.licence[pc], dutch_gap >= 2, ess_share < 0.25, dist > 25, hours_short >= 8],
            [3, 2, 0, 1, 4], default=5)
        after = np.where(rng.random(P) < 0.15, 7, np.where(rng.random(P) < 0.5, 6, 5))
        reason_idx = np.where(~shortlisted, 8, np.where(invited, after, weak))
        pair_ids = np.arange(P)
        stages_pair = [pair_ids, pair_ids[shortlisted], pair_ids[invited], pair_ids]
        stages_name = ["proposed", "shortlisted", "invited", None]
        o_pair, o_stage, o_day, o_reason = [], [], [], []
        for ids, name, days in zip(stages_pair, stages_name, (d_prop, d_short, d_inv, d_final)):
            o_pair.append(ids)
            o_day.append(days[ids])
            if name is None:
                o_stage.append(np.where(hired[ids], "hired", "rejected").astype(object))
                o_reason.append(np.where(hired[ids], None, reasons[reason_idx[ids]]).astype(object))
            else:
                o_stage.append(np.full(len(ids), name, dtype=object))
                o_reason.append(np.full(len(ids), None, dtype=object))
        o_pair = np.concatenate(o_pair)
        out = dict(client=pc[o_pair], vacancy=pv[o_pair], stage=np.concatenate(o_stage), day=np.concatenate(o_day),
                   reason=np.concatenate(o_reason))
        # close dates after the last decision; at least as many positions as hires
        last = np.zeros(v["n"], dtype=np.int64)
        np.maximum.at(last, pv, d_final)
        v["close_day"] = np.where(v["is_open"], v["close_day"], np.maximum(v["close_day"], last + rng.integers(0, 8, v["n"])))
        v["close_day"] = np.where(v["is_open"], v["close_day"], np.minimum(v["close_day"], self.ref))
        hires = np.bincount(pv[hired], minlength=v["n"])
        v["positions"] = np.maximum(v["positions"], hires)
        # current pipeline: a few proposals on open vacancies (no decision yet, no truth)
        open_idx = np.flatnonzero(v["is_open"])
        kk = rng.integers(0, 4, len(open_idx))
        ov = np.repeat(open_idx, kk)
        oc = rng.integers(0, n, len(ov))
        keep = c.intake[oc] <= v["open_day"][ov]
        key = _unique(ov[keep].astype(np.int64) * n + oc[keep])
        ov, oc = key // n, key % n
        oday = np.minimum(v["open_day"][ov] + rng.integers(1, 10, len(ov)), self.ref)
        for name, arr in (("client", oc), ("vacancy", ov), ("day", oday)):
            out[name] = np.r_[out[name], arr]
        out["stage"] = np.r_[out["stage"], np.full(len(ov), "proposed", dtype=object)]
        out["reason"] = np.r_[out["reason"], np.full(len(ov), None, dtype=object)]
        sl = np.flatnonzero(shortlisted)
        truth = dict(client=pc[sl], vacancy=pv[sl], p_hire=p_hire[sl])
        return out, truth

    # ----------------------------------------------------------------------------- frames

    def frames(self, c: _Clients, employers: dict, v: dict, ladder: dict, staff: dict, asg: dict,
               outcomes: dict, truth_match: dict) -> Region:
        tax, n = self.tax, self.n
        sector_codes = np.array(tax.sector_codes, dtype=object)
        client_ids = _ids("K", n, max(6, len(str(n))))
        coach_ids = staff["id"]

        municipalities = pd.DataFrame({
            "id": self.muni_ids,
            "name": [m[1] for m in self.muni],
            "lat": [m[2] for m in self.muni],
            "lon": [m[3] for m in self.muni],
        })
        teams = pd.DataFrame({
            "id": [t[0] for t in TEAMS],
            "name": [t[1] for t in TEAMS],
            "kind": [t[2] for t in TEAMS],
            "sectors": [[s for s in t[3] if s in tax.sector_codes] for t in TEAMS],
        })
        spec_names = list(SPEC_BITS)
        k = staff["k"]
        muni_list = []
        for j in range(k):
            if staff["serves"][j].all():
                muni_list.append(list(self.muni_ids) if staff["explicit_all"][j] else [])
            else:
                muni_list.append(list(self.muni_ids[staff["serves"][j]]))
        first_muni = np.array([int(np.flatnonzero(staff["serves"][j])[0]) for j in range(k)])
        coaches = pd.DataFrame({
            "id": coach_ids,
            "name": staff["names"],
            "team_id": np.array([t[0] for t in TEAMS], dtype=object)[staff["team"]],
            "specialisations": [[s for s in spec_names if staff["spec"][j] & SPEC_BITS[s]] for j in range(k)],
            "capacity_points": staff["cap"].astype(float),
            "max_clients": staff["maxc"].astype(np.int64),
            "municipalities": muni_list,
            "languages": staff["languages"],
            "lat": np.array([m[2] for m in self.muni])[first_muni],
            "lon": np.array([m[3] for m in self.muni])[first_muni],
            "active": staff["active"],
        })
        ab = staff["absences"]
        coach_absences = pd.DataFrame({
            "id": _ids("abs-", len(ab["coach"]), 3),
            "coach_id": coach_ids[ab["coach"]],
            "start_date": _dates(ab["start"]),
            "end_date": np.where(ab["end"] >= 0, _dates(np.maximum(ab["end"], 0)), None),
            "reason": ab["reason"],
        })
        occ_labels = tax.occ_labels
        hist = [[] for _ in range(n)]
        for i, o, y in zip(c.hist_client.tolist(), c.hist_occ.tolist(), c.hist_years.tolist()):
            hist[i].append({"occupation": occ_labels[o], "years": float(y)})
        latest = ladder["latest"]
        status_names = np.array(["active", "placed", "exited"], dtype=object)
        coach = staff["coach"]
        clients = pd.DataFrame({
            "id": client_ids,
            "skills": _split_lists(c.skill_client, tax.skill_labels[c.skill_id], n),
            "municipality": self.muni_ids[c.municipality],
            # homes leave the generator at postcode-area precision, as storage keeps them
            # (docs/privacy-and-fairness.md); the history above was simulated on the exact points
            "lat": np.round(c.lat, HOME_DECIMALS),
            "lon": np.round(c.lon, HOME_DECIMALS),
            "postcode_area": c.pc4,
            "benefit_type": np.array(BENEFITS, dtype=object)[c.benefit],
            "intake_date": _dates(c.intake),
            "age_band": np.array(AGE_BANDS, dtype=object)[c.age],
            "education_level": np.array(EDUCATION, dtype=object)[c.education],
            "dutch_level": np.array(DUTCH, dtype=object)[c.dutch],
            "driving_licence": c.licence,
            "hours_available": c.hours.astype(np.int64),
            "ladder_rung": pd.array(np.where(latest > 0, latest, 0), dtype="Int64"),
            "complexity": c.complexity.astype(np.int64),
            "newcomer": c.newcomer,
            "special_group": c.special_group,
            "work_history": hist,
            "target_sectors": _split_lists(c.target_client, sector_codes[c.target_sector], n),
            "languages": c.languages,
            "certificates": c.certificates,
            "coach_id": np.where(coach >= 0, coach_ids[np.maximum(coach, 0)], None),
            "status": status_names[staff["status"]],
        })
        clients.loc[latest == 0, "ladder_rung"] = pd.NA
        client_protected = pd.DataFrame({
            "client_id": client_ids,
            "gender": np.array(GENDERS, dtype=object)[c.gender],
            "migration_background": np.array(MIGRATION, dtype=object)[c.migration],
        })
        employers_df = pd.DataFrame({
            "id": employers["id"],
            "name": employers["name"],
            "sector": sector_codes[employers["sector"]],
            "municipality": self.muni_ids[employers["municipality"]],
            "lat": employers["lat"],
            "lon": employers["lon"],
        })
        nv = v["n"]
        titles = [f"{str(occ_labels[o])[:1].upper()}{str(occ_labels[o])[1:]} (m/v/x)" for o in v["occ"]]
        vacancies = pd.DataFrame({
            "id": v["id"],
            "skills": _split_lists(v["ess_pos"], tax.skill_labels[v["ess_sk"]], nv),
            "optional_skills": _split_lists(v["opt_pos"], tax.skill_labels[v["opt_sk"]], nv),
            "employer_id": employers["id"][v["emp"]],
            "title": titles,
            "occupation": occ_labels[v["occ"]],
            "sector": sector_codes[v["sector"]],
            "municipality": self.muni_ids[v["municipality"]],
            "lat": v["lat"],
            "lon": v["lon"],
            "hours": v["hours"].astype(np.int64),
            "requires_licence": v["requires_licence"],
            "certificates": [[x] if x else [] for x in v["cert"]],
            "min_dutch_level": np.where(v["min_dutch"] >= 0, np.array(DUTCH, dtype=object)[np.maximum(v["min_dutch"], 0)], None),
            "supported_work": v["supported"],
            "positions": v["positions"].astype(np.int64),
            "open_date": _dates(v["open_day"]),
            "close_date": np.where(v["close_day"] >= 0, _dates(np.maximum(v["close_day"], 0)), None),
        })
        ladder_events = pd.DataFrame({
            "id": _ids("le-", len(ladder["client"]), 7),
            "client_id": client_ids[ladder["client"]],
            "date": _dates(ladder["day"]),
            "rung": ladder["rung"].astype(np.int64),
        })
        assignments = pd.DataFrame({
            "id": _ids("as-", len(asg["client"]), 7),
            "client_id": client_ids[asg["client"]],
            "coach_id": coach_ids[asg["coach"]],
            "start_date": _dates(asg["start"]),
            "end_date": np.where(asg["end"] >= 0, _dates(np.maximum(asg["end"], 0)), None),
            "reason": asg["reason"],
            "approved_by": asg["approved_by"],
        })
        order = np.lexsort((outcomes["day"], outcomes["client"], outcomes["vacancy"]))
        outcomes_df = pd.DataFrame({
            "id": _ids("oc-", len(order), 8),
            "client_id": client_ids[outcomes["client"][order]],
            "vacancy_id": v["id"][outcomes["vacancy"][order]],
            "date": _dates(outcomes["day"][order]),
            "stage": outcomes["stage"][order],
            "reason": outcomes["reason"][order],
            "recorded_by": "werkgeversdienstverlening",
        })
        truth_ladder = pd.DataFrame({
            "client_id": client_ids[ladder["snap_client"]],
            "as_of": _dates(ladder["snap_day"]),
            "p_rise_12m": ladder["p_rise"].astype(float),
            "p_paid_12m": ladder["p_paid"].astype(float),
        })
        truth_match_df = pd.DataFrame({
            "client_id": client_ids[truth_match["client"]],
            "vacancy_id": v["id"][truth_match["vacancy"]],
            "p_hire": truth_match["p_hire"].astype(float),
        })
        return Region(
            municipalities=municipalities, teams=teams, coaches=coaches, coach_absences=coach_absences,
            clients=clients, client_protected=client_protected, employers=employers_df, vacancies=vacancies,
            ladder_events=ladder_events, assignments=assignments, outcomes=outcomes_df,
            truth_ladder=truth_ladder, truth_match=truth_match_df,
        )


def _rung_at_days(ev_client: np.ndarray, ev_day: np.ndarray, ev_rung: np.ndarray, q_client: np.ndarray, q_day: np.ndarray) -> np.ndarray:
    """Rung of each (client, day) query from events sorted by (client, day); 0 when none.
    The integer-coded twin of `plein.ladder.rung_at`, for the generator's inner loop."""
    span = np.int64(1 << 32)
    key = ev_client.astype(np.int64) * span + ev_day
    qk = q_client.astype(np.int64) * span + q_day
    pos = np.searchsorted(key, qk, side="right") - 1
    ok = pos >= 0
    ok[ok] &= ev_client[pos[ok]] == q_client[ok]
    out = np.zeros(len(q_client), dtype=np.int64)
    out[ok] = ev_rung[pos[ok]]
    return out
