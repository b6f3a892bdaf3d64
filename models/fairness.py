"""Fairness audit per group, and the fairness gate of the promotion.

This is the only module that reads protected attributes: `audit_groups` joins them from
``region.client_protected`` (gender, migration background) and adds the age band from the
client profile, for the rows being audited. They never go back into a feature frame.

Per attribute and group, at the model's operating threshold (p >= threshold means "selected",
e.g. put at the top of a coach's worklist or on a candidate list):

- selection rate, true positive rate, false positive rate;
- calibration: mean predicted probability against the observed rate, their gap and its
  standard error, and the ECE within the group;
- the four-fifths ratio: the lowest selection rate of a group divided by the highest (groups
  with fewer than ``min_group_size`` rows are reported but not counted: their rates are noise).

The gate (`FairnessGate.check`) fails when the four-fifths ratio of a protected attribute is
under 0.8, or a group's calibration gap (any audited attribute) exceeds the limit by more than
two standard errors (so sampling noise in a small group does not block a model, and a real
miscalibration does). It also fails when it **cannot assess** a gated attribute: fewer than two
groups of a four-fifths attribute, or no group of a calibration attribute, reach
``min_group_size``. A gate that passed whatever it could not measure would pass a small
region's most biased model (seen: migration background ratio 0.43 on 97 against 213 rows,
reported as NaN and passed); it says instead which attribute, which group sizes and which
minimum, so the answer is more data, not a silent pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.metrics import expected_calibration_error
from plein.domain import PROTECTED_ATTRIBUTES

#: the groups audited: the protected attributes plus the age band
AUDIT_ATTRIBUTES: tuple[str, ...] = (*PROTECTED_ATTRIBUTES, "age_band")


def audit_groups(region, client_ids) -> pd.DataFrame:
    """Group membership of the audited rows (one row per id in `client_ids`, same order):
    gender and migration background from ``region.client_protected`` ('unknown' when absent),
    age band from ``region.clients``."""
    ids = pd.Series(list(client_ids), dtype=object).astype(str)
    prot = region.client_protected.copy()
    prot["client_id"] = prot["client_id"].astype(str)
    prot = prot.drop_duplicates("client_id").set_index("client_id")
    clients = region.clients.copy()
    clients["id"] = clients["id"].astype(str)
    clients = clients.drop_duplicates("id").set_index("id")
    out = pd.DataFrame(index=range(len(ids)))
    for attr in PROTECTED_ATTRIBUTES:
        col = prot[attr] if attr in prot.columns else pd.Series(dtype=object)
        out[attr] = col.reindex(ids.to_numpy()).fillna("unknown").astype(str).to_numpy()
    out["age_band"] = clients["age_band"].reindex(ids.to_numpy()).fillna("unknown").astype(str).to_numpy()
    return out


def _group_stats(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    sel = p >= threshold
    pos, neg = y == 1, y == 0
    observed = float(y.mean()) if len(y) else float("nan")
    mean_pred = float(p.mean()) if len(p) else float("nan")
    se = float(np.sqrt(max(observed * (1 - observed), 1e-12) / max(len(y), 1)))
    return {
        "n": int(len(y)),
        "selection_rate": float(sel.mean()) if len(y) else float("nan"),
        "tpr": float(sel[pos].mean()) if pos.any() else float("nan"),
        "fpr": float(sel[neg].mean()) if neg.any() else float("nan"),
        "mean_predicted": mean_pred,
        "observed_rate": observed,
        "calibration_gap": mean_pred - observed,
        "calibration_gap_se": se,
        "ece": expected_calibration_error(y, p) if len(y) else float("nan"),
    }


def audit(y_true, y_prob, groups: pd.DataFrame, threshold: float, min_group_size: int = 100) -> dict:
    """The fairness audit (see module doc) as a JSON-ready dict."""
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_prob, dtype=float).ravel()
    if not (len(y) == len(p) == len(groups)):
        raise ValueError(f"labels ({len(y)}), probabilities ({len(p)}) and groups ({len(groups)}) differ in length")
    result = {"threshold": float(threshold), "min_group_size": int(min_group_size), "overall": _group_stats(y, p, threshold), "attributes": {}}
    for attr in groups.columns:
        g = groups[attr].astype(str).to_numpy()
        rows = []
        for value in sorted(set(g)):
            m = g == value
            rows.append({"group": value, **_group_stats(y[m], p[m], threshold)})
        counted = [r for r in rows if r["n"] >= min_group_size]
        rates = [r["selection_rate"] for r in counted]
        ratio = float(min(rates) / max(rates)) if len(rates) >= 2 and max(rates) > 0 else float("nan")
        tprs = [r["tpr"] for r in counted if not np.isnan(r["tpr"])]
        result["attributes"][attr] = {
            "groups": rows,
            #: groups with at least `min_group_size` rows: the ones the ratios and the gate use
            "counted_groups": [r["group"] for r in counted],
            "four_fifths_ratio": ratio,
            "tpr_ratio": float(min(tprs) / max(tprs)) if len(tprs) >= 2 and max(tprs) > 0 else float("nan"),
            "max_abs_calibration_gap": float(max((abs(r["calibration_gap"]) for r in counted), default=float("nan"))),
        }
    return result


@dataclass(frozen=True)
class FairnessGate:
    """Thresholds of the promotion's fairness gate."""

    min_four_fifths: float = 0.8
    max_calibration_gap: float = 0.05
    #: attributes whose selection rates must satisfy the four-fifths rule: the protected
    #: attributes, which are not features, so a gap there comes through proxies. The age band
    #: is audited and reported but gated on calibration only: it is a legitimate predictor of
    #: ladder progress (and decides which coach serves a client), so its selection rates
    #: differ where the outcomes truly differ; what must hold is that the model is as right
    #: for older clients as for younger ones.
    four_fifths_attributes: tuple[str, ...] = PROTECTED_ATTRIBUTES
    #: attributes whose calibration is checked per group
    calibration_attributes: tuple[str, ...] = AUDIT_ATTRIBUTES

    def gated(self, attr: str) -> list[str]:
        """What the gate checks for `attr`: "four-fifths", "calibration", both or neither."""
        return [name for name, attrs in (("four-fifths", self.four_fifths_attributes), ("calibration", self.calibration_attributes))
                if attr in attrs]

    def check(self, fairness: dict) -> list[str]:
        """Reasons the audit fails the gate; empty when it passes. A gated attribute the audit
        could not assess (too few rows in its groups) is a reason too: see the module doc."""
        reasons: list[str] = []
        n_min = fairness.get("min_group_size", 0)
        for attr, res in fairness["attributes"].items():
            ratio = res["four_fifths_ratio"]
            counted = [r for r in res["groups"] if r["n"] >= n_min]
            if attr in self.four_fifths_attributes:
                if len(counted) < 2:
                    reasons.append(
                        f"four-fifths rule cannot be assessed for {attr}: {_sizes(res['groups'])}; fewer than two groups "
                        f"reach the minimum of {n_min} rows, so the gate cannot tell whether the model selects them fairly "
                        f"(evaluate on more data)"
                    )
                elif np.isnan(ratio):
                    reasons.append(
                        f"four-fifths rule cannot be assessed for {attr}: no one in the groups of at least {n_min} rows "
                        f"({_sizes(counted)}) is selected at the operating threshold"
                    )
                elif ratio < self.min_four_fifths:
                    lo = min(counted, key=lambda r: r["selection_rate"])
                    hi = max(counted, key=lambda r: r["selection_rate"])
                    reasons.append(
                        f"four-fifths rule fails for {attr}: selection rate of {lo['group']} is {lo['selection_rate']:.3f} "
                        f"against {hi['selection_rate']:.3f} for {hi['group']} (ratio {ratio:.2f} < {self.min_four_fifths})"
                    )
            if attr in self.calibration_attributes:
                if not counted:
                    reasons.append(
                        f"calibration cannot be assessed for {attr}: {_sizes(res['groups'])}; no group reaches the minimum "
                        f"of {n_min} rows (evaluate on more data)"
                    )
                for r in counted:
                    excess = abs(r["calibration_gap"]) - 2 * r["calibration_gap_se"]
                    if excess > self.max_calibration_gap:
                        reasons.append(
                            f"calibration fails for {attr}={r['group']}: predicted {r['mean_predicted']:.3f} against observed "
                            f"{r['observed_rate']:.3f} (gap {r['calibration_gap']:+.3f}, more than {self.max_calibration_gap} "
                            f"beyond two standard errors)"
                        )
        return reasons


