"""MLflow tracking, the model registry and the promotion gate.

Tracking goes to ``MLFLOW_TRACKING_URI`` (see `plein.settings`): by default a SQLite store
``<data>/mlflow.db`` with artifacts under ``<data>/mlartifacts``; set the variable to an MLflow
server's URL in production. One experiment per model (``plein-ladder``, ``plein-ranker``).

Each training run logs: parameters and seed, the data snapshot hash, the time split, metrics
(model, baseline, oracle), the fairness audit (JSON and plots), ROC / calibration / importance
plots and a model card (markdown). The model (a pickled scikit-learn estimator of
`models.ladder` / `models.ranker`) is registered as a new version of ``plein-ladder`` or
``plein-ranker`` and given the alias ``challenger``.

`promote` is the only way to the alias ``champion`` (`log_training` refuses it, and
`models.serving` refuses to serve a version the gate failed). It moves the alias to the
challenger only if the challenger is not worse than the champion on the main metric (AUC of
``rise`` for the ladder model, AUC of ``hired`` for the ranker) **and** passes the fairness
gate (`models.fairness.FairnessGate`). Given the current data it re-scores both versions on
the same time split, so the comparison is like for like; without data it compares the metrics
each run logged. It never promotes silently: the
decision and its reasons are returned and recorded as tags on the challenger version.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from models.fairness import FairnessGate, audit_table, plot_audit
from models.training import KINDS, TrainingResult, evaluate, model_name, operating_threshold, split_dataset, build_dataset
from plein.settings import Settings, get_settings

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
#: the metric the promotion compares, per model kind
MAIN_METRIC = {"ladder": "auc", "ranker": "auc"}
PIP_REQUIREMENTS = ["scikit-learn", "pandas", "numpy", "skops", "plein"]
#: Models are stored with skops (not pickle): loading cannot run arbitrary code. skops refuses
#: any type not known safe unless trusted explicitly; these are the ones Plein's estimators
#: hold, reviewed: our two estimator classes, the calibration wrapper and Platt scaler, the
#: boosted trees' predictor and the partial of sklearn's own `check_array` used inside the
#: pipeline. A model holding anything else is refused when logged.
SKOPS_TRUSTED_TYPES = [
    "models.ladder.LadderModel",
    "models.ranker.RankerModel",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
    "functools.partial",
]


def is_local_store(uri: str) -> bool:
    return uri.startswith("sqlite:") or uri.startswith("file:") or "://" not in uri


def configure(settings: Settings | None = None):
    """Point MLflow at Plein's tracking store and return an `MlflowClient` bound to it."""
    import mlflow
    from mlflow import MlflowClient

    settings = settings or get_settings()
    uri = settings.mlflow_tracking_uri
    if uri.startswith("sqlite:"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    # MLflow also exports the URIs to the environment, where `get_settings()` would read them
    # back for the rest of the process even after PLEIN_DATA_DIR changes: keep the environment
    # as the user set it (MLflow's in-process setting is what `models:/` URIs use).
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(client, kind: str, settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    name = f"plein-{kind}"
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    artifact_location = None
    if is_local_store(settings.mlflow_tracking_uri):
        settings.mlflow_artifacts_dir.mkdir(parents=True, exist_ok=True)
        artifact_location = settings.mlflow_artifacts_dir.as_uri()
    return client.create_experiment(name, artifact_location=artifact_location, tags={"plein.model": model_name(kind)})


# ---------------------------------------------------------------------------------- plots
def _figure():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_roc(result_curves: dict, title: str):
    from sklearn.metrics import roc_curve

    plt = _figure()
    fig, ax = plt.subplots(figsize=(5, 5))
    for target, c in result_curves.items():
        for key, style in (("p", "-"), ("baseline", "--"), ("oracle", ":")):
            if c.get(key) is None or len(np.unique(c["y"])) < 2:
                continue
            fpr, tpr, _ = roc_curve(c["y"], c[key])
            ax.plot(fpr, tpr, style, label=f"{target}: {'model' if key == 'p' else key}")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.5)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_calibration(result_curves: dict, title: str):
    from models.metrics import calibration_table

    plt = _figure()
    fig, ax = plt.subplots(figsize=(5, 5))
    for target, c in result_curves.items():
        for key, marker in (("p", "o"), ("oracle", "x")):
            if c.get(key) is None:
                continue
            t = calibration_table(c["y"], c[key])
            ax.plot(t["mean_predicted"], t["observed"], marker=marker, label=f"{target}: {'model' if key == 'p' else key}")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.5)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_importance(importance, title: str, target: str):
    """Global importance for one `target` (named on the axis: a ladder model has two, and the
    importance of ``rise`` says little about ``paid``)."""
    plt = _figure()
    imp = importance.sort_values()
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(imp) + 1))
    ax.barh(list(imp.index), imp.to_numpy())
    ax.set_xlabel(f"mean |change in P({target})| when the feature is set to its reference value")
    ax.set_title(title)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- model card
