"""Commands of the matching package: `plein recommend`, `plein match`, and the benchmarks
`plein bench matching-speed` and `plein bench matching-quality`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Optional

import typer


def _load_taxonomy(use: bool):
    """The installed taxonomy (imported one, else builtin) or None when absent or not wanted."""
    if not use:
        return None
    try:
        from plein.taxonomy import Taxonomy
    except ImportError:
        return None
    return Taxonomy.load()


def _load_ranker(use: bool):
    """The registered champion ranker (models package, MLflow), or None: rules then score.

    Skips MLflow entirely when the tracking store is a local SQLite file that does not exist
    (nothing can be registered there), so rule-based use stays fast."""
    if not use:
        return None
    from plein.settings import get_settings

    uri = get_settings().mlflow_tracking_uri
    if uri.startswith("sqlite:///"):
        from pathlib import Path as _P

        if not _P(uri[len("sqlite:///"):]).exists():
            return None
    try:
        from models.serving import ModelServer
    except ImportError:
        return None
    server = ModelServer()
    ranker = server.ranker
    if ranker is None:
        typer.echo(f"{server.unavailable_reason('ranker')}: scoring by rules", err=True)
    return ranker


def _parse_date(value: Optional[str], option: str) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


def recommend_frames(clients, vacancies, top: int = 10, taxonomy=None, as_of: dt.date | None = None, progress=None):
    """Top `top` vacancies per client as a frame [client_id, rank, vacancy_id, score]."""
    import pandas as pd

    from matching.engine import Matcher
    from plein.progress import no_progress

    cb = progress or no_progress
    matcher = Matcher(clients, vacancies, taxonomy=taxonomy, as_of=as_of)
    rows = []
    ids = list(matcher.index.client_ids)
    for i, cid in enumerate(ids):
        lst = matcher.vacancies_for_client(cid, top=top, with_reasons=False)
        rows += [(r.client_id, r.rank, r.vacancy_id, round(r.score, 6)) for r in lst.results]
        if i % 200 == 0:
            cb(i, len(ids), "recommending")
    cb(len(ids), len(ids), "recommending")
    return pd.DataFrame(rows, columns=["client_id", "rank", "vacancy_id", "score"])


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("recommend")
    def recommend(
        clients: Path = typer.Option(..., "--clients", help="Clients file (CSV or Parquet, import format; `id` and `skills` suffice)."),
        vacancies: Path = typer.Option(..., "--vacancies", help="Vacancies file (CSV or Parquet, import format; `id` and `skills` suffice)."),
        top: int = typer.Option(10, "--top", min=1, help="Vacancies per client."),
        out: Path = typer.Option(..., "--out", help="Output file: .csv or .parquet with client_id, rank, vacancy_id, score."),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Reference date YYYY-MM-DD (closed vacancies, time on caseload); default today."),
        taxonomy: bool = typer.Option(True, "--taxonomy/--no-taxonomy", help="Use the installed ESCO taxonomy for IDF and transferable skills."),
    ) -> None:
        """Top N vacancies per client, from files, no database needed (batch for data scientists
        and the case system). Hard filters apply with their defaults (see docs/matching.md)."""
        from matching.frames import read_table_file
        from plein.progress import console_progress

        date = _parse_date(as_of, "--as-of")
        if out.suffix.lower() not in (".csv", ".parquet"):
            raise typer.BadParameter(f"{out}: use a .csv or .parquet output file", param_hint="--out")
        tax = _load_taxonomy(taxonomy)
        try:
            clients_df = read_table_file("clients", clients, taxonomy=tax)
            vacancies_df = read_table_file("vacancies", vacancies, taxonomy=tax)
        except (ValueError, FileNotFoundError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        with console_progress("recommending") as cb:
            result = recommend_frames(clients_df, vacancies_df, top=top, taxonomy=tax, as_of=date, progress=cb)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".parquet":
            result.to_parquet(out, index=False)
        else:
            result.to_csv(out, index=False)
        typer.echo(f"wrote {len(result)} recommendations for {result['client_id'].nunique()} of {len(clients_df)} clients to {out}")

    @app.command("match")
    def match(
        vacancy: Optional[str] = typer.Option(None, "--vacancy", help="Vacancy id: list its best candidates."),
        client: Optional[str] = typer.Option(None, "--client", help="Client id: list their best vacancies, or with --vacancy explain why (not) listed."),
        top: int = typer.Option(20, "--top", min=1),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Reference date YYYY-MM-DD; default today."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON (with every reason) instead of a table."),
        model: bool = typer.Option(True, "--model/--rules", help="Re-rank with the registered ranker when there is one, or score by rules only."),
    ) -> None:
        """Candidate list of a vacancy, vacancy suggestions for a client, or why a client is not
        on a vacancy's list, from the database (DATABASE_URL)."""
        from rich.console import Console
        from rich.table import Table

        from matching.engine import Matcher
        from plein.storage import get_engine, load_region

        if not vacancy and not client:
            raise typer.BadParameter("give --vacancy, --client, or both")
        region = load_region(get_engine())
        matcher = Matcher.from_region(region, taxonomy=_load_taxonomy(True), as_of=_parse_date(as_of, "--as-of"))
        ranker = _load_ranker(model)
        console = Console()
        try:
            if vacancy and client:
                ex = matcher.explain(vacancy, client, top=top, ranker=ranker)
                if as_json:
                    typer.echo(json.dumps(ex.to_dict(), indent=2, default=str))
                else:
                    console.print(f"[bold]{client}[/bold] for [bold]{vacancy}[/bold]: {ex.summary}")
                    r = ex.reasons
                    console.print(f"matched essential skills: {', '.join(r['matched_essential_skills']) or '-'}")
                    console.print(f"missing essential skills: {', '.join(r['missing_essential_skills']) or '-'}")
                    for note in r["notes"]:
                        console.print(f"note: {note}")
                return
            lst = (matcher.candidates_for_vacancy(vacancy, top=top, ranker=ranker) if vacancy
                   else matcher.vacancies_for_client(client, top=top, ranker=ranker))
        except KeyError as exc:
            typer.echo(f"error: {exc.args[0]}", err=True)
            raise typer.Exit(2) from None
        if as_json:
            typer.echo(json.dumps([r.to_dict() for r in lst.results], indent=2, default=str))
            return
        other = "client" if vacancy else "vacancy"
        table = Table(title=f"{'candidates for ' + vacancy if vacancy else 'vacancies for ' + client} ({lst.scored_by})")
        for col in ("rank", other, "score", "essential skills", "km", "rung", "notes"):
            table.add_column(col)
        for r in lst.results:
            rs = r.reasons
            table.add_row(str(r.rank), r.client_id if vacancy else r.vacancy_id, f"{r.score:.3f}",
                          f"{rs['essential_matched']}/{rs['essential_matched'] + rs['essential_missing']}",
                          "-" if rs["distance_km"] is None else f"{rs['distance_km']:.0f}",
                          str(rs["readiness"]["rung"] or "?"), "; ".join(rs["notes"]))
        console.print(table)
        console.print(f"{lst.candidates} share a skill; {lst.eligible} of {lst.examined} examined pass the filters; "
                      f"excluded by: {lst.excluded_by or 'none'}")

    @app.command("lists")
    def lists(
        top: int = typer.Option(20, "--top", min=1, help="Candidates per vacancy."),
        cap: Optional[int] = typer.Option(3, "--cap", min=1, help="Most lists a client may be on in the period (fair exposure)."),
        no_cap: bool = typer.Option(False, "--no-cap", help="Plain top-N lists, no exposure cap."),
        period_days: int = typer.Option(30, "--period-days", min=1, help="Period over which earlier proposals count towards the cap."),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Reference date YYYY-MM-DD; default today."),
        out: Optional[Path] = typer.Option(None, "--out", help="Write vacancy_id, rank, client_id, score (.csv or .parquet)."),
        model: bool = typer.Option(True, "--model/--rules", help="Re-rank with the registered ranker when there is one, or score by rules only."),
    ) -> None:
        """Candidate lists for every open vacancy at once, with a cap on how many lists a client
        appears on, and how concentrated exposure is with and without the cap (database)."""
        from rich.console import Console
        from rich.table import Table

        from matching.engine import Matcher
        from matching.exposure import allocate_lists, concentration, prior_appearances
        from plein.progress import console_progress
        from plein.storage import get_engine, load_region

        region = load_region(get_engine())
        matcher = Matcher.from_region(region, taxonomy=_load_taxonomy(True), as_of=_parse_date(as_of, "--as-of"))
        prior = prior_appearances(region.outcomes, matcher.as_of, period_days)
        active = region.clients.loc[region.clients["status"].astype(str) == "active", "id"].astype(str)
        ranker = _load_ranker(model)
        with console_progress("candidate lists") as cb:
            plain = allocate_lists(matcher, top=top, cap=None, ranker=ranker, progress=cb)
            capped = plain if no_cap else allocate_lists(matcher, top=top, cap=cap, prior=prior, ranker=ranker, progress=cb)
        table = Table(title=f"Exposure over {len(active)} active clients, {plain.lists['vacancy_id'].nunique()} open vacancies")
        for col in ("lists", "slots", "clients listed", "max lists per client", "Gini", "top-10% share"):
            table.add_column(col, justify="right")
        rows = [("no cap", plain)] if no_cap else [("no cap", plain), (f"cap {cap} / {period_days} days", capped)]
        for name, alloc in rows:
            c = concentration(alloc.lists, active)
            table.add_row(name, str(c["slots"]), str(c["clients_listed"]), str(c["max_appearances"]),
                          f"{c['gini']:.3f}", f"{c['top10_share']:.1%}")
        Console().print(table)
        if capped.short_lists:
            typer.echo(f"{len(capped.short_lists)} vacancies got shorter lists under the cap "
                       f"({sum(capped.short_lists.values())} slots empty)")
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            (capped.lists.to_parquet if out.suffix.lower() == ".parquet" else capped.lists.to_csv)(out, index=False)
            typer.echo(f"wrote {len(capped.lists)} list entries to {out}")

    @bench.command("matching-speed")
    def matching_speed(
        clients: int = typer.Option(100_000, "--clients", min=100),
        vacancies: int = typer.Option(10_000, "--vacancies", min=1),
        queries: int = typer.Option(300, "--queries", min=10, help="Single-vacancy queries timed."),
        jobs: int = typer.Option(2, "--jobs", min=1, help="Worker processes for the batch."),
        batch: bool = typer.Option(True, "--batch/--no-batch", help="Also time top 20 for every vacancy."),
        seed: int = typer.Option(0, "--seed"),
        source: str = typer.Option("auto", "--source", help="Population: generator (demo-region generator), synthetic, or auto."),
    ) -> None:
        """Latency of one vacancy's list over all clients (p50/p95/p99), the all-vacancies batch, memory."""
        from rich.console import Console
        from rich.table import Table

        from bench.matching_speed import run
        from plein.progress import console_progress

        with console_progress("matching speed") as cb:
            try:
                res = run(n_clients=clients, n_vacancies=vacancies, queries=queries, jobs=jobs, seed=seed, batch=batch,
                          source=source, progress=cb)
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="--source") from None
        table = Table(title="Matching speed (in-process, rule-based, top 20 with reasons)")
        table.add_column("measure")
        table.add_column("value", justify="right")
        for k, v in res.items():
            table.add_row(k, f"{v:.1f}" if isinstance(v, float) else str(v))
        Console().print(table)
        _save("matching_speed", res)

    @bench.command("matching-quality")
    def matching_quality(
        sample: int = typer.Option(1000, "--sample", min=10, help="ESCO occupations sampled as clients."),
        history_clients: int = typer.Option(5000, "--history-clients", min=200, help="Clients in the generated region for the history split."),
        seed: int = typer.Option(0, "--seed"),
        skip_history: bool = typer.Option(False, "--skip-history", help="Only the ESCO table."),
    ) -> None:
        """NDCG@10 of hires on a time split (Plein, rule-only, BM25) and ESCO MRR/recall@10 (Plein vs BM25)."""
        from rich.console import Console

        from bench.matching_quality import esco_benchmark, history_benchmark
        from plein.progress import console_progress
        from plein.settings import get_settings

        console = Console()
        out = {}
        path = get_settings().shared_data_dir / "esco" / "occupation_profiles.parquet"
        with console_progress("matching quality") as cb:
            if path.is_file():
                out["esco"] = esco_benchmark(path, n_sample=sample, seed=seed, progress=cb)
            if not skip_history:
                try:
                    out["history"] = history_benchmark(n_clients=history_clients, progress=cb)
                except ImportError as exc:
                    console.print(f"history benchmark skipped: {exc}")
        if "esco" in out:
            console.print("[bold]ESCO occupations as vacancies, noisy partial profiles as clients[/bold]")
            console.print(out["esco"].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        else:
            console.print(f"ESCO table skipped: {path} not found")
        if "history" in out:
            console.print("[bold]History: NDCG@10 of actual hires, time-based split[/bold]")
            console.print(out["history"].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        _save("matching_quality", {k: v.to_dict(orient="records") for k, v in out.items()})


def _save(name: str, payload) -> None:
    folder = Path("bench") / "results"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str))
    except OSError:
        pass
