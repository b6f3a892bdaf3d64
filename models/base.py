"""Shared building blocks of the two models: the scikit-learn pipeline and the contributions.

Pipeline: a ColumnTransformer (categorical columns ordinal-encoded, unknown categories to
missing; numeric columns passed through, missing values kept: the booster handles them)
followed by a HistGradientBoostingClassifier with native categorical support, optionally
wrapped in CalibratedClassifierCV (isotonic or sigmoid, fitted on k-fold out-of-fold
predictions; one booster refitted on all rows is what gets stored and served).

Contributions ("reasons"): for each row and feature, how much the predicted probability
drops or rises when that one feature is set to its *reference value* (training median for
numeric features, most frequent category for categorical ones), other features unchanged:
``contribution = p(x) - p(x with feature := reference)``. It is honest (it queries the real
model, calibration included), exact for what it says, and costs one extra batch prediction
per feature. It is not a Shapley value: effects that only exist jointly are not split.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np
import pandas as pd

#: below this many rows, boosting runs on one thread: OpenMP start-up and, on a busy machine,
#: oversubscription cost far more than a second core gains (measured: a 3,000-row fit took
#: 0.7 s on one thread and 12 s on two while other processes used the cores)
PARALLEL_MIN_ROWS = 50_000


def thread_count(n_rows: int, fit: bool = True) -> int:
    """Threads for fitting or predicting `n_rows` rows: ``PLEIN_MODEL_THREADS`` if set; else
    for fitting 1 below `PARALLEL_MIN_ROWS` rows and all cores above; for predicting always 1
    (100,000 ladder predictions: 0.9 CPU-seconds on one thread, 2.5 on two, most of it spent
    waiting on each other on a shared machine)."""
    env = os.environ.get("PLEIN_MODEL_THREADS")
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"PLEIN_MODEL_THREADS must be a whole number, got {env!r}") from None
        if n < 1:
            raise ValueError(f"PLEIN_MODEL_THREADS must be at least 1, got {n}")
        return n
    if not fit:
        return 1
    return 1 if n_rows < PARALLEL_MIN_ROWS else (os.cpu_count() or 1)


@contextmanager
def threads(n_rows: int, fit: bool = False):
    """Limit OpenMP/BLAS threads for fitting (`fit=True`) or predicting `n_rows` rows (see
    `thread_count`)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=thread_count(n_rows, fit)):
        yield


def make_pipeline(
    categorical: list[str],
    numeric: list[str],
    *,
    learning_rate: float,
    max_iter: int,
    max_leaf_nodes: int,
    min_samples_leaf: int,
    l2_regularization: float,
    calibration: str | None,
    calibration_folds: int,
    random_state: int,
):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    pre = ColumnTransformer(
        [
            ("categorical", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan), categorical),
            ("numeric", "passthrough", numeric),
        ],
        verbose_feature_names_out=False,
    )
    booster = HistGradientBoostingClassifier(
        learning_rate=learning_rate,
        max_iter=max_iter,
        max_leaf_nodes=max_leaf_nodes,
        min_samples_leaf=min_samples_leaf,
        l2_regularization=l2_regularization,
        categorical_features=[True] * len(categorical) + [False] * len(numeric),
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=15,
        random_state=random_state,
    )
    pipe = Pipeline([("features", pre), ("booster", booster)])
    if calibration in (None, "none"):
        return pipe
    if calibration not in ("isotonic", "sigmoid"):
        raise ValueError(f"calibration must be 'isotonic', 'sigmoid' or None, got {calibration!r}")
    # ensemble=False: the calibrator is fitted on out-of-fold predictions and the booster is
    # refitted once on all rows, so one booster is stored and served (not one per fold)
    return CalibratedClassifierCV(pipe, method=calibration, cv=calibration_folds, ensemble=False)


def prepare_frame(X: pd.DataFrame, categorical: list[str], numeric: list[str]) -> pd.DataFrame:
    """The model's input columns with stable dtypes: categoricals as Python-object strings
    (missing as NaN), numerics as float64."""
    out = pd.DataFrame(index=range(len(X)))
    for c in categorical:
        col = X[c].astype(object).to_numpy()
        out[c] = pd.Series([np.nan if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in col], dtype=object)
    for c in numeric:
        out[c] = pd.to_numeric(pd.Series(X[c].to_numpy()), errors="coerce").astype(float).to_numpy()
    return out


def reference_values(X: pd.DataFrame, categorical: list[str], numeric: list[str]) -> dict:
    ref: dict = {}
    for c in categorical:
        mode = X[c].dropna().mode()
        ref[c] = mode.iloc[0] if len(mode) else np.nan
    for c in numeric:
        ref[c] = float(np.nanmedian(X[c].to_numpy(dtype=float))) if X[c].notna().any() else np.nan
    return ref


def contribution_matrix(predict, X: pd.DataFrame, reference: dict, features: list[str]) -> np.ndarray:
    """(rows x features) change in probability when each feature alone is set to its
    reference value: ``p(x) - p(x with feature := reference)``."""
    n, k = len(X), len(features)
    if n == 0:
        return np.zeros((0, k))
    # one stacked batch: the rows as they are, then once per feature with that feature at its
    # reference value (one predict call instead of one per feature)
    stacked = pd.concat([X] * (k + 1), ignore_index=True)
    for j, f in enumerate(features):
        col = stacked.columns.get_loc(f)
        stacked.iloc[(j + 1) * n : (j + 2) * n, col] = reference[f]
    with threads(len(stacked)):
        p = predict(stacked)
    base = p[:n]
    return np.column_stack([base - p[(j + 1) * n : (j + 2) * n] for j in range(k)])


def contributions(predict, X: pd.DataFrame, reference: dict, features: list[str], top: int) -> list[list[tuple[str, float]]]:
    """Top-`top` features per row by absolute contribution (see module doc), as
    ``[(feature, contribution), ...]`` with contribution in probability units."""
    deltas = contribution_matrix(predict, X, reference, features)
    order = np.argsort(-np.abs(deltas), axis=1, kind="stable")[:, :top]
    return [[(features[j], float(deltas[i, j])) for j in order[i]] for i in range(len(X))]


def importance(predict, X: pd.DataFrame, reference: dict, features: list[str]) -> pd.Series:
    """Global importance: mean absolute contribution per feature."""
    deltas = contribution_matrix(predict, X, reference, features)
    return pd.Series(np.abs(deltas).mean(axis=0), index=features).sort_values(ascending=False)


def positive(proba: np.ndarray) -> np.ndarray:
    return np.asarray(proba)[:, 1]
