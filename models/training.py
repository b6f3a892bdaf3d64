"""Training and evaluation of both models: the one routine behind `plein train`, `plein
evaluate`, the promotion gate, the notebook and the benchmark.

A run is: build the dataset from a `Region` (features observable at prediction time, labels,
the generator's oracle probabilities when present), split it in time (`models.split`), fit the
model and the baseline on the training rows, and evaluate on the test rows: AUC, ECE, Brier,
NDCG@10 (ranker), against the baseline and the oracle, plus the fairness audit at the
operating threshold. Everything is determined by the data and the seed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.names import LADDER_NAME, RANKER_NAME
from models.fairness import audit, audit_groups
from models.ladder_features import region_ladder_features, to_datetime
from models.metrics import auc, brier, expected_calibration_error, ndcg_at_k, selection_threshold
from models.split import TimeSplit, time_split
from plein.domain import Rung
from plein.progress import ProgressCallback, no_progress

HORIZON_MONTHS = 12
#: the participatieladder's top rung (paid work without support): nobody there can rise
TOP_RUNG = int(max(Rung))
KINDS = ("ladder", "ranker")


def model_name(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; use ladder or ranker")
    return LADDER_NAME if kind == "ladder" else RANKER_NAME


def data_hash(region, tables: tuple[str, ...]) -> str:
    """SHA-256 of the given region tables in a canonical form (columns sorted, rows sorted by
    their text), so the same data gives the same hash whatever its source or row order."""
    h = hashlib.sha256()
    for name in tables:
        df = getattr(region, name)
        cols = sorted(df.columns)
        text = df[cols].astype(str) if len(df) else pd.DataFrame(columns=cols)
        rows = pd.util.hash_pandas_object(text, index=False).to_numpy() if len(df) else np.zeros(0, dtype=np.uint64)
        h.update(name.encode())
        h.update(",".join(cols).encode())
        h.update(np.sort(rows).tobytes())
    return h.hexdigest()


def observation_end(region):
    """The last date the region's event data cover (ladder measurements and outcomes)."""
    dates = []
    for frame, col in ((region.ladder_events, "date"), (region.outcomes, "date")):
        if len(frame):
            dates.append(to_datetime(frame[col]).max())
    if not dates:
        raise ValueError("the region has no ladder measurements or outcomes: nothing to learn from")
    return max(dates).date()


@dataclass
class Dataset:
    kind: str
    X: pd.DataFrame
    y: pd.DataFrame  # ladder: columns rise, paid; ranker: column hired
    start: pd.Series
    end: pd.Series
    client_ids: np.ndarray
    data_end: Any
    data_hash: str
    oracle: pd.DataFrame | None = None  # same columns as y (probabilities), or None
    query: np.ndarray | None = None  # ranker: vacancy id per row (NDCG groups)


def ladder_snapshots(region) -> pd.DataFrame:
    """Snapshots to learn from: the generator's oracle snapshots when present (so the model and
    the oracle are compared on the same rows), else every ladder measurement date.

    The generator draws outcomes from its oracle only for clients on rungs 1-4 (the snapshots
    of `truth_ladder`); what happens to a client on rung 5 after that is a random walk the
    oracle does not describe. So on generated data the model learns from rungs 1-4 only; it
    records that range (``LadderModel.training_rungs_``) and serving flags a prediction for
    any other rung as an extrapolation. Real data has no oracle: every measurement date is a
    snapshot, and every rung the model serves is learned from. Rung 6 is never a training row
    (see `ladder_dataset`)."""
    if len(region.truth_ladder):
        snaps = region.truth_ladder[["client_id", "as_of"]]
    else:
        snaps = region.ladder_events[["client_id", "date"]].rename(columns={"date": "as_of"})
    snaps = snaps.assign(client_id=snaps["client_id"].astype(str), as_of=to_datetime(snaps["as_of"]).dt.date.to_numpy())
    return snaps.drop_duplicates(["client_id", "as_of"]).sort_values(["as_of", "client_id"], kind="stable").reset_index(drop=True)


