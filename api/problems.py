"""Errors as RFC 9457 problem details (``application/problem+json``), for every error the
service returns: authentication, roles, missing resources, conflicts, validation, size limits
and server faults alike.

Why one module: a case system integrating with Plein should need one error parser, and a
person reading an error should learn what went wrong *and what to do about it*. Every problem
therefore has a stable ``type`` (a relative URI, ``/problems/<slug>``, documented at that
address by this service), a short ``title``, the HTTP ``status``, a ``detail`` written for a
person, and the ``instance`` (the request path). Extensions carry the machine-readable part:
``errors`` lists every invalid field or import row, ``reason`` names why a conflict happened.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import ID_PATTERN
from plein.domain import PROTECTED_ATTRIBUTES
from plein.schema import ID_RULE

log = logging.getLogger("plein.api")

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    #: what the caller can do about it; shown at /problems/<slug>
    remedy: str

    @property
    def uri(self) -> str:
        return f"/problems/{self.slug}"


_TYPES = (
    ProblemType("bad-request", 400, "Bad request", "Correct the request as the detail says and send it again."),
    ProblemType(
        "unauthenticated",
        401,
        "Authentication required",
        "Send your API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'. An administrator "
        "creates keys with `plein keys create NAME --role ROLE`.",
    ),
    ProblemType(
        "forbidden",
        403,
        "Not allowed for your role",
        "Your key's role may not use this endpoint. Ask an administrator for a key with one of the "
        "roles listed in `allowed_roles`.",
    ),
    ProblemType(
        "form-expired",
        403,
        "Form out of date",
        "The dashboard form's token does not match your session (an old page, another tab's log-in, or another "
        "site). Reload the page and send the form again.",
    ),
    ProblemType("not-found", 404, "Not found", "Check the id or the path. The API lives under /v1; /docs lists every endpoint."),
    ProblemType("method-not-allowed", 405, "Method not allowed", "Use one of the methods in the Allow header."),
    ProblemType("already-exists", 409, "Already exists", "Use PATCH to change the existing record, or pick another id."),
    ProblemType(
        "stale-proposal",
        409,
        "Proposal is stale",
        "The caseloads changed since the proposal was computed. Start a new optimisation and decide on its proposal.",
    ),
    ProblemType(
        "already-decided",
        409,
        "Proposal already decided",
        "Someone decided on this proposal first. Reload it to see the decision.",
    ),
    ProblemType("conflict", 409, "Conflict", "Reload the resource and retry the change on its current state."),
    ProblemType(
        "payload-too-large",
        413,
        "Request too large",
        "Split the upload into smaller files (bulk imports are all-or-nothing per request).",
    ),
    ProblemType(
        "unsupported-media-type",
        415,
        "Unsupported media type",
        "Send application/json, or text/csv for bulk imports.",
    ),
    ProblemType("validation-error", 422, "Invalid request", "Correct each field listed in `errors` and send the request again."),
    ProblemType(
        "import-rejected",
        422,
        "Import rejected",
        "Nothing was imported. Correct every row listed in `errors` (row numbers count data rows from 1) and send the whole file again.",
    ),
    ProblemType("not-ready", 503, "Service not ready", "Wait a moment and retry; see `checks` for what is not ready yet."),
    ProblemType(
        "model-unavailable",
        503,
        "Model not available",
        "No model version is serving yet. A data scientist trains one (`plein train`) and reloads the service.",
    ),
    ProblemType(
        "server-error",
        500,
        "Internal server error",
        "This is a fault in Plein, not in your request. Report the `request_id` to the service administrator.",
    ),
)

PROBLEM_TYPES: dict[str, ProblemType] = {t.slug: t for t in _TYPES}
_BY_STATUS = {400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed", 409: "conflict", 413: "payload-too-large", 415: "unsupported-media-type", 422: "validation-error", 503: "not-ready"}


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem document.

    ``slug`` picks the problem type (and its status and title); ``detail`` is the sentence for
    a person; keyword ``extensions`` are added as members (``errors=[...]``, ``reason=...``)."""

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        status: int | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        if slug not in PROBLEM_TYPES:
            raise ValueError(f"unknown problem type {slug!r}; known: {', '.join(PROBLEM_TYPES)}")
        ptype = PROBLEM_TYPES[slug]
        super().__init__(detail)
        self.slug = slug
        self.status = status or ptype.status
        self.title = title or ptype.title
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


def not_found(kind: str, ident: str, stored_as: str | None = None) -> ProblemError:
    """404 for `kind` `ident`; `stored_as`: the stored id it equals but for case, named so the
    caller sees the slip (ids are case-sensitive)."""
    detail = f"There is no {kind} with id {ident!r}."
    if stored_as is not None:
        detail += f" Ids are case-sensitive: the stored one is {stored_as!r}."
    return ProblemError("not-found", detail, resource=kind, id=ident)


def problem_body(
    request_path: str, slug: str, detail: str, *, status: int | None = None, title: str | None = None, **extensions: Any
) -> dict[str, Any]:
    ptype = PROBLEM_TYPES[slug]
    body: dict[str, Any] = {
        "type": ptype.uri,
        "title": title or ptype.title,
        "status": status or ptype.status,
        "detail": detail,
        "instance": request_path,
    }
    for key, value in extensions.items():
        if key not in body:
            body[key] = value
    return body


