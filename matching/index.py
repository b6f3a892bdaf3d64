"""The skill index: clients and vacancies as sparse skill vectors, built once and reused.

Layout (S = number of distinct skills, rows = clients or vacancies):

- ``C`` (clients x S, 0/1): the skills a client holds.
- ``T`` (clients x S, weights in (0, 1]): transferable skills, i.e. skills the client does not
  list but very likely has, from the occupations in their work history (weight
  ``history_weight`` scaled by years) and from the other occupations in the same ISCO-08 unit
  group (weight ``isco_neighbour_weight``, the group's average profile). A cook who never
  typed "food safety" still reaches a kitchen vacancy that requires it.
- ``E`` / ``O`` (vacancies x S, 0/1): essential and optional skills.
- ``W = (essential_weight * E + optional_weight * O) * idf``: the vacancy's weighted vector.
- ``idf``: rarity of each skill, ``log((N + 1) / (df + 1)) + 1`` over the taxonomy's occupation
  profiles (so a generic skill such as "communication" counts less than "operate forklift"),
  falling back to the documents in the data when no taxonomy is given.

The same skill quantities are computed two ways that agree exactly: column slices (CSC)
for candidate generation over all rows (`vacancy_skill_scores`, `client_skill_scores`), and
row-wise products for given pairs (`pair_skill_arrays`, used by `matching.features`). A test
checks they agree.

Client and vacancy attributes used by filters and features are held as NumPy arrays. The
index reads only the columns listed in `CLIENT_COLUMNS` and `VACANCY_COLUMNS`, which hold no
protected attribute.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from plein.domain import PROTECTED_ATTRIBUTES, EDUCATION_ORDER, dutch_rank
from matching.config import MatchConfig
from matching.frames import complete_frame

#: Client columns the matcher reads (filters, features, reasons). Never a protected attribute.
CLIENT_COLUMNS = (
    "id", "skills", "lat", "lon", "intake_date", "education_level", "dutch_level",
    "driving_licence", "hours_available", "ladder_rung", "complexity", "work_history",
    "certificates", "status",
)
#: Vacancy columns the matcher reads.
VACANCY_COLUMNS = (
    "id", "skills", "optional_skills", "title", "occupation", "lat", "lon", "hours",
    "requires_licence", "certificates", "min_dutch_level", "supported_work", "open_date",
    "close_date",
)
assert not set(PROTECTED_ATTRIBUTES) & set(CLIENT_COLUMNS), "protected attributes must never be read by matching"

_WS = re.compile(r"\s+")


def skill_key(label: str) -> str:
    """The matching key of a skill or occupation label: case- and whitespace-insensitive."""
    return _WS.sub(" ", str(label).strip()).casefold()


@dataclass
class TaxonomyView:
    """What matching needs from a taxonomy: occupation skill profiles, ISCO groups, IDF.

    Built from any object with the agreed `plein.taxonomy.Taxonomy` frames (`occupations`
    [label, uri, isco_code], `occupation_skills` [occupation, skill, relation], optionally
    `skills` [label, uri]); nothing else of it is used.
    """

    occ_labels: list[str]
    occ_index: dict[str, int]  # skill_key(label or uri) -> row
    occ_isco: np.ndarray  # 4-digit ISCO code per occupation ("" when unknown)
    occ_skills: list[tuple[list[str], list[str]]]  # (essential keys, optional keys) per occupation
    skill_labels: dict[str, str]  # key -> display label
    skill_uri: dict[str, str]  # skill_key(uri) -> key

    @classmethod
    def from_taxonomy(cls, taxonomy) -> "TaxonomyView":
        occs = taxonomy.occupations
        labels = [str(x).strip() for x in occs["label"]]
        index: dict[str, int] = {}
        for i, label in enumerate(labels):
            index.setdefault(skill_key(label), i)
        if "uri" in occs.columns:
            for i, uri in enumerate(occs["uri"]):
                if isinstance(uri, str) and uri:
                    index.setdefault(skill_key(uri), i)
        isco = np.array([str(x)[:4] if isinstance(x, str) else "" for x in occs.get("isco_code", [""] * len(occs))], dtype=object)
        ess: list[list[str]] = [[] for _ in labels]
        opt: list[list[str]] = [[] for _ in labels]
        skill_labels: dict[str, str] = {}
        os_ = taxonomy.occupation_skills
        for occ, skill, rel in zip(os_["occupation"], os_["skill"], os_["relation"]):
            i = index.get(skill_key(occ))
            if i is None:
                continue
            k = skill_key(skill)
            skill_labels.setdefault(k, str(skill).strip())
            (ess if rel == "essential" else opt)[i].append(k)
        skill_uri: dict[str, str] = {}
        skills = getattr(taxonomy, "skills", None)
        if skills is not None and "uri" in getattr(skills, "columns", []):
            for label, uri in zip(skills["label"], skills["uri"]):
                if isinstance(uri, str) and uri:
                    skill_uri[skill_key(uri)] = skill_key(label)
                    skill_labels.setdefault(skill_key(label), str(label).strip())
        return cls(labels, index, isco, list(zip(ess, opt)), skill_labels, skill_uri)

    def occupation(self, value) -> int | None:
        if not isinstance(value, str) or not value.strip():
            return None
        return self.occ_index.get(skill_key(value))


class SkillVocabulary:
    """Skill key <-> column number; display labels kept for reasons."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.labels: list[str] = []

    def add(self, key: str, label: str) -> int:
        j = self.index.get(key)
        if j is None:
            j = len(self.labels)
            self.index[key] = j
            self.labels.append(label)
        return j

    def __len__(self) -> int:
        return len(self.labels)


