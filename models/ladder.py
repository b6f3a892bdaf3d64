"""The ladder-progress model: for a client snapshot, the probability of rising at least one rung
within 12 months (``rise``) and of reaching paid work, rung 5-6, within 12 months (``paid``).

`LadderModel` is a scikit-learn estimator (parameters in ``__init__``, everything learned in
attributes ending in ``_``) holding one calibrated pipeline per target, trained on exactly the
allow-listed features of `models.ladder_features`. `LadderBaseline` is the simple comparison
model: logistic regression on the rung and the time on benefit only.

Two rules tie the two targets to the ladder itself (see `coherent` and `TOP_RUNG`):

- Below the paid rungs (1-4) reaching paid work *is* a rise, so P(paid) <= P(rise) must hold;
  the two boosters are fitted independently and do not know it (seen: rung 4, p_rise 0.529,
  p_paid 0.533; 519 of 3,090 demo worklist entries had p_paid > p_rise). At rung 4 the two
  events are the same (the only rise from 4 is into 5, paid work with support), so P(paid) :=
  P(rise); at rungs 1-3 P(paid) := min(P(paid), P(rise)). P(rise), the figure the worklist
  sorts on and the fairness gate audits, is never changed. The rule changed P(paid) on 39% of
  the test rows of generated regions; its effect on calibration is small and goes both ways
  (ECE of P(paid), raw against served: 0.014 / 0.024 at 20,000 clients, 0.011 / 0.008 at
  100,000; AUC unchanged to 0.001). Every evaluation measures the served P(paid) and also
  reports the raw one and the share of rows the rule changed (``raw_auc_paid``,
  ``raw_ece_paid``, ``adjusted_share_paid``).
- Rung 6 (paid work without support) is the top: nobody there can rise. The model is not
  trained on it (`models.training`) and serves no probabilities for it (`models.worklist`).

The model remembers the rungs it learned from (``training_rungs_``), so serving can say when a
prediction is for a rung it never saw (an extrapolation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from models import base
from models.ladder_features import CATEGORICAL_FEATURES, LADDER_FEATURES, NUMERIC_FEATURES, check_feature_frame
from plein.domain import Rung

TARGETS = ("rise", "paid")
#: the top rung of the participatieladder (paid work without support): no rise is possible
TOP_RUNG = int(max(Rung))
#: the first paid rung (paid work with support); from a rung below it, reaching paid work implies a rise
FIRST_PAID_RUNG = int(Rung.PAID_WORK_WITH_SUPPORT)
#: a rung counts as learned from when the training rows hold at least this many snapshots on it
MIN_RUNG_ROWS = 20


def coherent(p_rise, p_paid, rung) -> tuple[np.ndarray, np.ndarray]:
    """(P(rise), P(paid)) consistent with the ladder (see module doc): P(paid) equal to P(rise)
    at rung 4 and at most P(rise) at rungs 1-3; unchanged elsewhere (rung 5-6, where "paid"
    means staying in paid work, and an unmeasured rung, where no rise is defined). P(rise) is
    returned as given."""
    rise = np.asarray(p_rise, dtype=float)
    paid = np.array(p_paid, dtype=float, copy=True)
    r = np.asarray(rung, dtype=float)
    below = np.isfinite(r) & (r < FIRST_PAID_RUNG - 1)
    paid[below] = np.minimum(paid[below], rise[below])
    last = r == FIRST_PAID_RUNG - 1
    paid[last] = rise[last]
    return rise, paid


def _targets(y) -> pd.DataFrame:
    if not isinstance(y, pd.DataFrame) or any(t not in y.columns for t in TARGETS):
        raise ValueError(f"y must be a DataFrame with columns {', '.join(TARGETS)} (0/1 labels)")
    out = y.loc[:, list(TARGETS)].astype(float).reset_index(drop=True)
    if not out.isin([0.0, 1.0]).all().all():
        raise ValueError("ladder labels must be 0 or 1")
    return out


class LadderModel(BaseEstimator):
    """Gradient-boosted, calibrated probabilities for ``rise`` and ``paid``.

    Defaults (small trees, slow learning rate, early stopping) were chosen on generated regions
    of 20k and 100k clients. Calibration is *measured*, not assumed: the booster minimises log
    loss and its probabilities came out calibrated (ECE 0.009 on 14k test snapshots), while a
    CalibratedClassifierCV wrapper (``calibration="sigmoid"`` or ``"isotonic"``, still
    available) made them worse (ECE 0.027-0.028): its calibrators learn from boosters fitted on
    two thirds of the rows and are then applied to the booster refitted on all of them. Every
    run reports ECE overall and per group, and the fairness gate checks calibration per group.
    See docs/models.md for the figures.

    ``predict_proba(X, target="rise")`` returns the positive-class probability as a 1-D array
    (the contract the serving layer and the worklist rely on); ``predict_frame`` both targets.
    """

    def __init__(
        self,
        learning_rate: float = 0.05,
        max_iter: int = 600,
        max_leaf_nodes: int = 7,
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

    def _prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        return base.prepare_frame(check_feature_frame(X), list(CATEGORICAL_FEATURES), list(NUMERIC_FEATURES))

    def fit(self, X: pd.DataFrame, y: pd.DataFrame, progress=None) -> LadderModel:
        Xp = self._prepare(X)
        Y = _targets(y)
        if len(Xp) != len(Y):
            raise ValueError(f"X has {len(Xp)} rows but y has {len(Y)}")
        self.feature_names_ = list(LADDER_FEATURES)
        self.reference_ = base.reference_values(Xp, list(CATEGORICAL_FEATURES), list(NUMERIC_FEATURES))
        rungs = Xp["rung"].dropna().astype(int).value_counts()
        #: rungs with at least MIN_RUNG_ROWS training snapshots: a prediction for any other rung
        #: (or for an unmeasured client, `trained_unmeasured_` False) is an extrapolation
        self.training_rungs_ = sorted(int(r) for r, n in rungs.items() if n >= MIN_RUNG_ROWS)
        self.trained_unmeasured_ = bool(Xp["rung"].isna().sum() >= MIN_RUNG_ROWS)
        self.pipelines_ = {}
        self.base_rates_ = {}
        for i, target in enumerate(TARGETS):
            if progress:
                progress(i, len(TARGETS), f"fitting ladder model: {target}")
            if Y[target].nunique() < 2:
                raise ValueError(f"target {target!r} has a single class in the training data; cannot fit")
            pipe = base.make_pipeline(
                list(CATEGORICAL_FEATURES),
                list(NUMERIC_FEATURES),
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
                pipe.fit(Xp, Y[target].to_numpy().astype(int))
            self.pipelines_[target] = pipe
            self.base_rates_[target] = float(Y[target].mean())
        if progress:
            progress(len(TARGETS), len(TARGETS), "fitting ladder model: done")
        return self

    def _check_target(self, target: str) -> None:
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}; use one of {', '.join(TARGETS)}")
        if not hasattr(self, "pipelines_"):
            raise RuntimeError("LadderModel is not fitted")

    def _predict(self, Xp: pd.DataFrame, target: str, raw: bool = False) -> np.ndarray:
        """`target` probabilities on a prepared frame. P(paid) is made `coherent` with P(rise)
        unless `raw` (the paid booster's own output: reported by the evaluation for comparison,
        never served); P(rise) needs no other model."""
        rise = base.positive(self.pipelines_["rise"].predict_proba(Xp))
        if target == "rise":
            return rise
        paid = base.positive(self.pipelines_["paid"].predict_proba(Xp))
        return paid if raw else coherent(rise, paid, Xp["rung"].to_numpy(dtype=float))[1]

    def predict_proba(self, X: pd.DataFrame, target: str = "rise", raw: bool = False) -> np.ndarray:
        self._check_target(target)
        Xp = self._prepare(X)
        with base.threads(len(Xp)):
            return self._predict(Xp, target, raw)

    def predict_frame(self, X: pd.DataFrame) -> pd.DataFrame:
        self._check_target("rise")
        Xp = self._prepare(X)
        with base.threads(len(Xp)):
            rise = base.positive(self.pipelines_["rise"].predict_proba(Xp))
            rise, paid = coherent(rise, base.positive(self.pipelines_["paid"].predict_proba(Xp)), Xp["rung"].to_numpy(dtype=float))
        return pd.DataFrame({"p_rise": rise, "p_paid": paid})

    def predict(self, X: pd.DataFrame) -> pd.DataFrame:
        """Probabilities, not labels: `predict_frame` (what MLflow's pyfunc flavour serves)."""
        return self.predict_frame(X)

    def contributions(self, X: pd.DataFrame, top: int = 3, target: str = "rise") -> list[list[tuple[str, float]]]:
        """Per row, the `top` features that move the `target` probability most, with the change
        in probability against the feature's reference value (see `models.base`)."""
        self._check_target(target)
        return base.contributions(lambda Z: self._predict(Z, target), self._prepare(X), self.reference_, self.feature_names_, top)

    def importance(self, X: pd.DataFrame, target: str = "rise", max_rows: int = 5000) -> pd.Series:
        """Mean absolute contribution per feature on (a sample of) `X`: the global importance
        plotted in each MLflow run."""
        self._check_target(target)
        Xs = X.sample(n=max_rows, random_state=self.random_state) if len(X) > max_rows else X
        return base.importance(lambda Z: self._predict(Z, target), self._prepare(Xs), self.reference_, self.feature_names_)

    def outside_training(self, rung) -> bool:
        """Whether a client on `rung` (None/NaN: not measured) is outside what the model learned
        from. Unknown for a model saved before the training range was recorded: False."""
        rungs = getattr(self, "training_rungs_", None)
        if rungs is None:
            return False
        if rung is None or (isinstance(rung, float) and np.isnan(rung)) or pd.isna(rung):
            return not getattr(self, "trained_unmeasured_", False)
        return int(rung) not in rungs


class LadderBaseline(BaseEstimator):
    """The baseline the model must beat: logistic regression on the rung (one-hot, with a
    'not measured' level) and log(1 + months on benefit), one per target."""

    def __init__(self, C: float = 1.0):
        self.C = C

    @staticmethod
    def _design(X: pd.DataFrame) -> np.ndarray:
        rung = pd.to_numeric(X["rung"], errors="coerce").to_numpy(dtype=float)
        onehot = np.stack([(rung == r).astype(float) for r in range(1, 7)] + [np.isnan(rung).astype(float)], axis=1)
        months = np.log1p(np.clip(pd.to_numeric(X["months_on_benefit"], errors="coerce").fillna(0).to_numpy(dtype=float), 0, None))
        return np.column_stack([onehot, months])

    def fit(self, X: pd.DataFrame, y: pd.DataFrame) -> LadderBaseline:
        from sklearn.linear_model import LogisticRegression

        D = self._design(X)
        Y = _targets(y)
        self.models_ = {t: LogisticRegression(C=self.C, max_iter=1000).fit(D, Y[t].astype(int)) for t in TARGETS}
        return self

    def predict_proba(self, X: pd.DataFrame, target: str = "rise") -> np.ndarray:
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}; use one of {', '.join(TARGETS)}")
        return self.models_[target].predict_proba(self._design(X))[:, 1]