def problem_response(request: Request, err: ProblemError) -> JSONResponse:
    body = problem_body(request.url.path, err.slug, err.detail, status=err.status, title=err.title, **err.extensions)
    return JSONResponse(jsonable_encoder(body), status_code=err.status, media_type=PROBLEM_JSON, headers=err.headers)


def _field_name(loc: tuple | list) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "(body)"


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as a flat list a person can work through: where, which field, what."""
    out = []
    for e in exc.errors():
        loc = list(e.get("loc", ()))
        kind = e.get("type", "value_error")
        field, message = _field_name(loc), e.get("msg", "invalid value")
        if kind == "json_invalid":
            # pydantic puts the character position where a field name goes
            pos = loc[1] if len(loc) > 1 else "?"
            field = "(body)"
            message = f"the body is not valid JSON at character {pos}: {(e.get('ctx') or {}).get('error', 'decode error')}"
        elif kind == "extra_forbidden" and loc and loc[-1] in PROTECTED_ATTRIBUTES:
            # the importer's privacy pointer, not a bare "extra inputs are not permitted"
            message = (f"{loc[-1]} is a protected attribute and is never stored with clients; no API route takes it: "
                       "it is imported in the client_protected entity (`plein import client_protected FILE`), "
                       "which only fairness audits read")
        elif kind == "string_pattern_mismatch" and (e.get("ctx") or {}).get("pattern") == ID_PATTERN:
            message = ID_RULE  # the words of the importer's id errors
        out.append({"location": str(loc[0]) if loc else "body", "field": field, "message": message, "type": kind})
    return out


async def _on_problem(request: Request, exc: ProblemError) -> JSONResponse:
    return problem_response(request, exc)


async def _on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = validation_errors(exc)
    shown = "; ".join(f"{e['location']} '{e['field']}': {e['message']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    noun = "field is" if len(errors) == 1 else "fields are"
    detail = f"{len(errors)} {noun} invalid: {shown}{more}."
    return problem_response(request, ProblemError("validation-error", detail, errors=errors))


def _allowed_methods(request: Request) -> str:
    """Every method the API documents on this path ("GET, HEAD, PATCH"), from its OpenAPI
    paths (one source whatever the router nesting)."""
    import re

    try:
        paths = request.app.openapi().get("paths", {})
    except Exception:  # no schema: fall back to Starlette's header
        return ""
    methods: set[str] = set()
    for template, ops in paths.items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {m.upper() for m in ops if m.lower() in ("get", "head", "post", "put", "patch", "delete", "options")}
    if "GET" in methods:
        methods.add("HEAD")
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return ", ".join(sorted(methods, key=order.index))


async def _on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    slug = _BY_STATUS.get(status)
    headers = dict(exc.headers or {})
    if status == 404 and exc.detail in (None, "Not Found") and request.method == "GET" and request.url.path.startswith("/dashboard/"):
        # a person in a browser: the dashboard's own page, not JSON
        from api.routers.dashboard import render

        return render(request, "not_found.html", None, status_code=404, what=f"page {request.url.path}")
    if status == 404 and exc.detail in (None, "Not Found"):
        detail = f"There is no endpoint at {request.method} {request.url.path}. The API lives under /v1; /docs lists every endpoint."
    elif status == 400 and exc.detail == "There was an error parsing the body":
        detail = "The request body could not be parsed: send UTF-8 JSON (Content-Type: application/json) or form data as documented."
    elif status == 405:
        # Starlette names the methods of the first route with this path only (GET, where
        # PATCH is there too): every route whose path matches counts
        allowed = _allowed_methods(request) or headers.get("allow") or headers.get("Allow") or ""
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        if allowed:
            headers["Allow"] = allowed
        detail = f"{request.method} is not allowed on {request.url.path}." + (f" Allowed: {allowed}." if allowed else "")
    else:
        detail = str(exc.detail)
    if slug is None:
        body = {"type": "about:blank", "title": detail, "status": status, "detail": detail, "instance": request.url.path}
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
    return problem_response(request, ProblemError(slug, detail, status=status, headers=headers))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = uuid.uuid4().hex[:12]
    log.exception("unhandled error %s on %s %s", request_id, request.method, request.url.path)
    err = ProblemError(
        "server-error",
        f"Plein failed to handle this request (request id {request_id}). The error is logged; nothing you sent caused it.",
        request_id=request_id,
    )
    return problem_response(request, err)


def install(app: FastAPI) -> None:
    """Route every error of `app` through problem details."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)


#: OpenAPI fragment for the error responses every operation may return
PROBLEM_SCHEMA = {
    "type": "object",
    "title": "Problem",
    "description": "An RFC 9457 problem document.",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "Problem type, documented at this path."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong and what to do, for a person."},
        "instance": {"type": "string", "description": "The request path."},
        "errors": {
            "type": "array",
            "description": "Every invalid field or import row.",
            "items": {"type": "object", "additionalProperties": True},
        },
    },
    "additionalProperties": True,
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for FastAPI routes declaring problem documents."""
    descriptions = {
        400: "Bad request",
        401: "No or unknown API key",
        403: "Role not allowed",
        404: "Not found",
        409: "Conflict",
        413: "Request too large",
        415: "Unsupported media type",
        422: "Invalid request",
        503: "Not ready",
    }
    return {
        s: {"description": descriptions.get(s, "Error"), "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for s in statuses
    }