def model_card(result: TrainingResult, version: str | None = None) -> str:
    """The model card (markdown): intended use, data, metrics, groups, limits."""
    ev = result.evaluation
    m = ev.metrics
    kind = result.kind
    lines = [f"# Model card: {result.name}" + (f" version {version}" if version else ""), ""]
    if kind == "ladder":
        lines += [
            "## Intended use",
            "Probability that a client rises at least one rung on the participatieladder within 12 months (`rise`), and",
            "reaches paid work (rung 5-6) within 12 months (`paid`). Used to order a coach's worklist (\"most employable",
            "first\") with reasons. It supports a coach's judgement; it never decides about a benefit, a sanction or an",
            "assignment on its own.",
        ]
    else:
        lines += [
            "## Intended use",
            "Probability that a shortlisted client is hired for a vacancy, used by matching to re-rank candidate lists",
            "that employer services review. It never removes a candidate on its own.",
        ]
    split = ev.split.describe()
    lines += [
        "",
        "## Data",
        f"- snapshot hash: `{result.dataset.data_hash}`",
        f"- rows: {len(result.dataset.X)}; time split at {split['cutoff']} (data until {split['data_end']}):",
        f"  {split['n_train']} training rows (labels resolved before the cutoff), {split['n_test']} test rows (from the cutoff on)",
        f"- seed: {result.seed}",
        f"- features: {', '.join(result.model.feature_names_)}",
        "- protected attributes (gender, migration background) are not features; they are read only by the audit below.",
        "",
        "## Metrics (test rows)",
        "| target | AUC | baseline AUC | oracle AUC | ECE | oracle ECE | Brier | NDCG@10 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    targets = ("rise", "paid") if kind == "ladder" else ("hired",)
    for t in targets:
        sfx = f"_{t}" if kind == "ladder" else ""

        def f(key):
            v = m.get(key + sfx)
            return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"

        lines.append(f"| {t} | {f('auc')} | {f('baseline_auc')} | {f('oracle_auc')} | {f('ece')} | {f('oracle_ece')} | {f('brier')} | {f('ndcg_at_10')} |")
    if kind == "ladder":
        def g(key):
            v = m.get(key)
            return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"

        rungs = getattr(result.model, "training_rungs_", None)
        lines += [
            "",
            "P(paid) as served follows the ladder (models.ladder.coherent): at rung 4 reaching paid work and rising are one",
            "event, so P(paid) = P(rise); at rungs 1-3 P(paid) is at most P(rise). The paid row above measures this served",
            f"figure; the rule changed {g('adjusted_share_paid')} of the test rows, and the paid model's raw output had AUC",
            f"{g('raw_auc_paid')} and ECE {g('raw_ece_paid')}.",
            "",
            f"Learned from rungs: {', '.join(map(str, rungs)) if rungs else 'unknown'}"
            + ("" if getattr(result.model, "trained_unmeasured_", False) else " (no unmeasured clients)")
            + ". Predictions for other rungs are flagged as extrapolations; rung 6 (the top) gets none.",
        ]
    lines += ["", f"## Groups (fairness audit at the operating threshold {ev.threshold:.3f})", ""]
    lines += _audit_lines(ev.fairness)
    gate = FairnessGate().check(ev.fairness)
    lines += ["", "Fairness gate: " + ("passed." if not gate else "FAILED: " + "; ".join(gate)), ""]
    if "paid" in ev.fairness:
        paid = ev.fairness["paid"]
        lines += [f"### P(paid) by group (audited at its own operating threshold {paid['threshold']:.3f}; not gated: "
                  "the worklist orders by P(rise) first)", ""]
        lines += _audit_lines(paid) + [""]
    lines += [
        "## Limits",
        "- Trained on the history of one region; a region with other clients or another labour market needs retraining.",
        "- Client profile columns other than the ladder history hold their current value (no history is kept), so a",
        "  past snapshot sees today's education, Dutch level and skills.",
        "- Reasons are per-feature changes against a reference value, not causal effects: they explain the model, not",
        "  the client.",
        "- Groups smaller than the audit's minimum size are reported but not counted; their rates are noisy. A gated",
        "  attribute the audit cannot assess (fewer than two groups of that size) fails the gate.",
    ]
    if kind == "ladder":
        lines.append("- Rungs are measured at least yearly; a rise between measurements is seen only at the next one.")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------- logging
@dataclass
class LoggedRun:
    run_id: str
    model_uri: str
    name: str
    version: str | None


class ChampionAliasError(ValueError):
    """Someone tried to make a champion without `promote` (and so without its gate)."""


def check_alias(alias: str | None) -> None:
    """Refuse the ``champion`` alias outside `promote`: it would put a model in service that
    neither the fairness gate nor the comparison with the champion has seen."""
    if alias is not None and alias.strip().lower() == CHAMPION:
        raise ChampionAliasError(
            f"the alias '{CHAMPION}' is given only by `plein promote` (models.registry.promote), after the fairness "
            f"gate and the comparison with the current champion; register as '{CHALLENGER}' and promote"
        )


def log_training(
    result: TrainingResult,
    register: bool = True,
    alias: str | None = CHALLENGER,
    settings: Settings | None = None,
    progress=None,
) -> LoggedRun:
    """Log a training run to MLflow (see module doc); register and alias the model. Any alias
    but ``champion``, which only `promote` gives (`ChampionAliasError`, before anything is
    logged)."""
    import mlflow
    import mlflow.sklearn

    check_alias(alias)
    settings = settings or get_settings()
    client = configure(settings)
    exp_id = experiment_id(client, result.kind, settings)
    ev = result.evaluation
    name = result.name
    plt = _figure()
    with mlflow.start_run(experiment_id=exp_id, run_name=f"{result.kind}-seed{result.seed}") as run:
        if progress:
            progress(0, 3, "MLflow: logging metrics and plots")
        mlflow.log_params({f"model.{k}": v for k, v in result.params.items()})
        mlflow.log_params(
            {
                "seed": result.seed,
                "data_hash": result.dataset.data_hash,
                "split.cutoff": ev.split.cutoff.isoformat(),
                "split.data_end": ev.split.data_end.isoformat(),
                "operating_threshold": round(ev.threshold, 6),
                "features": ",".join(result.model.feature_names_),
            }
        )
        mlflow.set_tags({"plein.kind": result.kind, "plein.data_hash": result.dataset.data_hash, "plein.seed": str(result.seed)})
        mlflow.log_metrics({k: v for k, v in ev.flat_metrics().items() if np.isfinite(v)})
        gate = FairnessGate().check(ev.fairness)
        mlflow.log_metric("fairness_gate_passed", 0.0 if gate else 1.0)
        mlflow.log_dict(ev.fairness, "fairness/audit.json")
        mlflow.log_text(audit_table(ev.fairness).to_csv(index=False), "fairness/audit.csv")
        if "paid" in ev.fairness:
            mlflow.log_text(audit_table(ev.fairness["paid"]).to_csv(index=False), "fairness/audit_paid.csv")
        for fig, path in (
            (plot_roc(ev.curves, f"ROC: {name}"), "plots/roc.png"),
            (plot_calibration(ev.curves, f"calibration: {name}"), "plots/calibration.png"),
            (plot_importance(result.importance, f"importance for {result.importance_target}: {name}", result.importance_target),
             "plots/importance.png"),
            (plot_audit(ev.fairness, f"fairness: {name}"), "plots/fairness.png"),
        ):
            mlflow.log_figure(fig, path)
            plt.close(fig)
        if progress:
            progress(1, 3, "MLflow: logging the model")
        sample = result.dataset.X.loc[:, result.model.feature_names_].head(5)
        info = mlflow.sklearn.log_model(
            result.model,
            name="model",
            registered_model_name=name if register else None,
            pip_requirements=PIP_REQUIREMENTS,
            serialization_format="skops",
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
            input_example=None,
            signature=_signature(result.model, sample, result.kind),
        )
        version = str(info.registered_model_version) if register and info.registered_model_version is not None else None
        mlflow.log_text(model_card(result, version), "model_card.md")
        if progress:
            progress(2, 3, "MLflow: registering")
        if version is not None:
            client.update_model_version(name, version, description=model_card(result, version))
            for k, v in (("data_hash", result.dataset.data_hash), ("seed", str(result.seed)), ("auc", f"{ev.metrics['auc']:.4f}"),
                         ("fairness_gate", "passed" if not gate else "failed")):
                client.set_model_version_tag(name, version, k, v)
            if alias:
                client.set_registered_model_alias(name, alias, version)
        if progress:
            progress(3, 3, "MLflow: done")
    return LoggedRun(run_id=run.info.run_id, model_uri=info.model_uri, name=name, version=version)


def _signature(model, sample, kind):
    try:
        from mlflow.models import infer_signature

        out = model.predict_proba(sample) if kind == "ranker" else model.predict_proba(sample, target="rise")
        return infer_signature(sample, out)
    except Exception as exc:  # a signature is documentation; never fail a run over it
        log.warning("could not infer a model signature: %s", exc)
        return None


# ----------------------------------------------------------------------------- promotion
@dataclass
class PromotionDecision:
    kind: str
    name: str
    accepted: bool
    reasons: list[str]
    challenger_version: str | None
    champion_version: str | None
    challenger_metrics: dict = field(default_factory=dict)
    champion_metrics: dict = field(default_factory=dict)
    basis: str = ""  # "re-scored on current data" or "logged run metrics"

    def summary(self) -> str:
        head = (
            f"{self.name}: version {self.challenger_version} promoted to champion"
            if self.accepted
            else f"{self.name}: challenger {self.challenger_version or '(none)'} NOT promoted"
        )
        return head + (" (" + self.basis + ")" if self.basis else "") + "".join(f"\n  - {r}" for r in self.reasons)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind, "name": self.name, "accepted": self.accepted, "reasons": self.reasons,
            "challenger_version": self.challenger_version, "champion_version": self.champion_version,
            "challenger_metrics": self.challenger_metrics, "champion_metrics": self.champion_metrics, "basis": self.basis,
        }


