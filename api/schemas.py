"""Request and response bodies (pydantic), apart from the ORM rows.

The entity bodies (clients, coaches, teams, employers, vacancies) are *generated* from
`plein.schema`, the single source of truth: every column with its type, range, choices and
documentation appears in the OpenAPI document without being typed a second time here. The
pydantic layer checks shapes (types, ranges, choices) so a caller gets all field errors at
once; the one row validator (`plein.storage.validate_frame`, via the importer) then applies the
same rules as the CLI importer (references, BSN-like ids, skills against the taxonomy).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from plein import schema

T = TypeVar("T")

#: entities served by the API: table name -> (URL segment, singular noun)
ENTITIES: dict[str, tuple[str, str]] = {
    "clients": ("clients", "client"),
    "coaches": ("coaches", "coach"),
    "teams": ("teams", "team"),
    "employers": ("employers", "employer"),
    "vacancies": ("vacancies", "vacancy"),
}

#: the one id rule (`plein.schema.ID_PATTERN`): ids travel in URL paths, so no whitespace,
#: control characters, slashes, '?', '#' or '%'. The row validator applies the same rule to
#: every import, so a bulk import cannot store an id these routes could not read or change.
MAX_ID_LENGTH = schema.MAX_ID_LENGTH
ID_PATTERN = schema.ID_PATTERN
MAX_TEXT_LENGTH = 2000
MAX_LIST_ITEMS = 500
MAX_INT = 2_147_483_647


class WorkHistoryItem(BaseModel):
    """One past occupation in a client's work history."""

    model_config = ConfigDict(extra="forbid")
    occupation: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH, description="ESCO occupation (preferred label or URI).")
    years: float = Field(ge=0, le=60, description="Years worked in it.")


def _python_type(col: schema.Column, *, key: bool = False) -> tuple[Any, dict[str, Any]]:
    """(annotation, Field kwargs) for a schema column."""
    kw: dict[str, Any] = {"description": col.doc}
    if col.kind == "str":
        kw["max_length"] = MAX_ID_LENGTH if (key or col.ref or col.name.endswith("_id")) else MAX_TEXT_LENGTH
        if key:
            kw["min_length"] = 1
            kw["pattern"] = ID_PATTERN
        return str, kw
    if col.kind == "enum":
        return Literal[col.choices], kw  # type: ignore[valid-type]
    if col.kind in ("int", "float"):
        if col.min is not None:
            kw["ge"] = col.min
        # an unbounded column is still stored in a 32-bit integer / a double
        kw["le"] = col.max if col.max is not None else (MAX_INT if col.kind == "int" else 1e12)
        if col.kind == "float":
            kw["allow_inf_nan"] = False
            return float, kw
        return int, kw
    if col.kind == "bool":
        return bool, kw
    if col.kind == "date":
        return dt.date, kw
    if col.kind == "list":
        kw["max_length"] = MAX_LIST_ITEMS
        item = Literal[col.choices] if col.choices else str  # type: ignore[valid-type]
        return list[item], kw  # type: ignore[valid-type]
    if col.kind == "history":
        kw["max_length"] = MAX_LIST_ITEMS
        return list[WorkHistoryItem], kw
    raise ValueError(f"column {col.name} has unknown kind {col.kind!r}")


def _title(table_name: str) -> str:
    return ENTITIES[table_name][1].capitalize()


def _create_model(table_name: str) -> type[BaseModel]:
    table = schema.table(table_name)
    fields: dict[str, Any] = {}
    for col in table.columns:
        ann, kw = _python_type(col, key=col.name in table.key)
        if col.required:
            fields[col.name] = (ann, Field(..., **kw))
        else:
            default = col.default
            shown = default if isinstance(default, (str, int, float, bool, list)) and default is not None else None
            if shown is not None:
                kw["json_schema_extra"] = {"default": shown}
            fields[col.name] = (ann | None, Field(None, **kw))
    return create_model(
        f"{_title(table_name)}Create",
        __config__=ConfigDict(extra="forbid", title=f"{_title(table_name)}Create"),
        __doc__=f"A new {ENTITIES[table_name][1]}. Omitted fields take their documented default. {table.doc}",
        **fields,
    )


def _patch_model(table_name: str) -> type[BaseModel]:
    table = schema.table(table_name)
    fields: dict[str, Any] = {}
    for col in table.columns:
        if col.name in table.key:
            continue
        ann, kw = _python_type(col)
        fields[col.name] = (ann | None, Field(None, **kw))
    return create_model(
        f"{_title(table_name)}Update",
        __config__=ConfigDict(extra="forbid", title=f"{_title(table_name)}Update"),
        __doc__=f"Changes to a {ENTITIES[table_name][1]}: only the fields sent are changed; null clears a field that may be empty.",
        **fields,
    )


def _out_model(table_name: str) -> type[BaseModel]:
    table = schema.table(table_name)
    fields: dict[str, Any] = {}
    for col in table.columns:
        ann, _kw = _python_type(col)
        fields[col.name] = (ann if col.name in table.key else ann | None, Field(None if col.name not in table.key else ..., description=col.doc))
    return create_model(
        _title(table_name),
        __config__=ConfigDict(title=_title(table_name)),
        __doc__=table.doc,
        **fields,
    )


