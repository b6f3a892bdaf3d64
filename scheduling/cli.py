"""Commands of the caseload optimiser: `plein optimise`, `plein proposal ...` and the
benchmarks `plein bench gap`, `plein bench gap-suite`, `plein bench caseload`.

Heavy imports (ortools, scipy, pandas) happen inside the commands so `plein --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    _register_bench(bench)
    _register_optimise(app)


# ---------------------------------------------------------------------------- benchmarks
def _register_bench(bench: typer.Typer) -> None:
    @bench.command("gap")
    def bench_gap(
        file: Path = typer.Argument(..., help="An OR-Library GAP instance: the zip or its text file."),
        time_limit: float = typer.Option(60.0, "--time-limit", help="Seconds."),
        seed: int = typer.Option(0, "--seed"),
        solver: str = typer.Option("plein", "--solver", help="plein, plain-cpsat or highs."),
        workers: int = typer.Option(2, "--workers", help="CP-SAT workers."),
    ) -> None:
        """Solve one GAP instance (minimisation); print one JSON line with instance, objective,
        bound, seconds, feasible and the gap to the best-known solution."""
        import json

        from bench.gap import run_one

        try:
            row = run_one(file, time_limit, seed=seed, solver=solver, workers=workers)
        except (FileNotFoundError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(json.dumps(row))

    @bench.command("gap-suite")
    def bench_gap_suite(
        folder: Path = typer.Argument(..., help="Folder of OR-Library GAP instances with bounds.tsv."),
        time_limit: float = typer.Option(60.0, "--time-limit", help="Seconds per instance and solver."),
        pattern: str = typer.Option("d*", "--pattern", help="Instance name pattern, e.g. 'd*' or 'c*00'."),
        solvers: str = typer.Option("plein,plain-cpsat,highs", "--solvers", help="Comma-separated."),
        seed: int = typer.Option(0, "--seed"),
        jsonl: Path = typer.Option(None, "--jsonl", help="Also append every raw result row to this file."),
    ) -> None:
        """Run every matching instance with Plein, plain CP-SAT and HiGHS (one after the other,
        same time limit) and print the gap to best-known side by side."""
        from bench.gap import SOLVERS, print_table, run_suite
        from plein.progress import console_progress

        chosen = tuple(s.strip() for s in solvers.split(",") if s.strip())
        bad = [s for s in chosen if s not in SOLVERS]
        if bad:
            typer.echo(f"error: unknown solver(s) {bad}; choose from {', '.join(SOLVERS)}", err=True)
            raise typer.Exit(2)
        try:
            with console_progress("GAP suite") as cb:
                rows = run_suite(folder, time_limit, pattern=pattern, solvers=chosen, seed=seed, progress=cb, jsonl=jsonl)
        except FileNotFoundError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        print_table(rows, chosen, time_limit)

    @bench.command("caseload")
    def bench_caseload(
        clients: int = typer.Option(50_000, "--clients", help="Clients in the generated region."),
        coaches: int = typer.Option(None, "--coaches", help="Split the largest caseloads until there are this many coaches."),
        seed: int = typer.Option(1, "--seed"),
        time_limit: float = typer.Option(50.0, "--time-limit", help="Seconds for the full rebalance (building the problem included)."),
        intake: int = typer.Option(500, "--intake", help="Clients released and placed again by an intake run."),
        intake_time_limit: float = typer.Option(1.0, "--intake-time-limit", help="Solver seconds for the intake."),
        as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON lines too."),
        capacity_factor: float = typer.Option(1.0, "--capacity-factor",
                                              help="Multiply every coach's capacity and client maximum (e.g. 1.15: staffed for the caseload)."),
        what_if_leave: int = typer.Option(3, "--what-if-leave", min=0, help="Coaches who leave in the what-if on the approved caseload (0: none)."),
        what_if_time_limit: float = typer.Option(30.0, "--what-if-time-limit", help="Seconds for the what-if."),
    ) -> None:
        """Full rebalance, intake and what-if at regional scale: seconds, objective, bound, gap, peak memory."""
        import json

        from bench.caseload_scale import print_table as print_rows
        from bench.caseload_scale import run
        from plein.progress import console_progress

        with console_progress("caseload benchmark") as cb:
            try:
                rows = run(clients, seed=seed, n_coaches=coaches, time_limit=time_limit, intake=intake,
                           intake_time_limit=intake_time_limit, progress=cb, capacity_factor=capacity_factor,
                           what_if_leave=what_if_leave, what_if_time_limit=what_if_time_limit)
            except ValueError as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(2) from None
        print_rows(rows)
        if as_json:
            for r in rows:
                typer.echo(json.dumps(r))


def _pairs(values: list[str], what: str) -> list[tuple[str, str]]:
    out = []
    for v in values or []:
        if "=" not in v:
            raise typer.BadParameter(f"{what} {v!r}: expected ID=VALUE")
        a, b = v.split("=", 1)
        out.append((a.strip(), b.strip()))
    return out


def _engine():
    from plein.storage import get_engine

    return get_engine()


def print_proposal(proposal, pid: str | None = None, max_moves: int = 20) -> None:
    """The proposal as a manager reads it: summary, coaches whose load changes, moves."""
    from rich.console import Console
    from rich.table import Table

    con = Console()
    con.print(f"[bold]Proposal {pid or proposal.id or '(not stored)'}[/bold] ({proposal.status})")
    for line in proposal.summary_lines():
        con.print("  " + line)
    before = {c["coach_id"]: c for c in proposal.before["coaches"]}
    t = Table(title="Load per team (points / capacity)")
    for col in ("team", "before", "after", "clients before", "clients after"):
        t.add_column(col, justify="right" if col != "team" else "left")
    tb = {x["team_id"]: x for x in proposal.before["teams"]}
    for x in proposal.after["teams"]:
        b = tb.get(x["team_id"], {})
        t.add_row(str(x["team_id"]), f"{b.get('relative_load', 0):.0%}", f"{x['relative_load']:.0%}", str(b.get("clients", 0)), str(x["clients"]))
    con.print(t)
    changed = [c for c in proposal.after["coaches"] if c["clients"] != before[c["coach_id"]]["clients"]]
    if changed:
        t = Table(title=f"Coaches whose caseload changes ({len(changed)})")
        for col in ("coach", "team", "before", "after", "clients"):
            t.add_column(col)
        for c in changed[:max_moves]:
            b = before[c["coach_id"]]
            t.add_row(c["coach_id"], str(c["team_id"]), f"{b['relative_load']:.0%}", f"{c['relative_load']:.0%}",
                      f"{b['clients']} -> {c['clients']}" + ("" if c["available"] else f" ({c['unavailable_reason']})"))
        con.print(t)
    if proposal.moves:
        t = Table(title=f"Moves (first {min(max_moves, len(proposal.moves))} of {len(proposal.moves)})")
        for col in ("client", "from", "to", "kind", "reasons"):
            t.add_column(col)
        for m in proposal.moves[:max_moves]:
            t.add_row(m["client_id"], str(m["from_coach"] or "-"), m["to_coach"], m["kind"], "; ".join(m["reasons"][:3]))
        con.print(t)
    if proposal.unassigned:
        con.print(f"[bold red]{len(proposal.unassigned)} client(s) unassigned[/bold red]")
        for u in proposal.unassigned[:max_moves]:
            con.print(f"  {u['client_id']}: {'; '.join(u['reasons'])}")
    if proposal.explanation:
        con.print("[bold]Why[/bold]")
        for c in proposal.explanation.get("capacity", [])[:8]:
            con.print(f"  capacity: {c['text']}")
        for line in (proposal.explanation.get("joint") or {}).get("text", []):
            con.print(f"  joint capacity: {line}")
        for line in proposal.explanation.get("conflicts", {}).get("text", []):
            con.print(f"  solver: {line}")


def _register_optimise(app: typer.Typer) -> None:
    @app.command("optimise")
    def optimise(
        mode: str = typer.Option("full", "--mode", help="full, intake or what-if."),
        coach_absent: list[str] = typer.Option(None, "--coach-absent", help="What-if: coach ID absent (with --from, --to)."),
        from_: str = typer.Option(None, "--from", help="First day of the what-if absence (YYYY-MM-DD); default the plan date."),
        to: str = typer.Option(None, "--to", help="Last day of the what-if absence; default open-ended."),
        coach_leaves: list[str] = typer.Option(None, "--coach-leaves", help="What-if: coach ID leaves (repeatable)."),
        capacity: list[str] = typer.Option(None, "--capacity", help="What-if: ID=POINTS new capacity (repeatable)."),
        pin: list[str] = typer.Option(None, "--pin", help="CLIENT=COACH: must go to this coach (repeatable)."),
        forbid: list[str] = typer.Option(None, "--forbid", help="CLIENT=COACH: must not (repeatable)."),
        date: str = typer.Option(None, "--date", help="Plan date (YYYY-MM-DD); default today."),
        time_limit: float = typer.Option(30.0, "--time-limit", help="Seconds for the solver."),
        seed: int = typer.Option(0, "--seed"),
        max_handovers: int = typer.Option(None, "--max-handovers", help="Hard cap on voluntary handovers."),
        config: Path = typer.Option(None, "--config", help="JSON with weights / caseload points (see docs/scheduling.md)."),
        by: str = typer.Option("cli", "--by", help="Who runs the optimiser (stored with the proposal)."),
        show: int = typer.Option(20, "--show", help="Moves to print."),
        store: bool = typer.Option(True, "--store/--no-store", help="Store the pending proposal in the database."),
    ) -> None:
        """Optimise the caseload in the database and store a pending proposal for a manager."""
        import datetime as dt
        import json

        from plein.progress import console_progress
        from plein.storage import load_region
        from scheduling import ScheduleConfig, ScheduleOptions, normalise_mode, run_optimisation
        from scheduling.approval import store_proposal

        try:
            m = normalise_mode(mode)
            plan = dt.date.fromisoformat(date) if date else None
            start = dt.date.fromisoformat(from_) if from_ else (plan or dt.date.today())
            end = dt.date.fromisoformat(to) if to else None
            cfg = ScheduleConfig.from_dict(json.loads(config.read_text())) if config else ScheduleConfig()
            caps = {k: float(v) for k, v in _pairs(capacity, "--capacity")}
            options = ScheduleOptions(
                plan_date=plan, pins=dict(_pairs(pin, "--pin")), forbids=_pairs(forbid, "--forbid"),
                coach_absent=[(c, start, end) for c in coach_absent or []], coach_leaves=list(coach_leaves or []),
                capacity=caps, max_handovers=max_handovers, time_limit=time_limit, seed=seed, config=cfg,
            )
        except (ValueError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        engine = _engine()
        region = load_region(engine)
        if len(region.clients) == 0:
            typer.echo("error: the database has no clients; run `plein generate` or `plein import` first", err=True)
            raise typer.Exit(2)
        try:
            with console_progress(f"optimise ({m})") as cb:
                proposal = run_optimisation(region, m, options, progress=cb)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        pid = store_proposal(engine, proposal, created_by=by) if store else None
        print_proposal(proposal, pid, show)
        if pid:
            typer.echo(f"\nstored as pending proposal {pid}: `plein proposal approve {pid} --by NAME`")

    proposal_app = typer.Typer(help="Caseload proposals: show, approve, reject.", no_args_is_help=True)
    app.add_typer(proposal_app, name="proposal")

    @proposal_app.command("show")
    def show_cmd(
        proposal_id: str = typer.Argument(...),
        moves: int = typer.Option(20, "--moves", help="Moves to print."),
        plot: Path = typer.Option(None, "--plot", help="Write the balance chart (PNG) here."),
        as_json: bool = typer.Option(False, "--json", help="Print the whole proposal as JSON."),
    ) -> None:
        """Show a proposal: figures, moves with reasons, unassigned clients and why."""
        import json

        from scheduling.approval import ProposalNotFound, load_proposal

        try:
            p, meta = load_proposal(_engine(), proposal_id)
        except ProposalNotFound as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        if as_json:
            typer.echo(json.dumps({**p.to_dict(), **{k: str(v) if v is not None else None for k, v in meta.items()}}, indent=1))
            return
        print_proposal(p, proposal_id, moves)
        if meta["decided_by"]:
            typer.echo(f"{meta['status']} by {meta['decided_by']} at {meta['decided_at']}" + (f": {meta['decision_note']}" if meta["decision_note"] else ""))
        if plot:
            from scheduling.plots import balance_png

            plot.write_bytes(balance_png(p))
            typer.echo(f"balance chart written to {plot}")

    @proposal_app.command("approve")
    def approve_cmd(
        proposal_id: str = typer.Argument(...),
        by: str = typer.Option(..., "--by", help="The approving manager."),
        note: str = typer.Option(None, "--note"),
    ) -> None:
        """Approve a pending proposal: apply its moves and write the assignment history."""
        from scheduling.approval import ProposalError, approve

        try:
            out = approve(_engine(), proposal_id, manager=by, note=note)
        except (ProposalError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"approved {proposal_id}: {out['moves_applied']} moves applied, {out['clients_released']} clients released")

    @proposal_app.command("reject")
    def reject_cmd(
        proposal_id: str = typer.Argument(...),
        by: str = typer.Option(..., "--by", help="The rejecting manager."),
        note: str = typer.Option(..., "--note", help="Why (kept with the proposal)."),
    ) -> None:
        """Reject a pending proposal; nothing changes in the caseload."""
        from scheduling.approval import ProposalError, reject

        try:
            reject(_engine(), proposal_id, manager=by, note=note)
        except (ProposalError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"rejected {proposal_id}")
