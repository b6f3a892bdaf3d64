"""The `Taxonomy`: occupations, skills and their essential/optional relations (ESCO).

Canonical identifiers are ESCO English preferred labels (unique in ESCO); URIs, and labels in
any letter case, are accepted wherever a skill or occupation is named, and resolved here.

Sources, from small to large:
- `Taxonomy.builtin()`: ~60 occupations authored in this package (builtin_taxonomy.json), so a
  fresh install works with nothing downloaded;
- `Taxonomy.from_profiles(path)`: the ESCO occupation profiles parquet (../shared/data/esco);
- `Taxonomy.from_esco_csv(folder)`: the official ESCO CSV download (see `esco_csv`).

`Taxonomy.load()` returns the taxonomy imported into the data folder (`plein taxonomy
import-esco` / `import-profiles`) when there is one, else the builtin one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from plein.taxonomy.sectors import SECTOR_CODES, sector_for_isco, sectors_frame

ATTRIBUTION = "This service uses the ESCO classification of the European Commission."

#: files of a saved taxonomy (see `Taxonomy.save`)
_FRAMES = ("occupations", "skills", "occupation_skills", "sectors")
_META = "taxonomy.json"
RELATIONS = ("essential", "optional")
_COLUMNS = {
    "occupations": ("label", "uri", "isco_code", "sector"),
    "skills": ("label", "uri", "kind"),
    "occupation_skills": ("occupation", "skill", "relation"),
    "sectors": ("code", "name_nl", "name_en"),
}


class TaxonomyError(ValueError):
    """A taxonomy source is missing, malformed or inconsistent; the message says what and where."""


def _strip_list(value) -> list[str]:
    """A parquet list cell (None, ndarray or list) as a list of stripped, non-empty strings."""
    if value is None:
        return []
    if isinstance(value, float) and np.isnan(value):
        return []
    out = []
    for x in list(value):
        if x is None:
            continue
        s = str(x).strip()
        if s:
            out.append(s)
    return out


@dataclass(eq=False)
class Taxonomy:
    """Occupations, skills and occupation-skill relations, plus the sector table.

    Frames (columns exactly as agreed):
    - ``occupations`` [label, uri, isco_code (4-digit str), sector]
    - ``skills`` [label, uri, kind] (kind: 'skill/competence' or 'knowledge'; None if unknown)
    - ``occupation_skills`` [occupation, skill, relation] (relation 'essential' | 'optional')
    - ``sectors`` [code, name_nl, name_en]

    ``occupation_alt_labels`` (label -> alternative labels) and ``isco_groups`` (code of 1-4
    digits -> label) are optional extras used for resolving names and displaying hierarchy.
    ``demand_weights`` (occupation label -> relative vacancy demand) is set for the builtin
    taxonomy and used by the demo generator when no job-offer counts are given.
    """

    occupations: pd.DataFrame
    skills: pd.DataFrame
    occupation_skills: pd.DataFrame
    sectors: pd.DataFrame = field(default_factory=sectors_frame)
    source: str = "custom"
    occupation_alt_labels: dict[str, list[str]] = field(default_factory=dict)
    isco_groups: dict[str, str] = field(default_factory=dict)
    demand_weights: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, cols in _COLUMNS.items():
            frame = getattr(self, name)
            if not isinstance(frame, pd.DataFrame):
                raise TaxonomyError(f"taxonomy ({self.source}): {name} must be a DataFrame, got {type(frame).__name__}")
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                raise TaxonomyError(f"taxonomy ({self.source}): {name} lacks column(s) {missing}")
        self.occupations = self.occupations[["label", "uri", "isco_code", "sector"]].reset_index(drop=True)
        self.skills = self.skills[["label", "uri", "kind"]].reset_index(drop=True)
        self.occupation_skills = self.occupation_skills[["occupation", "skill", "relation"]].reset_index(drop=True)
        self.sectors = self.sectors[["code", "name_nl", "name_en"]].reset_index(drop=True)
        self._check()

    # ------------------------------------------------------------------ consistency

    def _check(self) -> None:
        problems: list[str] = []
        for name, frame in (("occupations", self.occupations), ("skills", self.skills)):
            dup = frame["label"][frame["label"].duplicated()]
            if len(dup):
                problems.append(f"{name}: duplicate labels {sorted(set(dup))[:5]}")
            if frame["label"].isna().any():
                problems.append(f"{name}: {int(frame['label'].isna().sum())} rows without a label")
        known_occ = set(self.occupations["label"])
        known_skill = set(self.skills["label"])
        bad_occ = set(self.occupation_skills["occupation"]) - known_occ
        if bad_occ:
            problems.append(f"occupation_skills: occupations not in occupations: {sorted(bad_occ)[:5]}")
        bad_skill = set(self.occupation_skills["skill"]) - known_skill
        if bad_skill:
            problems.append(f"occupation_skills: skills not in skills: {sorted(bad_skill)[:5]}")
        bad_rel = set(self.occupation_skills["relation"]) - set(RELATIONS)
        if bad_rel:
            problems.append(f"occupation_skills: relation must be essential or optional, found {sorted(bad_rel)}")
        sectors = set(self.sectors["code"])
        bad_sector = set(self.occupations["sector"].dropna()) - sectors
        if bad_sector:
            problems.append(f"occupations: sectors not in the sector table: {sorted(bad_sector)}")
        if problems:
            raise TaxonomyError(f"taxonomy ({self.source}) is inconsistent: " + "; ".join(problems))

    # ------------------------------------------------------------------ constructors

    @classmethod
    def builtin(cls) -> "Taxonomy":
        """The small taxonomy authored in this package: ~60 occupations over every sector, with
        real ESCO preferred labels, URIs and ISCO-08 codes and a selection of their skills."""
        text = resources.files("plein.taxonomy").joinpath("builtin_taxonomy.json").read_text(encoding="utf-8")
        return cls.from_builtin_json(json.loads(text), source="builtin")

    @classmethod
    def from_builtin_json(cls, data: dict, source: str = "builtin") -> "Taxonomy":
        """Build from the authored JSON layout (see builtin_taxonomy.json)."""
        try:
            occ_rows, rel_rows = [], []
            demand = {}
            for o in data["occupations"]:
                label = o["label"].strip()
                occ_rows.append((label, o.get("uri"), str(o["isco_code"]), o["sector"]))
                demand[label] = float(o.get("demand_weight", 1.0))
                rel_rows += [(label, s.strip(), "essential") for s in o["essential"]]
                rel_rows += [(label, s.strip(), "optional") for s in o.get("optional", [])]
            kinds = {k.strip(): v for k, v in data.get("skill_kinds", {}).items()}
        except (KeyError, AttributeError, TypeError) as exc:
            raise TaxonomyError(f"taxonomy JSON ({source}) is malformed: missing or bad field {exc}") from None
        rel = pd.DataFrame(rel_rows, columns=["occupation", "skill", "relation"])
        rel = rel.drop_duplicates(["occupation", "skill"])
        skill_labels = list(dict.fromkeys(rel["skill"]))
        skills = pd.DataFrame({"label": skill_labels, "uri": None, "kind": [kinds.get(s) for s in skill_labels]})
        sectors = pd.DataFrame(data["sectors"]) if "sectors" in data else sectors_frame()
        return cls(
            occupations=pd.DataFrame(occ_rows, columns=["label", "uri", "isco_code", "sector"]),
            skills=skills,
            occupation_skills=rel,
            sectors=sectors,
            source=source,
            demand_weights=demand,
        )

    @classmethod
    def from_profiles(cls, path: str | Path) -> "Taxonomy":
        """The ESCO occupation profiles parquet (``occupation_profiles.parquet``, see
        ../shared/data/README.md): 3,039 occupations with their essential and optional skills
        by preferred label. Skill kind is 'knowledge' when the profile lists the skill among
        `essential_knowledge`, else 'skill/competence'. The profiles carry no skill URIs."""
        path = Path(path)
        if not path.is_file():
            raise TaxonomyError(f"ESCO occupation profiles not found at {path}")
        try:
            p = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a non-parquet file
            raise TaxonomyError(f"{path}: not a readable parquet file ({exc})") from None
        need = {"occupation_name", "occupation_uri", "essential_skills", "optional_skills"}
        missing = need - set(p.columns)
        if missing:
            raise TaxonomyError(f"{path}: missing column(s) {sorted(missing)}; is this occupation_profiles.parquet?")
        labels = p["occupation_name"].astype(str).str.strip()
        isco_col = "isco_level_4_code" if "isco_level_4_code" in p.columns else "isco_code"
        isco = p[isco_col].astype(str).str.strip().str[:4] if isco_col in p.columns else pd.Series([None] * len(p))
        occupations = pd.DataFrame({
            "label": labels,
            "uri": p["occupation_uri"].astype(str).str.strip(),
            "isco_code": isco,
            "sector": [sector_for_isco(c) for c in isco],
        }).drop_duplicates("label")
        rel_rows: list[tuple[str, str, str]] = []
        knowledge: set[str] = set()
        know_col = p["essential_knowledge"] if "essential_knowledge" in p.columns else [None] * len(p)
        for label, ess, opt, know in zip(labels, p["essential_skills"], p["optional_skills"], know_col):
            rel_rows += [(label, s, "essential") for s in _strip_list(ess)]
            rel_rows += [(label, s, "optional") for s in _strip_list(opt)]
            knowledge.update(_strip_list(know))
        rel = pd.DataFrame(rel_rows, columns=["occupation", "skill", "relation"]).drop_duplicates(["occupation", "skill"])
        skill_labels = sorted(set(rel["skill"]))
        skills = pd.DataFrame({
            "label": skill_labels,
            "uri": None,
            "kind": ["knowledge" if s in knowledge else "skill/competence" for s in skill_labels],
        })
        alt = {}
        if "alternative_names" in p.columns:
            alt = {label: _strip_list(a) for label, a in zip(labels, p["alternative_names"])}
        groups: dict[str, str] = {}
        for level in range(1, 5):
            c, lab = f"isco_level_{level}_code", f"isco_level_{level}_label"
            if c in p.columns and lab in p.columns:
                groups.update(zip(p[c].astype(str).str.strip(), p[lab].astype(str).str.strip()))
        return cls(occupations, skills, rel, source=f"profiles:{path.name}",
                   occupation_alt_labels=alt, isco_groups=groups)

    @classmethod
    def from_esco_csv(cls, folder: str | Path) -> "Taxonomy":
        """The official ESCO CSV download (occupations_en.csv, skills_en.csv,
        occupationSkillRelations_en.csv, ISCOGroups_en.csv); see `plein.taxonomy.esco_csv`."""
        from plein.taxonomy.esco_csv import read_esco_csv

        return read_esco_csv(cls, folder)

    @classmethod
    def load(cls, settings=None) -> "Taxonomy":
        """The taxonomy imported into ``<data_dir>/taxonomy/`` if there is one, else builtin."""
        if settings is None:
            from plein.settings import get_settings

            settings = get_settings()
        folder = Path(settings.data_dir) / "taxonomy"
        if (folder / _META).is_file():
            return cls.read(folder)
        return cls.builtin()

    # ------------------------------------------------------------------ persistence

    def save(self, folder: str | Path) -> Path:
        """Write the four frames as parquet plus ``taxonomy.json`` (source, extras) to `folder`."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in _FRAMES:
            frame = getattr(self, name).astype(object).where(getattr(self, name).notna(), None)
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        meta = {
            "source": self.source,
            "attribution": ATTRIBUTION,
            "occupation_alt_labels": self.occupation_alt_labels,
            "isco_groups": self.isco_groups,
            "demand_weights": self.demand_weights,
        }
        (folder / _META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        return folder

    @classmethod
    def read(cls, folder: str | Path) -> "Taxonomy":
        """Read a taxonomy written by `save`."""
        folder = Path(folder)
        missing = [f"{n}.parquet" for n in _FRAMES if not (folder / f"{n}.parquet").is_file()]
        if missing or not (folder / _META).is_file():
            raise TaxonomyError(f"{folder}: not a saved taxonomy (missing {missing or [_META]})")
        frames = {n: pd.read_parquet(folder / f"{n}.parquet").astype(object) for n in _FRAMES}
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
        return cls(**frames, source=meta.get("source", "saved"),
                   occupation_alt_labels=meta.get("occupation_alt_labels", {}),
                   isco_groups=meta.get("isco_groups", {}),
                   demand_weights=meta.get("demand_weights", {}))

    # ------------------------------------------------------------------ lookups

    @cached_property
    def _skill_index(self) -> tuple[dict[str, str], dict[str, str]]:
        labels = self.skills["label"].tolist()
        lower = {lab.lower(): lab for lab in labels}
        by_uri = {u: lab for u, lab in zip(self.skills["uri"].tolist(), labels) if isinstance(u, str) and u}
        return lower, by_uri

    @cached_property
    def _occupation_index(self) -> tuple[dict[str, str], dict[str, str]]:
        labels = self.occupations["label"].tolist()
        lower: dict[str, str] = {}
        # alternative labels first, so a preferred label always wins over someone's alt label
        for lab, alts in self.occupation_alt_labels.items():
            for a in alts:
                lower.setdefault(a.lower(), lab)
        lower.update({lab.lower(): lab for lab in labels})
        by_uri = {u: lab for u, lab in zip(self.occupations["uri"].tolist(), labels) if isinstance(u, str) and u}
        return lower, by_uri

    def resolve_skill(self, value: str) -> str | None:
        """The canonical label of a skill given by label (any case) or URI; None if unknown."""
        if not isinstance(value, str):
            return None
        v = value.strip()
        lower, by_uri = self._skill_index
        return by_uri.get(v) or lower.get(v.lower())

    def resolve_skills(self, values: Iterable[str]) -> tuple[list[str], list[str]]:
        """(canonical labels of the known values, the unknown values), both in input order.

        One canonical label per known input (duplicates are kept, so callers can line the
        answer up with the known inputs); labels match case-insensitively, URIs exactly."""
        canonical, unknown = [], []
        for v in values:
            hit = self.resolve_skill(v)
            if hit is None:
                unknown.append(v)
            else:
                canonical.append(hit)
        return canonical, unknown

    def resolve_occupation(self, value: str) -> str | None:
        """The canonical label of an occupation given by preferred label, alternative label
        (any case) or URI; None if unknown."""
        if not isinstance(value, str):
            return None
        v = value.strip()
        lower, by_uri = self._occupation_index
        return by_uri.get(v) or lower.get(v.lower())

    def resolve_occupations(self, values: Iterable[str]) -> tuple[list[str], list[str]]:
        """Like `resolve_skills`, for occupations."""
        canonical, unknown = [], []
        for v in values:
            hit = self.resolve_occupation(v)
            (unknown.append(v) if hit is None else canonical.append(hit))
        return canonical, unknown

    def _require_occupation(self, occupation: str) -> str:
        label = self.resolve_occupation(occupation)
        if label is None:
            raise KeyError(f"unknown occupation {occupation!r} in taxonomy ({self.source})")
        return label

    @cached_property
    def _skills_by_occupation(self) -> dict[str, tuple[list[str], list[str]]]:
        out: dict[str, tuple[list[str], list[str]]] = {lab: ([], []) for lab in self.occupations["label"]}
        for occ, skill, rel in self.occupation_skills.itertuples(index=False):
            out[occ][0 if rel == "essential" else 1].append(skill)
        return out

    def essential_skills(self, occupation: str) -> list[str]:
        """Essential skills of an occupation (label, alt label or URI)."""
        return list(self._skills_by_occupation[self._require_occupation(occupation)][0])

    def optional_skills(self, occupation: str) -> list[str]:
        """Optional skills of an occupation (label, alt label or URI)."""
        return list(self._skills_by_occupation[self._require_occupation(occupation)][1])

    def isco_code(self, occupation: str) -> str | None:
        label = self._require_occupation(occupation)
        return self._isco_by_label.get(label)

    @cached_property
    def _isco_by_label(self) -> dict[str, str | None]:
        return dict(zip(self.occupations["label"], self.occupations["isco_code"]))

    def sector_of(self, occupation: str) -> str | None:
        label = self._require_occupation(occupation)
        return self._sector_by_label.get(label)

    @cached_property
    def _sector_by_label(self) -> dict[str, str | None]:
        return dict(zip(self.occupations["label"], self.occupations["sector"]))

    def occupations_in_group(self, isco_prefix: str) -> list[str]:
        """Occupations whose ISCO-08 code starts with `isco_prefix` (1 digit: major group,
        2: sub-major, 3: minor, 4: unit group)."""
        p = str(isco_prefix).strip()
        if not (1 <= len(p) <= 4 and p.isdigit()):
            raise ValueError(f"ISCO group must be 1-4 digits, got {isco_prefix!r}")
        codes = self.occupations["isco_code"].astype(str)
        return self.occupations.loc[codes.str.startswith(p), "label"].tolist()

    def related_occupations(self, occupation: str, level: int = 4) -> list[str]:
        """Other occupations sharing the ISCO group of `occupation` at hierarchy `level`
        (4 = same unit group, 1 = same major group)."""
        if level not in (1, 2, 3, 4):
            raise ValueError(f"ISCO level must be 1-4, got {level}")
        label = self._require_occupation(occupation)
        code = self._isco_by_label.get(label)
        if not code:
            return []
        return [o for o in self.occupations_in_group(str(code)[:level]) if o != label]

    def occupations_in_sector(self, sector: str) -> list[str]:
        if sector not in set(self.sectors["code"]):
            raise KeyError(f"unknown sector {sector!r}; known: {', '.join(self.sectors['code'])}")
        return self.occupations.loc[self.occupations["sector"] == sector, "label"].tolist()

    def summary(self) -> dict[str, object]:
        rel = self.occupation_skills["relation"].value_counts()
        return {
            "source": self.source,
            "occupations": len(self.occupations),
            "skills": len(self.skills),
            "essential relations": int(rel.get("essential", 0)),
            "optional relations": int(rel.get("optional", 0)),
            "sectors": len(self.sectors),
            "occupations per sector": self.occupations["sector"].value_counts().reindex(list(SECTOR_CODES), fill_value=0).to_dict(),
        }
