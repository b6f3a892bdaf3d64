"""`plein demo`: the whole product on one machine, in one command (what `make demo` runs).

Builds the embedded demo region (or reuses the one in the data folder), trains and promotes
both models, computes a caseload proposal for a manager to review, creates an API key per role
and serves the API and dashboard on localhost. Every step is idempotent: running it again
reuses the data, models, proposal and keys it made before.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

DEMO_KEY_FILE = "demo-keys.json"
ROLES = ("manager", "employer_services", "case_system", "data_scientist", "admin")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command()
    def demo(
        clients: int = typer.Option(5000, "--clients", min=200, help="Clients in the generated demo region."),
        seed: int = typer.Option(42, "--seed", help="Generator and training seed."),
        host: str = typer.Option("127.0.0.1", help="Address to serve on."),
        port: int = typer.Option(8000, help="Port to serve on."),
        serve: bool = typer.Option(True, "--serve/--no-serve", help="Start the service at the end."),
        time_limit: float = typer.Option(20.0, help="Seconds for the caseload optimiser."),
    ) -> None:
        """Build the demo region, train, optimise and serve on localhost (the `make demo` target)."""
        run_demo(clients=clients, seed=seed, host=host, port=port, serve=serve, time_limit=time_limit)


def _step(message: str) -> None:
    typer.secho(f"\n==> {message}", bold=True)


def run_demo(clients: int, seed: int, host: str, port: int, serve: bool, time_limit: float) -> dict:
    from plein.progress import console_progress
    from plein.settings import get_settings
    from plein.storage import get_engine, load_region, save_region, upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = get_engine(settings.database_url)
    upgrade(engine)
    typer.echo(f"data folder: {settings.data_dir}")

    _step("1/5 demo region")
    region = load_region(engine, include_protected=True)
    if len(region.clients) == 0:
        from plein.generator import generate_region

        with console_progress("generating the demo region") as cb:
            region = generate_region(n_clients=clients, seed=seed, progress=cb)
        with console_progress("saving to the database") as cb:
            save_region(engine, region, progress=cb)
        region = load_region(engine, include_protected=True)
        typer.echo(f"generated {len(region.clients)} clients, {len(region.coaches)} coaches, {len(region.vacancies)} vacancies")
    else:
        typer.echo(f"reusing the region in the database: {len(region.clients)} clients, {len(region.coaches)} coaches")

    _step("2/5 models (MLflow store: %s)" % settings.mlflow_tracking_uri)
    models = {kind: _ensure_champion(kind, region, seed) for kind in ("ladder", "ranker")}

    _step("3/5 caseload proposal")
    proposal_id = _ensure_proposal(engine, region, seed, time_limit)

    _step("4/5 API keys")
    keys = _ensure_keys(engine, settings.data_dir / DEMO_KEY_FILE)

    summary = {"models": models, "proposal_id": proposal_id, "keys_file": str(settings.data_dir / DEMO_KEY_FILE)}
    _step("5/5 service")
    base = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    typer.echo(f"Dashboard: {base}/dashboard   API docs: {base}/docs")
    typer.echo("Log in on the dashboard by pasting one of these keys (also in %s):" % summary["keys_file"])
    for role, secret in keys.items():
        typer.echo(f"  {role:<18} {secret}")
    if proposal_id:
        typer.echo(f"A caseload proposal awaits a manager's approval: {base}/dashboard/proposals/{proposal_id}")
    if serve:
        from api.cli import run_server

        run_server(host=host, port=port)
    return summary


def _ensure_champion(kind: str, region, seed: int) -> str:
    """Train, log and promote `kind` unless a champion exists. A refused promotion is reported,
    not hidden: serving then falls back (rules for matching, no ladder predictions)."""
    from models.registry import alias_version, configure, log_training, promote
    from models.training import model_name, train
    from plein.progress import console_progress

    client = configure()
    name = model_name(kind)
    champion = alias_version(client, name, "champion")
    if champion is not None:
        typer.echo(f"{name}: champion is version {champion.version}")
        return str(champion.version)
    taxonomy = None
    if kind == "ranker":
        from plein.taxonomy import Taxonomy

        taxonomy = Taxonomy.load()
    with console_progress(f"training {kind}") as cb:
        result = train(kind, region, seed=seed, taxonomy=taxonomy, progress=cb)
        log_training(result, register=True, alias="challenger", progress=cb)
    metrics = result.evaluation.metrics
    shown = ", ".join(f"{k}={v:.3f}" for k, v in metrics.items() if isinstance(v, float) and k in ("auc", "oracle_auc", "baseline_auc", "ece", "ndcg@10"))
    typer.echo(f"{name}: {shown}")
    decision = promote(kind, region=region, taxonomy=taxonomy)
    typer.echo(decision.summary())
    return str(decision.challenger_version) if decision.accepted else "not promoted"


def _ensure_proposal(engine, region, seed: int, time_limit: float) -> str | None:
    import sqlalchemy as sa

    from plein.progress import console_progress
    from plein.storage.operational import Proposal as ProposalRow
    from scheduling import ScheduleOptions, run_optimisation
    from scheduling.approval import store_proposal

    with engine.connect() as conn:
        pending = conn.execute(
            sa.select(ProposalRow.id).where(ProposalRow.status == "pending").order_by(ProposalRow.created_at.desc())
        ).first()
    if pending is not None:
        typer.echo(f"reusing pending proposal {pending.id}")
        return pending.id
    # planned on the demo region's own date, so the proposal is the same on any day it is run
    plan_date = region.as_of()
    with console_progress(f"optimising the caseload (full rebalance, plan date {plan_date or 'today'})") as cb:
        proposal = run_optimisation(region, "full", ScheduleOptions(plan_date=plan_date, time_limit=time_limit, seed=seed),
                                    progress=cb)
    proposal_id = store_proposal(engine, proposal, created_by="plein demo")
    data = proposal.to_dict()
    typer.echo(f"proposal {proposal_id}: {len(data.get('moves', []))} moves")
    return proposal_id


def _ensure_keys(engine, path: Path) -> dict[str, str]:
    """One key per role, named demo-<role>. Secrets are shown once by design, so the demo keeps
    them (readable by the owner only) in the data folder; a role whose saved key is gone gets a
    new one."""
    from api.auth import create_key, list_keys

    saved: dict[str, dict] = json.loads(path.read_text()) if path.exists() else {}
    active = {k.name for k in list_keys(engine, include_revoked=False)}
    for role in ROLES:
        entry = saved.get(role)
        if entry and entry.get("name") in active:
            continue
        taken = {k.name for k in list_keys(engine, include_revoked=True)}
        name, n = f"demo-{role}", 2
        while name in taken:
            name, n = f"demo-{role}-{n}", n + 1
        saved[role] = {"name": name, "secret": create_key(engine, name, role)}
    path.write_text(json.dumps(saved, indent=2))
    path.chmod(0o600)
    return {role: entry["secret"] for role, entry in saved.items()}
