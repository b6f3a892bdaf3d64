"""Writes `retraining_walkthrough.ipynb` (run: `python notebooks/build_walkthrough.py`).

The notebook is kept as code here so reviews see a plain diff; the .ipynb is committed
without outputs. `tests/models/test_notebook.py` executes it top to bottom.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    ("md", """# Retraining walkthrough: the ladder-progress model

This notebook retrains Plein's ladder-progress model the way a data scientist would before
asking for promotion: load data, train on a time split, compare with the baseline, the oracle
and the current champion, audit fairness per group, and ask `promote` to decide.

It runs top to bottom on a small generated region (a few thousand clients, about a minute).
Everything goes to the MLflow store of the configured data folder (`PLEIN_DATA_DIR`, default
`./data`): open it with `mlflow ui --backend-store-uri sqlite:///data/mlflow.db`.

Set `PLEIN_NOTEBOOK_CLIENTS` to use more clients; with real data, load the region from the
database instead (`plein.storage.load_region(engine, include_protected=True)`)."""),
    ("code", """import os

import pandas as pd

from plein.settings import get_settings

N_CLIENTS = int(os.environ.get("PLEIN_NOTEBOOK_CLIENTS", "4000"))
SEED = 42
settings = get_settings()
print("data folder:", settings.data_dir)
print("MLflow:", settings.mlflow_tracking_uri)"""),
    ("md", """## 1. Load data

A generated demo region (deterministic by seed). Its generator also stores the *oracle*: the
true probabilities it drew the outcomes from, so we can see how close a model gets."""),
    ("code", """from plein.generator import generate_region

region = generate_region(n_clients=N_CLIENTS, seed=SEED)
pd.Series(region.summary(), name="rows").to_frame()"""),
    ("md", """## 2. Train on a time split

Snapshots before the cutoff whose 12-month outcome is known before the cutoff train the model;
snapshots from the cutoff on test it. Nothing from the future reaches training."""),
    ("code", """from models.training import train

result = train("ladder", region, seed=SEED)
ev = result.evaluation
print("split:", ev.split.describe())
rows = []
for target in ("rise", "paid"):
    m = ev.metrics
    rows.append({
        "target": target,
        "AUC": m[f"auc_{target}"],
        "baseline AUC": m[f"baseline_auc_{target}"],
        "oracle AUC": m[f"oracle_auc_{target}"],
        "ECE": m[f"ece_{target}"],
        "oracle ECE": m[f"oracle_ece_{target}"],
    })
pd.DataFrame(rows).round(3)"""),
    ("md", """Which features drive the predictions (mean change in probability when a feature is set to
its typical value):"""),
    ("code", """result.importance.round(3).to_frame("importance")"""),
    ("md", """## 3. Log the run and compare with the champion

The run is logged with its parameters, seed, data hash, metrics, fairness audit, plots and
model card, and registered as the `challenger`."""),
    ("code", """from models.registry import log_training, registry_status

logged = log_training(result)
print(f"run {logged.run_id}: {logged.name} version {logged.version}")
pd.DataFrame(registry_status())"""),
    ("md", """## 4. Fairness audit

Per group at the operating threshold: selection rate, true and false positive rates, mean
predicted against observed rate, and the four-fifths ratio. Gender and migration background
are read from `client_protected` here only; they are never features."""),
    ("code", """from models.fairness import FairnessGate, audit_table, plot_audit

table = audit_table(ev.fairness)
display_cols = ["attribute", "group", "n", "selection_rate", "tpr", "fpr", "mean_predicted", "observed_rate", "four_fifths_ratio"]
print(table[display_cols].round(3).to_string(index=False))
fig = plot_audit(ev.fairness)
gate_reasons = FairnessGate().check(ev.fairness)
print("fairness gate:", "passed" if not gate_reasons else gate_reasons)"""),
    ("md", """## 5. Promote (or not)

`promote` re-scores the challenger and the champion on the same time split of the data and
moves the `champion` alias only if the challenger is not worse on AUC **and** passes the
fairness gate. When it refuses it says why; there is no override. On the demo region the
history is biased against clients with a non-western migration background (as real histories
are), so expect the gate to find it."""),
    ("code", """from models.registry import promote

decision = promote("ladder", region=region)
print(decision.summary())"""),
    ("md", """## 6. What serving sees

The model server loads `models:/plein-ladder@champion`; with no champion it serves nothing
and the worklist says so instead of guessing."""),
    ("code", """from models.serving import ModelServer
from models.worklist import coach_worklist

server = ModelServer()
print(server.status()["models"]["ladder"])
model = server.ladder if server.ladder is not None else None
if model is None:
    print("no champion: using the freshly trained model to show a worklist (not promoted!)")
    model = result.model
coach = region.clients["coach_id"].dropna().iloc[0]
items = coach_worklist(region, coach, model)
pd.DataFrame([i.to_dict() for i in items[:10]])"""),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in CELLS]
    return nb


if __name__ == "__main__":
    path = Path(__file__).with_name("retraining_walkthrough.ipynb")
    nbformat.write(build(), path)
    print(f"wrote {path}")
