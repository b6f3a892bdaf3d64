"""Evaluation metrics: AUC, expected calibration error, NDCG@k per group, calibration tables.

Kept free of MLflow and of plotting so tests and the fairness audit can use them directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _arrays(y_true, y_prob) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_prob, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y_true and y_prob differ in length ({len(y)} vs {len(p)})")
    if len(y) and not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_true must hold only 0/1 labels")
    if np.isnan(p).any():
        raise ValueError("y_prob holds NaN")
    return y, p


def auc(y_true, y_prob) -> float:
    """Area under the ROC curve; NaN when only one class is present (undefined, not 0.5)."""
    from sklearn.metrics import roc_auc_score

    y, p = _arrays(y_true, y_prob)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, p))


def expected_calibration_error(y_true, y_prob, n_bins: int = 10) -> float:
    """ECE with `n_bins` equal-width probability bins: the count-weighted mean of
    |mean predicted - observed rate| per bin."""
    y, p = _arrays(y_true, y_prob)
    if len(y) == 0:
        return float("nan")
    bins = np.clip((p * n_bins).astype(int), 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins).astype(float)
    sum_p = np.bincount(bins, weights=p, minlength=n_bins)
    sum_y = np.bincount(bins, weights=y, minlength=n_bins)
    nz = count > 0
    return float(np.sum(np.abs(sum_p[nz] - sum_y[nz])) / len(y))


def brier(y_true, y_prob) -> float:
    y, p = _arrays(y_true, y_prob)
    return float(np.mean((p - y) ** 2)) if len(y) else float("nan")


def calibration_table(y_true, y_prob, n_bins: int = 10) -> pd.DataFrame:
    """Per equal-width bin: count, mean predicted probability, observed rate."""
    y, p = _arrays(y_true, y_prob)
    bins = np.clip((p * n_bins).astype(int), 0, n_bins - 1)
    df = pd.DataFrame({"bin": bins, "p": p, "y": y})
    g = df.groupby("bin").agg(count=("y", "size"), mean_predicted=("p", "mean"), observed=("y", "mean")).reset_index()
    g["bin_low"] = g["bin"] / n_bins
    g["bin_high"] = (g["bin"] + 1) / n_bins
    return g[["bin_low", "bin_high", "count", "mean_predicted", "observed"]]


def ndcg_at_k(y_true, y_score, groups, k: int = 10) -> float:
    """Mean NDCG@k over groups (e.g. vacancies): candidates of a group ranked by `y_score`,
    relevance `y_true` (1 = hired). Groups without any relevant candidate are skipped (their
    NDCG is undefined); ties in the score are broken pessimistically (relevant last) so a
    constant score does not look good."""
    y = np.asarray(y_true, dtype=float).ravel()
    s = np.asarray(y_score, dtype=float).ravel()
    g = pd.Series(np.asarray(groups)).astype(str).to_numpy()
    if not (len(y) == len(s) == len(g)):
        raise ValueError("y_true, y_score and groups differ in length")
    df = pd.DataFrame({"g": g, "y": y, "s": s})
    # sort by group, score descending, relevance ascending (pessimistic ties)
    df = df.sort_values(["g", "s", "y"], ascending=[True, False, True], kind="stable")
    df["rank"] = df.groupby("g").cumcount()
    df = df[df["rank"] < k]
    discount = 1.0 / np.log2(df["rank"].to_numpy() + 2.0)
    df["dcg"] = (2.0 ** df["y"].to_numpy() - 1.0) * discount
    dcg = df.groupby("g")["dcg"].sum()
    # ideal: relevance sorted descending per group
    ideal = pd.DataFrame({"g": g, "y": y}).sort_values(["g", "y"], ascending=[True, False], kind="stable")
    ideal["rank"] = ideal.groupby("g").cumcount()
    ideal = ideal[ideal["rank"] < k]
    ideal["dcg"] = (2.0 ** ideal["y"].to_numpy() - 1.0) / np.log2(ideal["rank"].to_numpy() + 2.0)
    idcg = ideal.groupby("g")["dcg"].sum()
    valid = idcg[idcg > 0].index
    if len(valid) == 0:
        return float("nan")
    return float((dcg.reindex(valid).fillna(0.0) / idcg.loc[valid]).mean())


def selection_threshold(y_prob, fraction: float) -> float:
    """The probability threshold that selects the top `fraction` of the rows (p >= threshold)."""
    p = np.sort(np.asarray(y_prob, dtype=float))
    if not 0 < fraction < 1 or len(p) == 0:
        raise ValueError(f"fraction must be in (0, 1) and y_prob non-empty (got {fraction}, {len(p)} rows)")
    return float(p[int(np.floor((1 - fraction) * (len(p) - 1)))])
