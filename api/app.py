"""The application factory: `create_app(settings)` builds the FastAPI app for one Werkplein.

`plein serve` calls it through `app_from_env` (uvicorn's factory mode); tests call it with a
temporary data folder. The app is versioned under ``/v1``; the dashboard lives under
``/dashboard``; errors are problem documents (`api.problems`); every route is in the role
matrix (`api.roles`), which is checked here at start.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

import plein
from api import problems
from api.config import ServiceConfig
from api.problems import PROBLEM_JSON, PROBLEM_SCHEMA, ProblemError, problem_body
from api.roles import PUBLIC, ROLE_MATRIX, UNGUARDED_PATHS
from api.service import Service
from plein.settings import Settings

log = logging.getLogger("plein.api")

STATIC_DIR = Path(__file__).resolve().parent / "static"

DESCRIPTION = """
Caseload optimisation, vacancy matching and participatieladder predictions for a Werkplein.

**Authentication**: send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
An administrator creates keys with `plein keys create NAME --role ROLE`. Each operation lists
the roles allowed to call it in `x-allowed-roles`.

**Errors** are RFC 9457 problem documents (`application/problem+json`) with `type`, `title`,
`status`, `detail` (what to do), `instance`, and `errors` listing each invalid field or row.

**Lists** are paginated with `limit` (at most 500) and `offset`; each page has `total` and
`next_offset`.

**Privacy**: every read of client data is written to the audit log (who, when, what).
Employer services see candidates without sensitive fields.
"""


class BodySizeLimit:
    """Refuse request bodies larger than `max_bytes` with a 413 problem, whether the size is
    announced (Content-Length) or only discovered while streaming."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self) -> str:
        mib = self.max_bytes / (1024 * 1024)
        return f"The request body is larger than the limit of {mib:g} MiB. Split a bulk import into several files."

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    announced = 0
                if announced > self.max_bytes:
                    return await self._refuse(scope, send)
                break
        seen = 0
        limit = self.max_bytes
        message_text = self._message()

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise ProblemError("payload-too-large", message_text, max_bytes=limit)
            return message

        return await self.app(scope, limited_receive, send)

    async def _refuse(self, scope, send) -> None:
        import json

        body = json.dumps(
            problem_body(scope.get("path", ""), "payload-too-large", self._message(), max_bytes=self.max_bytes)
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def iter_api_routes(app: FastAPI):
    """(METHOD, path template) of every FastAPI route, through included routers; HEAD is
    implied by GET and not listed."""
    from fastapi.routing import iter_route_contexts

    for ctx in iter_route_contexts(app.routes):
        if not isinstance(ctx.original_route, APIRoute):
            continue
        for method in ctx.methods or ():
            if method != "HEAD":
                yield method, ctx.path


def check_role_matrix(app: FastAPI) -> None:
    """Every route is in the matrix and every matrix entry is a route: refuse to start otherwise."""
    routes = set()
    for method, path in iter_api_routes(app):
        if path not in UNGUARDED_PATHS:
            routes.add((method, path))
    missing = sorted(routes - set(ROLE_MATRIX))
    stale = sorted(set(ROLE_MATRIX) - routes)
    if missing or stale:
        raise RuntimeError(
            "api.roles.ROLE_MATRIX does not match the routes: "
            + (f"routes without an entry: {missing}; " if missing else "")
            + (f"entries without a route: {stale}" if stale else "")
        )


def _openapi(app: FastAPI):
    def build():
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = doc.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "API key as a bearer token."},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
        for path, ops in doc.get("paths", {}).items():
            for method, op in ops.items():
                allowed = ROLE_MATRIX.get((method.upper(), path))
                if allowed is None:
                    continue
                if allowed == PUBLIC:
                    op["x-allowed-roles"] = ["public"]
                    op["security"] = []
                else:
                    op["x-allowed-roles"] = sorted(r.value for r in allowed)
                    op["security"] = [{"bearer": []}, {"apiKey": []}]
        app.openapi_schema = doc
        return doc

    return build


def create_app(settings: Settings | None = None, config: ServiceConfig | None = None, **overrides) -> FastAPI:
    """Build the service. `settings` default to the environment (`plein.settings`);
    `overrides` replace fields of `api.config.ServiceConfig` (e.g. ``preload=False``)."""
    config = config or ServiceConfig.from_env(settings, **overrides)
    service = Service(config)
    service.open()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start_background()
        try:
            yield
        finally:
            service.close()

    app = FastAPI(
        title="Plein",
        version=plein.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        responses=problems.problem_responses(400, 401, 403, 422),
        # FastAPI traces every request when an OpenTelemetry provider is configured (MLflow
        # configures one when it is imported); that costs more than the candidate-list
        # request itself. On only when asked for (PLEIN_OTEL=1) and a collector is set up.
        telemetry=None if config.telemetry else {"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.service = service
    problems.install(app)

    from api.routers import (
        audit,
        caseload,
        clients,
        coaches,
        dashboard,
        employers,
        health,
        ladder,
        matching,
        models,
        results,
        teams,
        vacancies,
    )

    for module in (health, clients, coaches, teams, employers, vacancies, caseload, matching, ladder, results, models, audit):
        app.include_router(module.router)
    app.include_router(dashboard.router)
    dashboard.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def root():
        return RedirectResponse("/dashboard", status_code=307)

    @app.get("/problems/{slug}", include_in_schema=False, response_class=HTMLResponse)
    async def problem_type(slug: str):
        ptype = problems.PROBLEM_TYPES.get(slug)
        if ptype is None:
            raise ProblemError("not-found", f"There is no problem type {slug!r}.")
        return HTMLResponse(
            f"<!doctype html><title>{ptype.title}</title><h1>{ptype.title} ({ptype.status})</h1><p>{ptype.remedy}</p>"
        )

    check_role_matrix(app)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(BodySizeLimit, max_bytes=config.max_body_bytes)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn (``uvicorn --factory api.app:app_from_env``) and `plein serve`."""
    return create_app()
