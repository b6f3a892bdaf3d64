"""Building the in-memory state the matching and ladder endpoints query: the region (without
protected attributes) loaded once from the database, and a `matching.engine.Matcher` on it.

Kept apart from `api.service` so the service does not import pandas, the taxonomy and the
matcher until the first request (or the start-up preload) needs them.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import Engine

log = logging.getLogger("plein.api")


def load_taxonomy() -> Any:
    """The installed ESCO taxonomy (the imported one, else the built-in one), or None when the
    taxonomy package is unavailable: skills are then matched by label only."""
    try:
        from plein.taxonomy import Taxonomy
    except ImportError:
        return None
    try:
        return Taxonomy.load()
    except Exception as exc:  # a broken imported taxonomy must not take the service down
        log.warning("taxonomy could not be loaded (%s); matching skills by label only", exc)
        return None


def build(engine: Engine) -> tuple[Any, Any]:
    """(region, matcher) from the database."""
    from matching.engine import Matcher
    from plein.storage import load_region

    region = load_region(engine)  # protected attributes are left out
    matcher = Matcher.from_region(region, taxonomy=load_taxonomy())
    return region, matcher
