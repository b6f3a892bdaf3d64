"""Participatieladder: a client's predicted progress with reasons, and a coach's worklist
("most employable first", getrapte aanpak) from the served ladder model.

Both read client data and are written to the audit log. Without a trained ladder model they
answer 503 ``model-unavailable`` saying how to train and promote one.

Not every client gets probabilities (the rule is `models.worklist.prediction_note`): a client
who is not active (placed, exited) gets none, nor does a client on the top rung (6), who cannot
rise; both answer with null probabilities and a ``note`` saying why. A prediction for a rung the
model never learned from carries a ``note`` (and a first reason) saying it is an extrapolation.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ServiceDep, authorize
from api.problems import ProblemError, not_found, problem_responses
from api.service import NotReady

router = APIRouter(prefix="/v1", tags=["ladder"], dependencies=[Depends(authorize)])

IdPath = Annotated[str, Path(min_length=1, max_length=100)]
NO_MODEL = "No ladder model is serving: a data scientist runs `plein train ladder`, promotes it, and reloads (POST /v1/models/reload)."


P_RISE = ("Probability of rising at least one rung within 12 months; null when there is no prediction "
          "(client not active, or on the top rung 6: nobody there can rise; see `note`).")
P_PAID = ("Probability of reaching rung 5-6 (paid work) within 12 months, at most `p_rise_12m` on rungs 1-4 "
          "(from there, paid work is a rise); null when there is no prediction.")
NOTE = ("Why there is no prediction, or why it is uncertain (a rung the model never learned from); "
        "null for an ordinary prediction.")


class LadderPrediction(BaseModel):
    client_id: str
    as_of: str = Field(description="Reference date of the prediction (the date the data run to).")
    rung: int | None = Field(description="Current rung, 1-6; null when not measured.")
    p_rise_12m: float | None = Field(ge=0, le=1, description=P_RISE)
    p_paid_12m: float | None = Field(ge=0, le=1, description=P_PAID)
    reasons: list[str] = Field(description="What moves this client's probability most, in words (or why there is none).")
    note: str | None = Field(None, description=NOTE)
    model_version: str


class WorklistEntry(BaseModel):
    client_id: str
    rank: int
    rung: int | None
    p_rise_12m: float | None = Field(ge=0, le=1, description=P_RISE)
    p_paid_12m: float | None = Field(ge=0, le=1, description=P_PAID)
    reasons: list[str]
    note: str | None = Field(None, description=NOTE)


class Worklist(BaseModel):
    """A coach's active clients, most likely to move up first. A planning aid, not a selection:
    every client stays on it; clients on the top rung come last, without probabilities."""

    coach_id: str
    model_version: str
    total: int
    items: list[WorklistEntry]


def _inputs(service, table: str, ident: str):
    """The data and the ladder model; an unknown client or coach is a 404 before the model
    is asked for (a 503 said "no model" for an id that does not exist)."""
    try:
        state = service.data()
    except NotReady as exc:
        raise ProblemError("not-ready", str(exc)) from None
    known = state.cached(("ids", table), lambda: frozenset(getattr(state.region, table)["id"].astype(str)))
    if ident not in known:
        raise not_found("client" if table == "clients" else "coach", ident)
    model = service.ladder_model()
    if model is None:
        raise ProblemError("model-unavailable", NO_MODEL)
    return state, model


def predict_client(state, model, client_id: str) -> dict[str, Any]:
    from models.ladder_features import region_ladder_features
    from models.worklist import MIN_REASON, default_as_of, prediction_note, reason_text

    region = state.region  # the client is known: `_inputs` checked
    as_of = state.cached(("ladder_as_of",), lambda: default_as_of(region))
    X = region_ladder_features(region, pd.DataFrame({"client_id": [client_id], "as_of": [as_of]}))
    row = X.iloc[0]
    rung = None if pd.isna(row["rung"]) else int(row["rung"])
    out = {"client_id": client_id, "as_of": str(as_of), "rung": rung, "p_rise_12m": None, "p_paid_12m": None,
           "model_version": str(getattr(model, "version", "unknown"))}
    clients = region.clients
    status = clients.loc[clients["id"].astype(str) == client_id, "status"].fillna("active").astype(str)
    status = status.iloc[0] if len(status) else "active"
    if status != "active":
        # the ladder model is for clients being helped now: a placed or exited client's figure
        # would be read as advice about someone no coach works with
        note = f"the client's status is {status}: ladder predictions are made for active clients only"
        return {**out, "reasons": [note], "note": note}
    predict, note = prediction_note(model, rung)
    if not predict:
        return {**out, "reasons": [note], "note": note}
    probs = model.predict_frame(X)
    contrib = model.contributions(X, top=3, target="rise")[0]
    reasons = [reason_text(f, row[f], c) for f, c in contrib if abs(c) >= MIN_REASON]
    reasons = reasons or ["no single feature stands out: close to a typical client"]
    return {
        **out,
        "p_rise_12m": float(probs["p_rise"].iloc[0]),
        "p_paid_12m": float(probs["p_paid"].iloc[0]),
        "reasons": ([note] if note else []) + reasons,
        "note": note,
    }


@router.get(
    "/clients/{client_id}/ladder",
    response_model=LadderPrediction,
    summary="A client's predicted progress on the participatieladder, with reasons",
    description="Written to the audit log.",
    responses=problem_responses(401, 403, 404, 503),
)
def client_ladder(client_id: IdPath, service: ServiceDep, principal: PrincipalDep) -> dict:
    state, model = _inputs(service, "clients", client_id)
    out = predict_client(state, model, client_id)
    service.audit.record(principal, "read", "client", client_id, {"context": "ladder prediction", "model_version": out["model_version"]})
    return out


@router.get(
    "/coaches/{coach_id}/worklist",
    response_model=Worklist,
    summary="A coach's worklist: active clients, most likely to move up first, with reasons",
    description="Written to the audit log.",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def worklist(
    coach_id: IdPath,
    service: ServiceDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict:
    from models.worklist import coach_worklist

    state, model = _inputs(service, "coaches", coach_id)
    try:
        items = coach_worklist(state.region, coach_id, model)
    except KeyError:
        raise not_found("coach", coach_id) from None
    shown = items[:limit]
    service.audit.record_clients(principal, "read", [i.client_id for i in shown], "worklist", {"coach_id": coach_id})
    return {
        "coach_id": coach_id,
        "model_version": str(getattr(model, "version", "unknown")),
        "total": len(items),
        "items": [
            {"client_id": i.client_id, "rank": n + 1, "rung": i.rung, "p_rise_12m": i.p_rise, "p_paid_12m": i.p_paid,
             "reasons": i.reasons, "note": i.note}
            for n, i in enumerate(shown)
        ],
    }

