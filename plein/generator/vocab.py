"""Taxonomy and demand as flat numpy arrays, the form the vectorised generator needs.

`TaxonomyArrays` turns a `plein.taxonomy.Taxonomy` into integer-indexed arrays: occupations
0..O-1, skills 0..S-1, and essential/optional skills per occupation in CSR layout
(``indptr`` / ``indices``), plus two weights per occupation:

- ``vacancy_weight``: relative demand for the occupation. From real job-offer counts
  (``job_offers_by_occupation.parquet``, column ``total_job_offers_global``, joined by URI then
  by label) when given, else the taxonomy's authored ``demand_weights`` (builtin), else
  ``CLIENT_ISCO_FACTOR`` of the occupation's ISCO major group.
- ``client_weight``: how likely a Werkplein client worked in the occupation:
  ``sqrt(vacancy_weight) * CLIENT_ISCO_FACTOR[ISCO major group]``. Werkplein clients come far
  more often from elementary, service, operator and craft occupations than from professional
  or managerial ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: ISCO-08 major group -> relative chance that a Werkplein client's past job is in it
CLIENT_ISCO_FACTOR = {"0": 0.1, "1": 0.15, "2": 0.35, "3": 0.8, "4": 1.5, "5": 2.0, "6": 1.2, "7": 1.6, "8": 2.0, "9": 3.0}


@dataclass
class TaxonomyArrays:
    occ_labels: np.ndarray  # object
    occ_sector: np.ndarray  # int codes into sector_codes
    occ_isco: np.ndarray  # object, 4-digit
    sector_codes: list[str]
    skill_labels: np.ndarray  # object
    ess_indptr: np.ndarray
    ess_indices: np.ndarray
    opt_indptr: np.ndarray
    opt_indices: np.ndarray
    vacancy_weight: np.ndarray
    client_weight: np.ndarray
    demand_source: str

    @property
    def n_occupations(self) -> int:
        return len(self.occ_labels)

    def ess_count(self) -> np.ndarray:
        return np.diff(self.ess_indptr)

    def opt_count(self) -> np.ndarray:
        return np.diff(self.opt_indptr)


def _csr(occ_codes: np.ndarray, skill_codes: np.ndarray, n_occ: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(occ_codes, kind="stable")
    counts = np.bincount(occ_codes, minlength=n_occ)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return indptr, skill_codes[order].astype(np.int64)


def read_job_offers(job_offers) -> pd.DataFrame:
    """A job-offers frame, or the path of ``job_offers_by_occupation.parquet``."""
    if isinstance(job_offers, (str, Path)):
        path = Path(job_offers)
        if not path.is_file():
            raise FileNotFoundError(f"job offers file not found: {path}")
        job_offers = pd.read_parquet(path)
    if not isinstance(job_offers, pd.DataFrame):
        raise TypeError(f"job_offers must be a DataFrame or a parquet path, got {type(job_offers).__name__}")
    need = {"total_job_offers_global"}
    if not need <= set(job_offers.columns) or not ({"occupation_uri", "occupation_name"} & set(job_offers.columns)):
        raise ValueError("job_offers needs total_job_offers_global and occupation_uri or occupation_name "
                         f"(columns found: {list(job_offers.columns)[:10]})")
    return job_offers


def build_arrays(taxonomy, job_offers=None) -> TaxonomyArrays:
    occ = taxonomy.occupations
    labels = occ["label"].to_numpy(dtype=object)
    n_occ = len(labels)
    if n_occ == 0:
        raise ValueError(f"taxonomy {taxonomy.source} has no occupations")
    sector_codes = taxonomy.sectors["code"].tolist()
    sector_pos = {c: i for i, c in enumerate(sector_codes)}
    default_sector = sector_pos.get("business_services", 0)
    occ_sector = np.array([sector_pos.get(s, default_sector) for s in occ["sector"].tolist()], dtype=np.int64)
    occ_pos = {lab: i for i, lab in enumerate(labels)}
    skill_labels = taxonomy.skills["label"].to_numpy(dtype=object)
    skill_pos = {lab: i for i, lab in enumerate(skill_labels)}
    rel = taxonomy.occupation_skills
    o_codes = rel["occupation"].map(occ_pos).to_numpy(dtype=np.int64)
    s_codes = rel["skill"].map(skill_pos).to_numpy(dtype=np.int64)
    ess = (rel["relation"] == "essential").to_numpy()
    ess_indptr, ess_indices = _csr(o_codes[ess], s_codes[ess], n_occ)
    opt_indptr, opt_indices = _csr(o_codes[~ess], s_codes[~ess], n_occ)

    if job_offers is not None:
        jo = read_job_offers(job_offers)
        counts = np.full(n_occ, np.nan)
        if "occupation_uri" in jo.columns:
            by_uri = dict(zip(jo["occupation_uri"].astype(str).str.strip(), jo["total_job_offers_global"]))
            counts = np.array([by_uri.get(u, np.nan) if isinstance(u, str) else np.nan for u in occ["uri"]], dtype=float)
        if "occupation_name" in jo.columns:
            by_name = dict(zip(jo["occupation_name"].astype(str).str.strip().str.lower(), jo["total_job_offers_global"]))
            fill = np.array([by_name.get(str(lab).lower(), np.nan) for lab in labels], dtype=float)
            counts = np.where(np.isnan(counts), fill, counts)
        matched = int((~np.isnan(counts)).sum())
        if matched == 0:
            raise ValueError("job_offers: no occupation of the taxonomy found (by URI or name)")
        vacancy_weight = np.nan_to_num(counts, nan=0.0).astype(float)
        if vacancy_weight.sum() <= 0:
            raise ValueError("job_offers: the taxonomy's occupations have no job offers at all")
        source = f"job offers ({matched} of {n_occ} occupations matched)"
    elif getattr(taxonomy, "demand_weights", None):
        vacancy_weight = np.array([float(taxonomy.demand_weights.get(lab, 1.0)) for lab in labels])
        source = "authored builtin demand weights"
    major = np.array([str(c)[:1] if isinstance(c, str) and c else "9" for c in occ["isco_code"].tolist()], dtype=object)
    factor = np.array([CLIENT_ISCO_FACTOR.get(m, 1.0) for m in major])
    if job_offers is None and not getattr(taxonomy, "demand_weights", None):
        # no demand information: vacancies reaching a Werkplein follow the ISCO major groups
        vacancy_weight = factor.copy()
        source = "ISCO major-group weights (no job offers given)"
    # every occupation keeps a small chance, so clients also come from occupations without offers
    base = np.sqrt(vacancy_weight + 0.05 * max(vacancy_weight.mean(), 1e-9))
    client_weight = base * factor
    # occupations without any essential skill cannot shape a profile; keep them out of histories
    client_weight[np.diff(ess_indptr) == 0] = 0.0
    if client_weight.sum() <= 0:
        raise ValueError(f"taxonomy {taxonomy.source}: no occupation has essential skills")
    return TaxonomyArrays(
        occ_labels=labels,
        occ_sector=occ_sector,
        occ_isco=occ["isco_code"].to_numpy(dtype=object),
        sector_codes=sector_codes,
        skill_labels=skill_labels,
        ess_indptr=ess_indptr,
        ess_indices=ess_indices,
        opt_indptr=opt_indptr,
        opt_indices=opt_indices,
        vacancy_weight=vacancy_weight,
        client_weight=client_weight,
        demand_source=source,
    )
