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
A model trained on a generated region must never reach a registry a service reads from, so
the notebook works in **its own data folder and MLflow store**: a new temporary folder by
default, or the folder in `PLEIN_NOTEBOOK_DATA_DIR` to keep the runs (it refuses the folder
of the configured service, `PLEIN_DATA_DIR`, and ignores `MLFLOW_TRACKING_URI`). The first
cell prints where; open it with `mlflow ui --backend-store-uri sqlite:///<that folder>/mlflow.db`.

Set `PLEIN_NOTEBOOK_CLIENTS` to use more clients. To retrain the service's models on real
data, use `plein train ladder` and `plein promote ladder`, which read the database
(`plein.storage.load_region(engine, include_protected=True)`)."""),
    ("code", """import os
import tempfile
from pathlib import Path

import pandas as pd

from plein.settings import get_settings

N_CLIENTS = int(os.environ.get("PLEIN_NOTEBOOK_CLIENTS", "4000"))
SEED = 42
# the notebook's own data folder: never the configured one, whose registry a service may serve from
service_data = get_settings().data_dir
DATA_DIR = Path(os.environ.get("PLEIN_NOTEBOOK_DATA_DIR") or tempfile.mkdtemp(prefix="plein-notebook-")).resolve()
if DATA_DIR == service_data:
    raise ValueError(f"PLEIN_NOTEBOOK_DATA_DIR is the configured data folder {service_data}: pick another one")
os.environ["PLEIN_DATA_DIR"] = str(DATA_DIR)
for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "DATABASE_URL"):
    os.environ.pop(variable, None)
settings = get_settings()
print("data folder of this notebook:", settings.data_dir)
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
model card, and registered as the `challenger` in the notebook's own store (a new temporary
store has no champion yet)."""),
    ("code", """from models.registry import log_training, registry_status

logged = log_training(result)
print(f"run {logged.run_id}: {logged.name} version {logged.version}")
pd.DataFrame(registry_status())"""),
    ("md", """## 4. Fairness audit

Per group at the operating threshold: selection rate, true and false positive rates, mean
predicted against observed rate, and the four-fifths ratio. Gender and migration background
are read from `client_protected` here only; they are never features.

Groups under 100 test rows are reported but not counted: their rates are noise. When fewer
than two groups of a protected attribute are that large, the four-fifths ratio cannot be
computed, and the gate **refuses** rather than pass what it cannot measure. At the default
size the test split is small, so expect that for migration background (the plot draws the
groups that do not count pale); with more clients (`PLEIN_NOTEBOOK_CLIENTS=20000`) the
groups are large enough and the gate finds the bias itself."""),
    ("code", """from models.fairness import FairnessGate, audit_table, plot_audit

table = audit_table(ev.fairness)
display_cols = ["attribute", "group", "n", "selection_rate", "tpr", "fpr", "mean_predicted", "observed_rate", "four_fifths_ratio"]
print(table[display_cols].round(3).to_string(index=False))
fig = plot_audit(ev.fairness)
gate_reasons = FairnessGate().check(ev.fairness)
print("fairness gate:", "passed" if not gate_reasons else gate_reasons)"""),
    ("md", """## 5. Promote (or not)

`promote` re-scores the challenger and the champion on the same time split of the data (with
no champion, the challenger alone) and moves the `champion` alias only if the challenger is
not worse on AUC **and** passes the fairness gate. When it refuses it says why; there is no
override. The generated history is biased against clients with a non-western migration
background (as real histories are): on a region this small the gate refuses because it
cannot measure that group's selection rate on enough rows; on a larger one (the 5,000-client
demo, or 20,000 here) because the four-fifths rule fails. Either way nothing is promoted."""),
    ("code", """from models.registry import promote

decision = promote("ladder", region=region)
print(decision.summary())"""),
    ("md", """## 6. What serving sees

The model server loads `models:/plein-ladder@champion` (here from the notebook's own store);
with no champion, or a champion the fairness gate failed, it serves nothing and the worklist
says so instead of guessing. To show what a coach would see, the cell below then uses the
freshly trained model, clearly marked as not promoted. Clients on the top rung get no
probability (they cannot rise), and a prediction for a rung the model never learned from
says it is an extrapolation."""),
    ("code", """from models.serving import ModelServer
from models.worklist import coach_worklist

server = ModelServer()
print(server.status()["models"]["ladder"])
model = server.ladder
if model is None:
    print("not serving:", server.unavailable_reason("ladder"))
    print("showing the worklist of the freshly trained model instead (NOT promoted, not served)")
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
