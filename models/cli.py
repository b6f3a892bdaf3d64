"""`plein train`, `plein evaluate`, `plein promote`, `plein worklist`, `plein models` and
`plein bench models`. Heavy libraries are imported inside the commands (``plein --help`` stays
fast)."""

from __future__ import annotations

import json
from enum import Enum

import typer


class Kind(str, Enum):
    ranker = "ranker"
    ladder = "ladder"


CLIENTS_HELP = "Generate a demo region of N clients in memory instead of reading the database."
SEED_HELP = "Seed of the training (and of the generated region with --clients)."


def load_region_for_models(clients: int | None, seed: int, progress=None):
    """The region to learn from: generated in memory with --clients, else the database
    (protected attributes included: the fairness audit needs them, features never see them)."""
    if clients is not None:
        if clients < 50:
            raise typer.BadParameter("--clients must be at least 50", param_hint="--clients")
        from plein.generator import generate_region

        return generate_region(n_clients=clients, seed=seed, progress=progress)
    from plein.settings import get_settings
    from plein.storage import get_engine, load_region

    settings = get_settings()
    engine = get_engine(settings.database_url)
    try:
        region = load_region(engine, include_protected=True)
    except Exception as exc:
        raise typer.BadParameter(
            f"could not read the region from {settings.database_url} ({exc}); run `plein generate` or `plein import` first, "
            "or pass --clients N to generate one in memory"
        ) from exc
    if len(region.clients) == 0:
        raise typer.BadParameter(
            f"the database at {settings.database_url} holds no clients; run `plein generate` or `plein import` first, "
            "or pass --clients N to generate one in memory"
        )
    return region


def _taxonomy():
    try:
        from plein.taxonomy import Taxonomy
    except ImportError:
        return None
    return Taxonomy.load()


def _metrics_table(kind: str, metrics: dict):
    from rich.table import Table

    table = Table(title=f"{kind} model on the held-out time split")
    table.add_column("target")
    for col in ("AUC", "baseline AUC", "oracle AUC", "ECE", "oracle ECE", "Brier", "NDCG@10"):
        table.add_column(col, justify="right")
    targets = ("rise", "paid") if kind == "ladder" else ("hired",)

    def fmt(key):
        v = metrics.get(key)
        return "-" if v is None or v != v else f"{v:.3f}"

    for t in targets:
        s = f"_{t}" if kind == "ladder" else ""
        table.add_row(t, *(fmt(k + s) for k in ("auc", "baseline_auc", "oracle_auc", "ece", "oracle_ece", "brier", "ndcg_at_10")))
    return table


def _print_fairness(console, fairness: dict) -> None:
    """The fairness gate's verdict with its reasons, and for the ladder the P(paid) audit's
    four-fifths ratios (reported, not gated)."""
    from models.fairness import FairnessGate

    gate = FairnessGate().check(fairness)
    console.print("fairness gate: " + ("passed" if not gate else "[red]FAILED[/red]\n  - " + "\n  - ".join(gate)))
    if "paid" in fairness:
        paid = fairness["paid"]
        ratios = ", ".join(f"{attr} {res['four_fifths_ratio']:.2f}" for attr, res in paid["attributes"].items())
        console.print(f"P(paid) audit at {paid['threshold']:.3f} (reported, not gated): four-fifths ratios {ratios}")