def _sizes(groups: list[dict]) -> str:
    """``groups none n=213, non_western n=97``: the group sizes a reason is about."""
    return "groups " + ", ".join(f"{r['group']} n={r['n']}" for r in groups) if groups else "no rows"


def audit_table(fairness: dict) -> pd.DataFrame:
    """The audit flattened to one row per attribute and group (for the model card and the CLI)."""
    rows = []
    for attr, res in fairness["attributes"].items():
        for r in res["groups"]:
            rows.append({"attribute": attr, **r, "four_fifths_ratio": res["four_fifths_ratio"]})
    return pd.DataFrame(rows)


def plot_audit(fairness: dict, title: str = "", gate: FairnessGate | None = None):
    """One figure: per attribute, selection rate / TPR / FPR bars and predicted vs observed
    rate per group (calibration). Returns a matplotlib Figure.

    Each column says what the gate checks for its attribute (the age band's low four-fifths
    ratio is reported, not gated: without saying so it reads as a failure), and groups smaller
    than the audit's minimum are drawn pale and labelled "not counted" (their rates are noise
    and neither the ratios nor the gate use them)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    gate = gate or FairnessGate()
    n_min = fairness.get("min_group_size", 0)
    attrs = list(fairness["attributes"])
    fig, axes = plt.subplots(2, len(attrs), figsize=(4.8 * len(attrs), 7.5), squeeze=False)
    for j, attr in enumerate(attrs):
        res = fairness["attributes"][attr]
        groups = res["groups"]
        small = [g["n"] < n_min for g in groups]
        names = [g["group"] + (f"\n(n={g['n']} < {n_min}:\nnot counted)" if s else f"\n(n={g['n']})") for g, s in zip(groups, small)]
        x = np.arange(len(names))
        alpha = [0.3 if s else 1.0 for s in small]
        checks = gate.gated(attr)
        gated = ("gated: " + " and ".join(checks)) if checks else "reported, not gated"
        ratio = res["four_fifths_ratio"]
        ratio_text = "4/5 ratio: cannot be assessed" if np.isnan(ratio) else f"4/5 ratio {ratio:.2f}"
        if "four-fifths" not in checks and not np.isnan(ratio):
            ratio_text += " (not gated)"
        ax = axes[0, j]
        for k, (key, label) in enumerate((("selection_rate", "selection rate"), ("tpr", "TPR"), ("fpr", "FPR"))):
            bars = ax.bar(x + (k - 1) * 0.27, [g[key] for g in groups], width=0.27, label=label, color=f"C{k}")
            for bar, a in zip(bars, alpha):
                bar.set_alpha(a)
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"{attr} ({gated})\n{ratio_text}", fontsize=10)
        if j == 0:
            ax.legend(fontsize=8)
        ax = axes[1, j]
        for k, (key, label, dx) in enumerate((("mean_predicted", "mean predicted", -0.2), ("observed_rate", "observed", 0.2))):
            bars = ax.bar(x + dx, [g[key] for g in groups], width=0.4, label=label, color=f"C{k + 3}")
            for bar, a in zip(bars, alpha):
                bar.set_alpha(a)
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"calibration by {attr}" + (" (gated)" if "calibration" in checks else " (not gated)"), fontsize=10)
        if j == 0:
            ax.legend(fontsize=8)
    fig.suptitle(title or f"fairness audit at threshold {fairness['threshold']:.3f}")
    fig.text(0.5, 0.005, f"pale bars: groups under {n_min} rows, reported but not counted by the ratios or the gate",
             ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    return fig
