"""The dashboard: server-rendered pages (Jinja2, plain CSS, inline SVG charts; no front-end
build step) for team managers and employer services.

- Managers: caseload balance per coach and team as a chart, optimisations (a rebalance, an
  intake or a what-if about one or more coaches, with an optional handover cap; start, follow),
  a proposal's moves with reasons and before/after figures, approve and reject; results on
  the participatieladder over a period per team, municipality or benefit type.
- Employer services: open vacancies, a vacancy's candidate list with reasons (the candidate
  card, without sensitive fields), and recording an outcome.

Log-in is by pasting an API key; it is kept in an HttpOnly, SameSite=Strict cookie, and every
form carries a CSRF token derived from the key. Pages use the same role matrix, the same
services and the same audit log as the JSON API.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import StringConstraints

from api import caseload_service
from api.auth import Principal
from api.deps import COOKIE_NAME, presented_key, service_of, resolve_principal, route_key
from api.problems import ProblemError
from api.roles import PUBLIC, ROLE_MATRIX, Role
from api.schemas import OutcomeCreate

TEMPLATES = Jinja2Templates(directory=str(FsPath(__file__).resolve().parent.parent / "templates"))
router = APIRouter(prefix="/dashboard", include_in_schema=False)

IdPath = Annotated[str, Path(min_length=1, max_length=100)]

MESSAGES = {
    "approved": "The proposal is approved: its moves are now the caseloads.",
    "rejected": "The proposal is rejected.",
    "outcome": "The outcome is recorded.",
    "started": "The optimisation has started.",
    "cancel": "Cancelling: the optimisation stops at its next step and stores nothing.",
}


class LoginRequired(Exception):
    pass


class PageForbidden(Exception):
    def __init__(self, principal: Principal, allowed: frozenset[Role]) -> None:
        self.principal = principal
        self.allowed = allowed


def csrf_token(key: str) -> str:
    return hmac.new(key.encode(), b"plein-dashboard-csrf", hashlib.sha256).hexdigest()[:32]


async def page_principal(request: Request) -> Principal | None:
    """The dashboard user from the cookie, checked against the role matrix."""
    method, path = route_key(request)
    allowed = ROLE_MATRIX[(method, path)]
    principal = await resolve_principal(request, cookie=True)
    if allowed == PUBLIC:
        return principal
    if principal is None:
        raise LoginRequired()
    if principal.role not in allowed:
        raise PageForbidden(principal, allowed)
    return principal


PagePrincipal = Annotated[Principal | None, Depends(page_principal)]


def _check_csrf(request: Request, token: str) -> None:
    key = presented_key(request, cookie=True) or ""
    if not key or not hmac.compare_digest(csrf_token(key), token or ""):
        raise ProblemError("form-expired", "The form is out of date or came from another site. Reload the page and try again.")


def render(request: Request, name: str, principal: Principal | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    key = presented_key(request, cookie=True)
    context.update(
        principal=principal,
        csrf=csrf_token(key) if key else "",
        message=MESSAGES.get(request.query_params.get("done", "")),
        is_manager=principal is not None and principal.role is Role.MANAGER,
        can_record=principal is not None and principal.role in (Role.EMPLOYER_SERVICES, Role.ADMIN),
    )
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)


def install(app: FastAPI) -> None:
    """Log-in redirects and the forbidden page for dashboard routes."""

    async def on_login_required(request: Request, exc: LoginRequired):
        return RedirectResponse(f"/dashboard/login?next={quote(request.url.path)}", status_code=303)

    async def on_forbidden(request: Request, exc: PageForbidden):
        return render(
            request, "forbidden.html", exc.principal, status_code=403,
            allowed=sorted(r.value for r in exc.allowed),
        )

    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(PageForbidden, on_forbidden)


def _home_for(principal: Principal) -> str:
    if principal.role in (Role.MANAGER, Role.ADMIN):
        return "/dashboard/caseload"
    if principal.role is Role.EMPLOYER_SERVICES:
        return "/dashboard/vacancies"
    return ""


# -- log-in -------------------------------------------------------------------------------


@router.get("")
async def home(request: Request, principal: PagePrincipal):
    if principal is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    target = _home_for(principal)
    if not target:
        return render(request, "home.html", principal)
    return RedirectResponse(target, status_code=303)


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/dashboard") and "//" not in value else "/dashboard"


@router.get("/login")
async def login_form(request: Request, principal: PagePrincipal, next: Annotated[str | None, Query(max_length=300)] = None):
    return render(request, "login.html", principal, next=_safe_next(next), error=None)


@router.post("/login")
async def login(request: Request, api_key: Annotated[str, Form(max_length=512)] = "", next: Annotated[str, Form(max_length=300)] = "/dashboard"):
    service = service_of(request)
    from starlette.concurrency import run_in_threadpool

    principal = await run_in_threadpool(service.keys.authenticate, api_key.strip())
    if principal is None:
        return render(request, "login.html", None, status_code=401, next=_safe_next(next),
                      error="This key is not valid (unknown or revoked). Paste the whole key you were given.")
    target = _safe_next(next)
    if target == "/dashboard":
        target = _home_for(principal) or "/dashboard"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE_NAME, api_key.strip(), httponly=True, samesite="strict", secure=service.config.cookie_secure, path="/",
        max_age=12 * 3600,
    )
    return response


@router.post("/logout")
async def logout():
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


# -- managers -----------------------------------------------------------------------------


def _load_title(r: dict[str, Any], label: str) -> str:
    return (f"{label}: {r.get('clients')} clients, {r.get('points', 0):.0f} of {r.get('capacity_points', 0):.0f} points"
            + (f"; {r['unavailable_reason']}" if r.get("unavailable_reason") else ""))


def bar_chart(rows: list[dict[str, Any]], label_key: str = "name", value_key: str = "load", width: int = 640,
              reference: float | None = 1.0, reference_label: str = "100% of capacity", flag_over: bool = True,
              title=_load_title) -> dict[str, Any]:
    """Geometry for a horizontal bar chart of shares (loads: 1.0 = full), drawn as inline SVG
    (`_chart.html`). A dashed line marks `reference` (none when None); with `flag_over`, bars
    above it are drawn as over. A row whose value is None gets no bar and the text "too few".
    `title(row, label)` is each bar's tooltip."""
    bar_h, gap, right = 18, 6, 60
    # room for the longest label (~6.5 px a character at the chart's font), within reason
    label_w = int(min(0.5 * width, max(120, 6.5 * max([len(str(r.get(label_key) or r.get("id"))) for r in rows] or [0]) + 12)))
    values = [r.get(value_key) for r in rows]
    top = max([reference or 0.0] + [float(v) for v in values if v is not None] + [1e-9])
    scale_max = math.ceil(top * 4) / 4 if reference == 1.0 else top * 1.1  # loads: the next quarter
    plot_w = width - label_w - right
    bars = []
    for i, r in enumerate(rows):
        v = r.get(value_key)
        label = str(r.get(label_key) or r.get("id"))
        bars.append({
            "y": i * (bar_h + gap),
            "w": 0.0 if v is None else round(plot_w * float(v) / scale_max, 1),
            "label": label,
            "value": v,
            "text": "too few" if v is None else f"{float(v) * 100:.0f}%",
            "over": flag_over and reference is not None and v is not None and float(v) > reference,
            "away": r.get("available") is False,
            "title": title(r, label),
        })
    height = max(1, len(rows)) * (bar_h + gap)
    return {
        "bars": bars, "bar_h": bar_h, "label_w": label_w, "plot_w": plot_w, "width": width, "height": height + 20,
        "full_x": None if reference is None else round(label_w + plot_w * reference / scale_max, 1), "scale_max": scale_max,
        "reference_label": reference_label,
    }