def alias_version(client, name: str, alias: str):
    """The model version holding `alias`, or None when the model or alias does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        code = getattr(exc, "error_code", "")
        if code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
            return None
        raise


def _logged(client, version) -> tuple[dict, dict]:
    """(metrics, fairness audit) logged by the run that produced `version`."""
    import mlflow

    run = client.get_run(version.run_id)
    metrics = dict(run.data.metrics)
    try:
        fairness = mlflow.artifacts.load_dict(f"runs:/{version.run_id}/fairness/audit.json")
    except Exception as exc:
        raise RuntimeError(f"run {version.run_id} of version {version.version} has no fairness audit: {exc}") from exc
    return metrics, fairness


def _audit_lines(fairness: dict) -> list[str]:
    """A fairness audit as the model card's markdown table."""
    lines = ["| attribute | group | n | selection rate | TPR | FPR | mean predicted | observed | 4/5 ratio |",
             "|---|---|---|---|---|---|---|---|---|"]
    for _, r in audit_table(fairness).iterrows():
        lines.append(
            f"| {r['attribute']} | {r['group']} | {r['n']} | {r['selection_rate']:.3f} | {r['tpr']:.3f} | {r['fpr']:.3f} | "
            f"{r['mean_predicted']:.3f} | {r['observed_rate']:.3f} | {r['four_fifths_ratio']:.2f} |"
        )
    return lines


