"""The coach's worklist: "most employable first" (getrapte aanpak).

For one coach, the active clients of their caseload, ordered by the ladder model's
probability of rising at least one rung within 12 months (highest first), each with the
probability of paid work and the reasons behind the prediction in plain words: the features
that move this client's probability most against a typical client (see `models.base`).

The worklist helps a coach plan; it is not a selection. Every client stays on it, but not
every client gets a probability:

- a client on the top rung (6, paid work without support) cannot rise: no probabilities, a
  reason saying they are already at the top, and the end of the list (the list orders who may
  move up next; a probability for an impossible rise ranked such clients among the others);
- a client on a rung the model never learned from (on generated data: rung 5, and clients
  not measured yet) gets the model's figure with a first reason saying it is an
  extrapolation, so nobody reads it as a learned estimate.

`prediction_note` is the one rule for both, shared with the API's single-client prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from models.ladder_features import describe_value, region_ladder_features, to_datetime
from plein.domain import RUNG_LABELS, Rung

#: the top rung (paid work without support): nobody there can rise
TOP_RUNG = int(max(Rung))

#: contributions smaller than this (in probability) are not worth a reason
MIN_REASON = 0.005


class NoModelError(RuntimeError):
    """No ladder model is available (none trained, promoted or loadable)."""


@dataclass
class WorklistItem:
    client_id: str
    rung: int | None
    #: None for a client on the top rung (no rise possible, see module doc)
    p_rise: float | None
    p_paid: float | None
    reasons: list[str]
    #: why there are no probabilities, or why they are uncertain (also the first reason); None
    #: for an ordinary prediction
    note: str | None = None

    def to_dict(self) -> dict:
        return {"client_id": self.client_id, "rung": self.rung, "p_rise": self.p_rise, "p_paid": self.p_paid, "reasons": self.reasons,
                "note": self.note}


def reason_text(feature: str, value, change: float) -> str:
    """``rung 4 (unpaid work): +12 points`` - a contribution in plain words."""
    return f"{describe_value(feature, value)}: {change * 100:+.0f} points"


def default_as_of(region) -> date:
    """The date the region's data run to (last ladder measurement or outcome), else today."""
    dates = [to_datetime(f[c]).max() for f, c in ((region.ladder_events, "date"), (region.outcomes, "date")) if len(f)]
    return max(dates).date() if dates else date.today()


#: the reason given instead of probabilities for a client on the top rung
TOP_RUNG_REASON = (
    f"already on the top rung ({TOP_RUNG}, {RUNG_LABELS[Rung(TOP_RUNG)]}): there is no rung to rise to, so no prediction"
)


def prediction_note(model, rung) -> tuple[bool, str | None]:
    """(predict?, note) for a client on `rung` (None: not measured): no prediction on the top
    rung; a prediction with a warning for a rung outside the model's training range."""
    if rung is not None and not pd.isna(rung) and int(rung) >= TOP_RUNG:
        return False, TOP_RUNG_REASON
    outside = getattr(model, "outside_training", None)
    if outside is not None and outside(rung):
        learned = list(getattr(model, "training_rungs", None) or getattr(model, "training_rungs_", None) or [])
        span = _rungs_text(learned)
        never = "without a ladder measurement" if rung is None or pd.isna(rung) else f"on rung {int(rung)}"
        return True, (f"extrapolation: the model learned from clients on {span}, never from clients {never}; "
                      "treat these figures as a rough guide")
    return True, None


def _rungs_text(rungs: list[int]) -> str:
    """``rungs 1-4`` for a contiguous range, else ``rungs 1, 3, 4``."""
    if not rungs:
        return "no rung"
    if len(rungs) == 1:
        return f"rung {rungs[0]}"
    if rungs == list(range(rungs[0], rungs[-1] + 1)):
        return f"rungs {rungs[0]}-{rungs[-1]}"
    return "rungs " + ", ".join(map(str, rungs))


def coach_worklist(region, coach_id: str, model, as_of: date | None = None, top_reasons: int = 3) -> list[WorklistItem]:
    """The worklist of `coach_id`. `model` is a served ladder model (`ModelServer.ladder`) or a
    fitted `LadderModel`; raises `NoModelError` when it is None and `KeyError` for an unknown
    coach. Ordered by P(rise), then P(paid); clients on the top rung last (see module doc)."""
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
    if not hasattr(model, "predict_frame"):
        raise TypeError("model must provide predict_frame (a ladder model)")
    notes = [prediction_note(model, None if pd.isna(r) else int(r)) for r in X["rung"]]
    served = np.array([predict for predict, _ in notes], dtype=bool)
    Xs = X[served].reset_index(drop=True)
    probs = model.predict_frame(Xs) if len(Xs) else pd.DataFrame({"p_rise": [], "p_paid": []})
    contrib = model.contributions(Xs, top=top_reasons, target="rise") if len(Xs) else []
    items = []
    k = 0
    for i in range(len(X)):
        row = X.iloc[i]
        rung = None if pd.isna(row["rung"]) else int(row["rung"])
        predict, note = notes[i]
        if not predict:
            items.append(WorklistItem(client_id=str(row["client_id"]), rung=rung, p_rise=None, p_paid=None, reasons=[note], note=note))
            continue
        reasons = [reason_text(f, row[f], c) for f, c in contrib[k] if abs(c) >= MIN_REASON]
        reasons = reasons or ["no single feature stands out: close to a typical client"]
        items.append(
            WorklistItem(
                client_id=str(row["client_id"]),
                rung=rung,
                p_rise=float(probs["p_rise"].iloc[k]),
                p_paid=float(probs["p_paid"].iloc[k]),
                reasons=([note] if note else []) + reasons,
                note=note,
            )
        )
        k += 1
    items.sort(key=lambda it: (it.p_rise is None, -(it.p_rise or 0.0), -(it.p_paid or 0.0), it.client_id))
    return items