@router.get("/caseload")
def caseload_page(request: Request, principal: PagePrincipal):
    return _caseload_page(request, principal)


def _caseload_page(request: Request, principal: Principal, error: str | None = None, form: dict[str, Any] | None = None,
                   status_code: int = 200):
    service = service_of(request)
    balance = None
    try:
        balance = caseload_service.balance(service)
    except ProblemError as exc:
        error = error or exc.detail
    from plein.storage.operational import proposals

    with service.engine.connect() as conn:
        rows = conn.execute(
            sa.select(proposals.c.id, proposals.c.created_at, proposals.c.created_by, proposals.c.mode, proposals.c.status,
                      proposals.c.decided_by, proposals.c.params)
            .order_by((proposals.c.status == "pending").desc(), proposals.c.created_at.desc())
            .limit(20)
        ).mappings().all()
    _, jobs = service.jobs.list(limit=5)
    return render(
        request, "caseload.html", principal, status_code=status_code,
        balance=balance, error=error, form=form or {},
        # coaches by name and id (two coaches may share a name), the ones away marked
        coach_chart=bar_chart([{**c, "label": f"{c['name']} · {c['id']}" + ("" if c.get("available", True) else " (away)")}
                               for c in balance["coaches"]], label_key="label") if balance else None,
        team_chart=bar_chart(balance["teams"]) if balance else None,
        proposals=[{**dict(r), "asked": describe_request(r["mode"], r["params"] or {})} for r in rows], jobs=jobs,
    )