def _rescore(kind: str, name: str, versions: dict, region, taxonomy) -> dict:
    """Metrics and fairness of each version on the same time split of the current data."""
    import mlflow.sklearn

    ds = build_dataset(kind, region, taxonomy)
    split = split_dataset(ds)
    Xtr = ds.X[split.train].reset_index(drop=True)
    target = "rise" if kind == "ladder" else "hired"
    base_rate = float(ds.y[target][split.train].mean())
    out = {}
    for role, v in versions.items():
        model = mlflow.sklearn.load_model(f"models:/{name}/{v.version}")
        thr = operating_threshold(kind, model, Xtr, base_rate)
        ev = evaluate(model, ds, split, region, thr)
        out[role] = (ev.flat_metrics(), ev.fairness)
    return out


def decide(kind: str, challenger: tuple[dict, dict], champion: tuple[dict, dict] | None, gate: FairnessGate, tolerance: float = 0.0) -> list[str]:
    """Reasons to refuse the challenger (empty: promote). Pure: metrics and audits in, reasons out."""
    metric = MAIN_METRIC[kind]
    c_metrics, c_fair = challenger
    reasons = []
    c_val = c_metrics.get(metric, float("nan"))
    if not np.isfinite(c_val):
        reasons.append(f"the challenger has no valid {metric} (got {c_val})")
    # a first champion must still be worth serving: better than chance and than the simple baseline
    b_val = c_metrics.get(f"baseline_{metric}", float("nan"))
    if np.isfinite(c_val) and metric.startswith("auc") and c_val <= 0.5:
        reasons.append(f"the challenger is no better than chance on {metric}: {c_val:.4f}")
    elif np.isfinite(c_val) and np.isfinite(b_val) and c_val <= b_val:
        reasons.append(f"the challenger is not better than the simple baseline on {metric}: {c_val:.4f} <= {b_val:.4f}")
    if champion is not None:
        h_val = champion[0].get(metric, float("nan"))
        if np.isfinite(c_val) and np.isfinite(h_val) and c_val < h_val - tolerance:
            reasons.append(f"the challenger is worse than the champion on {metric}: {c_val:.4f} < {h_val:.4f}")
    reasons += gate.check(c_fair)
    return reasons


