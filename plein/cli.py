"""The `plein` command line. Each package adds its own commands through a `register(app,
bench)` function in its `cli` module, so this file only wires them together."""

from __future__ import annotations

import importlib
import importlib.util

import typer

app = typer.Typer(
    name="plein",
    help=(
        "Plein: caseload optimisation, vacancy matching and ladder predictions for a Werkplein.\n\n"
        "Start with `plein generate` (a demo region) or `plein import` (your own files), then "
        "`plein optimise`, `plein recommend`, `plein train` and `plein serve`."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
bench_app = typer.Typer(help="Benchmarks: each prints a table (see bench/README.md).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")

#: modules that contribute commands, in the order their commands appear in --help
COMMAND_MODULES = (
    "plein.storage.cli",
    "plein.taxonomy.cli",
    "plein.generator.cli",
    "scheduling.cli",
    "matching.cli",
    "models.cli",
    "api.cli",
    "api.demo",
)

for _name in COMMAND_MODULES:
    if importlib.util.find_spec(_name.rsplit(".", 1)[0]) and importlib.util.find_spec(_name):
        importlib.import_module(_name).register(app, bench_app)


#: `plein bench all`: every benchmark with its documented default size, one after another
BENCH_ALL = (
    ("generate", []),
    ("import", []),
    ("gap-suite", ["{shared}/gap", "--pattern", "d*", "--time-limit", "60"]),
    ("caseload", []),
    ("matching-speed", []),
    ("matching-quality", []),
    ("models", []),
    ("api-load", []),
)


@bench_app.command("all")
def bench_all() -> None:
    """Run every benchmark one after another, each in its own process, each printing its table.

    Benchmarks that need ../shared/data are skipped with a message when it is absent. Takes
    about an hour on 2 cores; see bench/README.md for each command on its own."""
    import subprocess
    import sys

    from plein.settings import get_settings

    shared = get_settings().shared_data_dir
    failed = []
    for name, args in BENCH_ALL:
        if any("{shared}" in a for a in args) and not shared.is_dir():
            typer.echo(f"--- bench {name}: skipped, reference data not found at {shared}")
            continue
        argv = [a.format(shared=shared) for a in args]
        typer.secho(f"\n--- plein bench {name} {' '.join(argv)}", bold=True)
        if subprocess.run([sys.executable, "-m", "plein.cli", "bench", name, *argv]).returncode != 0:
            failed.append(name)
    if failed:
        typer.secho(f"failed: {', '.join(failed)}", fg="red")
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