def ladder_dataset(region, progress: ProgressCallback | None = None) -> Dataset:
    from plein.ladder import ladder_outcomes

    cb = progress or no_progress
    snaps = ladder_snapshots(region)
    if snaps.empty:
        raise ValueError("no ladder snapshots: the region has no ladder measurements")
    cb(0, 3, "ladder dataset: labels")
    labels = ladder_outcomes(region.ladder_events, snaps, horizon_months=HORIZON_MONTHS)
    labels = labels.assign(client_id=labels["client_id"].astype(str), as_of=to_datetime(labels["as_of"]).dt.date.to_numpy())
    rows = snaps.merge(labels, on=["client_id", "as_of"], how="inner", validate="one_to_one")
    # rows with a known outcome; not on the top rung, where nobody can rise: the model never
    # serves a prediction there, and its certain "no rise" labels would only flatter the AUC
    on_top = rows["rung_at"].fillna(0).astype(int).to_numpy() >= TOP_RUNG
    rows = rows[rows["rose"].notna().to_numpy() & rows["paid"].notna().to_numpy() & ~on_top].reset_index(drop=True)
    cb(1, 3, "ladder dataset: features")
    X = region_ladder_features(region, rows[["client_id", "as_of"]])
    y = pd.DataFrame({"rise": rows["rose"].astype(int).to_numpy(), "paid": rows["paid"].astype(int).to_numpy()})
    oracle = None
    if len(region.truth_ladder):
        t = region.truth_ladder.assign(
            client_id=region.truth_ladder["client_id"].astype(str), as_of=to_datetime(region.truth_ladder["as_of"]).dt.date.to_numpy()
        ).drop_duplicates(["client_id", "as_of"])
        m = rows[["client_id", "as_of"]].merge(t, on=["client_id", "as_of"], how="left")
        oracle = pd.DataFrame({"rise": m["p_rise_12m"].astype(float).to_numpy(), "paid": m["p_paid_12m"].astype(float).to_numpy()})
        if oracle.isna().any().any():
            oracle = None
    start = to_datetime(rows["as_of"])
    end = start + pd.DateOffset(months=HORIZON_MONTHS)
    cb(3, 3, "ladder dataset: done")
    return Dataset(
        kind="ladder", X=X, y=y, start=start, end=end, client_ids=rows["client_id"].to_numpy(dtype=object),
        data_end=observation_end(region), data_hash=data_hash(region, ("clients", "ladder_events", "vacancies")), oracle=oracle,
    )


def ranker_dataset(region, taxonomy=None, progress: ProgressCallback | None = None) -> Dataset:
    from models.ranker import labelled_pairs, ranker_features

    pairs = labelled_pairs(region.outcomes)
    if pairs.empty:
        raise ValueError("no shortlisted pairs with a hire/reject decision in the outcomes: nothing to train the ranker on")
    X = ranker_features(region, pairs, taxonomy=taxonomy, progress=progress)
    oracle = None
    if len(region.truth_match):
        t = region.truth_match.assign(
            client_id=region.truth_match["client_id"].astype(str), vacancy_id=region.truth_match["vacancy_id"].astype(str)
        ).drop_duplicates(["client_id", "vacancy_id"])
        m = pairs[["client_id", "vacancy_id"]].merge(t, on=["client_id", "vacancy_id"], how="left")
        if m["p_hire"].notna().all():
            oracle = pd.DataFrame({"hired": m["p_hire"].astype(float).to_numpy()})
    return Dataset(
        kind="ranker", X=X, y=pd.DataFrame({"hired": pairs["hired"].astype(int).to_numpy()}),
        start=to_datetime(pairs["start"]), end=to_datetime(pairs["end"]), client_ids=pairs["client_id"].to_numpy(dtype=object),
        data_end=observation_end(region), data_hash=data_hash(region, ("clients", "ladder_events", "vacancies", "outcomes")),
        oracle=oracle, query=pairs["vacancy_id"].to_numpy(dtype=object),
    )


