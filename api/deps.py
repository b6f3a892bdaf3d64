"""FastAPI dependencies: the service state, the caller (principal) and authorisation.

Authorisation is one dependency for every route (`authorize`): it finds the route's entry in
the role matrix (`api.roles.ROLE_MATRIX`) by method and path template, so a route cannot be
guarded differently from what the matrix (and its tests and docs) say.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from api.auth import Principal
from api.problems import ProblemError
from api.roles import PUBLIC, ROLE_MATRIX
from api.service import Service

#: the dashboard keeps the API key in this cookie (HttpOnly, SameSite=Strict)
COOKIE_NAME = "plein_key"


def service_of(request: Request) -> Service:
    """The process's service state (for plain functions)."""
    return request.app.state.service


async def get_service(request: Request) -> Service:
    """The service state as a dependency. Async on purpose: FastAPI runs plain-def
    dependencies on the thread pool, a hop per request the busiest endpoint cannot afford."""
    return request.app.state.service


def presented_key(request: Request, *, cookie: bool = False) -> str | None:
    """The key in ``Authorization: Bearer``, ``X-API-Key`` or (dashboard only) the cookie."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = request.headers.get("x-api-key")
    if key and key.strip():
        return key.strip()
    if cookie:
        value = request.cookies.get(COOKIE_NAME)
        if value:
            return value
    return None


async def resolve_principal(request: Request, *, cookie: bool = False) -> Principal | None:
    key = presented_key(request, cookie=cookie)
    if key is None:
        return None
    service = service_of(request)
    found, principal = service.keys.cached(key)
    if found:
        return principal
    # a cache miss reads the database, off the event loop
    return await run_in_threadpool(service.keys.authenticate, key)


def route_key(request: Request) -> tuple[str, str]:
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    return request.method.upper(), path


async def authorize(request: Request) -> Principal | None:
    """The caller of a JSON API route, checked against the role matrix.

    401 when no valid key is presented on a guarded route, 403 when the key's role is not
    allowed there. Public routes get the principal if a valid key was sent, else None."""
    method, path = route_key(request)
    if method == "HEAD":
        method = "GET"
    allowed = ROLE_MATRIX.get((method, path))
    if allowed is None:  # create_app checks the matrix covers every route; defensive
        raise ProblemError("forbidden", f"{method} {path} is not in the role matrix, so nobody may call it.")
    presented = presented_key(request) is not None
    principal = await resolve_principal(request)
    if allowed == PUBLIC:
        return principal
    if principal is None:
        detail = (
            "The API key is not valid (unknown or revoked)."
            if presented
            else "This endpoint needs an API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
        )
        raise ProblemError("unauthenticated", detail, headers={"WWW-Authenticate": 'Bearer realm="plein"'})
    if principal.role not in allowed:
        roles = sorted(r.value for r in allowed)
        raise ProblemError(
            "forbidden",
            f"The role {principal.role.value!r} of key {principal.name!r} may not call {method} {path}; "
            f"allowed: {', '.join(roles)}.",
            allowed_roles=roles,
        )
    return principal


async def require_principal(principal: Annotated[Principal | None, Depends(authorize)]) -> Principal:
    """For guarded routes: the principal is never None here (authorize raised otherwise)."""
    assert principal is not None
    return principal


ServiceDep = Annotated[Service, Depends(get_service)]
PrincipalDep = Annotated[Principal, Depends(require_principal)]