def _json_safe(obj):
    import numpy as np

    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if obj != obj else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("train")
    def train_cmd(
        kind: Kind = typer.Argument(..., help="ranker (hire probability) or ladder (rise / paid work in 12 months)."),
        seed: int = typer.Option(0, "--seed", help=SEED_HELP),
        clients: int | None = typer.Option(None, "--clients", help=CLIENTS_HELP),
        register_model: bool = typer.Option(True, "--register/--no-register", help="Register the model in the MLflow registry."),
        alias: str = typer.Option(
            "challenger", "--alias",
            help="Alias given to the registered version; any but 'champion', which only `plein promote` gives.",
        ),
    ) -> None:
        """Train a model on a time split, log the run to MLflow (metrics, fairness audit, plots,
        model card) and register it as the challenger."""
        from rich.console import Console

        from models.registry import ChampionAliasError, check_alias, log_training
        from models.training import train
        from plein.progress import console_progress

        try:  # before the training: refusing after minutes of work helps nobody
            check_alias(alias)
        except ChampionAliasError as exc:
            raise typer.BadParameter(f"{exc}: `plein train {kind.value}` then `plein promote {kind.value}`",
                                     param_hint="--alias") from None
        console = Console()
        with console_progress(f"training {kind.value}") as cb:
            region = load_region_for_models(clients, seed)
            result = train(kind.value, region, seed=seed, taxonomy=_taxonomy() if kind is Kind.ranker else None, progress=cb)
            logged = log_training(result, register=register_model, alias=alias if register_model else None, progress=cb)
        console.print(_metrics_table(kind.value, result.evaluation.metrics))
        _print_fairness(console, result.evaluation.fairness)
        where = f"registered as {logged.name} version {logged.version} (alias {alias})" if logged.version else "not registered"
        console.print(f"MLflow run {logged.run_id}; {where}")

    @app.command("evaluate")
    def evaluate_cmd(
        kind: Kind = typer.Argument(..., help="ranker or ladder."),
        seed: int = typer.Option(0, "--seed", help=SEED_HELP),
        clients: int | None = typer.Option(None, "--clients", help=CLIENTS_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    ) -> None:
        """Train on the time split and report the held-out metrics against the baseline and the
        generator's oracle, and the fairness audit. Registers nothing."""
        from rich.console import Console

        from models.fairness import FairnessGate
        from models.training import train
        from plein.progress import no_progress

        region = load_region_for_models(clients, seed)
        result = train(kind.value, region, seed=seed, taxonomy=_taxonomy() if kind is Kind.ranker else None, progress=no_progress)
        ev = result.evaluation
        gate = FairnessGate().check(ev.fairness)
        if as_json:
            payload = {"model": result.name, "seed": seed, "data_hash": result.dataset.data_hash, "split": ev.split.describe(),
                       "threshold": ev.threshold, **ev.metrics, "fairness_gate": {"passed": not gate, "reasons": gate},
                       "fairness": ev.fairness}
            typer.echo(json.dumps(_json_safe(payload), indent=2))
            return
        console = Console()
        console.print(_metrics_table(kind.value, ev.metrics))
        console.print(f"split: {ev.split.describe()}")
        _print_fairness(console, ev.fairness)

    @app.command("promote")
    def promote_cmd(
        kind: Kind = typer.Argument(..., help="ranker or ladder."),
        clients: int | None = typer.Option(None, "--clients", help="Re-score on a generated region of N clients instead of the database."),
        seed: int = typer.Option(0, "--seed", help="Seed of the generated region (with --clients)."),
        logged: bool = typer.Option(False, "--logged-metrics", help="Compare the metrics logged by the training runs instead of re-scoring both on current data."),
    ) -> None:
        """Make the challenger the champion, if it is not worse than the champion on the main
        metric and passes the fairness gate. Refuses otherwise, and says why."""
        from models.registry import promote

        region = None if logged else load_region_for_models(clients, seed)
        decision = promote(kind.value, region=region, taxonomy=_taxonomy() if (kind is Kind.ranker and region is not None) else None)
        typer.echo(decision.summary())
        if not decision.accepted:
            raise typer.Exit(code=1)

    @app.command("worklist")
    def worklist_cmd(
        coach_id: str = typer.Argument(..., help="The coach whose worklist to show."),
        clients: int | None = typer.Option(None, "--clients", help=CLIENTS_HELP),
        seed: int = typer.Option(0, "--seed", help="Seed of the generated region (with --clients)."),
        top: int = typer.Option(0, "--top", help="Show only the first N clients (0: all)."),
        as_json: bool = typer.Option(False, "--json", help="Print the worklist as JSON."),
    ) -> None:
        """A coach's clients, most likely to move up first, with the reasons (champion ladder model)."""
        from rich.console import Console
        from rich.table import Table

        from models.serving import ModelServer
        from models.worklist import NoModelError, coach_worklist

        region = load_region_for_models(clients, seed)
        server = ModelServer()
        try:
            items = coach_worklist(region, coach_id, server.ladder)
        except NoModelError as exc:
            typer.echo(f"error: {exc} ({server.unavailable_reason('ladder')})", err=True)
            raise typer.Exit(code=2) from exc
        except KeyError as exc:
            raise typer.BadParameter(str(exc.args[0]), param_hint="COACH_ID") from exc
        if top:
            items = items[:top]
        if as_json:
            typer.echo(json.dumps({"coach_id": coach_id, "model_version": server.ladder.version, "clients": [i.to_dict() for i in items]}, indent=2))
            return
        table = Table(title=f"worklist of {coach_id} (plein-ladder version {server.ladder.version})")
        for col in ("#", "client", "rung", "P(rise 12m)", "P(paid 12m)", "reasons"):
            table.add_column(col)
        for n, it in enumerate(items, 1):
            table.add_row(str(n), it.client_id, "-" if it.rung is None else str(it.rung), "-" if it.p_rise is None else f"{it.p_rise:.2f}",
                          "-" if it.p_paid is None else f"{it.p_paid:.2f}", "; ".join(it.reasons))
        Console().print(table)

    @app.command("models")
    def models_cmd(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
        """Champion and challenger versions of each model in the registry."""
        from models.registry import registry_status

        rows = registry_status()
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        for r in rows:
            auc = "-" if r["auc"] is None else f"{r['auc']:.4f}"
            typer.echo(f"{r['model']:14} {r['alias']:10} version {r['version'] or '-':>4}  auc {auc}")

    @bench.command("models")
    def bench_models(
        pairs: int = typer.Option(1_000_000, "--pairs", help="Labelled pairs for the ranker training benchmark."),
        clients: int = typer.Option(100_000, "--clients", help="Clients for the ladder training and batch prediction benchmarks."),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Ranker training on 1M labelled pairs (target 120 s), ladder training on 100k clients
        (60 s), batch prediction for 100k clients (5 s)."""
        from bench.model_training import run

        run(n_pairs=pairs, n_clients=clients, seed=seed)