def _rows_to_csr(rows: list[list[int]], n_cols: int, values: list[list[float]] | None = None, dtype=np.float32) -> sp.csr_matrix:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.fromiter((j for r in rows for j in r), dtype=np.int32, count=int(indptr[-1]))
    if values is None:
        data = np.ones(len(indices), dtype=dtype)
    else:
        data = np.fromiter((v for r in values for v in r), dtype=dtype, count=int(indptr[-1]))
    m = sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_cols))
    m.sum_duplicates()
    if values is None:
        m.data[:] = 1
    return m


def _to_ordinal(values, default: float = np.nan) -> np.ndarray:
    out = np.full(len(values), default, dtype=float)
    for i, v in enumerate(values):
        if isinstance(v, pd.Timestamp):
            v = v.date()
        if isinstance(v, dt.date):
            out[i] = v.toordinal()
    return out


def _dutch_ranks(values, where: str) -> np.ndarray:
    """CEFR levels -> 0 (none) .. 6 (C2); -1 when missing or unknown."""
    out = np.full(len(values), -1, dtype=int)
    for i, x in enumerate(values):
        if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA or (isinstance(x, str) and not x.strip()):
            continue
        try:
            r = dutch_rank(str(x).strip())
        except ValueError:
            raise ValueError(f"{where} row {i + 1}: {x!r} is not a Dutch level (none, A1..C2, unknown)") from None
        out[i] = -1 if r is None else r
    return out


def _bools(values) -> np.ndarray:
    return np.array([bool(x) if (x is not None and x is not pd.NA and not (isinstance(x, float) and np.isnan(x))) else False
                     for x in values], dtype=bool)


def _float(values) -> np.ndarray:
    return pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(dtype=float)


