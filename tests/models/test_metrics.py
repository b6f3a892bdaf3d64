from __future__ import annotations

import math

import numpy as np
import pytest

from models.metrics import auc, brier, calibration_table, expected_calibration_error, ndcg_at_k, selection_threshold


def test_auc():
    assert auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert math.isnan(auc([1, 1], [0.2, 0.3]))
    with pytest.raises(ValueError, match="0/1"):
        auc([0, 2], [0.1, 0.2])


def test_ece():
    # bin 0.1-0.2: predicted 0.15 twice, observed 0.5 -> gap 0.35; bin 0.9: predicted 0.9, observed 1 -> gap 0.1
    assert expected_calibration_error([0, 1, 1], [0.15, 0.15, 0.9]) == pytest.approx((2 * 0.35 + 0.1) / 3)
    rng = np.random.default_rng(0)
    p = rng.random(200_000)
    y = (rng.random(200_000) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, np.clip(p + 0.1, 0, 1)) > 0.08
    assert brier([0, 1], [0.0, 1.0]) == 0.0


def test_calibration_table():
    t = calibration_table([0, 1, 1, 0], [0.05, 0.95, 0.91, 0.02])
    assert list(t["count"]) == [2, 2]
    assert list(t["observed"]) == [0.0, 1.0]


def test_ndcg_at_10():
    # vacancy a: the hire ranked first -> 1; vacancy b: the hire ranked second of two -> 1/log2(3)
    y = [1, 0, 0, 1]
    s = [0.9, 0.1, 0.8, 0.2]
    g = ["a", "a", "b", "b"]
    assert ndcg_at_k(y, s, g) == pytest.approx((1 + 1 / np.log2(3)) / 2)
    # a vacancy without a hire is skipped; ties are broken pessimistically
    assert ndcg_at_k([0, 0, 1, 0], [0.5, 0.5, 0.5, 0.5], ["x", "x", "y", "y"]) == pytest.approx(1 / np.log2(3))
    # beyond k the hire counts nothing
    assert ndcg_at_k([0, 1], [0.9, 0.1], ["a", "a"], k=1) == 0.0


def test_selection_threshold():
    p = np.linspace(0, 1, 101)
    t = selection_threshold(p, 0.3)
    assert (p >= t).mean() == pytest.approx(0.3, abs=0.02)
    with pytest.raises(ValueError):
        selection_threshold(p, 1.5)
