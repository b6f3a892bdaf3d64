"""Read, create, update and bulk-import routes for one entity of `plein.schema`, built the same
way for clients, coaches, teams, employers and vacancies.

Every write goes through the importer (`plein.storage.import_frame`): the same validation as
`plein import` (types, choices, ranges, references, BSN-like ids, skills against the
taxonomy), all-or-nothing, with every error listed in the problem document. Reads of clients
are written to the audit log.

(No ``from __future__ import annotations`` here: the route signatures use the generated
pydantic models as real annotation objects.)
"""

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote
from typing import Annotated, Any

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, create_model

from api.config import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from api.deps import PrincipalDep, ServiceDep, authorize
from api.problems import ProblemError, not_found, problem_responses
from api.schemas import CREATE_MODELS, ENTITIES, OUT_MODELS, PATCH_MODELS, BulkRows, ImportResult, Page, page
from plein import schema
from plein.storage.tables import sql_table

CSV_TYPES = ("text/csv", "application/csv")
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet")


def import_problem(exc, entity: str) -> ProblemError:
    """An `ImportValidationError` as a 422 problem listing every error and warning."""
    errors = [e.to_dict() for e in exc.errors]
    first = "; ".join(_issue_text(e) for e in exc.errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    n = len(errors)
    return ProblemError(
        "import-rejected",
        f"{n} error{'s' if n != 1 else ''} in the {entity}; nothing was written. {first}{more}.",
        errors=errors,
        warnings=[w.to_dict() for w in getattr(exc, "warnings", [])],
    )


def _issue_text(issue) -> str:
    where = f"row {issue.row}" if issue.row is not None else "file"
    if issue.column:
        where += f", {issue.column}"
    value = f" (value {issue.value!r})" if issue.value is not None else ""
    return f"{where}: {issue.reason}{value}"


def row_to_dict(row) -> dict[str, Any]:
    return dict(row._mapping) if hasattr(row, "_mapping") else dict(row)


def missing(engine, noun: str, table_name: str, ident: str) -> ProblemError:
    """The 404 for a row that is not stored, naming the stored id it equals but for case."""
    from plein.storage import case_variants

    with engine.connect() as conn:
        return not_found(noun, ident, case_variants(conn, table_name, {ident}).get(ident))


def fetch_one(engine, table_name: str, ident: str) -> dict[str, Any] | None:
    tbl = sql_table(table_name)
    key = schema.table(table_name).key[0]
    with engine.connect() as conn:
        row = conn.execute(sa.select(tbl).where(tbl.c[key] == ident)).mappings().first()
    return dict(row) if row else None


def write_rows(service, table_name: str, rows: list[dict[str, Any]], source: str):
    """Validate and upsert rows through the importer; a problem listing every error otherwise."""
    from plein.storage.importer import ImportValidationError, import_frame

    from api.service import retry_on_lock

    df = pd.DataFrame(rows)
    try:
        report = retry_on_lock(lambda: import_frame(service.engine, table_name, df, source=source))
    except ImportValidationError as exc:
        raise import_problem(exc, table_name) from None
    service.data_changed(table_name)
    return report


def _body_frame(body: bytes, content_type: str, table_name: str) -> tuple[pd.DataFrame, str, list]:
    """(frame, source name, file-shape issues) from a bulk-import request body."""
    from plein.storage import codec

    media = content_type.split(";")[0].strip().lower()
    if media in ("application/json", ""):
        try:
            payload = json.loads(body or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProblemError("bad-request", f"The body is not valid JSON: {exc}.") from None
        try:
            rows = BulkRows.model_validate(payload).rows
        except Exception as exc:
            raise ProblemError(
                "validation-error",
                'A JSON bulk import is an object {"rows": [{...}, ...]} with at least one row, each row an object of column values.',
                errors=[{"location": "body", "field": "rows", "message": str(exc).splitlines()[0], "type": "value_error"}],
            ) from None
        # every row the same keys: pandas reads a key one row lacks as an empty cell, and an
        # empty cell resets a stored value to its default (in CSV a blank is said on purpose)
        columns = list(dict.fromkeys(k for row in rows for k in row))
        uneven = [(i, [c for c in columns if c not in row]) for i, row in enumerate(rows, start=1)]
        uneven = [(i, missing) for i, missing in uneven if missing]
        if uneven:
            raise ProblemError(
                "validation-error",
                f"Every row of a JSON bulk import must carry the same keys ({len(uneven)} rows lack some): a missing key "
                "would reset the stored value. Send the key with null for an empty value, or import those rows apart.",
                errors=[{"location": "body", "field": f"rows[{i}]", "message": f"row {i} lacks {', '.join(missing)}",
                         "type": "value_error"} for i, missing in uneven[:50]],
            )
        return pd.DataFrame(rows, columns=columns), "request.json", []
    if media in CSV_TYPES or media in PARQUET_TYPES:
        suffix = ".csv" if media in CSV_TYPES else ".parquet"
        source = f"upload{suffix}"
        with tempfile.TemporaryDirectory(prefix="plein-import-") as tmp:
            path = Path(tmp) / source
            path.write_bytes(body)
            try:
                if suffix == ".csv":
                    df, issues = codec.read_csv(path)
                else:
                    df, issues = codec.read_parquet(path), []
            except codec.FileFormatError as exc:
                text = str(exc).replace(str(path), source)
                raise ProblemError("import-rejected", f"The file could not be read: {text}. Nothing was written.",
                                   errors=[{"file": source, "row": None, "column": None, "value": None, "reason": text, "severity": "error"}]) from None
        import dataclasses

        issues = [dataclasses.replace(i, file=source) for i in issues]
        return df, source, issues
    raise ProblemError(
        "unsupported-media-type",
        f"Cannot import {media!r}: send application/json ({{\"rows\": [...]}}), text/csv or application/vnd.apache.parquet.",
    )


def entity_router(
    table_name: str,
    *,
    filters: tuple[str, ...],
    tags: list[str],
    audit_reads: bool = False,
    extra_conditions: Callable[[Any, sa.Table], list] | None = None,
    extra_filter_fields: dict[str, Any] | None = None,
) -> APIRouter:
    """The five routes of an entity: list, create, import, read, update."""
    segment, noun = ENTITIES[table_name]
    table = schema.table(table_name)
    key = table.key[0]
    id_param = f"{noun}_id"
    Create = CREATE_MODELS[table_name]
    Patch = PATCH_MODELS[table_name]
    Out = OUT_MODELS[table_name]
    tbl = sql_table(table_name)

    filter_fields: dict[str, Any] = {
        "limit": (int, Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}.")),
        "offset": (int, Field(0, ge=0, le=10_000_000, description="Items to skip.")),
    }
    for name in filters:
        col = table.column(name)
        if col.kind == "enum":
            from typing import Literal

            ann: Any = Literal[col.choices]  # type: ignore[valid-type]
        elif col.kind == "bool":
            ann = bool
        else:
            ann = Annotated[str, Field(max_length=100)]
        filter_fields[name] = (ann | None, Field(None, description=f"Only {segment} with this {name}: {col.doc}"))
    for name, spec in (extra_filter_fields or {}).items():
        filter_fields[name] = spec
    Filters = create_model(
        f"{noun.capitalize()}ListQuery", __config__=ConfigDict(extra="forbid"), **filter_fields
    )

    router = APIRouter(prefix=f"/v1/{segment}", tags=tags, dependencies=[Depends(authorize)])

    @router.get(
        "",
        response_model=Page[Out],
        summary=f"List {segment}",
        description=f"{table.doc} Ordered by id, paginated." + (" Written to the audit log." if audit_reads else ""),
        responses=problem_responses(401, 403, 422),
    )
    def list_entities(query: Annotated[Filters, Query()], service: ServiceDep, principal: PrincipalDep):
        conds = []
        for name in filters:
            value = getattr(query, name)
            if value is not None:
                conds.append(tbl.c[name] == value)
        if extra_conditions:
            conds += extra_conditions(query, tbl)
        where = sa.and_(sa.true(), *conds)
        with service.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(tbl).where(where)).scalar_one()
            rows = conn.execute(
                sa.select(tbl).where(where).order_by(tbl.c[key]).limit(query.limit).offset(query.offset)
            ).mappings().all()
        items = [dict(r) for r in rows]
        if audit_reads and items:
            service.audit.record_clients(principal, "read", [i[key] for i in items], f"list {segment}",
                                         {"filters": query.model_dump(exclude_none=True)})
        return page(items, total, query.limit, query.offset)

    @router.post(
        "",
        response_model=Out,
        status_code=201,
        summary=f"Create a {noun}",
        description=f"Validated like `plein import {table_name}`. 409 when the id exists (use PATCH).",
        responses=problem_responses(401, 403, 409, 413, 422),
    )
    def create_entity(body: Create, service: ServiceDep, principal: PrincipalDep, response: Response):  # type: ignore[valid-type]
        values = body.model_dump(exclude_unset=True, mode="python")
        ident = values[key]
        if fetch_one(service.engine, table_name, ident) is not None:
            raise ProblemError(
                "already-exists", f"A {noun} with id {ident!r} already exists. Use PATCH /v1/{segment}/{ident} to change it.",
                id=ident,
            )
        write_rows(service, table_name, [_cells(values)], f"POST /v1/{segment}")
        service.audit.record(principal, "create", noun, ident, {"fields": sorted(values)})
        response.headers["Location"] = f"/v1/{segment}/{quote(ident, safe='')}"
        return fetch_one(service.engine, table_name, ident)

    @router.post(
        "/import",
        response_model=ImportResult,
        summary=f"Bulk import {segment}",
        description=(
            f"All-or-nothing upsert of {segment} by id, validated exactly like `plein import {table_name} FILE`. "
            "Send CSV (`text/csv`, the documented file format), Parquet, or JSON `{\"rows\": [...]}`. "
            "Existing rows are updated only in the columns sent. On any error nothing is written and the "
            "problem lists every error with its row and column."
        ),
        responses=problem_responses(401, 403, 413, 415, 422),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": BulkRows.model_json_schema()},
                    "text/csv": {"schema": {"type": "string", "description": "CSV with a header row (see docs/import-formats.md)."}},
                },
            }
        },
    )
    async def import_entities(request: Request, service: ServiceDep, principal: PrincipalDep):
        from starlette.concurrency import run_in_threadpool

        body = await request.body()
        if not body:
            raise ProblemError("bad-request", "The request body is empty: send the rows to import.")
        df, source, issues = _body_frame(body, request.headers.get("content-type", ""), table_name)

        def run():
            from plein.storage.importer import ImportValidationError, import_frame

            from api.service import retry_on_lock

            try:
                report = retry_on_lock(lambda: import_frame(service.engine, table_name, df, source=source, pre_issues=issues))
            except ImportValidationError as exc:
                raise import_problem(exc, table_name) from None
            service.data_changed(table_name)
            return report

        report = await run_in_threadpool(run)
        service.audit.record(principal, "import", noun, None,
                             {"rows": report.rows, "inserted": report.inserted, "updated": report.updated, "source": source})
        return {
            "entity": table_name,
            "rows": report.rows,
            "inserted": report.inserted,
            "updated": report.updated,
            "warnings": [w.to_dict() for w in report.warnings],
        }

    @router.get(
        f"/{{{id_param}}}",
        response_model=Out,
        summary=f"Read a {noun}",
        description="Written to the audit log." if audit_reads else None,
        responses=problem_responses(401, 403, 404),
    )
    def read_entity(ident: Annotated[str, _path(id_param)], service: ServiceDep, principal: PrincipalDep):
        row = fetch_one(service.engine, table_name, ident)
        if row is None:
            raise missing(service.engine, noun, table_name, ident)
        if audit_reads:
            service.audit.record(principal, "read", noun, ident)
        return row

    @router.patch(
        f"/{{{id_param}}}",
        response_model=Out,
        summary=f"Update a {noun}",
        description="Only the fields sent change; the result is validated like an import.",
        responses=problem_responses(401, 403, 404, 413, 422),
    )
    def update_entity(ident: Annotated[str, _path(id_param)], body: Patch, service: ServiceDep, principal: PrincipalDep):  # type: ignore[valid-type]
        current = fetch_one(service.engine, table_name, ident)
        if current is None:
            raise missing(service.engine, noun, table_name, ident)
        values = body.model_dump(exclude_unset=True, mode="python")
        if values:
            # the importer wants the required columns on every row: keep the stored ones
            required = {c.name: current[c.name] for c in table.columns if c.required and c.name not in values}
            write_rows(service, table_name, [_cells({**required, key: ident, **values})], f"PATCH /v1/{segment}/{ident}")
            service.audit.record(principal, "update", noun, ident, {"fields": sorted(values)})
        return fetch_one(service.engine, table_name, ident)

    return router


def _path(name: str):
    from fastapi import Path as PathParam

    return PathParam(alias=name, min_length=1, max_length=100, description=f"The {name.replace('_', ' ')}.")


def _cells(values: dict[str, Any]) -> dict[str, Any]:
    """Request values as importer cells: lists stay lists; a None in a list column means empty."""
    out = {}
    for k, v in values.items():
        if isinstance(v, list):
            out[k] = [x.model_dump() if isinstance(x, BaseModel) else x for x in v]
        else:
            out[k] = v
    return out