class MatchIndex:
    """Clients and vacancies as sparse skill vectors plus attribute arrays. Build once, query often.

    `clients` and `vacancies` are frames with `plein.schema` columns (minimal frames with `id`
    and `skills` are completed with schema defaults). `taxonomy` (optional) gives IDF,
    transferable skills and occupation groups; without it, IDF comes from the data and only
    the skills themselves match.
    """

    def __init__(self, clients: pd.DataFrame, vacancies: pd.DataFrame, taxonomy=None, config: MatchConfig | None = None) -> None:
        self.config = config or MatchConfig()
        self.taxonomy = taxonomy
        self.tax = TaxonomyView.from_taxonomy(taxonomy) if taxonomy is not None else None
        clients = self._complete("clients", clients, CLIENT_COLUMNS)
        vacancies = self._complete("vacancies", vacancies, VACANCY_COLUMNS)
        self.clients = clients.reset_index(drop=True)
        self.vacancies = vacancies.reset_index(drop=True)
        self.client_ids = self.clients["id"].astype(str).to_numpy(dtype=object)
        self.vacancy_ids = self.vacancies["id"].astype(str).to_numpy(dtype=object)
        self.client_pos = {c: i for i, c in enumerate(self.client_ids)}
        self.vacancy_pos = {v: i for i, v in enumerate(self.vacancy_ids)}
        self.vocab = SkillVocabulary()
        if self.tax is not None:
            for k, label in self.tax.skill_labels.items():
                self.vocab.add(k, label)
        self._build_vectors()
        self._build_attributes()

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _complete(table: str, df: pd.DataFrame, needed: tuple[str, ...]) -> pd.DataFrame:
        if df is None:
            raise ValueError(f"{table}: no frame given")
        missing = [c for c in needed if c not in df.columns]
        if "id" not in df.columns:
            raise ValueError(f"{table}: the column 'id' is required (columns present: {list(df.columns)})")
        if missing or any(df[c].map(lambda v: isinstance(v, str)).any() for c in ("skills",) if c in df.columns):
            df = complete_frame(table, df)
        return df[list(needed)].copy()

    def _keys(self, values) -> list[str]:
        """Skill values (labels or URIs) of one row -> vocabulary keys (adding unknown skills)."""
        out = []
        if values is None or (isinstance(values, float) and np.isnan(values)):
            return out
        if isinstance(values, str):
            values = [v for v in values.split(";")]
        for v in values:
            if v is None:
                continue
            s = str(v).strip()
            if not s:
                continue
            k = skill_key(s)
            if self.tax is not None and k in self.tax.skill_uri:
                k = self.tax.skill_uri[k]
            label = self.tax.skill_labels.get(k, s) if self.tax is not None else s
            self.vocab.add(k, label)
            out.append(k)
        return out

    def _build_vectors(self) -> None:
        vc = self.config.vectors
        client_keys = [self._keys(v) for v in self.clients["skills"]]
        ess_keys = [self._keys(v) for v in self.vacancies["skills"]]
        opt_keys = [self._keys(v) for v in self.vacancies["optional_skills"]]
        # A vacancy that lists no skills but names a known occupation takes that profile.
        self.vacancy_occ = np.array([self.tax.occupation(o) if self.tax else None for o in self.vacancies["occupation"]], dtype=object)
        if self.tax is not None:
            for i, occ in enumerate(self.vacancy_occ):
                if occ is not None and not ess_keys[i] and not opt_keys[i]:
                    e, o = self.tax.occ_skills[occ]
                    ess_keys[i], opt_keys[i] = list(e), list(o)
        # Occupation profiles (for transferable skills and IDF).
        occ_ess = occ_opt = None
        if self.tax is not None:
            occ_ess = [[self.vocab.add(k, self.tax.skill_labels.get(k, k)) for k in e] for e, _ in self.tax.occ_skills]
            occ_opt = [[self.vocab.add(k, self.tax.skill_labels.get(k, k)) for k in o] for _, o in self.tax.occ_skills]
        S = len(self.vocab)
        idx = self.vocab.index
        self.C = _rows_to_csr([[idx[k] for k in r] for r in client_keys], S)
        self.E = _rows_to_csr([[idx[k] for k in r] for r in ess_keys], S)
        O = _rows_to_csr([[idx[k] for k in r] for r in opt_keys], S)
        # a skill both essential and optional counts as essential
        self.O = (O - O.multiply(self.E)).tocsr()
        self.O.eliminate_zeros()
        # IDF over occupation profiles (taxonomy) or over the data's documents.
        if occ_ess is not None and len(occ_ess):
            P = _rows_to_csr([e + o for e, o in zip(occ_ess, occ_opt)], S)
            df_ = np.asarray((P > 0).sum(axis=0)).ravel()
            n_docs = P.shape[0]
        else:
            docs = sp.vstack([self.C, self.E + self.O]).tocsr()
            df_ = np.asarray((docs > 0).sum(axis=0)).ravel()
            n_docs = docs.shape[0]
        self.idf = ((np.log((n_docs + 1.0) / (df_ + 1.0)) + 1.0) ** vc.idf_power).astype(np.float32)
        idf = self.idf
        self.W = (vc.essential_weight * self.E + vc.optional_weight * self.O).multiply(idf[None, :]).tocsr().astype(np.float32)
        self.client_norm = np.sqrt(np.asarray(self.C.multiply(idf[None, :] ** 2).sum(axis=1)).ravel())
        self.vacancy_norm = np.sqrt(np.asarray(self.W.multiply(self.W).sum(axis=1)).ravel())
        self.w_total = np.asarray(self.W.sum(axis=1)).ravel()
        self.ess_total = np.asarray(self.E.multiply(idf[None, :]).sum(axis=1)).ravel()
        self.opt_total = np.asarray(self.O.multiply(idf[None, :]).sum(axis=1)).ravel()
        self.T = self._transferable(occ_ess, occ_opt, S)
        # Column-major copies for candidate generation over all rows.
        self.C_csc = self.C.tocsc()
        self.T_csc = self.T.tocsc()
        self.E_csc = self.E.tocsc()
        self.O_csc = self.O.tocsc()
        self.W_csc = self.W.tocsc()

    def _transferable(self, occ_ess, occ_opt, S: int) -> sp.csr_matrix:
        """Transferable-skill weights per client from work history and ISCO neighbours."""
        n = len(self.clients)
        vc = self.config.vectors
        self.client_history: list[list[tuple[int | None, str, float]]] = []
        for hist in self.clients["work_history"]:
            rows = []
            for item in hist or []:
                occ = item.get("occupation") if isinstance(item, dict) else None
                years = float(item.get("years", 0.0) or 0.0) if isinstance(item, dict) else 0.0
                if occ:
                    rows.append((self.tax.occupation(occ) if self.tax else None, skill_key(occ), years))
            self.client_history.append(rows)
        if self.tax is None or occ_ess is None or (vc.history_weight <= 0 and vc.isco_neighbour_weight <= 0):
            return sp.csr_matrix((n, S), dtype=np.float32)
        n_occ = len(occ_ess)
        P = _rows_to_csr(occ_ess, S) + 0.5 * _rows_to_csr(occ_opt, S)
        P = P.tocsr()
        P.data = np.minimum(P.data, 1.0)
        groups = sorted({g for g in self.tax.occ_isco if g})
        gpos = {g: i for i, g in enumerate(groups)}
        occ_group = np.array([gpos.get(g, -1) for g in self.tax.occ_isco])
        members = occ_group >= 0
        Gm = sp.csr_matrix((np.ones(members.sum()), (occ_group[members], np.nonzero(members)[0])), shape=(len(groups), n_occ))
        sizes = np.asarray(Gm.sum(axis=1)).ravel()
        G = sp.diags(1.0 / np.maximum(sizes, 1)) @ Gm @ P
        G = G.tocsr()
        G.data[G.data < 0.2] = 0.0  # keep skills shared by a fair part of the group
        G.eliminate_zeros()
        h_rows, h_cols, h_vals, g_rows, g_cols = [], [], [], [], []
        sat = max(vc.history_years_saturation, 1e-9)
        for i, rows in enumerate(self.client_history):
            for occ, _, years in rows:
                if occ is None:
                    continue
                h_rows.append(i)
                h_cols.append(occ)
                h_vals.append(vc.history_weight * min(1.0, max(years, 0.25) / sat))
                if occ_group[occ] >= 0:
                    g_rows.append(i)
                    g_cols.append(occ_group[occ])
        H = sp.csr_matrix((h_vals, (h_rows, h_cols)), shape=(n, n_occ))
        Hg = sp.csr_matrix((np.full(len(g_rows), vc.isco_neighbour_weight), (g_rows, g_cols)), shape=(n, len(groups)))
        # max over history occupations would be exact; a capped sum is close and sparse-friendly
        T = (H @ P + Hg @ G).tocsr()
        T.data = np.minimum(T.data, 1.0)
        T = T - T.multiply(self.C)  # skills held directly are not "transferable"
        T = T.tocsr().astype(np.float32)
        T.eliminate_zeros()
        return T

    def _build_attributes(self) -> None:
        c, v = self.clients, self.vacancies
        self.c_lat = _float(c["lat"])
        self.c_lon = _float(c["lon"])
        self.c_hours = _float(c["hours_available"])
        self.c_licence = _bools(c["driving_licence"])
        self.c_dutch = _dutch_ranks(list(c["dutch_level"]), "clients")
        rung = _float(c["ladder_rung"])
        self.c_rung = np.where(np.isnan(rung), 0, rung).astype(int)  # 0 = not measured
        self.c_complexity = np.nan_to_num(_float(c["complexity"]), nan=1.0)
        edu = {e.value: i for i, e in enumerate(EDUCATION_ORDER)}
        self.c_education = np.array([edu.get(str(x), -1) for x in c["education_level"]], dtype=int)
        self.c_intake = _to_ordinal(c["intake_date"])
        excluded = set(self.config.filters.excluded_statuses)
        self.c_status = np.array([str(x) if isinstance(x, str) and x else "active" for x in c["status"]], dtype=object)
        self.c_excluded_status = np.array([s in excluded for s in self.c_status])
        self.cert_vocab: dict[str, int] = {}

        def cert_rows(col):
            rows = []
            for certs in col:
                rows.append(sorted({self.cert_vocab.setdefault(skill_key(x), len(self.cert_vocab)) for x in (certs or []) if str(x).strip()}))
            return rows

        c_rows = cert_rows(c["certificates"])
        v_rows = cert_rows(v["certificates"])
        K = max(len(self.cert_vocab), 1)
        self.c_certs = _rows_to_csr(c_rows, K)
        self.v_certs = _rows_to_csr(v_rows, K)
        self.v_cert_count = np.asarray(self.v_certs.sum(axis=1)).ravel()
        self.v_cert_csc_T = self.v_certs.T.tocsr()
        self.v_lat = _float(v["lat"])
        self.v_lon = _float(v["lon"])
        self.v_hours = _float(v["hours"])  # NaN = flexible
        self.v_licence = _bools(v["requires_licence"])
        self.v_dutch = _dutch_ranks(list(v["min_dutch_level"]), "vacancies")
        self.v_supported = _bools(v["supported_work"])
        self.v_close = _to_ordinal(v["close_date"])
        self.v_open = _to_ordinal(v["open_date"])
        self.v_isco = np.array([self.tax.occ_isco[o] if (self.tax is not None and o is not None) else "" for o in self.vacancy_occ], dtype=object)
        self.v_occ_key = np.array([skill_key(o) if isinstance(o, str) and o.strip() else "" for o in v["occupation"]], dtype=object)
        self._build_experience()

    def _build_experience(self) -> None:
        """Years per client in each occupation (by key) and in each ISCO-08 unit group.

        Sparse client x occupation and client x group matrices, so the years in a vacancy's
        occupation and its group are one column lookup for every client at once.
        """
        occ_cols: dict[str, int] = {}
        group_cols: dict[str, int] = {}
        r_o, c_o, y_o, r_g, c_g, y_g = [], [], [], [], [], []
        for i, rows in enumerate(self.client_history):
            for occ, key, years in rows:
                r_o.append(i)
                c_o.append(occ_cols.setdefault(key, len(occ_cols)))
                y_o.append(years)
                group = self.tax.occ_isco[occ] if (self.tax is not None and occ is not None) else ""
                if group:
                    r_g.append(i)
                    c_g.append(group_cols.setdefault(group, len(group_cols)))
                    y_g.append(years)
        n = len(self.client_ids)
        self.years_occ = sp.csr_matrix((y_o, (r_o, c_o)), shape=(n, max(len(occ_cols), 1)), dtype=np.float64)
        self.years_group = sp.csr_matrix((y_g, (r_g, c_g)), shape=(n, max(len(group_cols), 1)), dtype=np.float64)
        self.years_occ_csc = self.years_occ.tocsc()
        self.years_group_csc = self.years_group.tocsc()
        self.v_occ_col = np.array([occ_cols.get(k, -1) if k else -1 for k in self.v_occ_key], dtype=np.int64)
        self.v_group_col = np.array([group_cols.get(g, -1) if g else -1 for g in self.v_isco], dtype=np.int64)

    def experience_years(self, ci: np.ndarray, vi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(years in the vacancy's occupation, years in other occupations of its ISCO unit group)."""
        ci = np.asarray(ci, dtype=np.int64)
        vi = np.broadcast_to(np.asarray(vi, dtype=np.int64), ci.shape)
        own = np.zeros(len(ci))
        group = np.zeros(len(ci))
        if len(ci) == 0:
            return own, group
        scalar = bool((vi == vi[0]).all())
        for cols, mat, mat_csc, out in ((self.v_occ_col, self.years_occ, self.years_occ_csc, own),
                                        (self.v_group_col, self.years_group, self.years_group_csc, group)):
            col = cols[vi]
            ok = col >= 0
            if not ok.any() or mat.nnz == 0:
                continue
            if scalar:
                j = int(col[0])
                a, b = mat_csc.indptr[j], mat_csc.indptr[j + 1]
                if b > a:
                    column = np.zeros(mat.shape[0])
                    np.add.at(column, mat_csc.indices[a:b], mat_csc.data[a:b])
                    out[:] = column[ci]
            else:
                out[ok] = np.asarray(mat[ci[ok], col[ok]]).ravel()
        return own, np.maximum(group - own, 0.0)

    # ------------------------------------------------------------------ lookups
    def client_index(self, client_id: str) -> int:
        try:
            return self.client_pos[str(client_id)]
        except KeyError:
            raise KeyError(f"unknown client {client_id!r}") from None

    def vacancy_index(self, vacancy_id: str) -> int:
        try:
            return self.vacancy_pos[str(vacancy_id)]
        except KeyError:
            raise KeyError(f"unknown vacancy {vacancy_id!r}") from None

    def required_rung(self, vi) -> np.ndarray:
        f = self.config.filters
        regular = f.min_rung_regular if f.min_rung_regular is not None else 0
        supported = f.min_rung_supported if f.min_rung_supported is not None else 0
        return np.where(self.v_supported[vi], supported, regular)

    def skill_labels(self, cols) -> list[str]:
        return [self.vocab.labels[j] for j in cols]

    # ------------------------------------------------------------------ skill scores
    @staticmethod
    def _row(m: sp.csr_matrix, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = m.indptr[i], m.indptr[i + 1]
        return m.indices[a:b], m.data[a:b]

    def vacancy_skill_scores(self, vi: int) -> dict[str, np.ndarray]:
        """The skill quantities of one vacancy against every client (column slices)."""
        idf = self.idf
        cols, wv = self._row(self.W, vi)
        ess, _ = self._row(self.E, vi)
        opt, _ = self._row(self.O, vi)
        n = self.C.shape[0]
        zeros = np.zeros(n)
        out = {}
        if len(cols):
            # one slice of the client matrix gives similarity, coverage and matched counts
            X = np.zeros((len(cols), 4))
            pos = {j: k for k, j in enumerate(cols)}
            X[:, 0] = wv * idf[cols]
            for j in ess:
                X[pos[j], 1] = idf[j]
                X[pos[j], 3] = 1.0
            for j in opt:
                X[pos[j], 2] = idf[j]
            R = self.C_csc[:, cols] @ X
            out["skill_similarity"] = R[:, 0] / max(self.vacancy_norm[vi], 1e-12) / np.maximum(self.client_norm, 1e-12)
            out["essential_coverage"] = R[:, 1] / self.ess_total[vi] if len(ess) else zeros
            out["optional_coverage"] = R[:, 2] / self.opt_total[vi] if len(opt) else zeros
            out["essential_matched"] = R[:, 3]
            out["transferable_similarity"] = (self.T_csc[:, cols] @ wv) / self.w_total[vi] if self.T.nnz else zeros
        else:
            for k in ("skill_similarity", "essential_coverage", "optional_coverage", "essential_matched", "transferable_similarity"):
                out[k] = zeros
        out["essential_missing"] = len(ess) - out["essential_matched"]
        return {k: np.asarray(v, dtype=float) for k, v in out.items()}

    def client_skill_scores(self, ci: int) -> dict[str, np.ndarray]:
        """The skill quantities of one client against every vacancy (column slices)."""
        idf = self.idf
        ccols = self.C.getrow(ci).indices
        t_row = self.T.getrow(ci)
        m = self.E.shape[0]
        vnorm = np.maximum(self.vacancy_norm * self.client_norm[ci], 1e-12)
        sim = (self.W_csc[:, ccols] @ idf[ccols]) / vnorm if len(ccols) else np.zeros(m)
        with np.errstate(divide="ignore", invalid="ignore"):
            ess_cov = np.where(self.ess_total > 0, (self.E_csc[:, ccols] @ idf[ccols]) / np.maximum(self.ess_total, 1e-12), 0.0) if len(ccols) else np.zeros(m)
            opt_cov = np.where(self.opt_total > 0, (self.O_csc[:, ccols] @ idf[ccols]) / np.maximum(self.opt_total, 1e-12), 0.0) if len(ccols) else np.zeros(m)
            trans = (np.where(self.w_total > 0, (self.W_csc[:, t_row.indices] @ t_row.data) / np.maximum(self.w_total, 1e-12), 0.0)
                     if t_row.nnz else np.zeros(m))
        matched = np.asarray(self.E_csc[:, ccols].sum(axis=1)).ravel() if len(ccols) else np.zeros(m)
        return {"skill_similarity": np.asarray(sim, dtype=float), "essential_coverage": np.asarray(ess_cov, dtype=float),
                "optional_coverage": np.asarray(opt_cov, dtype=float), "transferable_similarity": np.asarray(trans, dtype=float),
                "essential_matched": matched.astype(float), "essential_missing": (np.diff(self.E.indptr) - matched).astype(float)}

    def pair_skill_arrays(self, ci: np.ndarray, vi: np.ndarray) -> dict[str, np.ndarray]:
        """The same skill quantities for given (client, vacancy) pairs, row-wise."""
        idf = self.idf
        Cp = self.C[ci]
        Wp = self.W[vi]
        with np.errstate(divide="ignore", invalid="ignore"):
            sim = np.asarray(Cp.multiply(Wp) @ idf).ravel() / np.maximum(self.client_norm[ci] * self.vacancy_norm[vi], 1e-12)
            ess_hit = np.asarray(Cp.multiply(self.E[vi]) @ idf).ravel()
            opt_hit = np.asarray(Cp.multiply(self.O[vi]) @ idf).ravel()
            ess_cov = np.where(self.ess_total[vi] > 0, ess_hit / np.maximum(self.ess_total[vi], 1e-12), 0.0)
            opt_cov = np.where(self.opt_total[vi] > 0, opt_hit / np.maximum(self.opt_total[vi], 1e-12), 0.0)
            trans = np.asarray(self.T[ci].multiply(Wp).sum(axis=1)).ravel()
            trans = np.where(self.w_total[vi] > 0, trans / np.maximum(self.w_total[vi], 1e-12), 0.0)
        ess_matched = np.asarray(Cp.multiply(self.E[vi]).sum(axis=1)).ravel()
        ess_count = np.diff(self.E.indptr)[vi]
        return {"skill_similarity": sim, "essential_coverage": ess_cov, "optional_coverage": opt_cov,
                "transferable_similarity": trans, "essential_matched": ess_matched.astype(float),
                "essential_missing": (ess_count - ess_matched).astype(float)}