class FormError(ValueError):
    """A field of a dashboard form that cannot be used, said for the person who filled it in."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")


#: what a what-if may change about the coaches it names (the form's "event"; the same for each)
WHAT_IF_EVENTS = ("leaves", "absent", "capacity")
#: the most coaches one what-if from the form may name
MAX_WHAT_IF_COACHES = 50


def _form_date(value: str | None, label: str) -> dt.date | None:
    """A form's date field (YYYY-MM-DD, as a browser's date input sends it); None when empty.
    `FormError` naming the field for anything else."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FormError(label, f"enter a date as YYYY-MM-DD (got {value!r})") from None


def optimisation_options(form: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(mode, options) for `caseload_service.start_optimisation` from the optimise forms'
    fields (text, empty when not filled in; `coach_id` a list: one what-if may name several
    coaches, each with the same change). Raises `FormError` naming the field and what it
    needs; the coaches themselves are checked against the region by the service."""
    mode = (form.get("mode") or "full").strip()
    if mode not in ("full", "intake", "what_if"):
        raise FormError("Mode", f"choose a rebalance, intakes only or a what-if (got {mode!r})")
    options: dict[str, Any] = {}
    limit = (form.get("time_limit") or "").strip()
    if limit:
        try:
            seconds = float(limit)
        except ValueError:
            raise FormError("Time limit", f"enter a number of seconds (got {limit!r})") from None
        if not 1 <= seconds <= 3600:
            raise FormError("Time limit", f"enter between 1 and 3600 seconds (got {limit})")
        options["time_limit"] = seconds
    cap = (form.get("max_handovers") or "").strip()
    if cap:
        if not cap.isdigit():
            raise FormError("At most … handovers", f"enter a whole number of 0 or more, or leave it empty for no cap (got {cap!r})")
        options["max_handovers"] = int(cap)
    coaches = list(dict.fromkeys(c.strip() for c in form.get("coach_id") or [] if c.strip()))
    event = (form.get("event") or "").strip()
    filled = coaches + [name for name in ("event", "absent_from", "absent_until", "capacity_points") if (form.get(name) or "").strip()]
    if mode != "what_if":
        if filled:
            raise FormError("What if", "coaches and a change belong to a what-if, not to a rebalance or intakes")
        return mode, options
    if not coaches:
        raise FormError("Coaches", "choose the coach or coaches the what-if is about")
    if len(coaches) > MAX_WHAT_IF_COACHES:
        raise FormError("Coaches", f"choose at most {MAX_WHAT_IF_COACHES} coaches (got {len(coaches)})")
    if event not in WHAT_IF_EVENTS:
        raise FormError("Change", f"choose what happens to the coaches: leave, are absent or get a new capacity (got {event!r})")

    if event == "leaves":
        options["coach_leaves"] = coaches
    elif event == "absent":
        start, end = _form_date(form.get("absent_from"), "Absent from"), _form_date(form.get("absent_until"), "Absent until")
        if start is None:
            raise FormError("Absent from", "enter the first day of the absence")
        if end is not None and end < start:
            raise FormError("Absent until", f"the last day ({end}) is before the first ({start})")
        options["coach_absent"] = [[c, start.isoformat(), end.isoformat() if end else None] for c in coaches]
    else:
        value = (form.get("capacity_points") or "").strip()
        try:
            points = float(value)
        except ValueError:
            raise FormError("New capacity", f"enter the capacity in caseload points (got {value!r})") from None
        if not (math.isfinite(points) and points >= 0):
            raise FormError("New capacity", f"enter 0 points or more (got {value})")
        options["capacity"] = {c: points for c in coaches}
    return mode, options


def describe_request(mode: str, options: dict[str, Any]) -> str:
    """What an optimisation was asked to do, in words (for the proposal and job pages)."""
    parts = [{"full": "rebalance all caseloads", "intake": "assign new intakes only", "what_if": "what if"}.get(mode, mode)]
    changes = [f"{c} leaves" for c in options.get("coach_leaves") or []]
    for c, start, end in options.get("coach_absent") or []:
        changes.append(f"{c} is absent from {start}" + (f" until {end}" if end else ""))
    changes += [f"{c} has a capacity of {p:g} points" for c, p in (options.get("capacity") or {}).items()]
    if changes:
        parts[0] += ": " + ", ".join(changes)
    if options.get("max_handovers") is not None:
        parts.append(f"at most {options['max_handovers']} handovers")
    if options.get("time_limit") is not None:
        parts.append(f"time limit {float(options['time_limit']):g} s")
    return "; ".join(parts)


FormText = Annotated[str, Form(max_length=100)]


@router.post("/optimise")
def optimise(request: Request, principal: PagePrincipal, csrf: FormText = "", mode: FormText = "full",
             time_limit: FormText = "", max_handovers: FormText = "",
             coach_id: Annotated[list[Annotated[str, StringConstraints(max_length=100)]], Form(max_length=500)] = [],  # noqa: B006
             event: FormText = "", absent_from: FormText = "", absent_until: FormText = "", capacity_points: FormText = ""):
    """Start a rebalance, an intake or a what-if from the caseload page. A field that cannot be
    used shows the page again with what it needs and the form as filled in; nothing starts."""
    _check_csrf(request, csrf)
    form = {"mode": mode, "time_limit": time_limit, "max_handovers": max_handovers, "coach_id": coach_id, "event": event,
            "absent_from": absent_from, "absent_until": absent_until, "capacity_points": capacity_points}
    service = service_of(request)
    try:
        mode, options = optimisation_options(form)
        job_id = caseload_service.start_optimisation(service, mode, options, principal.name)
    except FormError as exc:
        return _caseload_page(request, principal, f"Not started. {exc}", form, 422)
    except ProblemError as exc:
        if exc.status != 422:
            raise
        return _caseload_page(request, principal, f"Not started. {exc.detail}", form, 422)
    service.audit.record(principal, "start", "optimisation", job_id, {"mode": mode, "options": options, "via": "dashboard"})
    return RedirectResponse(f"/dashboard/jobs/{job_id}?done=started", status_code=303)


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: IdPath, principal: PagePrincipal):
    service = service_of(request)
    job = service.jobs.get(job_id)
    if job is None:
        return render(request, "not_found.html", principal, status_code=404, what=f"job {job_id}")
    params = job.get("params") or {}
    asked = describe_request(params["mode"], params.get("options") or {}) if job.get("kind") == "optimise" and params.get("mode") else None
    return render(request, "job.html", principal, job=job, asked=asked)


@router.post("/jobs/{job_id}/cancel")
def cancel_job_form(request: Request, job_id: IdPath, principal: PagePrincipal, csrf: Annotated[str, Form(max_length=100)] = ""):
    """Cancel from the job's page (as `POST /v1/jobs/{job_id}/cancel`)."""
    _check_csrf(request, csrf)
    service = service_of(request)
    job = service.jobs.get(job_id)
    if job is None:
        return render(request, "not_found.html", principal, status_code=404, what=f"job {job_id}")
    if job["status"] in ("queued", "running"):
        job = service.jobs.cancel(job_id, principal.name)
        service.audit.record(principal, "cancel", "job", job_id, {"status": job["status"], "via": "dashboard"})
    return RedirectResponse(f"/dashboard/jobs/{job_id}?done=cancel", status_code=303)


#: moves shown per page of a proposal (a 50k rebalance proposes ~12 000)
MOVES_PER_PAGE = 200
MOVE_KINDS = ("handover", "forced", "placement")


@router.get("/proposals/{proposal_id}")
def proposal_page(request: Request, proposal_id: IdPath, principal: PagePrincipal,
                  coach: Annotated[str, Query(max_length=100)] = "", kind: Annotated[str, Query(max_length=20)] = "",
                  offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0):
    return _proposal_page(request, proposal_id, principal, moves_filter={"coach": coach.strip(), "kind": kind.strip(), "offset": offset})


def _moves_shown(result: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The page of a proposal's moves to show: those from or to one coach and of one kind
    (handover, forced, placement) when asked, `MOVES_PER_PAGE` from `offset`. A coach the
    proposal does not name or an unknown kind raises `FormError` naming the field."""
    moves = result.get("moves") or []
    coach, kind, offset = wanted.get("coach") or "", wanted.get("kind") or "", int(wanted.get("offset") or 0)
    coaches = sorted({c["coach_id"] for part in ("before", "after") for c in (result.get(part) or {}).get("coaches") or []})
    if kind and kind not in MOVE_KINDS:
        raise FormError("Kind", f"choose {', '.join(MOVE_KINDS[:-1])} or {MOVE_KINDS[-1]} (got {kind!r})")
    if coach and coach not in coaches:
        raise FormError("Coach", f"{coach!r} is not a coach in this proposal")
    chosen = [m for m in moves if (not coach or coach in (m.get("from_coach"), m.get("to_coach")))
              and (not kind or m.get("kind") == kind)]
    offset = min(offset, max(0, (len(chosen) - 1) // MOVES_PER_PAGE * MOVES_PER_PAGE))
    return {"rows": chosen[offset:offset + MOVES_PER_PAGE], "matching": len(chosen), "total": len(moves),
            "offset": offset, "limit": MOVES_PER_PAGE, "coach": coach, "kind": kind, "coaches": coaches, "kinds": MOVE_KINDS}


def _proposal_page(request: Request, proposal_id: str, principal: Principal, error: str | None = None, status_code: int = 200,
                   moves_filter: dict[str, Any] | None = None):
    service = service_of(request)
    row = caseload_service.get_proposal(service, proposal_id)
    if row is None:
        return render(request, "not_found.html", principal, status_code=404, what=f"proposal {proposal_id}")
    service.audit.record_clients(principal, "read", caseload_service.proposal_client_ids(row), "proposal (dashboard)",
                                 {"proposal_id": proposal_id})
    result = row.get("result") or {}
    wanted = moves_filter or {}
    try:
        shown = _moves_shown(result, wanted)
    except FormError as exc:
        # the error names the field; every move is listed under it
        error, status_code = f"{exc}.", 422
        shown = _moves_shown(result, {})
    return render(
        request, "proposal.html", principal, status_code=status_code,
        proposal=row, result=result, moves=shown["rows"], shown=shown, unassigned=result.get("unassigned") or [],
        lose_coach=sum(1 for u in result.get("unassigned") or [] if u.get("from_coach")),
        stale=caseload_service.stale_reason(service, proposal_id) if row["status"] == "pending" else None,
        figures=_figures(result), loads=_load_rows(result), teams=_team_rows(result), why=_why(result.get("explanation")),
        quality=caseload_service.proposal_quality(result), error=error, asked=describe_request(row["mode"], row["params"] or {}),
    )


FIGURE_LABELS = {
    "assigned": "clients with a coach",
    "unassigned": "clients without a coach",
    "with_unavailable_coach": "clients with an absent or departed coach",
    "coaches_over_capacity": "coaches over capacity",
    "max_relative_load": "highest coach load",
    "min_relative_load": "lowest coach load",
    "load_spread": "spread between coaches",
    "team_spread": "spread between teams",
    "sector_fit": "clients in a team of their sector",
    "mean_travel_km": "mean travel to the coach (km)",
    "handovers": "handovers",
    "forced_moves": "forced moves",
    "placements": "placements",
    "lose_coach": "clients taken off their coach (no room found)",
}
SHARE_FIGURES = {"max_relative_load", "min_relative_load", "load_spread", "team_spread", "sector_fit"}


def _figures(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Before/after rows from a proposal's summary figures, in words; shares as percentages."""
    before = (result.get("before") or {}).get("summary") or {}
    after = (result.get("after") or {}).get("summary") or {}
    rows = []
    for name, label in FIGURE_LABELS.items():
        b, a = before.get(name), after.get(name)
        if not isinstance(b, (int, float)) or not isinstance(a, (int, float)):
            continue
        pct = name in SHARE_FIGURES
        fmt = (lambda x: f"{x * 100:.0f}%") if pct else (lambda x: f"{x:g}")
        change = a - b
        rows.append({"name": label, "before": fmt(b), "after": fmt(a),
                     "change": (f"{change * 100:+.0f} pt" if pct else f"{change:+g}") if change else "="})
    return rows


def _load_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per coach: load before and after (for the before/after chart)."""
    before = {c["coach_id"]: c for c in (result.get("before") or {}).get("coaches") or []}
    after = {c["coach_id"]: c for c in (result.get("after") or {}).get("coaches") or []}
    rows = []
    for cid in sorted(set(before) | set(after)):
        b, a = before.get(cid, {}), after.get(cid, {})
        rows.append({"coach_id": cid, "team_id": a.get("team_id") or b.get("team_id"),
                     "before": float(b.get("relative_load") or 0), "after": float(a.get("relative_load") or 0),
                     "clients_before": b.get("clients"), "clients_after": a.get("clients")})
    return rows


def _team_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per team: clients, points against capacity and load, before and after."""
    before = {t["team_id"]: t for t in (result.get("before") or {}).get("teams") or []}
    after = {t["team_id"]: t for t in (result.get("after") or {}).get("teams") or []}
    rows = []
    for tid in sorted(set(before) | set(after), key=str):
        b, a = before.get(tid, {}), after.get(tid, {})
        rows.append({"team_id": tid or "(no team)", "clients_before": b.get("clients", 0), "clients_after": a.get("clients", 0),
                     "points_before": float(b.get("points") or 0), "points_after": float(a.get("points") or 0),
                     "capacity": float(a.get("capacity_points") or b.get("capacity_points") or 0),
                     "load_before": float(b.get("relative_load") or 0), "load_after": float(a.get("relative_load") or 0),
                     "coaches": a.get("coaches", b.get("coaches")), "available": a.get("available_coaches", b.get("available_coaches"))})
    return rows


def _why(explanation: dict[str, Any] | None) -> dict[str, Any] | None:
    """The explanation of clients left without a coach (`scheduling.explain`), for the page:
    the joint check of points and client maximum with its short groups, the capacity checks
    (the short ones first), and what the solver's conflict search found."""
    if not explanation:
        return None
    joint = explanation.get("joint") or {}
    checks = explanation.get("capacity") or []
    return {
        "joint": (joint.get("text") or [])[:1],
        "groups": joint.get("groups") or [],
        "short": [c for c in checks if c.get("short")],
        "checks": [c for c in checks if not c.get("short")],
        "conflicts": (explanation.get("conflicts") or {}).get("text") or [],
    }


@router.post("/proposals/{proposal_id}/decision")
def decide(request: Request, proposal_id: IdPath, principal: PagePrincipal,
           action: Annotated[str, Form(max_length=10)] = "", note: Annotated[str, Form(max_length=2000)] = "",
           csrf: Annotated[str, Form(max_length=100)] = ""):
    _check_csrf(request, csrf)
    if action not in ("approve", "reject"):
        raise ProblemError("validation-error", "Choose approve or reject.")
    service = service_of(request)
    try:
        caseload_service.decide(service, proposal_id, action, principal, note.strip() or None, via="dashboard")
    except ProblemError as exc:
        if exc.status in (404, 409):
            return _proposal_page(request, proposal_id, principal, error=exc.detail, status_code=exc.status)
        raise
    return RedirectResponse(f"/dashboard/proposals/{proposal_id}?done={action}d", status_code=303)


# -- results ----------------------------------------------------------------------------

GROUPING_LABELS = {"team": "team", "municipality": "municipality", "benefit_type": "benefit type"}


@router.get("/results")
def results_page(request: Request, principal: PagePrincipal,
                 start: Annotated[str, Query(max_length=20)] = "", end: Annotated[str, Query(max_length=20)] = "",
                 by: Annotated[str, Query(max_length=20)] = "team"):
    """Results on the participatieladder over a period (the API's `GET /v1/results/ladder`):
    the share who rose per group as a chart against the region's, and every figure in a table.
    A period or grouping that cannot be used shows the form again with what it needs."""
    from api.routers.results import default_period, ladder_results
    from plein.domain import RUNG_LABELS, Rung

    form = {"start": start, "end": end, "by": by}
    error, results, status = None, None, 200
    try:
        d_end = _form_date(end, "Until") or dt.date.today()
        d_start = _form_date(start, "From") or default_period(d_end)[0]
        form.update(start=d_start.isoformat(), end=d_end.isoformat())
        results = ladder_results(service_of(request), d_start, d_end, by)
    except FormError as exc:
        error, status = f"{exc}.", 422
    except ProblemError as exc:
        error, status = exc.detail, exc.status
    chart = None
    if results:
        share = results["total"]["rose_share"]
        chart = bar_chart(results["groups"], label_key="name", value_key="rose_share", reference=share,
                          reference_label=f"whole caseload: {share * 100:.0f}%" if share is not None else "",
                          flag_over=False,
                          title=lambda r, label: f"{label}: {r['rose']} of {r['could_rise']} who could rise rose")
    return render(request, "results.html", principal, status_code=status, form=form, results=results, error=error,
                  chart=chart, groupings=GROUPING_LABELS, rung_labels={int(r): RUNG_LABELS[r] for r in Rung})


# -- employer services ------------------------------------------------------------------


@router.get("/vacancies")
def vacancies_page(request: Request, principal: PagePrincipal,
                   q: Annotated[str | None, Query(max_length=100)] = None,
                   offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0):
    from plein.storage.tables import sql_table

    service = service_of(request)
    v = sql_table("vacancies")
    e = sql_table("employers")
    today = dt.date.today()
    where = sa.and_(sa.or_(v.c.close_date.is_(None), v.c.close_date >= today))
    if q:
        like = f"%{q.strip()}%"
        where = sa.and_(where, sa.or_(v.c.title.ilike(like), v.c.id.ilike(like), v.c.occupation.ilike(like), e.c.name.ilike(like)))
    limit = 50
    m = sql_table("municipalities")
    # the place's name, not its CBS code (GM0301 is Zutphen)
    joined = v.outerjoin(e, v.c.employer_id == e.c.id).outerjoin(m, v.c.municipality == m.c.id)
    with service.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(where)).scalar_one()
        rows = conn.execute(
            sa.select(v.c.id, v.c.title, v.c.occupation, sa.func.coalesce(m.c.name, v.c.municipality).label("municipality"),
                      v.c.hours, v.c.positions, v.c.open_date, e.c.name.label("employer"))
            .select_from(joined).where(where).order_by(v.c.open_date.desc(), v.c.id).limit(limit).offset(offset)
        ).mappings().all()
    return render(request, "vacancies.html", principal, vacancies=[dict(r) for r in rows], total=total, q=q or "",
                  offset=offset, limit=limit)


@router.get("/vacancies/{vacancy_id}")
def vacancy_page(request: Request, vacancy_id: IdPath, principal: PagePrincipal):
    return _vacancy_page(request, vacancy_id, principal)


def _vacancy_page(request: Request, vacancy_id: str, principal: Principal, error: str | None = None, status_code: int = 200):
    from api.routers._entities import fetch_one
    from api.routers.matching import candidate_card, candidate_list
    from plein.storage.tables import sql_table

    service = service_of(request)
    vacancy = fetch_one(service.engine, "vacancies", vacancy_id)
    if vacancy is None:
        return render(request, "not_found.html", principal, status_code=404, what=f"vacancy {vacancy_id}")
    cards, info, list_error = [], {}, None
    try:
        data = candidate_list(service, vacancy_id, 20)
        cards = [candidate_card(r) for r in data["results"]]
        info = {k: v for k, v in data.items() if k != "results"}
    except ProblemError as exc:
        list_error = exc.detail
    o = sql_table("outcomes")
    with service.engine.connect() as conn:
        outcomes = conn.execute(
            sa.select(o).where(o.c.vacancy_id == vacancy_id).order_by(o.c.date.desc(), o.c.id).limit(50)
        ).mappings().all()
    # each candidate's latest recorded stage on this vacancy (a hired candidate is marked, not
    # shown as if still open)
    latest: dict[str, str] = {}
    for r in outcomes:
        latest.setdefault(str(r["client_id"]), str(r["stage"]))
    cards = [{**c, "stage": latest.get(str(c["client_id"]))} for c in cards]
    ids = [c["client_id"] for c in cards] + [r["client_id"] for r in outcomes]
    if ids:
        service.audit.record_clients(principal, "read", list(dict.fromkeys(ids)), "candidate list (dashboard)",
                                     {"vacancy_id": vacancy_id, "view": "card"})
    return render(request, "vacancy.html", principal, status_code=status_code, vacancy=vacancy, cards=cards, info=info,
                  list_error=list_error, outcomes=[dict(r) for r in outcomes], error=error,
                  stages=["proposed", "shortlisted", "invited", "hired", "rejected"], today=dt.date.today().isoformat())


@router.post("/vacancies/{vacancy_id}/outcomes")
def record_outcome_form(request: Request, vacancy_id: IdPath, principal: PagePrincipal,
                        client_id: Annotated[str, Form(max_length=100)] = "", stage: Annotated[str, Form(max_length=20)] = "",
                        reason: Annotated[str, Form(max_length=2000)] = "", csrf: Annotated[str, Form(max_length=100)] = "",
                        date: Annotated[str, Form(max_length=10)] = ""):
    """Record an outcome from a candidate card; `date` is the day it happened (empty: today),
    checked by the same rule as the API's."""
    from pydantic import ValidationError

    from api.routers.matching import record_outcome

    _check_csrf(request, csrf)
    service = service_of(request)
    try:
        body = OutcomeCreate(client_id=client_id, stage=stage, reason=reason.strip() or None, date=date.strip() or None)
        record_outcome(service, principal, vacancy_id, body)
    except ValidationError as exc:
        msg = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _vacancy_page(request, vacancy_id, principal, error=f"The outcome was not recorded: {msg}.", status_code=422)
    except ProblemError as exc:
        if exc.status in (404, 409, 422):
            return _vacancy_page(request, vacancy_id, principal, error=f"The outcome was not recorded: {exc.detail}",
                                status_code=exc.status)
        raise
    return RedirectResponse(f"/dashboard/vacancies/{vacancy_id}?done=outcome", status_code=303)


__all__ = ["router", "install", "Response"]
