"""ESCO occupation profiles as a taxonomy for matching benchmarks and tests.

`load_profiles_taxonomy(path)` returns `plein.taxonomy.Taxonomy.from_profiles(path)` when the
taxonomy package is installed, else `ProfilesTaxonomy`: a minimal stand-in with the same
frames (`occupations`, `skills`, `occupation_skills`), read from
``occupation_profiles.parquet``. Matching only reads those frames (see
`matching.index.TaxonomyView`), so both give the same results.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def _as_list(value) -> list[str]:
    if value is None:
        return []
    try:
        return [str(x).strip() for x in list(value) if x is not None and str(x).strip()]
    except TypeError:
        return []


class ProfilesTaxonomy:
    """Occupations, skills and their essential/optional links from ESCO occupation profiles."""

    def __init__(self, profiles: pd.DataFrame) -> None:
        need = {"occupation_name", "essential_skills", "optional_skills"}
        missing = need - set(profiles.columns)
        if missing:
            raise ValueError(f"occupation profiles lack column(s) {sorted(missing)}")
        labels = profiles["occupation_name"].astype(str).str.strip()
        isco = profiles["isco_level_4_code"] if "isco_level_4_code" in profiles.columns else profiles.get("isco_code")
        self.occupations = pd.DataFrame({
            "label": labels,
            "uri": profiles.get("occupation_uri", pd.Series([None] * len(profiles))),
            "isco_code": [str(x)[:4] if isinstance(x, str) else None for x in (isco if isco is not None else [None] * len(profiles))],
            "sector": None,
        })
        rows = []
        for label, ess, opt in zip(labels, profiles["essential_skills"], profiles["optional_skills"]):
            rows += [(label, s, "essential") for s in _as_list(ess)]
            rows += [(label, s, "optional") for s in _as_list(opt)]
        self.occupation_skills = pd.DataFrame(rows, columns=["occupation", "skill", "relation"]).drop_duplicates(["occupation", "skill"])
        skills = sorted(set(self.occupation_skills["skill"]))
        self.skills = pd.DataFrame({"label": skills, "uri": None, "kind": None})
        self.profiles = profiles

    def resolve_skills(self, values):
        known = set(self.skills["label"])
        canonical = [v for v in values if v in known]
        unknown = [v for v in values if v not in known]
        return canonical, unknown


def read_profiles(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ESCO occupation profiles not found at {path} (see ../shared/data/README.md)")
    return pd.read_parquet(path)


def load_profiles_taxonomy(path: str | Path):
    """The taxonomy of the ESCO occupation profiles at `path` (see module docstring)."""
    try:
        from plein.taxonomy import Taxonomy  # type: ignore[import-not-found]
    except ImportError:
        Taxonomy = None
    if Taxonomy is not None and hasattr(Taxonomy, "from_profiles"):
        return Taxonomy.from_profiles(path)
    return ProfilesTaxonomy(read_profiles(path))
