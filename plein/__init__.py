"""Plein core: the domain of a Werkplein (clients, coaches, teams, vacancies, events),
its table schema, storage, taxonomy and the demo-region generator.

This package knows nothing of HTTP, optimisation solvers or MLflow; `scheduling`,
`matching`, `models` and `api` build on it.
"""

__version__ = "0.1.0"
