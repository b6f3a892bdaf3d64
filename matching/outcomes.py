"""Outcomes of candidate lists (proposed, shortlisted, invited, hired, rejected with reason).

Recorded outcomes are the learned ranker's training data: each row of the `outcomes` table
says how far a client got on a vacancy's list. This module

- builds outcome rows (`outcome_rows`) and records them through `plein.storage` into the
  `outcomes` table (`record_outcomes`), validated by `plein.storage.validate_frame` and
  written all-or-nothing by `plein.storage.import_frame`;
- turns outcome history into a training frame (`training_frame`): one row per listed
  (client, vacancy) pair with the pair features of `matching.features` (the one feature
  path) as of the date the pair was first listed, and the label `hired`.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd

from plein.domain import OutcomeStage

STAGES = tuple(s.value for s in OutcomeStage)
#: stage order: a pair's furthest stage is its outcome
STAGE_ORDER = {s: i for i, s in enumerate(("proposed", "shortlisted", "invited", "rejected", "hired"))}


def outcome_id(client_id: str, vacancy_id: str, stage: str, date: dt.date) -> str:
    """A stable id, so recording the same event twice updates instead of duplicating."""
    h = hashlib.sha1(f"{client_id}|{vacancy_id}|{stage}|{date.isoformat()}".encode()).hexdigest()[:16]
    return f"out-{h}"


def outcome_rows(vacancy_id: str, client_ids, stage: str, date: dt.date | None = None, reason: str | None = None,
                 recorded_by: str | None = None) -> pd.DataFrame:
    """Outcome rows for clients on one vacancy's list, ready for `record_outcomes`.

    A rejection needs a reason (it is what teaches the ranker); other stages may have one.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown outcome stage {stage!r}; one of {', '.join(STAGES)}")
    if stage == OutcomeStage.REJECTED.value and not (reason and str(reason).strip()):
        raise ValueError("a rejected outcome needs a reason (e.g. 'no show', 'skills', 'employer chose other')")
    date = date or dt.date.today()
    ids = [str(c) for c in client_ids]
    return pd.DataFrame({
        "id": [outcome_id(c, str(vacancy_id), stage, date) for c in ids],
        "client_id": ids,
        "vacancy_id": [str(vacancy_id)] * len(ids),
        "date": [date] * len(ids),
        "stage": [stage] * len(ids),
        "reason": [reason] * len(ids),
        "recorded_by": [recorded_by] * len(ids),
    })


def list_proposals(match_list, date: dt.date | None = None, recorded_by: str | None = "plein") -> pd.DataFrame:
    """'proposed' outcome rows for every client on a vacancy's `MatchList`."""
    vacancy_id = match_list.query.get("vacancy_id")
    if vacancy_id is None:
        raise ValueError("proposals are recorded for a vacancy's candidate list, not a client's vacancy list")
    return outcome_rows(vacancy_id, [r.client_id for r in match_list.results], "proposed", date, recorded_by=recorded_by)


def record_outcomes(engine, rows: pd.DataFrame, source: str = "matching"):
    """Validate and write outcome rows to the `outcomes` table (all or nothing).

    Returns the storage `ImportReport`; raises `plein.storage.ImportValidationError` listing
    every invalid row (unknown client or vacancy, bad stage, ...).
    """
    from plein.storage import import_frame, validate_frame

    _, issues = validate_frame("outcomes", rows, source=source)
    errors = [i for i in issues if getattr(i, "severity", "error") == "error"]
    if errors:
        from plein.storage import ImportValidationError

        raise ImportValidationError(errors, "outcomes", source, [])
    return import_frame(engine, "outcomes", rows, source=source, taxonomy=None)


def final_stages(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per (client, vacancy): first listed date, furthest stage, label `hired`."""
    if outcomes.empty:
        return pd.DataFrame(columns=["client_id", "vacancy_id", "first_date", "stage", "hired"])
    df = outcomes[["client_id", "vacancy_id", "date", "stage"]].copy()
    df["date"] = pd.to_datetime(df["date"]).dt.date
    df["order"] = df["stage"].map(STAGE_ORDER).fillna(0)
    g = df.groupby(["client_id", "vacancy_id"], sort=True)
    out = g.agg(first_date=("date", "min"), order=("order", "max")).reset_index()
    inv = {i: s for s, i in STAGE_ORDER.items()}
    out["stage"] = out["order"].map(inv)
    out["hired"] = (out["stage"] == "hired").astype(int)
    return out.drop(columns="order")


def training_frame(outcomes: pd.DataFrame, index) -> pd.DataFrame:
    """Pair features plus label for every listed pair in `outcomes` (the ranker's training set).

    Features are computed as of the date the pair was first listed, so time-dependent ones
    (months since intake) are what a ranker would have seen then; client attributes (rung
    included) are the index's current ones. For point-in-time rungs use
    `models.ranker.ranker_features`. Pairs whose client or vacancy is not in the index are
    dropped (counted in ``attrs["dropped"]``).
    """
    from matching.features import compute_features

    pairs = final_stages(outcomes)
    known = pairs["client_id"].astype(str).isin(index.client_pos) & pairs["vacancy_id"].astype(str).isin(index.vacancy_pos)
    dropped = int((~known).sum())
    pairs = pairs[known].reset_index(drop=True)
    ci = np.array([index.client_pos[str(c)] for c in pairs["client_id"]], dtype=np.int64)
    vi = np.array([index.vacancy_pos[str(v)] for v in pairs["vacancy_id"]], dtype=np.int64)
    feats = compute_features(index, ci, vi, as_of=list(pairs["first_date"]))
    feats["stage"] = pairs["stage"].to_numpy()
    feats["hired"] = pairs["hired"].to_numpy()
    feats["first_date"] = pairs["first_date"].to_numpy()
    feats.attrs["dropped"] = dropped
    return feats