def build_dataset(kind: str, region, taxonomy=None, progress=None) -> Dataset:
    model_name(kind)
    return ladder_dataset(region, progress) if kind == "ladder" else ranker_dataset(region, taxonomy, progress)


def split_dataset(ds: Dataset, test_fraction: float = 0.25, cutoff=None) -> TimeSplit:
    return time_split(ds.start, ds.end, cutoff=cutoff, data_end=ds.data_end, test_fraction=test_fraction)


def _target_metrics(y, p, oracle=None, baseline=None, query=None) -> dict:
    out = {"auc": auc(y, p), "ece": expected_calibration_error(y, p), "brier": brier(y, p), "base_rate": float(np.mean(y)), "mean_predicted": float(np.mean(p))}
    if oracle is not None:
        out.update(oracle_auc=auc(y, oracle), oracle_ece=expected_calibration_error(y, oracle), oracle_brier=brier(y, oracle))
    if baseline is not None:
        out.update(baseline_auc=auc(y, baseline), baseline_ece=expected_calibration_error(y, baseline))
    if query is not None:
        out["ndcg_at_10"] = ndcg_at_k(y, p, query, k=10)
        if oracle is not None:
            out["oracle_ndcg_at_10"] = ndcg_at_k(y, oracle, query, k=10)
        if baseline is not None:
            out["baseline_ndcg_at_10"] = ndcg_at_k(y, baseline, query, k=10)
    return out


@dataclass
class Evaluation:
    """Metrics of one model on the test rows of a dataset."""

    kind: str
    metrics: dict  # flat: main keys (auc, ece, oracle_auc, ...) plus per target for the ladder
    fairness: dict
    threshold: float
    split: TimeSplit
    #: test-set arrays for plots: y, p, and oracle/baseline when available, per target
    curves: dict = field(default_factory=dict)

    def flat_metrics(self) -> dict[str, float]:
        """Numeric metrics only (for MLflow)."""
        return {k: float(v) for k, v in self.metrics.items() if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool)}


def main_target(kind: str) -> str:
    return "rise" if kind == "ladder" else "hired"


def predict(kind: str, model, X: pd.DataFrame, target: str) -> np.ndarray:
    return model.predict_proba(X, target=target) if kind == "ladder" else model.predict_proba(X)


def evaluate(model, ds: Dataset, split: TimeSplit, region, threshold: float, baseline=None,
             paid_threshold: float | None = None) -> Evaluation:
    """Evaluate a fitted model (and optionally the baseline) on the test rows of `ds`. The
    fairness audit is of the main target at `threshold`; for the ladder with `paid_threshold`
    also of P(paid) at that threshold (``fairness["paid"]``: audited and reported, not gated;
    the worklist orders by P(rise) first)."""
    test = split.test
    Xt = ds.X[test].reset_index(drop=True)
    targets = ("rise", "paid") if ds.kind == "ladder" else ("hired",)
    metrics: dict = {"n_train": split.n_train, "n_test": split.n_test}
    curves: dict = {}
    groups = audit_groups(region, ds.client_ids[test])
    audits: dict = {}
    for target in targets:
        y = ds.y[target].to_numpy()[test]
        p = predict(ds.kind, model, Xt, target)
        o = ds.oracle[target].to_numpy()[test] if ds.oracle is not None else None
        b = baseline.predict_proba(Xt, target=target) if baseline is not None else None
        q = ds.query[test] if ds.query is not None else None
        tm = _target_metrics(y, p, o, b, q)
        if ds.kind == "ladder" and target == "paid":
            # the served P(paid) is made consistent with P(rise) (models.ladder.coherent): the
            # metrics above measure what is served; these, the paid booster's raw output and the
            # share of rows the rule changed
            raw = model.predict_proba(Xt, target=target, raw=True)
            tm.update(raw_auc=auc(y, raw), raw_ece=expected_calibration_error(y, raw),
                      adjusted_share=float(np.mean(np.abs(raw - p) > 1e-12)) if len(p) else float("nan"))
        curves[target] = {"y": y, "p": p, "oracle": o, "baseline": b}
        suffix = "" if ds.kind == "ranker" else f"_{target}"
        for k, v in tm.items():
            metrics[f"{k}{suffix}"] = v
        if target == main_target(ds.kind):
            metrics.update(tm)  # the main target's metrics also under the plain names (auc, ece, ...)
            audits[target] = audit(y, p, groups, threshold)
        elif paid_threshold is not None:
            audits[target] = audit(y, p, groups, paid_threshold)
    fairness = audits[main_target(ds.kind)]
    if "paid" in audits:
        fairness["paid"] = audits["paid"]
    return Evaluation(kind=ds.kind, metrics=metrics, fairness=fairness, threshold=threshold, split=split, curves=curves)


