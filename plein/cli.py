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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