def promote(
    kind: str,
    region=None,
    taxonomy=None,
    gate: FairnessGate | None = None,
    tolerance: float = 0.0,
    settings: Settings | None = None,
) -> PromotionDecision:
    """Promote the challenger of `kind` to champion if it passes the gate (see module doc)."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; use ladder or ranker")
    gate = gate or FairnessGate()
    name = model_name(kind)
    client = configure(settings)
    challenger = alias_version(client, name, CHALLENGER)
    champion = alias_version(client, name, CHAMPION)
    if challenger is None:
        return PromotionDecision(kind, name, False, [f"no version of {name} has the alias '{CHALLENGER}'; run `plein train {kind}` first"],
                                 None, str(champion.version) if champion else None)
    if champion is not None and champion.version == challenger.version:
        return PromotionDecision(kind, name, False, [f"version {challenger.version} is already the champion"], str(challenger.version), str(champion.version))
    if region is not None:
        versions = {"challenger": challenger, **({"champion": champion} if champion else {})}
        scored = _rescore(kind, name, versions, region, taxonomy)
        basis = ("both re-scored on the same time split of the current data" if champion
                 else "no champion yet: the challenger re-scored on a time split of the current data")
    else:
        scored = {"challenger": _logged(client, challenger), **({"champion": _logged(client, champion)} if champion else {})}
        basis = "metrics logged by each training run" if champion else "no champion yet: the metrics its training run logged"
    reasons = decide(kind, scored["challenger"], scored.get("champion"), gate, tolerance)
    decision = PromotionDecision(
        kind, name, not reasons, reasons, str(challenger.version), str(champion.version) if champion else None,
        challenger_metrics=scored["challenger"][0], champion_metrics=scored["champion"][0] if champion else {}, basis=basis,
    )
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    client.set_model_version_tag(name, challenger.version, "promotion_decision", ("accepted" if decision.accepted else "refused") + f" at {stamp}")
    client.set_model_version_tag(name, challenger.version, "promotion_reasons", "; ".join(reasons)[:4000] or "passed the gate")
    # the gate's verdict on the data promotion judged on: what serving checks (models.serving.gate_refusal)
    client.set_model_version_tag(name, challenger.version, "promotion_fairness_gate",
                                 "passed" if not gate.check(scored["challenger"][1]) else "failed")
    if decision.accepted:
        if champion is not None:
            client.set_model_version_tag(name, champion.version, "replaced_by", challenger.version)
        client.set_registered_model_alias(name, CHAMPION, challenger.version)
        client.delete_registered_model_alias(name, CHALLENGER)
        decision.reasons = [
            f"{MAIN_METRIC[kind]} {decision.challenger_metrics.get(MAIN_METRIC[kind], float('nan')):.4f}"
            + (f" against champion {decision.champion_metrics.get(MAIN_METRIC[kind], float('nan')):.4f}" if champion else " (no champion yet)")
            + "; fairness gate passed"
        ]
    return decision


def registry_status(settings: Settings | None = None) -> list[dict]:
    """Champion and challenger version of each model (for the CLI and the API)."""
    client = configure(settings)
    rows = []
    for kind in KINDS:
        name = model_name(kind)
        for alias in (CHAMPION, CHALLENGER):
            v = alias_version(client, name, alias)
            rows.append({"model": name, "alias": alias, "version": str(v.version) if v else None, "run_id": v.run_id if v else None,
                         "auc": _number((v.tags or {}).get("auc")) if v else None})
    return rows


def _number(tag: str | None) -> float | None:
    """A numeric tag as a number (MLflow keeps tags as text), None when absent or not a number."""
    try:
        value = float(tag) if tag is not None else None
    except ValueError:
        return None
    return value if value is not None and np.isfinite(value) else None

