"""The match ranker: the probability that a shortlisted client is hired for a vacancy.

Features come from `matching.features.pair_features`, the one client x vacancy feature code
path the rule-based matcher and serving use too. Training data are the shortlisted pairs of
``region.outcomes`` whose decision (hired or rejected) is known.

Point in time. A pair shortlisted in the past must be described as it was then, not as the
client is today (a client hired last year is on rung 6 *because* of that hire: using today's
rung would leak the label). So for training:

- ``as_of`` of each pair is its shortlist date (time on the caseload is measured up to it);
- the client's ``ladder_rung`` is the rung measured last on or before that date (from
  ``ladder_events``), by giving `pair_features` one client row per (client, rung-then).

Other client columns (skills, education, Dutch level, ...) hold their current value: the
schema keeps no history of them. That is a documented limit (see docs/models.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from models import base
from models.ladder_features import assert_no_protected, to_datetime
from plein.progress import ProgressCallback, no_progress

SHORTLIST_STAGES = ("shortlisted", "invited")
DECISION_STAGES = ("hired", "rejected")


def labelled_pairs(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Shortlisted client-vacancy pairs with a known decision: columns client_id, vacancy_id,
    start (first shortlist/invite date), end (decision date), hired (0/1). Pairs never
    shortlisted, or still undecided, are left out."""
    cols = ["client_id", "vacancy_id", "start", "end", "hired"]
    if len(outcomes) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    o = pd.DataFrame(
        {
            "client_id": outcomes["client_id"].astype(str).to_numpy(),
            "vacancy_id": outcomes["vacancy_id"].astype(str).to_numpy(),
            "date": to_datetime(outcomes["date"]).to_numpy(),
            "stage": outcomes["stage"].astype(str).to_numpy(),
        }
    )
    key = ["client_id", "vacancy_id"]
    short = o[o["stage"].isin(SHORTLIST_STAGES)].groupby(key, sort=False)["date"].min().rename("start")
    dec = o[o["stage"].isin(DECISION_STAGES)]
    end = dec.groupby(key, sort=False)["date"].min().rename("end")
    hired = (dec["stage"] == "hired").groupby([dec["client_id"], dec["vacancy_id"]], sort=False).max().rename("hired")
    pairs = pd.concat([short, end, hired], axis=1, join="inner").reset_index()
    pairs = pairs[pairs["end"] >= pairs["start"]]
    pairs["hired"] = pairs["hired"].astype(int)
    return pairs.sort_values(["start", "client_id", "vacancy_id"], kind="stable").reset_index(drop=True)[cols]


def point_in_time_clients(clients: pd.DataFrame, ladder_events: pd.DataFrame, client_ids, at) -> tuple[pd.DataFrame, np.ndarray]:
    """Client rows as they were at `at` (per pair): ``ladder_rung`` replaced by the rung
    measured last on or before that date. Returns (frame of point-in-time client rows with
    ids ``<client>@r<rung>``, the point-in-time id of each pair)."""
    assert_no_protected(clients.columns, "the clients frame given to the ranker")
    ids = pd.Series(list(client_ids), dtype=object).astype(str).reset_index(drop=True)
    left = pd.DataFrame({"client_id": ids, "t": to_datetime(at).to_numpy(), "_row": np.arange(len(ids))}).sort_values("t", kind="stable")
    if len(ladder_events):
        ev = pd.DataFrame(
            {
                "client_id": ladder_events["client_id"].astype(str).to_numpy(),
                "t": to_datetime(ladder_events["date"]).to_numpy(),
                "rung": pd.to_numeric(ladder_events["rung"]).astype(float).to_numpy(),
            }
        ).sort_values("t", kind="stable")
        merged = pd.merge_asof(left, ev, on="t", by="client_id", direction="backward")
    else:
        merged = left.assign(rung=np.nan)
    merged = merged.sort_values("_row")
    rung = merged["rung"].to_numpy()
    tag = np.where(np.isnan(rung), "na", np.nan_to_num(rung).astype(int).astype(str))
    pit_ids = (ids.to_numpy(dtype=object) + "@r" + tag.astype(object)).astype(object)
    distinct = pd.DataFrame({"client_id": ids.to_numpy(), "pit_id": pit_ids, "rung": rung}).drop_duplicates("pit_id")
    base_rows = clients.copy()
    base_rows["id"] = base_rows["id"].astype(str)
    base_rows = base_rows.drop_duplicates("id").set_index("id")
    missing = sorted(set(distinct["client_id"]) - set(base_rows.index))
    if missing:
        raise KeyError(f"{len(missing)} pair client(s) not in the clients frame, e.g. {', '.join(missing[:5])}")
    rows = base_rows.loc[distinct["client_id"].to_numpy()].reset_index(drop=True)
    rows["id"] = distinct["pit_id"].to_numpy()
    rows["ladder_rung"] = [None if np.isnan(r) else int(r) for r in distinct["rung"].to_numpy()]
    return rows, pit_ids