CREATE_MODELS: dict[str, type[BaseModel]] = {t: _create_model(t) for t in ENTITIES}
PATCH_MODELS: dict[str, type[BaseModel]] = {t: _patch_model(t) for t in ENTITIES}
OUT_MODELS: dict[str, type[BaseModel]] = {t: _out_model(t) for t in ENTITIES}


class Page(BaseModel, Generic[T]):
    """One page of a list. Ask for the next page with ``offset=next_offset``."""

    items: list[T]
    total: int = Field(description="Number of items matching the query, over all pages.")
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last page.")


def page(items: list, total: int, limit: int, offset: int) -> dict[str, Any]:
    nxt = offset + len(items)
    return {"items": items, "total": total, "limit": limit, "offset": offset, "next_offset": nxt if nxt < total else None}


class ImportResult(BaseModel):
    """What a bulk import did. The import is all-or-nothing: on any error nothing is written."""

    entity: str
    rows: int = Field(description="Rows received.")
    inserted: int
    updated: int
    warnings: list[dict[str, Any]] = Field(default_factory=list, description="Accepted with a remark (e.g. a skill not in the taxonomy).")


class BulkRows(BaseModel):
    """Rows for a bulk import as JSON: the same columns as the CSV format (see docs/import-formats.md)."""

    model_config = ConfigDict(extra="forbid")
    rows: list[dict[str, Any]] = Field(min_length=1, max_length=200_000)


class Me(BaseModel):
    name: str = Field(description="The API key's name (the actor in the audit log).")
    role: str


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Check(BaseModel):
    ok: bool
    detail: str


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, Check]


class AuditRow(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    resource: str
    resource_id: str | None
    detail: dict[str, Any] | None


class Job(BaseModel):
    """A background job. Poll it until `status` is done (then `result.proposal_id`), failed
    (`error`) or cancelled (`POST /v1/jobs/{job_id}/cancel`; ``cancelling`` until it stops)."""

    id: str
    kind: str
    status: Literal["queued", "running", "cancelling", "done", "failed", "cancelled"]
    progress: float = Field(ge=0, le=1)
    message: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class OptimisationRequest(BaseModel):
    """Start an optimisation of the caseloads.

    - ``full``: rebalance every caseload (handovers capped by `options.max_handovers`, if given).
    - ``intake``: assign only clients without a coach (new intakes), leave the rest.
    - ``what_if``: a scenario, e.g. coaches absent or capacities changed (`options`), stored as
      a proposal that can be inspected (and approved like any other).
    """

    model_config = ConfigDict(extra="forbid")
    mode: Literal["full", "intake", "what_if"] = "full"
    options: dict[str, Any] = Field(default_factory=dict, description="Options for the optimiser (see docs/scheduling.md).")


class Decision(BaseModel):
    """A manager's decision on a proposal."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=MAX_TEXT_LENGTH, description="Why; shown in the history. Required in spirit for a rejection.")


class ProposalSummary(BaseModel):
    id: str
    created_at: dt.datetime
    created_by: str
    mode: str
    status: Literal["pending", "approved", "rejected"]
    decided_by: str | None
    decided_at: dt.datetime | None
    moves: int = Field(description="Number of client moves proposed.")


class ProposalOut(ProposalSummary):
    params: dict[str, Any]
    fingerprint: str
    decision_note: str | None
    version: int
    result: dict[str, Any] = Field(description="Moves with reasons, before/after figures, unassigned clients with reasons, solver statistics.")
    quality: list[str] = Field(default_factory=list, description=(
        "How good the proposal is, in words: optimal, or the proven bound and the share of its cost that could at most "
        "still be saved (the gap); why the search stopped; whether a what-if let other clients move to make room."))


class OutcomeCreate(BaseModel):
    """A candidate's stage on a vacancy's list (proposed, shortlisted, invited, hired, rejected)."""

    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    stage: Literal["proposed", "shortlisted", "invited", "hired", "rejected"]
    reason: str | None = Field(None, max_length=MAX_TEXT_LENGTH)
    date: dt.date | None = Field(None, description="Date of the stage; default today.")


class Outcome(BaseModel):
    id: str
    client_id: str
    vacancy_id: str
    date: dt.date
    stage: str
    reason: str | None
    recorded_by: str | None


class ModelVersions(BaseModel):
    """The model versions this process serves."""

    ranker: dict[str, Any] | None
    ladder: dict[str, Any] | None
    loaded_at: dt.datetime | None


class BalanceRow(BaseModel):
    id: str
    name: str
    team_id: str | None = None
    clients: int
    points: float
    capacity_points: float
    max_clients: int
    load: float = Field(description="Caseload points as a share of capacity (1.0 = full).")
    available: bool = Field(True, description="False for a coach who has left or is absent today (coaches only).")
    unavailable_reason: str | None = Field(None, description="Why not available: 'has left (inactive)' or the absence.")


class Balance(BaseModel):
    """Caseload balance now: per coach and per team."""

    coaches: list[BalanceRow]
    teams: list[BalanceRow]
    unassigned_clients: int
