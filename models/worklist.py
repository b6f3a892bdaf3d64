"""The coach's worklist: "most employable first" (getrapte aanpak).

For one coach, the active clients of their caseload, ordered by the ladder model's
probability of rising at least one rung within 12 months (highest first), each with the
probability of paid work and the reasons behind the prediction in plain words: the features
that move this client's probability most against a typical client (see `models.base`).

The worklist helps a coach plan; it is not a selection. Every client stays on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from models.ladder_features import describe_value, region_ladder_features, to_datetime

#: contributions smaller than this (in probability) are not worth a reason
MIN_REASON = 0.005


class NoModelError(RuntimeError):
    """No ladder model is available (none trained, promoted or loadable)."""


@dataclass
class WorklistItem:
    client_id: str
    rung: int | None
    p_rise: float
    p_paid: float
    reasons: list[str]

    def to_dict(self) -> dict:
        return {"client_id": self.client_id, "rung": self.rung, "p_rise": self.p_rise, "p_paid": self.p_paid, "reasons": self.reasons}


def reason_text(feature: str, value, change: float) -> str:
    """``rung 4 (unpaid work): +12 points`` - a contribution in plain words."""
    return f"{describe_value(feature, value)}: {change * 100:+.0f} points"


def default_as_of(region) -> date:
    """The date the region's data run to (last ladder measurement or outcome), else today."""
    dates = [to_datetime(f[c]).max() for f, c in ((region.ladder_events, "date"), (region.outcomes, "date")) if len(f)]
    return max(dates).date() if dates else date.today()


def coach_worklist(region, coach_id: str, model, as_of: date | None = None, top_reasons: int = 3) -> list[WorklistItem]:
    """The worklist of `coach_id`. `model` is a served ladder model (`ModelServer.ladder`) or a
    fitted `LadderModel`; raises `NoModelError` when it is None and `KeyError` for an unknown
    coach."""
    if model is None:
        raise NoModelError("no ladder model available: run `plein train ladder` and `plein promote ladder` first")
    coach_id = str(coach_id)
    if coach_id not in set(region.coaches["id"].astype(str)):
        raise KeyError(f"unknown coach {coach_id!r}")
    clients = region.clients
    mine = clients[(clients["coach_id"].astype(str) == coach_id) & (clients["status"].fillna("active").astype(str) == "active")]
    if mine.empty:
        return []
    as_of = as_of or default_as_of(region)
    snaps = pd.DataFrame({"client_id": mine["id"].astype(str).to_numpy(), "as_of": [as_of] * len(mine)})
    X = region_ladder_features(region, snaps)
    if hasattr(model, "predict_frame"):
        probs = model.predict_frame(X)
    else:
        raise TypeError("model must provide predict_frame (a ladder model)")
    contrib = model.contributions(X, top=top_reasons, target="rise")
    items = []
    for i in range(len(X)):
        row = X.iloc[i]
        reasons = [reason_text(f, row[f], c) for f, c in contrib[i] if abs(c) >= MIN_REASON]
        rung = row["rung"]
        items.append(
            WorklistItem(
                client_id=str(row["client_id"]),
                rung=None if pd.isna(rung) else int(rung),
                p_rise=float(probs["p_rise"].iloc[i]),
                p_paid=float(probs["p_paid"].iloc[i]),
                reasons=reasons or ["no single feature stands out: close to a typical client"],
            )
        )
    items.sort(key=lambda it: (-it.p_rise, -it.p_paid, it.client_id))
    return items