def ranker_features(
    region,
    pairs: pd.DataFrame,
    taxonomy=None,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """`matching.features.pair_features` for labelled pairs, point in time (see module doc):
    one row per pair, in order, with client_id, vacancy_id and the matching feature columns."""
    from matching.features import pair_features
    from matching.index import MatchIndex

    cb = progress or no_progress
    cb(0, 1, "ranker features: index")
    rows, pit_ids = point_in_time_clients(region.clients, region.ladder_events, pairs["client_id"], pairs["start"])
    index = MatchIndex(rows, region.vacancies, taxonomy=taxonomy)
    work = pd.DataFrame({"client_id": pit_ids, "vacancy_id": pairs["vacancy_id"].astype(str).to_numpy(), "as_of": to_datetime(pairs["start"]).dt.date.to_numpy()})
    work["_row"] = np.arange(len(work))
    parts = []
    groups = list(work.groupby("as_of", sort=True))
    for i, (day, grp) in enumerate(groups):
        if i % 50 == 0:
            cb(i, len(groups), "ranker features: pairs")
        f = pair_features(None, None, grp[["client_id", "vacancy_id"]], index=index, as_of=day)
        f.index = grp["_row"].to_numpy()
        parts.append(f)
    cb(len(groups), len(groups), "ranker features: pairs")
    X = pd.concat(parts).sort_index() if parts else pair_features(None, None, work[["client_id", "vacancy_id"]], index=index)
    X["client_id"] = pairs["client_id"].astype(str).to_numpy()
    assert_no_protected(X.columns, "the ranker feature frame")
    return X.reset_index(drop=True)


class RankerModel(BaseEstimator):
    """Gradient-boosted hire probability on the matching pair features.

    ``predict_proba(X)`` returns the hire probability as a 1-D array; ``contributions(X)``
    the features that move it most (the re-ranker contract of `matching`)."""

    def __init__(
        self,
        learning_rate: float = 0.1,
        max_iter: int = 200,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 100,
        l2_regularization: float = 1.0,
        calibration: str | None = None,
        calibration_folds: int = 3,
        random_state: int = 0,
    ):
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def _prepare(self, X: pd.DataFrame, names=None) -> pd.DataFrame:
        assert_no_protected(X.columns, "the ranker feature frame")
        names = names if names is not None else self.feature_names_
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise ValueError(f"ranker feature frame lacks column(s) {', '.join(missing)} (expected matching.features.FEATURE_COLUMNS)")
        return base.prepare_frame(X, [], list(names))

    def fit(self, X: pd.DataFrame, y, progress=None) -> RankerModel:
        from matching.features import FEATURE_COLUMNS

        names = list(FEATURE_COLUMNS)
        assert_no_protected(names, "matching.features.FEATURE_COLUMNS")
        Xp = self._prepare(X, names)
        y = np.asarray(y).astype(int).ravel()
        if len(np.unique(y)) < 2:
            raise ValueError("the ranker's training labels hold a single class; cannot fit")
        if progress:
            progress(0, 1, "fitting ranker")
        self.feature_names_ = names
        self.reference_ = base.reference_values(Xp, [], names)
        self.pipeline_ = base.make_pipeline(
            [],
            names,
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            calibration=self.calibration,
            calibration_folds=self.calibration_folds,
            random_state=self.random_state,
        )
        with base.threads(len(Xp), fit=True):
            self.pipeline_.fit(Xp, y)
        self.base_rate_ = float(y.mean())
        if progress:
            progress(1, 1, "fitting ranker: done")
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "pipeline_"):
            raise RuntimeError("RankerModel is not fitted")
        with base.threads(len(X)):
            return base.positive(self.pipeline_.predict_proba(self._prepare(X)))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Hire probabilities, not labels (what MLflow's pyfunc flavour serves)."""
        return self.predict_proba(X)

    def contributions(self, X: pd.DataFrame, top: int = 3) -> list[list[tuple[str, float]]]:
        pipe = self.pipeline_
        return base.contributions(lambda Z: base.positive(pipe.predict_proba(Z)), self._prepare(X), self.reference_, self.feature_names_, top)

    def importance(self, X: pd.DataFrame, max_rows: int = 5000) -> pd.Series:
        """Mean absolute contribution per feature on (a sample of) `X`."""
        Xs = X.sample(n=max_rows, random_state=self.random_state) if len(X) > max_rows else X
        pipe = self.pipeline_
        return base.importance(lambda Z: base.positive(pipe.predict_proba(Z)), self._prepare(Xs), self.reference_, self.feature_names_)