@dataclass
class TrainingResult:
    kind: str
    model: Any
    baseline: Any
    params: dict
    seed: int
    dataset: Dataset
    evaluation: Evaluation
    importance: pd.Series

    @property
    def name(self) -> str:
        return model_name(self.kind)

    @property
    def importance_target(self) -> str:
        """The target `importance` explains (rise for the ladder model, hired for the ranker)."""
        return main_target(self.kind)


def default_model(kind: str, seed: int, params: dict | None = None):
    from models.ladder import LadderModel
    from models.ranker import RankerModel

    cls = LadderModel if kind == "ladder" else RankerModel
    model = cls(random_state=seed)
    if params:
        unknown = sorted(set(params) - set(model.get_params()))
        if unknown:
            raise ValueError(f"unknown {kind} model parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(model.get_params()))}")
        model.set_params(**params)
    return model


def operating_threshold(kind: str, model, X_train: pd.DataFrame, base_rate: float, target: str | None = None) -> float:
    """The threshold selecting, on the training rows, as many as there were positives: a
    worklist's "top group" the size of the expected number of risers (or hires). `target`:
    the main one unless given (the ladder's ``paid``)."""
    p = predict(kind, model, X_train, target or main_target(kind))
    return selection_threshold(p, min(max(base_rate, 0.01), 0.99))


def train(
    kind: str,
    region,
    seed: int = 0,
    params: dict | None = None,
    taxonomy=None,
    test_fraction: float = 0.25,
    progress: ProgressCallback | None = None,
    dataset: Dataset | None = None,
) -> TrainingResult:
    """Build the dataset, split in time, fit model and baseline, evaluate. Deterministic given
    the region and the seed."""
    cb = progress or no_progress
    cb(0, 5, f"{kind}: building dataset")
    ds = dataset or build_dataset(kind, region, taxonomy)
    cb(1, 5, f"{kind}: splitting in time")
    split = split_dataset(ds, test_fraction)
    Xtr = ds.X[split.train].reset_index(drop=True)
    ytr = ds.y[split.train].reset_index(drop=True)
    cb(2, 5, f"{kind}: fitting model on {split.n_train} rows")
    model = default_model(kind, seed, params)
    if kind == "ladder":
        from models.ladder import LadderBaseline

        model.fit(Xtr, ytr)
        baseline = LadderBaseline().fit(Xtr, ytr)
    else:
        model.fit(Xtr, ytr["hired"].to_numpy())
        baseline = None
    cb(3, 5, f"{kind}: evaluating on {split.n_test} rows")
    threshold = operating_threshold(kind, model, Xtr, float(ytr[main_target(kind)].mean()))
    paid_threshold = operating_threshold(kind, model, Xtr, float(ytr["paid"].mean()), "paid") if kind == "ladder" else None
    evaluation = evaluate(model, ds, split, region, threshold, baseline, paid_threshold=paid_threshold)
    cb(4, 5, f"{kind}: feature importance")
    Xte = ds.X[split.test].reset_index(drop=True)
    importance = model.importance(Xte, target="rise") if kind == "ladder" else model.importance(Xte)
    cb(5, 5, f"{kind}: done")
    return TrainingResult(
        kind=kind, model=model, baseline=baseline, params=model.get_params(), seed=seed, dataset=ds,
        evaluation=evaluation, importance=importance,
    )
