"""The matcher: ranked candidates for a vacancy, ranked vacancies for a client, and why (not).

Pipeline of one query (either direction):

1. Candidate generation: the skill part of the rule score for every row at once, by sparse
   column slices of the skill index (`MatchIndex.vacancy_skill_scores`); rows sharing no skill
   (direct or transferable) are not candidates.
2. Hard filters (`matching.filters`), vectorised: the cheap ones on every candidate, distance
   and certificates on the candidates examined in step 3.
3. Exact rule scores by a threshold search: an upper bound of every candidate's score (all
   terms but the distance exact), then exact features (`matching.features`, the one feature
   path) and scores best bound first, until no unexamined candidate can enter the list.
4. Re-ranking with a learned ranker when one is given (the best `shortlist_size` by rule
   score); the rule score otherwise.
5. The top N, each with its score and reasons.

A ranker is any object with ``predict_proba(features_df) -> array`` (probability of hire per
row), ``contributions(features_df, top=3) -> list[list[(feature, value)]]`` and
``version: str``. The models package provides one; matching never imports it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from matching.config import MatchConfig
from matching.features import FEATURE_COLUMNS, compute_feature_arrays, compute_features, hours_fit, rung_arrays
from matching.filters import FILTERS, as_ordinal, evaluate_filters, exclusion_messages, unknown_messages
from matching.index import MatchIndex
from matching.scoring import contribution_arrays, contributions, skill_prescore

#: how many matched/missing skills a reason lists at most (the counts are always complete)
MAX_SKILLS_LISTED = 12


class Ranker(Protocol):
    version: str

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray: ...

    def contributions(self, features: pd.DataFrame, top: int = 3) -> list[list[tuple[str, float]]]: ...


@dataclass
class MatchResult:
    """One entry of a list: the pair, its rank and score, and the reasons behind the score."""

    client_id: str
    vacancy_id: str
    rank: int
    score: float
    rule_score: float
    reasons: dict[str, Any]
    features: dict[str, float] = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "vacancy_id": self.vacancy_id, "rank": self.rank,
                "score": self.score, "rule_score": self.rule_score, "reasons": self.reasons}


@dataclass
class MatchList:
    """A ranked list and how it came about."""

    query: dict[str, str]  # {"vacancy_id": ...} or {"client_id": ...}
    results: list[MatchResult]
    scored_by: str  # "rules" or "model:<version>"
    candidates: int  # rows sharing a skill (direct or transferable) with the query
    eligible: int  # of the candidates, those passing every hard filter
    #: filter -> candidates it excluded (a candidate failing several is counted under each)
    excluded_by: dict[str, int]
    note: str | None = None
    #: candidates examined (best skill scores first) before the top was provably complete
    examined: int = 0

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"client_id": r.client_id, "vacancy_id": r.vacancy_id, "rank": r.rank, "score": r.score,
                              "rule_score": r.rule_score} for r in self.results],
                            columns=["client_id", "vacancy_id", "rank", "score", "rule_score"])

    def ids(self) -> list[str]:
        key = "client_id" if "vacancy_id" in self.query else "vacancy_id"
        return [getattr(r, key) for r in self.results]


@dataclass
class Explanation:
    """Why a client is, or is not, on a vacancy's list."""

    vacancy_id: str
    client_id: str
    on_list: bool
    rank: int | None
    score: float | None
    cutoff_score: float | None
    excluded_by: list[dict]  # [{"filter": ..., "message": ...}]
    summary: str
    reasons: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Matcher:
    """Vacancy matching over one set of clients and vacancies. Build once, query often.

    `as_of` is the reference date (closed vacancies, time on caseload); default today.
    """

    def __init__(self, clients: pd.DataFrame | None = None, vacancies: pd.DataFrame | None = None, taxonomy=None,
                 config: MatchConfig | None = None, as_of: dt.date | None = None, index: MatchIndex | None = None) -> None:
        self.index = index or MatchIndex(clients, vacancies, taxonomy=taxonomy, config=config)
        self.config = self.index.config
        self.as_of = as_of or dt.date.today()

    @classmethod
    def from_region(cls, region, taxonomy=None, config: MatchConfig | None = None, as_of: dt.date | None = None) -> "Matcher":
        return cls(region.clients, region.vacancies, taxonomy=taxonomy, config=config, as_of=as_of)

    # ------------------------------------------------------------------ queries
    def candidates_for_vacancy(self, vacancy_id: str, top: int = 20, ranker: Ranker | None = None,
                               exclude: set[str] | None = None, with_reasons: bool = True) -> MatchList:
        """The best `top` clients for a vacancy (employer services' candidate list).

        `exclude`: client ids to leave out (e.g. those at their exposure cap).
        """
        ix = self.index
        v = ix.vacancy_index(vacancy_id)
        query = {"vacancy_id": ix.vacancy_ids[v]}
        if self.config.filters.exclude_closed_vacancies and not np.isnan(ix.v_close[v]) and ix.v_close[v] <= as_ordinal(self.as_of):
            return MatchList(query, [], "rules" if ranker is None else f"model:{getattr(ranker, 'version', 'unknown')}", 0, 0,
                             {}, note=f"vacancy closed on {dt.date.fromordinal(int(ix.v_close[v]))}")
        skill = ix.vacancy_skill_scores(v)
        pre = skill_prescore(skill, self.config)
        # no skill evidence, no candidate: a list ranked on distance and hours alone is noise
        cand = np.flatnonzero(pre > 0)
        if exclude:
            drop = np.array([ix.client_pos.get(str(c), -1) for c in exclude], dtype=np.int64)
            cand = np.setdiff1d(cand, drop[drop >= 0])
        return self._select(cand, np.full(len(cand), v), skill, cand, pre[cand], query, top, ranker, with_reasons)

    def vacancies_for_client(self, client_id: str, top: int = 20, ranker: Ranker | None = None,
                             with_reasons: bool = True) -> MatchList:
        """The best `top` open vacancies for a client (for the coach and the client)."""
        ix = self.index
        c = ix.client_index(client_id)
        query = {"client_id": ix.client_ids[c]}
        skill = ix.client_skill_scores(c)
        pre = skill_prescore(skill, self.config)
        cand = np.flatnonzero(pre > 0)
        return self._select(np.full(len(cand), c), cand, skill, cand, pre[cand], query, top, ranker, with_reasons)

    def score_pairs(self, client_ids, vacancy_ids, ranker: Ranker | None = None) -> pd.DataFrame:
        """Features, rule score and (with a ranker) model score for given pairs, no filtering."""
        ix = self.index
        ci = np.array([ix.client_index(c) for c in client_ids], dtype=np.int64)
        vi = np.array([ix.vacancy_index(v) for v in vacancy_ids], dtype=np.int64)
        feats = compute_features(ix, ci, vi, as_of=self.as_of)
        contrib = contributions(feats, self.config)
        feats["rule_score"] = contrib.sum(axis=1).to_numpy()
        if ranker is not None and len(feats):
            feats["model_score"] = np.asarray(ranker.predict_proba(feats[FEATURE_COLUMNS]), dtype=float)
        return feats

    def explain(self, vacancy_id: str, client_id: str, top: int = 20, ranker: Ranker | None = None,
                exclude: set[str] | None = None) -> Explanation:
        """Why this client is or is not on the top-`top` list of this vacancy."""
        ix = self.index
        v = ix.vacancy_index(vacancy_id)
        c = ix.client_index(client_id)
        vid, cid = ix.vacancy_ids[v], ix.client_ids[c]
        fr = evaluate_filters(ix, np.array([c]), np.array([v]), self.as_of)
        failed = fr.failed_filters(0)
        feats = compute_features(ix, np.array([c]), np.array([v]), as_of=self.as_of)
        contrib = contributions(feats, self.config)
        rule = float(contrib.sum(axis=1).iloc[0])
        score = float(np.asarray(ranker.predict_proba(feats[FEATURE_COLUMNS]))[0]) if ranker is not None else rule
        reasons = self._reasons(c, v, contrib.iloc[0].to_dict(), fr.unknown_filters(0), fr.distance_km[0], ranker, feats)
        if failed:
            ex = exclusion_messages(ix, c, v, failed, float(fr.distance_km[0]))
            summary = "not on the list: " + "; ".join(e["message"] for e in ex)
            return Explanation(vid, cid, False, None, score, None, ex, summary, reasons)
        if exclude and cid in exclude:
            ex = [{"filter": "exposure_cap", "message": "the client already reached the exposure cap for this period"}]
            return Explanation(vid, cid, False, None, score, None, ex, "not on the list: " + ex[0]["message"], reasons)
        lst = self.candidates_for_vacancy(vid, top=top, ranker=ranker, exclude=exclude, with_reasons=False)
        ids = lst.ids()
        cutoff = lst.results[-1].score if lst.results else None
        if cid in ids:
            rank = ids.index(cid) + 1
            return Explanation(vid, cid, True, rank, score, cutoff, [], f"on the list at rank {rank} of {len(ids)}", reasons)
        skill_total = sum(float(feats[k].iloc[0]) for k in ("skill_similarity", "essential_coverage", "optional_coverage", "transferable_similarity"))
        if skill_total <= 0:
            summary = "not on the list: no skill in common with the vacancy (none of its essential or optional skills, directly or through related occupations)"
        elif ranker is not None and (cutoff is None or score >= cutoff):
            summary = (f"not on the list: its rule score {rule:.3f} is outside the best {self.config.shortlist_size} "
                       f"that the model re-ranks")
        else:
            better = sum(1 for r in lst.results if r.score > score)
            summary = (f"not on the list: passes every filter but scores {score:.3f}, below the last of the {len(ids)} "
                       f"listed ({cutoff:.3f}); {better} listed candidates score higher") if cutoff is not None else \
                "not on the list: passes every filter but the list is empty"

        return Explanation(vid, cid, False, None, score, cutoff, [], summary, reasons)

    # ------------------------------------------------------------------ internals
    def _examine(self, bound: np.ndarray, need: int):
        """Growing sets of candidate positions, best upper bound first (threshold algorithm).

        Yields (positions, best bound not yet examined). Once the `need`-th best exact score
        among the examined beats the best unexamined bound, no unexamined candidate can enter
        the list: the top is exact without scoring every candidate.
        """
        n = len(bound)
        m = max(8 * need, 256)
        while True:
            if m >= n:
                yield np.arange(n), -np.inf
                return
            part = np.argpartition(-bound, m)
            yield part[:m], float(bound[part[m]])
            m *= 4

    def _select(self, ci, vi, skill, rows, pre, query, top, ranker, with_reasons) -> MatchList:
        """Filter the candidate pairs, score them, re-rank the best, keep the top.

        Stage A, over every candidate: the cheap filters and every feature except the
        distance, which is set to its most favourable value; this gives an upper bound of each
        candidate's rule score. The distance and certificate filters over every candidate (they
        are cheap; the counts need them all). Stage B, best bound first (`_examine`): the exact
        features and score, until no unexamined bound can beat the list.
        """
        ix = self.index
        cfg = self.config
        scored_by = "rules" if ranker is None else f"model:{getattr(ranker, 'version', 'unknown')}"
        n_cand = len(ci)
        need = top if ranker is None else max(cfg.shortlist_size, top)
        late = ("distance", "certificates")
        fa = evaluate_filters(ix, ci, vi, self.as_of, only=[f for f in FILTERS if f not in late])
        ok_a = fa.passed
        ci_a, vi_a, rows_a = ci[ok_a], vi[ok_a], rows[ok_a]
        skill_a = {k: a[rows_a] for k, a in skill.items()}
        # the features the rule terms read, with the distance at its most favourable (0 km)
        own, related = ix.experience_years(ci_a, vi_a)
        rung, rung_known = rung_arrays(ix, ci_a)
        zeros = np.zeros(len(ci_a))
        bound_feats = {**skill_a, "occupation_experience_years": own, "related_experience_years": related,
                       "distance_km": zeros, "distance_known": zeros + 1.0, "hours_fit": hours_fit(ix, ci_a, vi_a),
                       "ladder_rung": rung, "rung_known": rung_known}
        bound_contrib = contribution_arrays(bound_feats, cfg)
        w_dist = cfg.rule_weights.get("distance", 0.0)
        bound = np.zeros(len(ci_a)) + max(0.0, w_dist)
        for t, arr in bound_contrib.items():
            if t != "distance":
                bound = bound + arr
        sub = np.arange(0)
        ok = np.zeros(0, dtype=bool)
        # the late filters once over every candidate: they are vectorised and cheap (scoring is
        # what the threshold search saves), and the counts are over every candidate, not only
        # the examined ones (the review read "256 of 2830 pass every requirement" where 559 did:
        # the count followed the list length)
        fb = evaluate_filters(ix, ci_a, vi_a, self.as_of, only=late)
        passed_b = fb.passed
        feats: dict[str, np.ndarray] = {}
        contrib: dict[str, np.ndarray] = {}
        rule = np.zeros(0)
        for sub, best_rest in self._examine(bound, need):
            ok = passed_b[sub]
            pick = sub[ok]
            feats = compute_feature_arrays(ix, ci_a[pick], vi_a[pick], as_of=self.as_of,
                                           skill={k: a[pick] for k, a in skill_a.items()}, distance_km=fb.distance_km[pick])
            contrib = contribution_arrays(feats, cfg)
            rule = np.sum(list(contrib.values()), axis=0) if len(pick) else np.zeros(0)
            threshold = -np.partition(-rule, need - 1)[need - 1] if len(rule) >= need else -np.inf
            if best_rest < threshold:
                break
        n_eligible = int(passed_b.sum())
        excluded_by = {f: int(a.sum()) for f, a in fa.excluded.items() if a.any()}
        excluded_by.update({f: int(a.sum()) for f, a in fb.excluded.items() if a.any()})
        examined = len(sub)
        pick = sub[ok]
        ci, vi = ci_a[pick], vi_a[pick]
        unknown = {f: a[ok_a][pick] for f, a in fa.unknown.items()}
        unknown.update({f: a[pick] for f, a in fb.unknown.items()})
        dist_ok = fb.distance_km[pick]
        if len(ci) == 0:
            return MatchList(query, [], scored_by, n_cand, n_eligible, excluded_by, examined=examined,
                             note=self._empty_note(query, n_cand, excluded_by))
        keep = np.arange(len(ci))
        if ranker is not None:
            k = max(self.config.shortlist_size, top)
            if len(keep) > k:
                keep = np.argpartition(-rule, k - 1)[:k]
            shortlisted = pd.DataFrame({n: feats[n][keep] for n in FEATURE_COLUMNS})
            score_keep = np.asarray(ranker.predict_proba(shortlisted), dtype=float).ravel()
            if score_keep.shape[0] != len(keep):
                raise ValueError(f"ranker {scored_by} returned {score_keep.shape[0]} scores for {len(keep)} pairs")
        else:
            if len(keep) > top:
                # exact top-N: partition on the score, then sort that part (ties by id below)
                kth = np.partition(-rule, top - 1)[top - 1]
                keep = np.flatnonzero(-rule <= kth)
            score_keep = rule[keep]
        other = ix.client_ids[ci[keep]] if "vacancy_id" in query else ix.vacancy_ids[vi[keep]]
        order = keep[np.lexsort((other, -rule[keep], -score_keep))][:top]
        score_of = dict(zip(keep.tolist(), score_keep.tolist()))
        F = np.column_stack([feats[n][order] for n in FEATURE_COLUMNS]) if len(order) else np.zeros((0, len(FEATURE_COLUMNS)))
        terms = list(contrib)
        K = np.column_stack([contrib[t][order] for t in terms]) if len(order) else np.zeros((0, len(terms)))
        model_contrib = None
        if ranker is not None and with_reasons:
            model_contrib = ranker.contributions(pd.DataFrame(F, columns=FEATURE_COLUMNS), top=3)
        results = []
        for r, k in enumerate(order):
            c, v = int(ci[k]), int(vi[k])
            reasons: dict[str, Any] = {}
            if with_reasons:
                flags = [f for f, a in unknown.items() if a[k]]
                reasons = self._reasons(c, v, dict(zip(terms, K[r].tolist())), flags, float(dist_ok[k]), None, None)
                if ranker is not None:
                    reasons["model"] = {"version": getattr(ranker, "version", "unknown"), "p_hire": float(score_of[int(k)]),
                                        "contributions": [[str(n), float(x)] for n, x in (model_contrib[r] if model_contrib else [])]}
            results.append(MatchResult(str(ix.client_ids[c]), str(ix.vacancy_ids[v]), r + 1, float(score_of[int(k)]),
                                       float(rule[k]), reasons, dict(zip(FEATURE_COLUMNS, F[r].tolist()))))
        return MatchList(query, results, scored_by, n_cand, n_eligible, excluded_by, examined=examined)

    def _empty_note(self, query: dict, n_cand: int, excluded_by: dict[str, int]) -> str:
        """Why a list is empty, in words (an empty list with no reason reads as a fault)."""
        ix = self.index
        if n_cand == 0 and "vacancy_id" in query:
            v = ix.vacancy_index(query["vacancy_id"])
            if ix.E[v].nnz + ix.O[v].nnz == 0:
                return "the vacancy lists no skills: candidates are found by skill, so add its essential skills"
            return "no client shares a skill with the vacancy, directly or through related occupations"
        if n_cand == 0:
            return "no open vacancy shares a skill with the client, directly or through related occupations"
        failed = ", ".join(f"{f} ({k})" for f, k in sorted(excluded_by.items(), key=lambda kv: -kv[1]))
        return f"all {n_cand} candidates with a skill in common fail a requirement: {failed}"

    def _reasons(self, c: int, v: int, contrib_row: dict, unknown: list[str], distance_km: float, ranker, feats) -> dict:
        ix = self.index
        ess = ix._row(ix.E, v)[0].tolist()
        opt = ix._row(ix.O, v)[0].tolist()
        held = set(ix._row(ix.C, c)[0].tolist())
        t_idx, t_val = ix._row(ix.T, c)
        transferable = dict(zip(t_idx.tolist(), t_val.tolist()))
        matched = [j for j in ess if j in held]
        missing = [j for j in ess if j not in held]
        via = sorted((j for j in missing if j in transferable), key=lambda j: -transferable[j])
        rung = int(ix.c_rung[c])
        f = self.config.filters
        supported = bool(ix.v_supported[v])
        req = (f.min_rung_supported if supported else f.min_rung_regular) or 0
        idf = ix.idf
        reasons: dict[str, Any] = {
            "matched_essential_skills": ix.skill_labels(sorted(matched, key=lambda j: -idf[j])[:MAX_SKILLS_LISTED]),
            "missing_essential_skills": ix.skill_labels(sorted(missing, key=lambda j: -idf[j])[:MAX_SKILLS_LISTED]),
            "essential_matched": len(matched),
            "essential_missing": len(missing),
            "matched_optional_skills": ix.skill_labels([j for j in opt if j in held][:MAX_SKILLS_LISTED]),
            "transferable_skills": ix.skill_labels(via[:MAX_SKILLS_LISTED]),
            "distance_km": None if np.isnan(distance_km) else round(float(distance_km), 1),
            "readiness": {"rung": rung if rung > 0 else None, "required_rung": int(req),
                          "vacancy_kind": "supported work" if supported else "regular"},
            "score_contributions": {k: round(float(x), 6) for k, x in contrib_row.items()},
            "notes": unknown_messages(ix, c, v, unknown),
        }
        if ranker is not None and feats is not None:
            contrib = ranker.contributions(feats[FEATURE_COLUMNS], top=3)
            reasons["model"] = {"version": getattr(ranker, "version", "unknown"),
                                "p_hire": float(np.asarray(ranker.predict_proba(feats[FEATURE_COLUMNS]))[0]),
                                "contributions": [[str(n), float(x)] for n, x in contrib[0]]}
        return reasons
