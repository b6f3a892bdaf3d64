"""Learned models of Plein: the match ranker and the ladder-progress predictor.

- `ladder_features`: client snapshot features observable at the snapshot date (allow-list,
  protected-attribute guard).
- `split`: time-based train/test split (labels of the training rows are fully observed before
  the first test row; nothing from the future reaches training).
- `ladder`, `ranker`: scikit-learn estimators (pipelines inside), with honest per-feature
  contributions for explanations.
- `metrics`, `fairness`: AUC, ECE, NDCG@k; the per-group fairness audit and its gate.
- `training`: the one training/evaluation routine the CLI, the notebook and the benchmark use.
- `registry`: MLflow tracking, model registry, aliases and the promotion gate.
- `serving`: `ModelServer`, loading ``models:/NAME@champion`` with reload and fallback.
- `worklist`: the coach's "most employable first" worklist with reasons.

Heavy libraries (scikit-learn, MLflow, matplotlib) are imported by these modules, never by
`models.cli` at import time, so ``plein --help`` stays fast.
"""
