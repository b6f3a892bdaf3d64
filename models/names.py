"""Registered model names (kept out of ``models/__init__.py`` so they import the same way
whether `models` is found as a regular or, in an old editable install, a namespace package)."""

RANKER_NAME = "plein-ranker"
LADDER_NAME = "plein-ladder"
