"""Importer for the official ESCO CSV download (esco.ec.europa.eu > Download, format CSV,
language en).

Files read (others in the folder are ignored):

- ``occupations_en.csv``: conceptUri, preferredLabel, altLabels (newline-separated),
  iscoGroup (4-digit ISCO-08 code, or the group's URI), code (ESCO code like ``2654.1.7``)
- ``skills_en.csv``: conceptUri, preferredLabel, skillType ('skill/competence' | 'knowledge')
- ``occupationSkillRelations_en.csv``: occupationUri, relationType ('essential' | 'optional'),
  skillUri (labels columns, when present, are ignored: URIs are authoritative)
- ``ISCOGroups_en.csv`` (optional): conceptUri, code, preferredLabel: names of ISCO groups,
  and the way to resolve an iscoGroup given as URI.

Preferred labels are the canonical identifiers. ESCO intends them to be unique; should two
concepts share one (after trimming whitespace), the later ones get their URI's last path
segment appended in square brackets, so nothing is silently merged.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from plein.taxonomy.sectors import sector_for_isco

OCCUPATIONS = "occupations_en.csv"
SKILLS = "skills_en.csv"
RELATIONS = "occupationSkillRelations_en.csv"
ISCO_GROUPS = "ISCOGroups_en.csv"


def _read(folder: Path, name: str, required: tuple[str, ...], optional: bool = False) -> pd.DataFrame | None:
    path = folder / name
    if not path.is_file():
        if optional:
            return None
        raise _error(f"{path}: file not found (expected the ESCO CSV download, language 'en')")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise _error(f"{path}: cannot be read as CSV ({exc})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise _error(f"{path}: missing column(s) {missing}; found {list(df.columns)[:12]}")
    return df


def _error(message: str):
    from plein.taxonomy.core import TaxonomyError

    return TaxonomyError(message)


def _unique_labels(labels: pd.Series, uris: pd.Series) -> pd.Series:
    """Trimmed labels, with duplicates disambiguated by their URI's last segment."""
    labels = labels.str.strip()
    dup = labels.duplicated(keep="first")
    if dup.any():
        suffix = uris[dup].str.rstrip("/").str.rsplit("/", n=1).str[-1]
        labels = labels.copy()
        labels[dup] = labels[dup] + " [" + suffix + "]"
    return labels


def read_esco_csv(cls, folder: str | Path):
    """Build a `Taxonomy` (class `cls`) from an ESCO CSV download folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise _error(f"{folder}: not a folder (give the unzipped ESCO CSV download)")
    occ = _read(folder, OCCUPATIONS, ("conceptUri", "preferredLabel", "iscoGroup"))
    sk = _read(folder, SKILLS, ("conceptUri", "preferredLabel"))
    rel = _read(folder, RELATIONS, ("occupationUri", "relationType", "skillUri"))
    groups = _read(folder, ISCO_GROUPS, ("conceptUri", "code", "preferredLabel"), optional=True)

    # keep released concepts only, when the download says so
    if "status" in occ.columns:
        occ = occ[~occ["status"].str.lower().isin(["obsolete", "deprecated"])].reset_index(drop=True)
    if "status" in sk.columns:
        sk = sk[~sk["status"].str.lower().isin(["obsolete", "deprecated"])].reset_index(drop=True)

    group_labels: dict[str, str] = {}
    group_by_uri: dict[str, str] = {}
    if groups is not None:
        codes = groups["code"].str.strip()
        group_labels = dict(zip(codes, groups["preferredLabel"].str.strip()))
        group_by_uri = dict(zip(groups["conceptUri"].str.strip(), codes))

    def isco_code(value: str, row: int) -> str:
        v = value.strip()
        if v.startswith("http"):
            if v not in group_by_uri:
                raise _error(f"{folder / OCCUPATIONS}: row {row + 2}: iscoGroup URI {v} not in {ISCO_GROUPS}")
            v = group_by_uri[v]
        if not (v[:4].isdigit() and len(v) >= 4):
            raise _error(f"{folder / OCCUPATIONS}: row {row + 2}: iscoGroup {value!r} is not a 4-digit ISCO-08 code")
        return v[:4]

    occ_uri = occ["conceptUri"].str.strip()
    occ_label = _unique_labels(occ["preferredLabel"], occ_uri)
    if (occ_label == "").any():
        row = int((occ_label == "").to_numpy().argmax())
        raise _error(f"{folder / OCCUPATIONS}: row {row + 2}: empty preferredLabel")
    iscos = [isco_code(v, i) for i, v in enumerate(occ["iscoGroup"].tolist())]
    occupations = pd.DataFrame({
        "label": occ_label.to_numpy(),
        "uri": occ_uri.to_numpy(),
        "isco_code": iscos,
        "sector": [sector_for_isco(c) for c in iscos],
    })
    alt: dict[str, list[str]] = {}
    if "altLabels" in occ.columns:
        for label, text in zip(occ_label, occ["altLabels"]):
            names = [a.strip() for a in str(text).split("\n") if a.strip()]
            if names:
                alt[label] = names

    sk_uri = sk["conceptUri"].str.strip()
    sk_label = _unique_labels(sk["preferredLabel"], sk_uri)
    kind = sk["skillType"].str.strip().replace("", None) if "skillType" in sk.columns else None
    skills = pd.DataFrame({"label": sk_label.to_numpy(), "uri": sk_uri.to_numpy(),
                           "kind": kind.to_numpy() if kind is not None else None})

    occ_by_uri = dict(zip(occupations["uri"], occupations["label"]))
    skill_by_uri = dict(zip(skills["uri"], skills["label"]))
    r_occ = rel["occupationUri"].str.strip().map(occ_by_uri)
    r_skill = rel["skillUri"].str.strip().map(skill_by_uri)
    r_type = rel["relationType"].str.strip().str.lower()
    bad_type = ~r_type.isin(["essential", "optional"])
    if bad_type.any():
        row = int(bad_type.to_numpy().argmax())
        raise _error(f"{folder / RELATIONS}: row {row + 2}: relationType {rel['relationType'].iloc[row]!r} "
                     "must be essential or optional")
    # relations to concepts outside the download (e.g. obsolete ones) are dropped, not fatal
    keep = r_occ.notna() & r_skill.notna()
    relations = pd.DataFrame({"occupation": r_occ[keep], "skill": r_skill[keep], "relation": r_type[keep]})
    # a skill both essential and optional for one occupation counts as essential
    relations = relations.sort_values("relation", kind="stable").drop_duplicates(["occupation", "skill"])
    relations = relations.sort_index()

    return cls(occupations, skills, relations, source=f"esco-csv:{folder.name}",
               occupation_alt_labels=alt, isco_groups=group_labels)
