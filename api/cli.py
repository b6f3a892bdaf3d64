"""`plein serve` (the API and dashboard), `plein keys ...` (API keys) and
`plein bench api-load` (the candidate-list load benchmark).

FastAPI, uvicorn and SQLAlchemy are imported inside the commands so `plein --help` stays fast.
"""

from __future__ import annotations

import typer

ROLES_HELP = "case_system, manager, employer_services, data_scientist or admin"


def register(app: typer.Typer, bench: typer.Typer) -> None:
    keys = typer.Typer(help="API keys: create (the secret is shown once), list, revoke.", no_args_is_help=True)
    app.add_typer(keys, name="keys")

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0 for every interface)."),
        port: int = typer.Option(8000, help="Port."),
        workers: int = typer.Option(1, min=1, help="Worker processes (each holds its own matcher in memory)."),
        log_level: str = typer.Option("info", help="uvicorn log level: critical, error, warning, info, debug."),
    ) -> None:
        """Serve the API (/v1, docs at /docs) and the dashboard (/dashboard).

        Uses DATABASE_URL (default SQLite under PLEIN_DATA_DIR) and MLFLOW_TRACKING_URI.
        """
        run_server(host=host, port=port, workers=workers, log_level=log_level)

    @keys.command("create")
    def keys_create(
        name: str = typer.Argument(..., help="Who or what uses the key, e.g. 'zaaksysteem' or 'manager-jansen'."),
        role: str = typer.Option(..., "--role", "-r", help=f"One of: {ROLES_HELP}."),
    ) -> None:
        """Create an API key. The secret is printed once: store it now."""
        from api.auth import KeyManagementError, create_key

        engine = _engine()
        try:
            secret = create_key(engine, name, role)
        except KeyManagementError as exc:
            raise typer.BadParameter(str(exc)) from None
        typer.echo(f"Created key {name!r} with role {role}. Its secret (shown only now):\n\n  {secret}\n")
        typer.echo("Send it as 'Authorization: Bearer <secret>' or 'X-API-Key: <secret>', or paste it on /dashboard/login.")

    @keys.command("list")
    def keys_list(
        all_keys: bool = typer.Option(False, "--all", help="Also list revoked keys."),
    ) -> None:
        """List API keys (names, roles, prefixes; never secrets)."""
        from rich.console import Console
        from rich.table import Table

        from api.auth import list_keys

        rows = list_keys(_engine(), include_revoked=all_keys)
        if not rows:
            typer.echo("No API keys yet. Create one with `plein keys create NAME --role ROLE`.")
            return
        table = Table("name", "role", "prefix", "created (UTC)", "revoked (UTC)")
        for k in rows:
            table.add_row(k.name, k.role, k.prefix + "…", f"{k.created_at:%Y-%m-%d %H:%M}",
                          f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "")
        Console().print(table)

    @keys.command("revoke")
    def keys_revoke(name: str = typer.Argument(..., help="The key's name.")) -> None:
        """Revoke an API key (it stops working within seconds in every running service)."""
        from api.auth import KeyManagementError, revoke_key

        try:
            revoke_key(_engine(), name)
        except KeyManagementError as exc:
            raise typer.BadParameter(str(exc)) from None
        typer.echo(f"Revoked key {name!r}.")

    @bench.command("api-load")
    def bench_api_load(
        clients: int = typer.Option(100_000, help="Clients in the generated region."),
        seed: int = typer.Option(42, help="Generator seed."),
        duration: float = typer.Option(20.0, help="Seconds of measured load."),
        concurrency: int = typer.Option(16, help="Requests in flight at once (closed-loop phases)."),
        rate: float = typer.Option(400.0, help="Offered requests/s of the open-loop phase (0: skip it)."),
        max_requests: int = typer.Option(20_000, help="Stop after this many requests."),
        vacancies: int = typer.Option(0, help="Distinct vacancies asked for (0 = every open vacancy)."),
        server_workers: int = typer.Option(1, help="uvicorn worker processes."),
        data_dir: str = typer.Option("", help="Folder for the benchmark database (default: a temporary folder)."),
    ) -> None:
        """Candidate-list endpoint under load: server and load generator in separate processes on loopback."""
        from bench.api_load import main as run_bench

        run_bench(clients=clients, seed=seed, duration=duration, concurrency=concurrency, max_requests=max_requests,
                  vacancies=vacancies, server_workers=server_workers, data_dir=data_dir or None, rate=rate)


def _engine():
    from plein.storage import get_engine, upgrade

    engine = get_engine()
    upgrade(engine)
    return engine


def run_server(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, log_level: str = "info") -> None:
    """Prepare the database once, then run uvicorn (uvloop and httptools when installed).

    With several workers, migrations and the recovery of interrupted jobs happen here, once,
    before the workers start; the workers skip them."""
    import os

    import uvicorn

    from api.jobs import JobRunner

    engine = _engine()
    recovered = JobRunner(engine).recover()
    engine.dispose()
    if recovered:
        typer.echo(f"Marked {recovered} interrupted job(s) as failed.")
    os.environ["PLEIN_API_MIGRATE"] = "0"
    os.environ["PLEIN_API_RECOVER_JOBS"] = "0"
    typer.echo(f"Plein on http://{host}:{port}/dashboard (API docs at http://{host}:{port}/docs)")
    uvicorn.run(
        "api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        loop="auto",
        http="auto",
        proxy_headers=False,
        access_log=log_level == "debug",
    )
